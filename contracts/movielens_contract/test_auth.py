"""Authentication: none, wrong and right credentials (AUTH-*)."""

from __future__ import annotations

import pytest

from .checks import Findings, error_body_problems, expect
from .client import ApiClient, Reply
from .discovery import Discovery
from .pages import MOVIES, RATINGS

ONE = [("limit", "1")]


def _paths(discovery: Discovery) -> list[str]:
    """The endpoints behind authentication that the server offers."""
    return [RATINGS, MOVIES] if discovery.offers("movies") else [RATINGS]


def _unauthorised(client: ApiClient, discovery: Discovery) -> list[Reply]:
    """The answers to every request that must be refused."""
    replies = [client.get(path, ONE, auth="none") for path in _paths(discovery)]
    return replies + [client.get(RATINGS, ONE, auth=mode) for mode in ("wrong-password", "wrong-user")]


def _refused(client: ApiClient, discovery: Discovery) -> list[Reply]:
    """The unauthorised requests answered 401; n/a when there is none (AUTH-001 then fails)."""
    refused = [r for r in _unauthorised(client, discovery) if r.status == 401]
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


@pytest.mark.clause("AUTH-001")
def test_auth_001_no_credentials_is_401(client):
    _expect_401_without_credentials(client, RATINGS)


@pytest.mark.clause("AUTH-002")
def test_auth_002_wrong_credentials_are_401(client):
    findings = Findings()
    for mode, what in (("wrong-password", "a wrong password"), ("wrong-user", "an unknown user")):
        reply = client.get("/ratings", ONE, auth=mode)
        findings.check(
            reply.status == 401, f"GET /ratings with {what} answered {reply.status}, not 401", reply.exchange
        )
    findings.raise_any()


@pytest.mark.clause("AUTH-003")
def test_auth_003_right_credentials_are_200(client, discovery):
    findings = Findings()
    for path in _paths(discovery):
        reply = client.get(path, ONE)
        findings.check(
            reply.status == 200,
            f"GET {path} with the right credentials answered {reply.status}",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("AUTH-004")
def test_auth_004_401_has_www_authenticate_basic(client, discovery):
    findings = Findings()
    for reply in _refused(client, discovery):
        header = reply.headers.get("WWW-Authenticate", "")
        findings.check(
            header.strip().lower().startswith("basic"),
            f"401 without a Basic WWW-Authenticate header (got {header or 'none'!r})",
            reply.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("AUTH-005")
def test_auth_005_movies_requires_credentials(client):
    _expect_401_without_credentials(client, MOVIES)


@pytest.mark.clause("AUTH-006")
def test_auth_006_401_body_is_json_error(client, discovery):
    findings = Findings()
    for reply in _refused(client, discovery):
        problems = error_body_problems(reply)
        findings.check(
            not problems, f"the 401 body is not an error object: {'; '.join(problems)}", reply.exchange
        )
    findings.raise_any()
