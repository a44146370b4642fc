"""Test doubles for the provider's unit tests: a contract-following fake API, a recording sleep, a
loopback server that stalls, and a task run the way Airflow's task runner calls ``execute``."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
import requests
import responses

from airflow_movielens.compat import AIRFLOW_V3

BASE_URL = "http://127.0.0.1:5000"
PASSWORD = "s3cr3t-Pa55-w0rd"  # must never show up in logs or exception texts
LOGIN = "airflow"


def set_connection(
    monkeypatch: pytest.MonkeyPatch, conn_id: str = "movielens_default", **fields: Any
) -> None:
    """Define an Airflow connection through the AIRFLOW_CONN_<ID> environment variable (JSON form)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "movielens", **fields}))


class Sleeps(list[float]):
    """An injected sleep function that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def rating(i: int) -> dict[str, Any]:
    """The i-th rating of a synthetic listing, in the contract's (timestamp, userId, movieId) order."""
    return {
        "userId": 1 + i % 7,
        "movieId": 1 + i,
        "rating": 0.5 + (i % 10) / 2,
        "timestamp": 1_700_000_000 + i,
    }


@dataclass
class FakeRatingsAPI:
    """A contract-following /ratings endpoint over a list of records, with knobs for misbehaviour."""

    records: list[dict[str, Any]]
    max_limit: int | None = None  # clamp above this page size
    echo_limit: bool = True  # echo the clamped limit; False echoes the requested one (a silent clamp)
    reject_limit_above: int | None = None  # answer 400 naming `limit` above this page size
    send_max_limit: bool = True
    requests: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        self.requests.append(query)
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", 100))
        if self.reject_limit_above is not None and limit > self.reject_limit_above:
            body: dict[str, Any] = {
                "error": f"limit must be <= {self.reject_limit_above}",
                "parameter": "limit",
            }
            if self.send_max_limit:
                body["max_limit"] = self.reject_limit_above
            return 400, {}, json.dumps(body)
        served = limit if self.max_limit is None else min(limit, self.max_limit)
        page = self.records[offset : offset + served]
        echoed = served if self.echo_limit else limit
        envelope = {"result": page, "offset": offset, "limit": echoed, "total": len(self.records)}
        return 200, {"Content-Type": "application/json"}, json.dumps(envelope)

    def register(self, rsps: responses.RequestsMock, path: str = "/ratings") -> FakeRatingsAPI:
        rsps.add_callback(responses.GET, BASE_URL + path, callback=self)
        return self


@dataclass
class StallingServer:
    """A real HTTP server on 127.0.0.1: answers the first requests from ``answers``, then stalls.

    A stalled request is accepted and read but never answered (until the server stops, at most
    ``stall_s`` later), so only a client-side read timeout ends it.
    """

    port: int
    requests: list[str]


