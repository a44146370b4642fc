"""MovielensHook against servers that echo the credentials: no form of them reaches an error or a log.

A server or proxy may echo what it received: the password, the ``Authorization`` header or its
base64, or the password percent-encoded in a URL. Every failure mode (4xx, 5xx and 429 with retries,
a 200 that is not JSON, redirects, connection errors) is tried with each encoding echoed in the body,
in headers and in redirect targets; no form of the secret (see ``secret_forms``) may then appear in the
exception (str, repr, args, attributes, causes), in any log record or in ``test_connection()``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
import requests
import responses
from _provider_fakes import (
    BASE_URL,
    HOSTILE_PASSWORD,
    LOGIN,
    credential_echoes,
    exception_texts,
    leaked,
    rating,
    secret_forms,
    set_connection,
)

from airflow_movielens.exceptions import (
    MovielensAPIError,
    MovielensConnectionError,
    MovielensError,
    MovielensResponseError,
)
from airflow_movielens.hooks import MovielensHook
from airflow_movielens.redaction import Redactor

RATINGS = BASE_URL + "/ratings"
MOVED = re.compile(re.escape(BASE_URL) + r"/moved.*")
FORMS = secret_forms(LOGIN, HOSTILE_PASSWORD)
ECHOES = credential_echoes(LOGIN, HOSTILE_PASSWORD)
ATTEMPTS = 3


@pytest.fixture
def hostile_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(
        monkeypatch, host="127.0.0.1", port=5000, schema="http", login=LOGIN, password=HOSTILE_PASSWORD
    )


def wire(text: str) -> str:
    """A header value as ``requests`` reads it off the wire: UTF-8 bytes decoded as latin-1."""
    return text.encode().decode("latin-1")


def echo_headers(echo: str) -> dict[str, str]:
    return {"X-Echo-Authorization": wire(echo), "WWW-Authenticate": wire(f'Basic realm="{echo}"')}


def always(status: int, body: str, headers: dict[str, str], content_type: str = "application/json"):
    """A `responses` callback answering the same on every call (retries, then test_connection)."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        return status, {"Content-Type": content_type, **headers}, body

    return callback


# Each mode registers a server that echoes `echo`; it returns the error the fetch must end with and
# whether that error is retried (so the retry warnings must be there, and masked).
Mode = Callable[[responses.RequestsMock, str], tuple[type[MovielensError], bool]]


