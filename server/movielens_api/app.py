"""The WSGI application: the HTTP side of ``contracts/movielens_contract/openapi.yaml`` over a :class:`Store`.

Every response is JSON serialised with orjson (except ``/openapi.yaml``), including 404, 405 and
unexpected errors: a catch-all handler makes sure no input ever yields an HTML page or a stack
trace. Works with Flask 2.2 (what Airflow 2.11 pins) up to 3.x.

In live mode (:mod:`movielens_api.live`) each request takes the cut-off once, in whichever layer
first needs it, and keeps it in its WSGI environ: ``/ratings`` (windows, pages, ``total``) and the
counts of ``/health`` see only the ratings before it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .faults import FaultConfig, FaultMiddleware
from .live import Cutoff, LiveClock
from .params import OVER_MAX_LIMIT_MODES, Page, ParameterError, parse_page, parse_window
from .store import Store

log = logging.getLogger(__name__)

DEFAULT_MAX_LIMIT = 10_000
REALM = "movielens"
ENDPOINTS = ["/ratings", "/movies", "/health", "/openapi.yaml"]
#: Where a request keeps its live cut-off, so that every layer answering it uses the same one.
CUTOFF_KEY = "movielens_api.live_cutoff"
# No automatic OPTIONS answers: Flask's are empty text/html; OPTIONS gets a JSON 405 instead.
ROUTE_OPTIONS = {"provide_automatic_options": False}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson."""
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def _error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    return json_response({"error": message, **extra}, status=status, headers=headers)


def _contract_text() -> bytes | None:
    """The OpenAPI document this server implements, shipped in its own package.

    A copy of ``contracts/movielens_contract/openapi.yaml``: the server does not depend on the
    contract suite, and a unit test keeps the two identical.
    """
    try:
        return (resources.files("movielens_api") / "openapi.yaml").read_bytes()
    except (FileNotFoundError, OSError):
        log.warning("movielens_api/openapi.yaml is missing; /openapi.yaml will answer 404")
        return None


