"""The page envelope and the record types (ENV-*, REC-*)."""

from __future__ import annotations

import pytest

from . import spec
from .checks import Findings, expect
from .client import ApiClient, ContractViolation
from .discovery import Discovery
from .pages import MOVIES, RATINGS, Window, fetch


@pytest.mark.clause("ENV-001")
def test_env_001_envelope_shape(client: ApiClient, discovery: Discovery):
    findings = Findings()
    ov = discovery.overview  # offset 0 and the last offset, both parsed as pages
    requests: list[dict] = [{"limit": 10}, {"offset": ov.total, "limit": 5}]
    if ov.total:
        requests.append({"window": Window(ov.first_day, ov.last_day), "limit": 3})
    for kwargs in requests:
        try:
            fetch(client, **kwargs)  # type: ignore[arg-type]
        except ContractViolation as exc:
            findings.violation(exc)
        else:
            findings.held()  # fetch() checked the envelope
    findings.raise_any()


@pytest.mark.clause("ENV-002")
def test_env_002_offset_and_limit_echoed(client: ApiClient, discovery: Discovery):
    total = discovery.overview.total
    findings = Findings()
    biggest = min(50, discovery.policy.page_limit)
    for offset, limit in ((0, 1), (1, 3), (total // 2, biggest), (max(total - 1, 0), 1), (total + 5, 2)):
        page = fetch(client, offset=offset, limit=limit)
        findings.check(
            page.offset == offset,
            f"asked for offset {offset}, the envelope says {page.offset}",
            page.exchange,
        )
        findings.check(
            1 <= page.limit <= limit,
            f"asked for limit {limit}, the envelope says {page.limit}",
            page.exchange,
        )
        findings.check(page.total >= 0, f"negative total {page.total}", page.exchange)
    findings.raise_any()


@pytest.mark.clause("ENV-003")
def test_env_003_default_paging(client: ApiClient):
    page = fetch(client)
    expect(page.offset == 0, f"without offset the envelope says offset {page.offset}, not 0", page.exchange)
    expect(page.limit >= 1, f"without limit the envelope says limit {page.limit}", page.exchange)
    expected = min(page.limit, page.total)
    expect(
        len(page.records) == expected,
        f"the default page holds {len(page.records)} records; with limit "
        f"{page.limit} and total {page.total} it must hold {expected}",
        page.exchange,
    )


@pytest.mark.clause("ENV-004")
def test_env_004_json_content_type(client: ApiClient, discovery: Discovery):
    findings = Findings()
    replies = [
        client.get(RATINGS, [("limit", "1")]),
        client.get(RATINGS, [("limit", "x")]),
        client.get(RATINGS, [("limit", "1")], auth="none"),
    ]
    if discovery.offers("movies"):
        replies.append(client.get(MOVIES, [("limit", "1")]))
    if discovery.offers("health"):
        replies.append(client.get("/health", auth="none"))
    for reply in replies:
        ctype = reply.content_type
        try:
            reply.json()
        except ContractViolation:
            continue  # not JSON: an honest text/html error is judged by the error-body clauses
        findings.check(
            ctype == "application/json" or ctype.endswith("+json"),
            f"a JSON answer ({reply.status}) declares Content-Type {ctype or 'none'!r}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("REC-001")
def test_rec_001_rating_types_and_ranges(data: Discovery):
    validator = spec.component("Rating")
    findings = Findings()
    pages = [data.overview.first, data.overview.last, *data.samples]
    for page in pages:
        for index, record in enumerate(page.records):
            problems = spec.errors(validator, record)
            findings.check(
                not problems, f"rating at offset {page.offset + index}: {'; '.join(problems)}", page.exchange
            )
    findings.raise_any()


@pytest.mark.clause("REC-002")
def test_rec_002_movie_types(client: ApiClient, discovery: Discovery):
    first = fetch(client, MOVIES, offset=0, limit=min(discovery.policy.page_limit, 100))
    if first.total == 0:
        pytest.skip("the server holds no movies")
    last = fetch(client, MOVIES, offset=first.total - 1, limit=1)
    validator = spec.component("Movie")
    findings = Findings()
    for page in (first, last):
        for index, record in enumerate(page.records):
            problems = spec.errors(validator, record)
            findings.check(
                not problems, f"movie at offset {page.offset + index}: {'; '.join(problems)}", page.exchange
            )
    findings.raise_any()
