"""Bad input (ERR-*): a 4xx with a JSON error naming the parameter, never a 5xx."""

from __future__ import annotations

import pytest

from .bad_inputs import BAD_INPUTS, BadInput
from .checks import Findings, error_body_problems, expect, names_parameter
from .client import ApiClient, Reply

UNKNOWN_PATH = "/no-such-endpoint"


def _answers(client: ApiClient) -> list[tuple[BadInput, Reply]]:
    return [(row, client.get(row.path, row.params)) for row in BAD_INPUTS]


def _client_error_answers(client: ApiClient) -> list[tuple[BadInput, Reply]]:
    """The 4xx answers: the ones whose error body ERR-002 and ERR-003 judge (ERR-001 flags the rest)."""
    return [(row, reply) for row, reply in _answers(client) if 400 <= reply.status < 500]


def _describe(row: BadInput) -> str:
    return f"{row.why} ({row.path}?{'&'.join(f'{k}={v}' for k, v in row.params)})"


@pytest.mark.clause("ERR-001", level="MUST")
def test_err_001_bad_input_is_4xx(client: ApiClient):
    findings = Findings()
    for row, reply in _answers(client):
        findings.check(400 <= reply.status < 500, f"{_describe(row)} answered {reply.status}", reply.exchange)
    findings.raise_any()


@pytest.mark.clause("ERR-002", level="MUST")
def test_err_002_error_body_is_json(client: ApiClient):
    findings = Findings()
    for row, reply in _client_error_answers(client):
        problems = error_body_problems(reply)
        findings.check(
            not problems,
            f"{_describe(row)}: the {reply.status} is not an error object: {'; '.join(problems)}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("ERR-003", level="SHOULD")
def test_err_003_error_names_the_parameter(client: ApiClient):
    findings = Findings()
    for row, reply in _client_error_answers(client):
        findings.check(
            names_parameter(reply, row.names),
            f"{_describe(row)}: the error does not name {' or '.join(row.names)}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("ERR-004", level="SHOULD")
def test_err_004_bad_input_is_400(client: ApiClient):
    findings = Findings()
    for row, reply in _answers(client):
        findings.check(
            reply.status == 400, f"{_describe(row)} answered {reply.status}, not 400", reply.exchange
        )
    findings.raise_any()


@pytest.mark.clause("ERR-005", level="MUST")
def test_err_005_unknown_path_is_404(client: ApiClient):
    reply = client.get(UNKNOWN_PATH)
    expect(reply.status == 404, f"GET {UNKNOWN_PATH} answered {reply.status}, not 404", reply.exchange)


@pytest.mark.clause("ERR-006", level="SHOULD")
def test_err_006_unknown_path_error_is_json(client: ApiClient):
    reply = client.get(UNKNOWN_PATH)
    if reply.status != 404:
        pytest.skip(f"GET {UNKNOWN_PATH} answered {reply.status} (see ERR-005)")
    problems = error_body_problems(reply)
    expect(not problems, f"the 404 is not an error object: {'; '.join(problems)}", reply.exchange)