@contextmanager
def stalling_server(answers: list[dict[str, Any]], stall_s: float = 10.0) -> Iterator[StallingServer]:
    """Run a :class:`StallingServer` in a thread for the ``with`` block; it stops by itself."""
    release = threading.Event()
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            if len(served) > len(answers):
                release.wait(stall_s)
                return
            body = json.dumps(answers[len(served) - 1]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield StallingServer(port=server.server_address[1], requests=served)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def execute_as_the_task_runner(task: Any, context: dict[str, Any]) -> Any:
    """Call ``task.execute`` through the installed Airflow's own task-running code, safeguard included.

    Airflow 2.11: ``taskinstance._execute_task``, which hands ``execute`` the ExecutorSafeguard
    sentinel (the task must belong to a DAG). Airflow 3: the task runner's ``_run_execute_callable``,
    which sets the safeguard's tracker. Neither needs a metastore for a task returning ``None``.
    """
    if AIRFLOW_V3:
        try:  # Airflow >= 3.3
            from airflow.sdk.execution_time.task_runner import _run_execute_callable
        except ImportError:  # 3.0-3.2: what their task runner's _execute_task does, inline
            import contextvars

            from airflow.sdk.bases.operator import ExecutorSafeguard

            ctx = contextvars.copy_context()
            ctx.run(ExecutorSafeguard.tracker.set, task)
            return ctx.run(task.execute, context)
        return _run_execute_callable(context, task.execute, task)
    from airflow.models.taskinstance import _execute_task

    ti = SimpleNamespace(task=task, next_method=None, next_kwargs=None, start_date=None)
    return _execute_task(ti, context, task)


@dataclass
class LogCapture:
    """Log messages from both stdlib logging (Airflow 2) and structlog (Airflow 3 task SDK)."""

    caplog: pytest.LogCaptureFixture
    events: list[dict[str, Any]]

    @property
    def messages(self) -> list[str]:
        stdlib = [record.getMessage() for record in self.caplog.records]
        return stdlib + [str(event.get("event", "")) for event in self.events]

    @property
    def warnings(self) -> list[str]:
        """The messages logged at WARNING or above."""
        loud = {"warning", "error", "critical", "exception"}
        stdlib = [r.getMessage() for r in self.caplog.records if r.levelno >= logging.WARNING]
        return stdlib + [str(e.get("event", "")) for e in self.events if e.get("log_level") in loud]

    @property
    def text(self) -> str:
        return self.caplog.text + "\n" + "\n".join(str(event) for event in self.events)


# -- credentials a hostile server echoes back ------------------------------------------------------

#: A password with every character class that changes between its encodings: a space (quote vs
#: quote_plus), ``/``, ``+``, ``&``, ``=``, ``?``, ``%``, quotes and a backslash (repr and JSON escapes),
#: a non-ASCII letter (UTF-8 vs latin-1); with the login its base64 holds ``+`` and ``/`` (standard vs
#: URL-safe alphabet) and ends in padding.
HOSTILE_PASSWORD = "s3cr3t 6z>c4 pä55/w+rd&=?%:'\"\\"


def credential_echoes(login: str, password: str) -> dict[str, str]:
    """The encodings a server, proxy or URL may echo the credentials in, by name."""
    raw = f"{login}:{password}".encode("latin-1")  # what requests puts into the Authorization header
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    return {
        "literal": password,
        "base64": standard,
        "base64-unpadded": standard.rstrip("="),
        "base64url": urlsafe,
        "base64url-unpadded": urlsafe.rstrip("="),
        "header": f"Basic {standard}",
        "quote": quote(password, safe=""),
        "quote_plus": quote_plus(password),
    }


def secret_forms(login: str, password: str) -> dict[str, str]:
    """Every text whose presence reveals the password, by name; written apart from the provider's.

    The echoes, the way ``requests`` re-quotes a URL, each of those escaped as in a ``repr`` or a JSON
    string, and every 8-character piece of the password, of its quoted forms and of the base64 after
    the part that encodes only ``login:`` (a secret cut in half still leaks).
    """
    forms = credential_echoes(login, password)
    forms["requoted"] = requests.utils.requote_uri(password)
    forms["quote-lowercase-hex"] = re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), forms["quote"])
    for name, form in list(forms.items()):
        forms[f"{name} (repr)"] = repr(form)[1:-1]
        forms[f"{name} (json)"] = json.dumps(form)[1:-1]
    pieces = {name: forms[name] for name in ("literal", "quote", "quote_plus")}
    # The base64 characters that encode only "login:" (the next one mixes in the password's first bits).
    login_part = len(base64.b64encode(f"{login}:".encode()).rstrip(b"=")) - 1
    pieces |= {name: forms[name][login_part:] for name in ("base64", "base64url")}
    for name, form in pieces.items():
        for start in range(len(form) - 7):
            forms[f"{name}[{start}:{start + 8}]"] = form[start : start + 8]
    return forms


def leaked(text: str, forms: dict[str, str]) -> list[str]:
    """The names of the ``forms`` that occur in ``text``."""
    return [name for name, form in forms.items() if form in text]


def exception_texts(exc: BaseException) -> list[str]:
    """Every text an exception carries: str, repr, args, string attributes, along causes and contexts."""
    texts: list[str] = []
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), *(repr(arg) for arg in current.args)]
        texts += [repr(value) for value in vars(current).values()]
        linked = [*current.args, current.__cause__, current.__context__]
        pending += [item for item in linked if isinstance(item, BaseException)]
    return texts
