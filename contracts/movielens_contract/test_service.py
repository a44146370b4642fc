"""/health, / and /openapi.yaml (HEALTH-*, ROOT-001, DOC-001)."""

from __future__ import annotations

import pytest
import yaml

from . import spec
from .checks import Findings, expect
from .client import ApiClient, ContractViolation
from .pages import MOVIES, total_of


def _json_or_fail(reply):
    try:
        return reply.json()
    except ContractViolation:
        raise ContractViolation(
            f"the body is not JSON (Content-Type {reply.content_type or 'missing'})", reply.exchange
        ) from None


@pytest.mark.clause("HEALTH-001")
def test_health_001_health_is_open_and_ok(client: ApiClient):
    reply = client.get("/health", auth="none")
    expect(
        reply.status == 200,
        f"GET /health without credentials answered {reply.status}, not 200",
        reply.exchange,
    )
    problems = spec.errors(spec.response_validator("/health", 200), _json_or_fail(reply))
    expect(not problems, f"/health body does not match the contract: {'; '.join(problems)}", reply.exchange)


@pytest.mark.clause("HEALTH-002")
def test_health_002_counts_match_totals(client: ApiClient, discovery):
    reply = client.get("/health", auth="none")
    expect(reply.status == 200, f"GET /health answered {reply.status}", reply.exchange)
    body = _json_or_fail(reply)
    expect(isinstance(body, dict), "/health is not a JSON object", reply.exchange)
    if "ratings" not in body and "movies" not in body:
        pytest.skip("/health gives no counts")
    findings = Findings()
    if "ratings" in body:
        ratings = discovery.overview.total
        findings.check(
            body["ratings"] == ratings,
            f"/health says {body['ratings']!r} ratings, /ratings total is {ratings}",
            reply.exchange,
            discovery.overview.first.exchange,
        )
    if "movies" in body and discovery.offers("movies"):
        movies = total_of(client, path=MOVIES)
        findings.check(
            body["movies"] == movies,
            f"/health says {body['movies']!r} movies, /movies total is {movies}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("ROOT-001")
def test_root_001_hello(client: ApiClient):
    reply = client.get("/", auth="none")
    expect(reply.status == 200, f"GET / answered {reply.status}, not 200", reply.exchange)
    problems = spec.errors(spec.response_validator("/", 200), _json_or_fail(reply))
    expect(not problems, f"/ body does not match the contract: {'; '.join(problems)}", reply.exchange)


@pytest.mark.clause("DOC-001")
def test_doc_001_openapi_document_served(client: ApiClient):
    reply = client.get("/openapi.yaml", auth="none")
    expect(reply.status == 200, f"GET /openapi.yaml answered {reply.status}, not 200", reply.exchange)
    try:
        document = yaml.safe_load(reply.content.decode("utf-8"))
    except (yaml.YAMLError, ValueError, RecursionError):  # ValueError: not UTF-8, or a date like 2020-13-45
        document = None
    expect(
        isinstance(document, dict) and str(document.get("openapi", "")).startswith("3"),
        "/openapi.yaml is not an OpenAPI 3 document",
        reply.exchange,
    )
    paths = document.get("paths") if isinstance(document, dict) else None
    expect(
        isinstance(paths, dict) and "/ratings" in paths,
        "/openapi.yaml does not describe /ratings",
        reply.exchange,
    )
