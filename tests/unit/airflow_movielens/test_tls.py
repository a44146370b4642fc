"""TLS, mutual TLS and extra headers against a loopback HTTPS server, for the hook and the trigger alike.

A throwaway CA (trustme) signs the server's certificate for 127.0.0.1 and the client's certificate;
nothing leaves the machine. Each scenario runs through MovielensHook (requests, in a task) and
MovielensRatingsTrigger (MovielensAsyncHook, httpx, in the triggerer): one connection must mean the same
to both.
"""

from __future__ import annotations

import asyncio
import json
import ssl

import pytest
import trustme
from _loopback import LoopbackAPI
from _provider_fakes import LOGIN, PASSWORD, Sleeps, set_connection

from airflow_movielens.exceptions import MovielensAPIError, MovielensConnectionError
from airflow_movielens.hooks import MovielensHook
from airflow_movielens.triggers import MovielensRatingsTrigger

WINDOW = ("2024-01-01", "2024-01-02")


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def ca_path(ca, tmp_path):
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def client_cert(ca, tmp_path):
    """(certificate, key) paths of a client certificate signed by the CA."""
    issued = ca.issue_cert("client.example")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return str(cert), str(key)


def server_context(ca, *, require_client_cert=False):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


@pytest.fixture
def https(ca):
    with LoopbackAPI(ssl_context=server_context(ca)) as server:
        yield server


@pytest.fixture
def mtls(ca):
    with LoopbackAPI(ssl_context=server_context(ca, require_client_cert=True)) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_retry_waits(trigger_retry_waits):
    """The trigger's hook records its waits between attempts instead of waiting (conftest)."""
    return trigger_retry_waits


def connect(monkeypatch, server, **extra):
    set_connection(
        monkeypatch,
        host="127.0.0.1",
        port=server.port,
        schema="https",
        login=LOGIN,
        password=PASSWORD,
        extra=json.dumps(extra),
    )


def hook_check(sleeps=None):
    with MovielensHook(sleep=sleeps if sleeps is not None else Sleeps()) as hook:
        return hook.has_ratings(*WINDOW)


def trigger_event():
    async def first():
        async for event in MovielensRatingsTrigger("movielens_default", *WINDOW).run():
            return event.payload
        raise AssertionError("the trigger stopped without an event")

    return asyncio.run(first())


# -- verify: a CA bundle path, the default CA bundle, or false --------------------------------------


def test_verify_ca_path_hook(monkeypatch, https, ca_path):
    connect(monkeypatch, https, verify=ca_path)
    assert hook_check() is True
    assert len(https.received) == 1


def test_verify_ca_path_trigger(monkeypatch, https, ca_path):
    connect(monkeypatch, https, verify=ca_path)
    assert trigger_event()["status"] == "success"
    assert len(https.received) == 1


def test_untrusted_certificate_fails_clearly_and_at_once_hook(monkeypatch, https):
    connect(monkeypatch, https)  # verify defaults to true: the throwaway CA is not trusted
    sleeps = Sleeps()
    with pytest.raises(MovielensConnectionError) as info:
        hook_check(sleeps)
    message = str(info.value)
    assert "failed after 1 attempt(s)" in message  # a certificate problem is not retried
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert "'verify'" in message
    assert sleeps == []
    assert https.received == []


def test_untrusted_certificate_fails_clearly_and_at_once_trigger(monkeypatch, https, trigger_retry_waits):
    connect(monkeypatch, https)
    event = trigger_event()
    assert event["status"] == "error"
    assert "failed after 1 attempt(s)" in event["message"]
    assert "CERTIFICATE_VERIFY_FAILED" in event["message"]
    assert "'verify'" in event["message"]
    assert trigger_retry_waits == []
    assert https.received == []


# urllib3 warns per unverified request as well; the provider's own warning is what is checked here.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize("value", [False, "false"])
def test_verify_false_works_and_warns_hook(monkeypatch, https, logs, value):
    connect(monkeypatch, https, verify=value)
    with MovielensHook(sleep=Sleeps()) as hook:
        assert hook.has_ratings(*WINDOW) is True
        assert hook.has_ratings(*WINDOW) is True
    warnings = [m for m in logs.messages if "verify=false" in m]
    assert len(warnings) == 1  # once per hook, not per request
    assert "NOT checked" in warnings[0]


def test_verify_false_works_and_warns_trigger(monkeypatch, https, logs):
    connect(monkeypatch, https, verify=False)
    assert trigger_event()["status"] == "success"
    assert len([m for m in logs.messages if "verify=false" in m]) == 1


# -- mutual TLS: cert and key -----------------------------------------------------------------------


def test_mtls_server_rejects_a_hook_without_client_cert(monkeypatch, mtls, ca_path):
    connect(monkeypatch, mtls, verify=ca_path)
    with pytest.raises(MovielensConnectionError, match="failed after"):
        hook_check()
    assert mtls.received == []


def test_mtls_server_accepts_a_hook_with_client_cert(monkeypatch, mtls, ca_path, client_cert):
    cert, key = client_cert
    connect(monkeypatch, mtls, verify=ca_path, cert=cert, key=key)
    assert hook_check() is True
    (request,) = mtls.received
    assert ("DNS", "client.example") in request.client_cert["subjectAltName"]


def test_mtls_server_rejects_a_trigger_without_client_cert(monkeypatch, mtls, ca_path):
    connect(monkeypatch, mtls, verify=ca_path)
    event = trigger_event()
    assert event["status"] == "error"
    assert "failed after" in event["message"]
    assert mtls.received == []


def test_mtls_server_accepts_a_trigger_with_client_cert(monkeypatch, mtls, ca_path, client_cert):
    cert, key = client_cert
    connect(monkeypatch, mtls, verify=ca_path, cert=cert, key=key)
    assert trigger_event()["status"] == "success"
    (request,) = mtls.received
    assert ("DNS", "client.example") in request.client_cert["subjectAltName"]


# -- extra headers ----------------------------------------------------------------------------------

HEADERS = {"X-Tenant": "ml-team", "X-Api-Key": "k3y-for-the-gateway"}


def test_extra_headers_reach_the_server_hook(monkeypatch, https, ca_path):
    connect(monkeypatch, https, verify=ca_path, headers=json.dumps(HEADERS))
    assert hook_check() is True
    (request,) = https.received
    assert {name: request.headers[name] for name in HEADERS} == HEADERS
    assert request.headers["Authorization"].startswith("Basic ")  # the credentials still apply


def test_extra_headers_reach_the_server_trigger(monkeypatch, https, ca_path):
    connect(monkeypatch, https, verify=ca_path, headers=HEADERS)
    assert trigger_event()["status"] == "success"
    (request,) = https.received
    assert {name: request.headers[name] for name in HEADERS} == HEADERS
    assert request.headers["Authorization"].startswith("Basic ")


def test_an_echoed_header_secret_is_masked_hook_and_trigger(monkeypatch, https, ca_path):
    def echo(request):
        return 401, {"Content-Type": "text/plain"}, f"key {request.headers.get('X-Api-Key')} refused"

    https.default = echo
    connect(monkeypatch, https, verify=ca_path, headers=HEADERS)
    with pytest.raises(MovielensAPIError) as info:
        hook_check()
    assert "key *** refused" in str(info.value)
    event = trigger_event()
    assert "key *** refused" in event["message"]
    assert HEADERS["X-Api-Key"] not in json.dumps(event)