def client_error(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    body = json.dumps({"error": f"bad credentials {echo}", "parameter": echo})
    mocked.add_callback(responses.GET, RATINGS, callback=always(401, body, echo_headers(echo)))
    return MovielensAPIError, False


def client_error_text(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    body = "y" * 190 + echo  # the 200-character excerpt would cut the secret in half
    mocked.add_callback(responses.GET, RATINGS, callback=always(403, body, echo_headers(echo), "text/html"))
    return MovielensAPIError, False


def server_error(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    body = json.dumps({"error": f"upstream rejected {echo}"})
    mocked.add_callback(responses.GET, RATINGS, callback=always(503, body, echo_headers(echo)))
    return MovielensAPIError, True


def rate_limited(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    body = json.dumps({"error": f"too many requests from {echo}"})
    headers = {**echo_headers(echo), "Retry-After": wire(echo)}  # unreadable: the backoff applies
    mocked.add_callback(responses.GET, RATINGS, callback=always(429, body, headers))
    return MovielensAPIError, True


def not_json(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    body = "x" * 70 + echo  # the 80-character excerpt would cut the secret in half
    mocked.add_callback(responses.GET, RATINGS, callback=always(200, body, echo_headers(echo), "text/html"))
    return MovielensResponseError, True


def redirect_to_error(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    headers = {**echo_headers(echo), "Location": wire(f"{BASE_URL}/moved?echo={echo}")}
    mocked.add_callback(responses.GET, RATINGS, callback=always(302, "", headers))
    body = json.dumps({"error": f"gone, {echo}"})
    mocked.add_callback(responses.GET, MOVED, callback=always(404, body, echo_headers(echo)))
    return MovielensAPIError, False


def redirect_to_bad_envelope(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    headers = {"Location": wire(f"{BASE_URL}/moved/{echo}")}
    mocked.add_callback(responses.GET, RATINGS, callback=always(307, "", headers))
    mocked.add_callback(responses.GET, MOVED, callback=always(200, "[]", echo_headers(echo)))
    return MovielensResponseError, False


def connection_error(mocked: responses.RequestsMock, echo: str) -> tuple[type[MovielensError], bool]:
    error = requests.ConnectionError(f"proxy refused {LOGIN}:{echo} ({echo!r})")
    mocked.add(responses.GET, RATINGS, body=error)
    return MovielensConnectionError, True


MODES: dict[str, Mode] = {
    "4xx": client_error,
    "4xx-text": client_error_text,
    "5xx": server_error,
    "429": rate_limited,
    "200-not-json": not_json,
    "redirect": redirect_to_error,
    "redirect-200": redirect_to_bad_envelope,
    "connection": connection_error,
}


def leaks(texts: dict[str, list[str]]) -> dict[str, list[str]]:
    """For each place, the names of the secret's forms found in its texts."""
    return {
        where: sorted({n for text in found for n in leaked(text, FORMS)}) for where, found in texts.items()
    }


def log_texts(logs: Any) -> list[str]:
    """Every log record and structlog event, except urllib3's.

    urllib3's DEBUG lines quote each request URL, a redirect target too; the hook cannot rewrite
    another library's records, so it registers every form with Airflow's secrets masker, which masks
    them in task logs (``test_every_form_is_registered_with_airflows_masker``).
    """
    records = [r for r in logs.caplog.records if not r.name.startswith("urllib3")]
    return [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in records] + [str(e) for e in logs.events]


def test_the_helper_finds_every_form():
    # The check is only as good as its forms: each echo is found, and differs from the others.
    assert len(set(ECHOES.values())) == len(ECHOES)
    for name, echo in ECHOES.items():
        assert name in leaked(f"... {echo} ...", FORMS)
    assert leaked("nothing to see", FORMS) == []
    assert "literal[0:8]" in leaked(HOSTILE_PASSWORD[:9], FORMS)  # half a secret is a leak
    assert leaked(ECHOES["base64"][-9:], FORMS)
    assert not leaked("Basic YWlyZmxvdz", FORMS)  # base64 of "airflow:" without its last character: no secret


@pytest.mark.parametrize("encoding", list(ECHOES))
@pytest.mark.parametrize("mode", list(MODES))
def test_no_form_of_the_credentials_leaks(hostile_connection, mocked, logs, capsys, mode, encoding):
    expected, retried = MODES[mode](mocked, ECHOES[encoding])
    waits: list[float] = []
    with (
        MovielensHook(max_attempts=ATTEMPTS, sleep=waits.append) as hook,
        pytest.raises(MovielensError) as info,
    ):
        list(hook.get_ratings("2024-01-01", "2024-01-02"))
    ok, message = MovielensHook(sleep=waits.append).test_connection()

    assert type(info.value) is expected or isinstance(info.value, expected)
    assert "***" in str(info.value)  # the echo arrived and was masked: the check is not vacuous
    assert ok is False
    assert "***" in message
    retries = [m for m in logs.messages if m.startswith("Attempt ")]
    assert len(retries) == (ATTEMPTS - 1 if retried else 0)
    out = capsys.readouterr()
    found = leaks(
        {
            "exception": exception_texts(info.value),
            "retry warnings": retries,
            "logs": log_texts(logs),
            "test_connection": [message],
            "output": [out.out, out.err],
        }
    )
    assert found == {"exception": [], "retry warnings": [], "logs": [], "test_connection": [], "output": []}


def test_every_form_is_registered_with_airflows_masker(hostile_connection, monkeypatch):
    registered: list[object] = []
    monkeypatch.setattr("airflow_movielens.hooks.mask_secret", registered.append)
    MovielensHook().get_conn()
    assert len(registered) == 1
    masked = registered[0]
    assert isinstance(masked, list)
    for name, echo in ECHOES.items():
        assert echo in masked, name


def test_a_hook_without_password_masks_nothing(monkeypatch, mocked):
    set_connection(monkeypatch, host="127.0.0.1", port=5000, login=LOGIN)
    mocked.add(responses.GET, RATINGS, status=401, json={"error": "login airflow is unknown"})
    with MovielensHook(max_attempts=1) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings())
    assert info.value.message == "login airflow is unknown"


def test_redactor_masks_longest_forms_whole():
    redact = Redactor(LOGIN, HOSTILE_PASSWORD)
    assert redact(f"Authorization: {ECHOES['header']}") == "Authorization: ***"
    assert redact(f"?pw={ECHOES['quote']}&b={ECHOES['base64url']}") == "?pw=***&b=***"
    assert redact("plain text") == "plain text"
    assert Redactor()("anything") == "anything"


@pytest.mark.parametrize(
    "form",
    [
        FORMS["quote-lowercase-hex"],  # percent-escapes in lowercase hex
        base64.b64encode(f"{LOGIN}:{HOSTILE_PASSWORD}".encode()).decode(),  # UTF-8, not latin-1, bytes
        "basic " + ECHOES["base64"],
        quote(ECHOES["header"]),  # the header value in a URL
        quote_plus(ECHOES["base64url"]),
        quote(HOSTILE_PASSWORD, safe="!#$%&'()*+,/:;=?@[]~"),  # as requests re-quotes a URL
        repr(HOSTILE_PASSWORD)[1:-1],  # inside a repr (it escapes the quote and the backslash)
        json.dumps(HOSTILE_PASSWORD, ensure_ascii=False)[1:-1],  # inside a JSON string
        json.dumps(HOSTILE_PASSWORD)[1:-1],
    ],
)
def test_redactor_masks_rarer_forms(form):
    assert form not in ECHOES.values()
    assert Redactor(LOGIN, HOSTILE_PASSWORD)(f"<{form}>") == "<***>"


@pytest.mark.parametrize("prefix", [0, 1, 70, 79, 80, 81, 200])
def test_excerpt_never_ends_in_part_of_a_secret(prefix):
    redact = Redactor(LOGIN, HOSTILE_PASSWORD)
    # Secrets before the cut shorten the masked text; the secret after them must not slide in.
    body = (ECHOES["literal"] * 3 + "x" * prefix + ECHOES["literal"]).encode()
    excerpt = redact.excerpt(body, 80)
    assert leaked(excerpt, FORMS) == []
    assert excerpt.startswith("*********")
    assert len(excerpt) <= 80


def test_a_password_latin_1_cannot_encode_is_masked_in_its_utf_8_forms():
    password = "пароль-секрет"  # Cyrillic: requests cannot send it as latin-1, only as UTF-8 bytes
    redact = Redactor("user", password)
    header = base64.b64encode(f"user:{password}".encode()).decode()
    for echo in (password, header, f"Basic {header}", quote(password), quote_plus(password)):
        assert redact(f"<{echo}>") == "<***>", echo


def test_a_latin_1_password_is_masked_in_its_latin_1_percent_forms():
    redact = Redactor("user", "pä55 w/rd")
    for echo in ("p%E455%20w%2Frd", "p%e455+w/rd", "p%E455+w%2Frd"):  # quote, quote_plus, lower hex
        assert redact(f"<{echo}>") == "<***>", echo


def test_an_extra_secret_of_the_minimum_length_is_masked_and_a_shorter_one_is_not():
    redact = Redactor(secrets=["k3y-ab", "k3y-a"])
    assert redact("k3y-ab and k3y-a") == "*** and k3y-a"


def test_scrub_masks_every_linked_exception_once_even_in_a_cycle():
    redact = Redactor("user", "s3cret-pass")
    shared = ValueError("shared s3cret-pass")
    in_args = RuntimeError("argument s3cret-pass")
    outer = OSError("outer s3cret-pass", in_args)
    outer.__cause__ = outer.__context__ = shared  # reached twice
    shared.__context__ = outer  # and a cycle back
    redact.scrub(outer)
    assert outer.args == ("outer ***", in_args)
    assert in_args.args == ("argument ***",)
    assert shared.args == ("shared ***",)


def test_excerpt_drops_a_secret_that_starts_at_the_cut():
    redact = Redactor("user", "s3cret-pass")
    assert redact.excerpt(b"a" * 10 + b"s3cret-pass" + b"b" * 5, 10) == "a" * 10
    assert redact.excerpt(b"a" * 9 + b"s3cret-pass" + b"b" * 5, 10) == "a" * 9 + "***"


def test_excerpt_counts_characters_not_bytes():
    # 4-byte UTF-8 characters: 10 characters are 40 bytes, and a secret after 9 of them is still found
    redact = Redactor("user", "s3cret-pass")
    assert redact.excerpt("😀".encode() * 10, 10) == "😀" * 10
    assert redact.excerpt("😀".encode() * 9 + b"s3cret-pass", 10) == "😀" * 9 + "***"
    assert Redactor().excerpt("😀".encode() * 12, 10) == "😀" * 10


# -- a real loopback server that echoes what it receives -------------------------------------------


class EchoServer(ThreadingHTTPServer):
    """A loopback HTTP/1.1 server; ``mode`` picks how it answers, ``seen`` records each request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.mode = "pages"
        self.records = [rating(i) for i in range(9)]
        self.seen: list[tuple[str, int]] = []  # (path with query, client port)


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable
    server: EchoServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes, reason: str | None = None, **headers: str) -> None:
        self.send_response(status, reason)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.client_address[1]))
        auth = self.headers.get("Authorization", "")
        password = base64.b64decode(auth.removeprefix("Basic ")).decode("latin-1").partition(":")[2]
        echo = f"{auth} {password}".encode().decode("latin-1")  # header text is latin-1 on the wire
        mode = self.server.mode
        if mode == "pages":
            query = parse_qs(urlsplit(self.path).query)
            offset, limit = int(query["offset"][0]), int(query["limit"][0])
            page = self.server.records[offset : offset + limit]
            envelope = {"result": page, "offset": offset, "limit": limit, "total": len(self.server.records)}
            self.send(200, json.dumps(envelope).encode(), **{"Content-Type": "application/json"})
        elif mode == "reason":
            self.send(401, f"denied: {auth} {password}".encode(), f"Unauthorized {echo}", **{"X-Echo": echo})
        elif mode == "redirect" and self.path.startswith("/ratings"):
            location = f"/moved?auth={quote(auth)}&pw={quote_plus(password)}&raw={quote(password, safe='')}"
            self.send(302, b"", Location=location)
        elif mode == "redirect":
            self.send(503, json.dumps({"error": f"{auth} {password}"}).encode(), f"Busy {echo}")
        else:  # "not-json"
            self.send(200, f"<html>{auth} {password}".encode(), **{"Content-Type": "text/html"})


@pytest.fixture
def echo_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EchoServer]:
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    set_connection(
        monkeypatch,
        host="127.0.0.1",
        port=server.server_address[1],
        schema="http",
        login=LOGIN,
        password=HOSTILE_PASSWORD,
    )
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize(
    ("mode", "expected", "retried"),
    [
        ("reason", MovielensAPIError, False),
        ("redirect", MovielensAPIError, True),
        ("not-json", MovielensResponseError, True),
    ],
)
def test_a_real_echoing_server_leaks_nothing(echo_server, logs, mode, expected, retried):
    echo_server.mode = mode
    waits: list[float] = []
    with (
        MovielensHook(max_attempts=ATTEMPTS, sleep=waits.append) as hook,
        pytest.raises(expected) as info,
    ):
        list(hook.get_ratings(batch_size=5))
    ok, message = MovielensHook(sleep=waits.append).test_connection()
    assert ok is False
    assert "***" in str(info.value)
    retries = [m for m in logs.messages if m.startswith("Attempt ")]
    assert len(retries) == (ATTEMPTS - 1 if retried else 0)
    found = leaks({"exception": exception_texts(info.value), "logs": log_texts(logs), "message": [message]})
    assert found == {"exception": [], "logs": [], "message": []}


def test_one_session_and_one_connection_serve_all_pages(echo_server, monkeypatch):
    sessions: list[requests.Session] = []

    class CountedSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            sessions.append(self)

    monkeypatch.setattr(requests, "Session", CountedSession)
    with MovielensHook() as hook:
        records = list(hook.get_ratings("2024-01-01", "2024-01-02", batch_size=2))
    assert records == echo_server.records
    assert len(echo_server.seen) == 5  # 9 records, 2 per page
    assert len(sessions) == 1
    assert len({port for _, port in echo_server.seen}) == 1  # one TCP connection, kept alive
