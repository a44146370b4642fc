"""Bad input (ERR-*): never a 5xx, never another meaning; hygiene: a 400 with a JSON error naming it."""

from __future__ import annotations

from typing import Any

import pytest

from .bad_inputs import BAD_INPUTS, BadInput, OverMax, PastEnd, SameAs
from .checks import Findings, error_body_problems, expect, names_parameter
from .client import ApiClient, ContractViolation, Exchange, Reply
from .discovery import Discovery

UNKNOWN_PATH = "/no-such-endpoint"


def _rows(discovery: Discovery) -> list[BadInput]:
    """The rows for the endpoints the server offers (a missing /movies is not a bad-input answer)."""
    return [row for row in BAD_INPUTS if row.capability is None or discovery.offers(row.capability)]


def _answers(client: ApiClient, discovery: Discovery) -> list[tuple[BadInput, Reply | ContractViolation]]:
    out: list[tuple[BadInput, Reply | ContractViolation]] = []
    for row in _rows(discovery):
        try:
            out.append((row, client.get(row.path, row.params)))
        except ContractViolation as exc:  # no answer at all
            out.append((row, exc))
    return out


def _client_error_answers(client: ApiClient, discovery: Discovery) -> list[tuple[BadInput, Reply]]:
    """The 4xx answers: the ones whose error body ERR-002 and ERR-003 judge (ERR-001 flags the rest)."""
    return [
        (row, reply)
        for row, reply in _answers(client, discovery)
        if isinstance(reply, Reply) and 400 <= reply.status < 500
    ]


def _describe(row: BadInput) -> str:
    return f"{row.why} ({row.path}?{row.query()})"


def _body(reply: Reply) -> dict[str, Any] | None:
    try:
        body = reply.json()
    except ContractViolation:
        return None
    return body if isinstance(body, dict) else None


def _misreading(
    client: ApiClient, discovery: Discovery, row: BadInput, reply: Reply
) -> tuple[str, list[Exchange]] | None:
    """Why an accepted bad input was answered other than as its meaning, and the exchanges that show it.

    ``None`` when it was read as meant.
    """
    problem = _problem(client, discovery, row, reply)
    if problem is None:
        return None
    message, others = problem if isinstance(problem, tuple) else (problem, [])
    return f"{_describe(row)} answered {reply.status}: {message}", [reply.exchange, *others]


def _problem(
    client: ApiClient, discovery: Discovery, row: BadInput, reply: Reply
) -> str | tuple[str, list[Exchange]] | None:
    meaning = row.meaning
    if meaning is None:
        return "accepted, although it has no sensible reading: it must be refused with a 4xx"
    if reply.truncated:
        return None  # a page over the suite's byte cap: PAGE-007 reports the missing cap
    body = _body(reply)
    if body is None or not isinstance(body.get("result"), list):
        return "accepted, but the answer is not a page"
    if isinstance(meaning, PastEnd):
        total = discovery.overview.total
        if body["result"] or body.get("total") != total:
            return (
                f"answered {len(body['result'])} records with total {body.get('total')!r}, "
                f"not an empty page past the end (total {total})"
            )
        return None
    if isinstance(meaning, OverMax):
        limit, total = body.get("limit"), discovery.overview.total
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            return f"answered with limit {limit!r}"
        if len(body["result"]) != min(limit, total):
            return (
                f"answered {len(body['result'])} records with limit {limit} and total {total}: "
                "the page is short"
            )
        return None
    assert isinstance(meaning, SameAs)
    seen: list[Exchange] = []
    for params in meaning.alternatives:
        canonical = client.get(row.path, params)
        wanted = _body(canonical)
        if canonical.status != 200 or wanted is None:
            return None  # the plain request fails: the core clauses report that
        if (wanted.get("result"), wanted.get("total")) == (body["result"], body.get("total")):
            return None
        seen.append(canonical.exchange)
    return f"read as something else than {meaning.describe()}: the records or total differ", seen


@pytest.mark.clause("ERR-001")
def test_err_001_bad_input_is_refused_or_read_as_meant(client: ApiClient, discovery: Discovery):
    findings = Findings()
    for row, reply in _answers(client, discovery):
        if isinstance(reply, ContractViolation):
            findings.add(f"{_describe(row)}: {reply.message}", *reply.exchanges)
        elif reply.status >= 500 or reply.status < 200 or 300 <= reply.status < 400:
            findings.add(f"{_describe(row)} answered {reply.status}", reply.exchange)
        elif reply.status < 300:
            misread = _misreading(client, discovery, row, reply)
            if misread is None:
                findings.held()
            else:
                findings.add(misread[0], *misread[1])
        else:
            findings.held()  # refused: what the row asks for
    findings.raise_any()


@pytest.mark.clause("ERR-002")
def test_err_002_error_body_is_json(client: ApiClient, discovery: Discovery):
    findings = Findings()
    for row, reply in _client_error_answers(client, discovery):
        problems = error_body_problems(reply)
        findings.check(
            not problems,
            f"{_describe(row)}: the {reply.status} is not an error object: {'; '.join(problems)}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("ERR-003")
def test_err_003_error_names_the_parameter(client: ApiClient, discovery: Discovery):
    findings = Findings()
    for row, reply in _client_error_answers(client, discovery):
        findings.check(
            names_parameter(reply, row.names),
            f"{_describe(row)}: the error does not name {' or '.join(row.names)}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("ERR-004")
def test_err_004_bad_input_is_400(client: ApiClient, discovery: Discovery):
    findings = Findings()
    for row, reply in _answers(client, discovery):
        if isinstance(reply, Reply):
            findings.check(
                reply.status == 400, f"{_describe(row)} answered {reply.status}, not 400", reply.exchange
            )
    findings.raise_any()


@pytest.mark.clause("ERR-005")
def test_err_005_unknown_path_is_4xx(client: ApiClient):
    reply = client.get(UNKNOWN_PATH)
    expect(
        400 <= reply.status < 500, f"GET {UNKNOWN_PATH} answered {reply.status}, not a 4xx", reply.exchange
    )


@pytest.mark.clause("ERR-006")
def test_err_006_unknown_path_is_a_json_404(client: ApiClient):
    reply = client.get(UNKNOWN_PATH)
    expect(reply.status == 404, f"GET {UNKNOWN_PATH} answered {reply.status}, not 404", reply.exchange)
    problems = error_body_problems(reply)
    expect(not problems, f"the 404 is not an error object: {'; '.join(problems)}", reply.exchange)
