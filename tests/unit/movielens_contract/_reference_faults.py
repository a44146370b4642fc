"""The project's reference server (``movielens_api``) with faults injected by WSGI middleware.

The reference app is built the way ``test_contract_reference.py`` builds it and left untouched;
each fault is a thin rewrite of the request or the response around it. This tests the suite
against faults on top of an otherwise fully conforming, production-shaped implementation (its
fast path, its orjson bodies, its real ``/openapi.yaml``), which no hand-written test server is.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from _contract_variants import Dataset
from werkzeug.serving import WSGIRequestHandler, make_server

from movielens_api.app import create_app
from movielens_api.store import Store

FAULTS: dict[str, str] = {
    "inclusive_end": "end_date=D is rewritten to D+1 before the app sees it: the end day is included",
    "drop_www_authenticate": "401 answers lose their WWW-Authenticate header",
    "total_off_by_one": "/ratings pages report total + 1",
}

_END_DATE = re.compile(r"(^|&)(end_date=)([0-9]{4}-[0-9]{2}-[0-9]{2})(?=&|$)", re.ASCII)
_TOTAL = re.compile(rb'"total":([0-9]+)(\s*\}\s*)$')
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@functools.lru_cache(maxsize=1)
def _generated_store() -> Store:
    """The reference test's store (100,000 generated ratings, seed 1), built once per process."""
    return Store.generated(100_000, 1)


def _store_of(dataset: Dataset) -> Store:
    """A reference store holding ``dataset``."""
    return Store.from_columns(
        timestamp=[r[3] for r in dataset.ratings],
        user=[r[0] for r in dataset.ratings],
        movie=[r[1] for r in dataset.ratings],
        half_stars=[round(r[2] * 2) for r in dataset.ratings],
        movie_ids=[m[0] for m in dataset.movies],
        titles=[m[1] for m in dataset.movies],
        genres=[m[2] for m in dataset.movies],
    )


def _next_day(match: re.Match[str]) -> str:
    try:
        day = dt.date.fromisoformat(match.group(3)) + dt.timedelta(days=1)
    except (ValueError, OverflowError):  # invalid dates go through: the app rejects them
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{day.isoformat()}"


class FaultMiddleware:
    """Rewrites requests and responses of the wrapped app according to ``faults``."""

    def __init__(self, app: WSGIApp, faults: frozenset[str]) -> None:
        self.app, self.faults = app, faults

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if "inclusive_end" in self.faults:
            environ["QUERY_STRING"] = _END_DATE.sub(_next_day, environ.get("QUERY_STRING", ""))
        rewrite_total = "total_off_by_one" in self.faults and environ.get("PATH_INFO") == "/ratings"
        if not rewrite_total and "drop_www_authenticate" not in self.faults:
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None  # the app returns its body; Flask never calls write()

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = captured["status"], list(captured["headers"])
        if status.startswith("401") and "drop_www_authenticate" in self.faults:
            headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
        if status.startswith("200") and rewrite_total:
            body = _TOTAL.sub(lambda m: b'"total":%d%b' % (int(m.group(1)) + 1, m.group(2)), body)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class ReferenceServer:
    """The (wrapped) reference app served by werkzeug, threaded, on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: WSGIApp) -> None:
        self._httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="reference", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> ReferenceServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(
    dataset: Dataset | None = None,
    *,
    faults: Iterable[str] = (),
    user: str = "airflow",
    password: str = "airflow",
    **options: Any,
) -> ReferenceServer:
    """Start the reference app with ``faults``.

    Without ``dataset`` it serves the reference test's generated store (cached per process);
    ``options`` go to ``movielens_api.app.create_app`` (e.g. ``max_limit``).
    """
    chosen = frozenset(faults)
    unknown = chosen - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)}")
    store = _generated_store() if dataset is None else _store_of(dataset)
    app = create_app(store, user=user, password=password, **options)
    return ReferenceServer(FaultMiddleware(app, chosen))
