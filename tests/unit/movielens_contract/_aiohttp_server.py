"""A full MovieLens API server in ``aiohttp.web``, on its own event loop in a background thread.

All endpoints (``/ratings``, ``/movies``, ``/health``, ``/``, ``/openapi.yaml``), written in
async style over plain sorted lists and :mod:`bisect`. Strict and correct by default; each name
in :data:`FAULTS` breaks exactly one rule, mostly around the non-core endpoints and the shape of
error answers, which a WSGI-only catalogue does not vary.

It shares no request-handling code with the contract suite, the reference server or the other
test servers: a bug common to two of them would hide itself. Only the data
(:class:`_contract_variants.Dataset`) is borrowed, and ``/openapi.yaml`` is the repository's
``contracts/movielens_contract/openapi.yaml`` read as a file.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import datetime as dt
import hmac
import json
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _contract_variants import Dataset, make_dataset
from aiohttp import web

MAX_SAFE = 2**53 - 1
OPENAPI_PATH = Path(__file__).resolve().parents[3] / "contracts" / "movielens_contract" / "openapi.yaml"
_OLD = dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="movielens"'}

FAULTS: dict[str, str] = {
    "movies_rejects_valid": "/movies answers 401 even to the right credentials",
    "movies_open": "/movies needs no credentials",
    "movie_genres_list": "a movie's genres is a JSON list of strings",
    "movies_total_wrong": "/movies total is the page length",
    "past_end_limit_zero": "a /ratings page at or past the end echoes limit 0",
    "health_counts_wrong": "/health reports the ratings count plus one",
    "root_text": "/ answers text/plain 'Hello'",
    "doc_not_openapi": "/openapi.yaml serves YAML without an openapi key",
    "html_401": "401 bodies are HTML (text/html), still with WWW-Authenticate",
    "max_limit_off_by_one": "(over_max='reject') the 400 advertises max_limit = real max + 1",
    "error_without_parameter_name": "400 bodies are {'error': 'bad request'}, naming no parameter",
    "unknown_path_html_404": "unknown paths are a 404 with an HTML body",
    "old_dates_422": "a valid start_date/end_date before 1990-01-01 is answered 422",
    "bad_input_422": "every bad input is answered 422 instead of 400 (same JSON body)",
}


class BadInput(Exception):
    """A query parameter the API refuses: becomes a 400 (or 422 under some faults)."""

    def __init__(self, parameter: str, message: str, *, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.parameter, self.message, self.status, self.extra = parameter, message, status, extra


@dataclass(frozen=True)
class Settings:
    """Credentials, page sizes and faults of one server."""

    user: str = "airflow"
    password: str = "airflow"
    max_limit: int = 1000
    default_limit: int = 100
    over_max: str = "clamp"  # or "reject"
    faults: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        if self.over_max not in ("clamp", "reject"):
            raise ValueError(f"over_max must be 'clamp' or 'reject', got {self.over_max!r}")
        if self.max_limit < 1 or self.default_limit < 1:
            raise ValueError("max_limit and default_limit must be >= 1")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _whole_number(name: str, raw: str, minimum: int) -> int:
    """ASCII decimal digits only, ``minimum`` .. 2^53-1."""
    if not (raw.isascii() and raw.isdigit()):
        raise BadInput(name, f"{name} must be a non-negative whole number in digits, got {raw[:40]!r}")
    number = int(raw)
    if not minimum <= number <= MAX_SAFE:
        raise BadInput(name, f"{name} must be between {minimum} and {MAX_SAFE}, got {raw[:40]}")
    return number


def _utc_midnight(name: str, raw: str) -> dt.datetime:
    """``YYYY-MM-DD`` exactly (strptime alone would take ``2019-1-1``) -> that midnight UTC."""
    shaped = len(raw) == 10 and raw[4] == raw[7] == "-" and (raw[:4] + raw[5:7] + raw[8:]).isascii()
    if not shaped or not (raw[:4] + raw[5:7] + raw[8:]).isdigit():
        raise BadInput(name, f"{name} must be YYYY-MM-DD, got {raw[:40]!r}")
    try:
        return dt.datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise BadInput(name, f"{name} {raw!r} is not a calendar date") from None


class MovielensAPI:
    """The endpoints, as aiohttp handlers over the dataset."""

    def __init__(self, dataset: Dataset, settings: Settings) -> None:
        self.s = settings
        self.ratings = sorted(dataset.ratings, key=lambda r: (r[3], r[0], r[1]))
        self.stamps = [r[3] for r in self.ratings]
        self.movies = sorted(dataset.movies)
        self.document = OPENAPI_PATH.read_text(encoding="utf-8")

    def on(self, fault: str) -> bool:
        return fault in self.s.faults

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors])
        app.router.add_get("/", self.root)
        app.router.add_get("/health", self.health)
        app.router.add_get("/openapi.yaml", self.document_handler)
        app.router.add_get("/ratings", self.ratings_handler)
        app.router.add_get("/movies", self.movies_handler)
        return app

    # -- cross-cutting: errors and auth ---------------------------------------------------------
    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadInput as bad:
            status = 422 if self.on("bad_input_422") else bad.status
            if self.on("error_without_parameter_name"):
                return _json({"error": "bad request"}, status)
            return _json({"error": bad.message, "parameter": bad.parameter, **bad.extra}, status)
        except web.HTTPNotFound:
            if self.on("unknown_path_html_404"):
                return web.Response(text="<h1>404 Not Found</h1>", status=404, content_type="text/html")
            return _json({"error": f"no such endpoint: {request.path[:200]}"}, 404)
        except web.HTTPMethodNotAllowed:
            return _json({"error": f"method {request.method} not allowed"}, 405, {"Allow": "GET, HEAD"})
        except web.HTTPException:
            raise
        except Exception as exc:  # a bug: a JSON 500 rather than aiohttp's text page
            return _json({"error": f"internal error: {type(exc).__name__}"}, 500)

    def _credentials_ok(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            pair = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, colon, password = pair.partition(b":")
        same_user = hmac.compare_digest(user, self.s.user.encode())
        same_password = hmac.compare_digest(password, self.s.password.encode())
        return bool(colon) & same_user & same_password

    def _refuse(self) -> web.Response:
        if self.on("html_401"):
            return web.Response(
                text="<h1>401 Unauthorized</h1>", status=401, content_type="text/html", headers=_CHALLENGE
            )
        return _json({"error": "authentication required (HTTP basic)"}, 401, _CHALLENGE)

    # -- parameters -----------------------------------------------------------------------------
    @staticmethod
    def _value(request: web.Request, name: str) -> str | None:
        values = request.query.getall(name, [])
        if not values:
            return None
        if len(values) > 1:
            raise BadInput(name, f"{name} may be given only once")
        if not values[0]:
            raise BadInput(name, f"{name} is empty")
        return values[0]

    def _bound(self, request: web.Request, name: str) -> int | None:
        raw = self._value(request, name)
        if raw is None:
            return None
        midnight = _utc_midnight(name, raw)
        if midnight < _OLD and self.on("old_dates_422"):
            raise BadInput(name, f"{name} before 1990 is not supported", status=422)
        return int(midnight.timestamp())

    def _page_request(self, request: web.Request) -> tuple[int, int]:
        raw_offset, raw_limit = self._value(request, "offset"), self._value(request, "limit")
        offset = 0 if raw_offset is None else _whole_number("offset", raw_offset, 0)
        default = min(self.s.default_limit, self.s.max_limit)  # a default above the maximum is not asked for
        limit = default if raw_limit is None else _whole_number("limit", raw_limit, 1)
        if limit > self.s.max_limit:
            if self.s.over_max == "reject":
                advertised = self.s.max_limit + (1 if self.on("max_limit_off_by_one") else 0)
                raise BadInput("limit", f"limit must be at most {advertised}", max_limit=advertised)
            limit = self.s.max_limit
        return offset, limit

    # -- endpoints ------------------------------------------------------------------------------
    async def root(self, request: web.Request) -> web.Response:
        if self.on("root_text"):
            return web.Response(text="Hello", content_type="text/plain")
        return _json(
            {
                "message": "MovieLens ratings (aiohttp test server)",
                "endpoints": ["/ratings", "/movies", "/health", "/openapi.yaml"],
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        ratings = len(self.ratings) + (1 if self.on("health_counts_wrong") else 0)
        return _json({"status": "ok", "ratings": ratings, "movies": len(self.movies)})

    async def document_handler(self, request: web.Request) -> web.Response:
        text = self.document
        if self.on("doc_not_openapi"):
            text = "\n".join(line for line in text.splitlines() if not line.startswith("openapi:")) + "\n"
        return web.Response(text=text, content_type="application/yaml")

    async def ratings_handler(self, request: web.Request) -> web.Response:
        if not self._credentials_ok(request):
            return self._refuse()
        start, end = self._bound(request, "start_date"), self._bound(request, "end_date")
        if start is not None and end is not None and start > end:
            raise BadInput("start_date", "start_date must be on or before end_date")
        offset, limit = self._page_request(request)
        lo = 0 if start is None else bisect.bisect_left(self.stamps, start)
        hi = len(self.stamps) if end is None else bisect.bisect_left(self.stamps, end)
        hi = max(lo, hi)
        total = hi - lo
        first = lo + min(offset, total)
        page = self.ratings[first : min(first + limit, hi)]
        records = [{"userId": u, "movieId": m, "rating": r, "timestamp": t} for u, m, r, t in page]
        echoed = 0 if offset >= total and self.on("past_end_limit_zero") else limit
        return _json({"result": records, "offset": offset, "limit": echoed, "total": total})

    async def movies_handler(self, request: web.Request) -> web.Response:
        if self.on("movies_rejects_valid") or not (self.on("movies_open") or self._credentials_ok(request)):
            return self._refuse()
        offset, limit = self._page_request(request)
        page = self.movies[offset : offset + limit]
        records = [
            {"movieId": m, "title": t, "genres": g.split("|") if self.on("movie_genres_list") else g}
            for m, t, g in page
        ]
        total = len(page) if self.on("movies_total_wrong") else len(self.movies)
        return _json({"result": records, "offset": offset, "limit": limit, "total": total})


class AiohttpServer:
    """Runs the app on 127.0.0.1 (a free port) on an event loop in a daemon thread."""

    def __init__(self, api: MovielensAPI) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(api.app(), access_log=None, shutdown_timeout=0.5)
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._run, name="aiohttp-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the aiohttp server did not start within 10 s")
        if self._failure is not None:
            raise RuntimeError("the aiohttp server failed to start") from self._failure

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the constructor
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self._failure is None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> AiohttpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(dataset: Dataset | None = None, *, faults: Iterable[str] = (), **options: Any) -> AiohttpServer:
    """Start a server over ``dataset`` (default: ``make_dataset()``); options are :class:`Settings` fields."""
    settings = Settings(faults=frozenset(faults), **options)
    return AiohttpServer(MovielensAPI(make_dataset() if dataset is None else dataset, settings))
