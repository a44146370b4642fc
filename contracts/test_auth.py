"""Authentication: none, wrong and right credentials (AUTH-*)."""

from __future__ import annotations

import pytest

from .checks import Findings, error_body_problems, expect
from .client import ApiClient, Reply

ONE = [("limit", "1")]


def _unauthorised(client: ApiClient) -> list[Reply]:
    """The answers to every request that must be refused."""
    return [
        client.get("/ratings", ONE, auth="none"),
        client.get("/ratings", ONE, auth="wrong-password"),
        client.get("/ratings", ONE, auth="wrong-user"),
        client.get("/movies", ONE, auth="none"),
    ]


def _refused(client: ApiClient) -> list[Reply]:
    """The unauthorised requests answered 401; n/a when there is none (AUTH-001 then fails)."""
    refused = [r for r in _unauthorised(client) if r.status == 401]
    if not refused:
        pytest.skip("no request was answered 401 (see AUTH-001)")
    return refused


def _expect_401_without_credentials(client: ApiClient, path: str) -> None:
    reply = client.get(path, ONE, auth="none")
    expect(
        reply.status == 401,
        f"GET {path} without credentials answered {reply.status}, not 401",
        reply.exchange,
    )


@pytest.mark.clause("AUTH-001", level="MUST")
def test_auth_001_no_credentials_is_401(client):
    _expect_401_without_credentials(client, "/ratings")


@pytest.mark.clause("AUTH-002", level="MUST")
def test_auth_002_wrong_credentials_are_401(client):
    findings = Findings()
    for mode, what in (("wrong-password", "a wrong password"), ("wrong-user", "an unknown user")):
        reply = client.get("/ratings", ONE, auth=mode)
        findings.check(
            reply.status == 401, f"GET /ratings with {what} answered {reply.status}, not 401", reply.exchange
        )
    findings.raise_any()


@pytest.mark.clause("AUTH-003", level="MUST")
def test_auth_003_right_credentials_are_200(client):
    findings = Findings()
    for path in ("/ratings", "/movies"):
        reply = client.get(path, ONE)
        findings.check(
            reply.status == 200,
            f"GET {path} with the right credentials answered {reply.status}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("AUTH-004", level="MUST")
def test_auth_004_401_has_www_authenticate_basic(client):
    findings = Findings()
    for reply in _refused(client):
        header = reply.headers.get("WWW-Authenticate", "")
        findings.check(
            header.strip().lower().startswith("basic"),
            f"401 without a Basic WWW-Authenticate header (got {header or 'none'!r})",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("AUTH-005", level="MUST")
def test_auth_005_movies_requires_credentials(client):
    _expect_401_without_credentials(client, "/movies")


@pytest.mark.clause("AUTH-006", level="SHOULD")
def test_auth_006_401_body_is_json_error(client):
    findings = Findings()
    for reply in _refused(client):
        problems = error_body_problems(reply)
        findings.check(
            not problems, f"the 401 body is not an error object: {'; '.join(problems)}", reply.exchange
        )
    findings.raise_any()