class BasicAuth:
    """HTTP basic authentication against one user, compared in constant time."""

    def __init__(self, user: str, password: str) -> None:
        self._user = user.encode()
        self._password = password.encode()

    def check(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the right credentials (never raises)."""
        if not header:
            return False
        scheme, _, encoded = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        if not sep:
            return False
        # Both comparisons always run, so timing does not reveal which part was wrong.
        user_ok = hmac.compare_digest(user, self._user)
        password_ok = hmac.compare_digest(password, self._password)
        return user_ok & password_ok


def request_cutoff(live: LiveClock | None, environ: dict[str, Any]) -> Cutoff | None:
    """The live cut-off of the request ``environ``: taken on first use, then the same one."""
    if live is None:
        return None
    cutoff = environ.get(CUTOFF_KEY)
    if not isinstance(cutoff, Cutoff):
        cutoff = environ[CUTOFF_KEY] = live.cutoff()
    return cutoff


def visible_end(end: int | None, cutoff: Cutoff | None) -> int | None:
    """The exclusive timestamp bound of a window ending at ``end`` under ``cutoff``."""
    if cutoff is None:
        return end
    return cutoff.bound if end is None else min(end, cutoff.bound)


def ratings_body(
    store: Store, start: int | None, end: int | None, page: Page, cutoff: Cutoff | None = None
) -> bytes:
    """The JSON body of a ``/ratings`` page: the window's records from the pre-rendered text.

    With a live ``cutoff`` the window ends at it at the latest, so ``total`` counts, and the pages
    hold, only the ratings visible now.
    """
    lo, hi = store.window(start, visible_end(end, cutoff))
    first = min(lo + page.offset, hi)
    records = store.ratings_json(first, min(first + page.limit, hi))
    return b'{"result":%b,"offset":%d,"limit":%d,"total":%d}' % (records, page.offset, page.limit, hi - lo)


class RatingsFastPath:
    """WSGI middleware answering authorised, valid ``GET /ratings`` requests without Flask.

    This is the request every client makes thousands of times; Flask's request and response
    objects cost several times the page itself. Anything else (other paths and methods, missing or
    wrong credentials, any invalid parameter) goes on to the Flask app, which stays the one place
    that writes error responses, so both paths answer the same request the same way.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        store: Store,
        *,
        auth: BasicAuth,
        max_limit: int,
        over_max: str,
        live: LiveClock | None = None,
    ) -> None:
        self.app = app
        self._store = store
        self._live = live
        self._auth = auth
        self._max_limit = max_limit
        self._over_max = over_max

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("PATH_INFO") != "/ratings"
            or environ.get("REQUEST_METHOD") != "GET"
            or not self._auth.check(environ.get("HTTP_AUTHORIZATION"))
        ):
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        try:
            start, end = parse_window(query)
            page = parse_page(query, max_limit=self._max_limit, over_max=self._over_max)
            body = ratings_body(self._store, start, end, page, request_cutoff(self._live, environ))
        except Exception:  # a 400, or a bug: Flask answers it (JSON, logged, no traceback sent)
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def create_app(
    store: Store,
    *,
    user: str,
    password: str,
    max_limit: int = DEFAULT_MAX_LIMIT,
    over_max_limit: str = "reject",
    faults: FaultConfig | None = None,
    sleep: Callable[[float], None] | None = None,
    live: LiveClock | None = None,
) -> Flask:
    """Build the API over ``store``.

    ``user``/``password`` are the basic-auth credentials; ``max_limit`` the largest page;
    ``over_max_limit`` what a larger ``limit`` gets: ``"reject"`` (default) a 400 naming
    ``max_limit``, so that a client paging by the limit it asked for fails loudly instead of
    losing records, or ``"clamp"`` the largest page, echoed in ``limit``; ``faults`` turns on
    fault injection (off when ``None`` or its rate is 0); ``sleep`` replaces ``time.sleep`` for
    slow faults in tests; ``live`` turns on live mode: only ratings before its cut-off are served
    (give it an injected clock to move time in tests).
    """
    if max_limit < 1:
        raise ValueError(f"max_limit must be >= 1, got {max_limit}")
    if over_max_limit not in OVER_MAX_LIMIT_MODES:
        raise ValueError(
            f"over_max_limit must be one of {', '.join(OVER_MAX_LIMIT_MODES)}, got {over_max_limit!r}"
        )
    app = Flask("movielens_api")
    auth = BasicAuth(user, password)
    contract = _contract_text()
    unauthorized_headers = {"WWW-Authenticate": f'Basic realm="{REALM}"'}

    def authorized() -> Response | None:
        if auth.check(request.headers.get("Authorization")):
            return None
        return _error(401, "authentication required: HTTP basic credentials", unauthorized_headers)

    def args() -> dict[str, list[str]]:
        return request.args.to_dict(flat=False)

    @app.get("/", **ROUTE_OPTIONS)
    def hello() -> Response:
        return json_response({"message": "MovieLens ratings API", "endpoints": ENDPOINTS})

    @app.get("/health", **ROUTE_OPTIONS)
    def health() -> Response:
        cutoff = request_cutoff(live, request.environ)
        body: dict[str, Any] = {"status": "ok", "ratings": store.n_ratings, "movies": store.n_movies}
        if live is not None and cutoff is not None:
            body["ratings"] = store.window(None, cutoff.bound)[1]
            body["live"] = live.report(cutoff)
        return json_response(body)

    @app.get("/openapi.yaml", **ROUTE_OPTIONS)
    def openapi() -> Response:
        if contract is None:
            return _error(404, "the OpenAPI document is not installed with this server")
        return Response(contract, mimetype="application/yaml")

    @app.get("/ratings", **ROUTE_OPTIONS)
    def ratings() -> Response:
        denied = authorized()
        if denied is not None:
            return denied
        query = args()
        start, end = parse_window(query)
        page = parse_page(query, max_limit=max_limit, over_max=over_max_limit)
        body = ratings_body(store, start, end, page, request_cutoff(live, request.environ))
        return Response(body, mimetype="application/json")

    @app.get("/movies", **ROUTE_OPTIONS)
    def movies() -> Response:
        denied = authorized()
        if denied is not None:
            return denied
        page = parse_page(args(), max_limit=max_limit, over_max=over_max_limit)
        total = store.n_movies
        first = min(page.offset, total)
        records = store.movies(first, min(first + page.limit, total))
        return json_response({"result": records, "offset": page.offset, "limit": page.limit, "total": total})

    @app.errorhandler(ParameterError)
    def bad_parameter(exc: ParameterError) -> Response:
        return json_response(exc.body(), status=400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k.lower() not in ("content-type", "content-length")}
        if status == 404:
            message = f"no such endpoint: {request.path[:200]}"
        elif status == 405:
            message = f"method {request.method} not allowed"
        else:
            message = exc.name.lower()
        return _error(status, message, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return _error(500, "internal server error")

    app.wsgi_app = RatingsFastPath(  # type: ignore[method-assign]
        app.wsgi_app, store, auth=auth, max_limit=max_limit, over_max=over_max_limit, live=live
    )
    if faults is not None and faults.rate > 0:
        app.wsgi_app = FaultMiddleware(app.wsgi_app, faults, sleep=sleep)  # type: ignore[method-assign]
    return app
