"""Schema-driven fuzzing of ``/ratings`` and ``/movies`` with schemathesis (FUZZ-*).

schemathesis turns ``openapi.yaml`` into hypothesis strategies of requests, valid (positive) and
invalid (negative) ones. Generation is seeded with the run's seed, has no example database and no
shrinking, and a fixed number of examples per endpoint and mode, so a run is reproducible and its
request count bounded. Requests go through the suite's session, with the credentials set on it for
the duration (schemathesis removes them itself for its unauthenticated cases), and count against
the suite's budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from . import spec
from .client import KEPT_HEADERS, SHOWN_BODY_CHARS, ApiClient, Exchange, parse_json

PATHS = ("/ratings", "/movies")


@dataclass
class FuzzCase:
    path: str
    mode: str  # "positive" or "negative"
    exchange: Exchange
    status: int | None  # None: no HTTP answer (dropped connection, timeout)
    body: bytes


def run(client: ApiClient, seed: int, examples: int, paths: Sequence[str] = PATHS) -> list[FuzzCase]:
    """Send ``examples`` generated requests per endpoint (of ``paths``) and mode; return what came back."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_path(str(spec.SPEC_PATH), config=schemathesis.Config())
    session = client.session
    saved_auth, session.auth = session.auth, client.auth_for("valid")
    cases: list[FuzzCase] = []

    def explore(operation: Any, path: str, mode: Any) -> None:
        mode_name = "positive" if mode == GenerationMode.POSITIVE else "negative"

        @hypothesis_seed(seed)
        @settings(
            max_examples=examples,
            phases=[Phase.explicit, Phase.generate],
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
            print_blob=False,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case: Any) -> None:
            client.count_request()
            cases.append(_send(client, session, case, path, mode_name))

        send()

    try:
        for path in paths:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                explore(schema[path]["GET"], path, mode)
    finally:
        session.auth = saved_auth
    return cases


def _send(client: ApiClient, session: requests.Session, case: Any, path: str, mode: str) -> FuzzCase:
    try:
        response = case.call(
            base_url=client.base_url, session=session, timeout=client.timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        request = getattr(exc, "request", None)
        url = getattr(request, "url", None) or client.base_url + path
        exchange = Exchange(
            "GET",
            client.redact(str(url)),
            "valid",
            error=client.redact(f"{exc.__class__.__name__}: {exc}")[:300],
        )
        return FuzzCase(path, mode, exchange, None, b"")
    headers = {
        name: client.redact(", ".join(response.headers.get(name.lower(), [])))
        for name in KEPT_HEADERS
        if response.headers.get(name.lower())
    }
    auth = "valid" if response.request.headers.get("Authorization") else "none"
    exchange = Exchange(
        "GET",
        client.redact(str(response.request.url)),
        auth,
        response.status_code,
        headers,
        client.redact(response.content[: SHOWN_BODY_CHARS * 4].decode("utf-8", "replace"))[:SHOWN_BODY_CHARS],
        response.elapsed * 1000,
    )
    return FuzzCase(path, mode, exchange, response.status_code, response.content)


def conformance_problems(case: FuzzCase) -> list[str]:
    """Why a positive case's answer does not match openapi.yaml (empty when it does)."""
    assert case.status is not None
    documented = spec.document()["paths"][case.path]["get"]["responses"]
    if str(case.status) not in documented:
        return [f"status {case.status} is not documented for {case.path} ({', '.join(documented)})"]
    validator = spec.response_validator(case.path, case.status)
    if validator is None:
        return []
    try:
        body = parse_json(case.body)
    except (ValueError, UnicodeDecodeError):
        return [f"the {case.status} body is not JSON"]
    return spec.errors(validator, body)
