"""Schema conformance (SCHEMA-001) of the pages, checked with the schemas of openapi.yaml."""

from __future__ import annotations

import datetime as dt

import pytest

from . import spec
from .checks import Findings
from .client import ApiClient, ContractViolation
from .discovery import Discovery
from .pages import MOVIES, RATINGS, Window, page_params


@pytest.mark.clause("SCHEMA-001")
def test_schema_001_pages_match_openapi(client: ApiClient, discovery: Discovery):
    total = discovery.overview.total
    requests = [
        (RATINGS, page_params(offset=0, limit=20)),
        (RATINGS, page_params(offset=total // 2, limit=20)),
        (RATINGS, page_params(offset=max(total - 3, 0), limit=20)),
        (RATINGS, page_params(offset=total)),
    ]
    if discovery.offers("movies"):
        requests += [(MOVIES, page_params(offset=0, limit=20)), (MOVIES, page_params(offset=10**6, limit=1))]
    if discovery.has_data:
        day = discovery.overview.first_day
        requests.append((RATINGS, page_params(Window(day, day + dt.timedelta(days=2)), limit=20)))
    findings = Findings()
    for path, params in requests:
        reply = client.get(path, params)
        if reply.status != 200:
            findings.add(f"a valid page request answered {reply.status}", reply.exchange)
            continue
        try:
            problems = spec.errors(spec.response_validator(path, 200), reply.json())
        except ContractViolation as exc:
            findings.violation(exc)
            continue
        findings.check(
            not problems, f"{path} page does not match openapi.yaml: {'; '.join(problems)}", reply.exchange
        )
    findings.raise_any()
