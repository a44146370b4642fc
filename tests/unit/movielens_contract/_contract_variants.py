"""A small, independent MovieLens API server with fault switches, to test the contract suite itself.

It implements the contract correctly by default over a small generated in-memory dataset, and each
name in :data:`FAULTS` breaks exactly one rule, the way real re-implementations get it wrong. The
"allowed differences" (another maximum or default page size, rejecting instead of clamping,
extra fields, tiny or multi-year data) are options that must still pass the suite.

It shares no code with the suite or the reference server on purpose: a bug common to both would
hide itself.
"""

from __future__ import annotations

import base64
import bisect
import calendar
import datetime as dt
import hmac
import json
import random
import re
import socketserver
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

DAY = 86_400
MAX_INT = 2**53 - 1
_DIGITS = re.compile(r"[0-9]+\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

# Fault name -> what it breaks (the clause that must catch it is in the tests' catalogue).
FAULTS: dict[str, str] = {
    "paging_off_by_one": "pages start one record after the requested offset",
    "inclusive_end": "end_date is inclusive: the whole end day is in the window",
    "local_time": "dates are read as midnight in UTC+9, not UTC",
    "local_time_west": "dates are read as midnight in UTC-5, not UTC",
    "end_inclusive_instant": "end_date includes a record at exactly its midnight (timestamp <= end)",
    "exclusive_start": "start_date is exclusive at the instant: records at exactly midnight are dropped",
    "total_is_page_length": "total is the number of records on the page",
    "limit_ignored": "limit is echoed but the page always holds the default page size",
    "unstable_order": "records with the same timestamp come in a different order on every request",
    "ties_by_movie": "ties on timestamp are broken by movieId, not userId",
    "auth_ignored": "no authentication at all",
    "no_www_authenticate": "401 without a WWW-Authenticate header",
    "rating_as_string": "rating is serialised as a string",
    "error_500_on_bad_input": "a non-integer limit or offset crashes with an HTML 500",
    "past_end_404": "offset at or past total is a 404",
    "start_eq_end_not_empty": "start_date == end_date selects that whole day",
    "start_after_end_ok": "start_date > end_date is a 200 with an empty page",
    "missing_total": "the envelope has no total",
    "clamp_not_echoed": "limit is clamped to the maximum but the requested limit is echoed",
    "offset_not_echoed": "the envelope's offset is always 0",
    "html_errors": "400s have an HTML body",
    "movies_unsorted": "movies come in title order",
    "health_requires_auth": "/health asks for credentials",
    "pre_epoch_500": "a date before 1970 crashes with a 500",
    "unknown_path_500": "unknown paths crash with a 500",
    "reject_without_max_limit": "an over-maximum limit is a 400 without max_limit (a SHOULD)",
    "no_content_type": "JSON bodies are sent as text/plain (a SHOULD)",
    "crash_echoing_credentials": "bad input is a 500 whose body echoes the Authorization header and password",
    "crash_echoing_encoded_credentials": "bad input is a 500 echoing the credentials re-encoded: URL-safe "
    "base64 without padding, percent-encoded, in the body and in a WWW-Authenticate header",
}


@dataclass(frozen=True)
class Dataset:
    """Ratings sorted by (timestamp, userId, movieId) and movies sorted by movieId."""

    ratings: tuple[tuple[int, int, float, int], ...]  # (userId, movieId, rating, timestamp)
    movies: tuple[tuple[int, str, str], ...]

    @property
    def timestamps(self) -> list[int]:
        return [r[3] for r in self.ratings]


def _midnight(day: dt.date) -> int:
    return calendar.timegm(day.timetuple())


def make_dataset(
    *,
    seed: int = 7,
    first_day: dt.date = dt.date(2019, 3, 1),
    days: int = 12,
    per_day: tuple[int, int] = (15, 35),
    n_movies: int = 40,
    sparse_every: int = 5,
    empty_every: int = 4,
) -> Dataset:
    """A deterministic dataset with the awkward cases a contract check needs.

    Some days are empty, some sparse; busy days have a record at exactly 00:00:00 UTC, records in
    the last and first hours around midnight, and several records sharing one timestamp.
    """
    rng = random.Random(seed)
    seen: set[tuple[int, int, int]] = set()
    rows: list[tuple[int, int, float, int]] = []

    def add(ts: int) -> None:
        for _ in range(50):
            user, movie = rng.randint(1, 30), rng.randint(1, n_movies)
            if (ts, user, movie) not in seen:
                seen.add((ts, user, movie))
                rows.append((user, movie, rng.randint(1, 10) / 2, ts))
                return

    for index in range(days):
        start = _midnight(first_day + dt.timedelta(days=index))
        if empty_every and index % empty_every == empty_every - 1:
            continue
        if sparse_every and index % sparse_every == sparse_every - 1:
            for _ in range(rng.randint(2, 4)):
                add(start + rng.randrange(DAY))
            continue
        if index % 2 == 0:
            add(start)  # exactly midnight UTC
        for minutes in (1, 7, 45, 130):  # early hours: a UTC+X reading of dates misplaces them
            add(start + minutes * 60 + rng.randrange(60))
        for minutes in (1, 9, 50, 200):  # late hours: a UTC-X reading misplaces them
            add(start + DAY - minutes * 60 - rng.randrange(60))
        tie = start + DAY // 2 + rng.randrange(3600)
        for _ in range(3):
            add(tie)
        for _ in range(rng.randint(*per_day)):
            add(start + rng.randrange(DAY))
    rows.sort(key=lambda r: (r[3], r[0], r[1]))
    genres = ("Comedy", "Drama", "Action|Thriller", "Animation|Children", "Documentary")
    movies = tuple((m, f"Movie {m} ({1950 + m})", genres[m % len(genres)]) for m in range(1, n_movies + 1))
    return Dataset(tuple(rows), movies)


def make_multi_year_dataset(seed: int = 11, n: int = 150) -> Dataset:
    """About ``n`` ratings spread thinly over 2017-2021, a few of them at exactly midnight."""
    rng = random.Random(seed)
    first, last = _midnight(dt.date(2017, 1, 1)), _midnight(dt.date(2022, 1, 1))
    rows = set()
    while len(rows) < n:
        ts = rng.randrange(first, last)
        if len(rows) % 10 == 0:
            ts -= ts % DAY
        rows.add((rng.randint(1, 20), rng.randint(1, 30), rng.randint(1, 10) / 2, ts))
    movies = tuple((m, f"Film {m}", "Drama") for m in range(1, 31))
    return Dataset(tuple(sorted(rows, key=lambda r: (r[3], r[0], r[1]))), movies)


def tiny_dataset() -> Dataset:
    """Five ratings on two days, one at midnight; three movies."""
    base = _midnight(dt.date(2020, 2, 28))
    rows = (
        (3, 1, 4.0, base + 3600),
        (1, 2, 3.5, base + DAY - 60),
        (2, 1, 5.0, base + DAY),
        (1, 3, 0.5, base + DAY + 7200),
        (2, 2, 2.5, base + DAY + 7200),
    )
    return Dataset(rows, ((1, "One", "Drama"), (2, "Two", "Comedy"), (3, "Three", "Action")))


@dataclass(frozen=True)
class Behaviour:
    """How a variant answers: the allowed options and the set of faults."""

    user: str = "airflow"
    password: str = "airflow"
    max_limit: int = 1000
    over_max: str = "clamp"  # or "reject"
    default_limit: int = 100
    extra_fields: bool = False
    faults: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")

    def with_faults(self, *names: str) -> Behaviour:
        return replace(self, faults=frozenset(names))


class _BadRequest(Exception):
    def __init__(self, parameter: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.parameter, self.message, self.extra = parameter, message, extra


StartResponse = Callable[..., Any]


class VariantApp:
    """The WSGI application."""

    def __init__(self, dataset: Dataset, behaviour: Behaviour | None = None) -> None:
        self.data = dataset
        self.b = behaviour or Behaviour()
        self._ts = dataset.timestamps
        self._lock = threading.Lock()
        self._calls = 0

    def has(self, fault: str) -> bool:
        return fault in self.b.faults

    # -- plumbing -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        routes = {
            "/": self._root,
            "/health": self._health,
            "/openapi.yaml": self._doc,
            "/ratings": self._ratings,
            "/movies": self._movies,
        }
        if path not in routes:
            if self.has("unknown_path_500"):
                return self._send(start_response, 500, b"<h1>Internal Server Error</h1>", "text/html")
            return self._json(start_response, 404, {"error": f"no such endpoint: {path}"})
        needs_auth = path in ("/ratings", "/movies") or (
            path == "/health" and self.has("health_requires_auth")
        )
        if needs_auth and not self.has("auth_ignored") and not self._authorised(environ):
            headers = (
                [] if self.has("no_www_authenticate") else [("WWW-Authenticate", 'Basic realm="movielens"')]
            )
            return self._json(start_response, 401, {"error": "authentication required"}, headers)
        try:
            return routes[path](query, start_response)
        except _BadRequest as bad:
            if self.has("crash_echoing_encoded_credentials"):
                header = environ.get("HTTP_AUTHORIZATION", "")
                pair = base64.b64decode(header[6:] or b"")
                urlsafe = base64.urlsafe_b64encode(pair).decode().rstrip("=")
                quoted = quote(pair.decode(errors="replace").partition(":")[2], safe="")
                return self._json(
                    start_response,
                    500,
                    {"error": f"crashed: token {urlsafe}, password {quoted}"},
                    [("WWW-Authenticate", f'Basic realm="{urlsafe}"')],
                )
            if self.has("crash_echoing_credentials"):
                header = environ.get("HTTP_AUTHORIZATION", "")
                decoded = base64.b64decode(header[6:] or b"").decode(errors="replace")
                return self._json(start_response, 500, {"error": f"crashed handling {header} ({decoded})"})
            if self.has("html_errors"):
                return self._send(start_response, 400, f"<p>bad {bad.parameter}</p>".encode(), "text/html")
            return self._json(
                start_response, 400, {"error": bad.message, "parameter": bad.parameter, **bad.extra}
            )
        except (
            ValueError,
            ArithmeticError,
        ):  # the crashes the faults simulate, without wsgiref's stderr noise
            return self._send(start_response, 500, b"<h1>Internal Server Error</h1>", "text/html")

    def _authorised(self, environ: dict[str, Any]) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.b.user) & hmac.compare_digest(password, self.b.password)

    def _send(
        self,
        start_response: StartResponse,
        status: int,
        body: bytes,
        ctype: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        reasons = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            500: "Internal Server Error",
        }
        start_response(
            f"{status} {reasons[status]}",
            [("Content-Type", ctype), ("Content-Length", str(len(body))), *(headers or [])],
        )
        return [body]

    def _json(
        self,
        start_response: StartResponse,
        status: int,
        payload: Any,
        headers: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        ctype = "text/plain" if self.has("no_content_type") else "application/json"
        return self._send(start_response, status, json.dumps(payload).encode(), ctype, headers)

    # -- parameters -----------------------------------------------------------------------------
    def _one(self, query: dict[str, list[str]], name: str) -> str:
        if len(query[name]) > 1:
            raise _BadRequest(name, f"{name} is given more than once")
        return query[name][0]

    def _int(self, query: dict[str, list[str]], name: str, default: int, minimum: int) -> int:
        if name not in query:
            return default
        raw = self._one(query, name)
        if not _DIGITS.match(raw):
            if self.has("error_500_on_bad_input"):
                raise ValueError(raw)
            raise _BadRequest(name, f"{name} must be an integer, got {raw!r}")
        value = int(raw)
        if value > MAX_INT or value < minimum:
            raise _BadRequest(name, f"{name} must be between {minimum} and {MAX_INT}")
        return value

    def _date(self, query: dict[str, list[str]], name: str) -> int | None:
        if name not in query:
            return None
        raw = self._one(query, name)
        try:
            if not _DATE.match(raw):
                raise ValueError(raw)
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise _BadRequest(name, f"{name} must be a date as YYYY-MM-DD, got {raw!r}") from None
        if day.year < 1970 and self.has("pre_epoch_500"):
            raise ArithmeticError("dates before the epoch are not supported")
        ts = _midnight(day)
        if self.has("local_time"):
            return ts - 9 * 3600
        return ts + 5 * 3600 if self.has("local_time_west") else ts

    def _paging(self, query: dict[str, list[str]]) -> tuple[int, int, int]:
        offset = self._int(query, "offset", 0, 0)
        requested = self._int(query, "limit", min(self.b.default_limit, self.b.max_limit), 1)
        limit = requested
        if requested > self.b.max_limit:
            if self.b.over_max == "reject" or self.has("reject_without_max_limit"):
                extra = {} if self.has("reject_without_max_limit") else {"max_limit": self.b.max_limit}
                raise _BadRequest("limit", f"limit must be at most {self.b.max_limit}", **extra)
            limit = self.b.max_limit
        return offset, limit, requested

    def _page(
        self,
        start_response: StartResponse,
        rows: list[Any],
        total: int,
        offset: int,
        limit: int,
        requested: int,
    ) -> list[bytes]:
        if offset >= total and self.has("past_end_404"):
            return self._json(start_response, 404, {"error": "offset is past the end"})
        echoed = limit
        if self.has("clamp_not_echoed") or self.has("limit_ignored"):
            echoed = requested
        payload: dict[str, Any] = {
            "result": rows,
            "offset": 0 if self.has("offset_not_echoed") else offset,
            "limit": echoed,
        }
        if not self.has("missing_total"):
            payload["total"] = len(rows) if self.has("total_is_page_length") else total
        if self.b.extra_fields:
            payload["server"] = "variant"
            payload["next_offset"] = offset + len(rows)
        return self._json(start_response, 200, payload)

    # -- endpoints ------------------------------------------------------------------------------
    def _root(self, query: dict[str, list[str]], start_response: StartResponse) -> list[bytes]:
        return self._json(
            start_response,
            200,
            {"message": "variant MovieLens API", "endpoints": ["/ratings", "/movies", "/health"]},
        )

    def _health(self, query: dict[str, list[str]], start_response: StartResponse) -> list[bytes]:
        return self._json(
            start_response,
            200,
            {"status": "ok", "ratings": len(self.data.ratings), "movies": len(self.data.movies)},
        )

    def _doc(self, query: dict[str, list[str]], start_response: StartResponse) -> list[bytes]:
        return self._send(
            start_response, 200, b"openapi: 3.1.0\npaths:\n  /ratings: {}\n", "application/yaml"
        )

    def _ratings(self, query: dict[str, list[str]], start_response: StartResponse) -> list[bytes]:
        start, end = self._date(query, "start_date"), self._date(query, "end_date")
        offset, limit, requested = self._paging(query)
        if start is not None and end is not None and start > end and not self.has("start_after_end_ok"):
            raise _BadRequest("start_date", "start_date must not be after end_date")
        if start is not None and end is not None and start == end and self.has("start_eq_end_not_empty"):
            end = start + DAY
        if self.has("inclusive_end") and end is not None:
            end += DAY
        lo = 0 if start is None else bisect.bisect_left(self._ts, start)
        if self.has("exclusive_start") and start is not None:
            lo = bisect.bisect_right(self._ts, start)
        hi = len(self._ts) if end is None else bisect.bisect_left(self._ts, end)
        if self.has("end_inclusive_instant") and end is not None:
            hi = bisect.bisect_right(self._ts, end)
        hi = max(lo, hi)
        total = hi - lo
        rows = self._ordered(lo, hi)
        begin = offset + 1 if self.has("paging_off_by_one") else offset
        size = self.b.default_limit if self.has("limit_ignored") else limit
        chosen = rows[begin : begin + size] if begin < total else []
        records = []
        for user, movie, rating, ts in chosen:
            record: dict[str, Any] = {
                "userId": user,
                "movieId": movie,
                "rating": str(rating) if self.has("rating_as_string") else rating,
                "timestamp": ts,
            }
            if self.b.extra_fields:
                record["source"] = "variant"
            records.append(record)
        return self._page(start_response, records, total, offset, limit, requested)

    def _ordered(self, lo: int, hi: int) -> list[tuple[int, int, float, int]]:
        rows = list(self.data.ratings[lo:hi])
        if self.has("ties_by_movie"):
            rows.sort(key=lambda r: (r[3], r[1], r[0]))
        if self.has("unstable_order"):
            with self._lock:
                self._calls += 1
                rng = random.Random(self._calls)
            rows.sort(key=lambda r: (r[3], rng.random()))
        return rows

    def _movies(self, query: dict[str, list[str]], start_response: StartResponse) -> list[bytes]:
        offset, limit, requested = self._paging(query)
        movies = list(self.data.movies)
        if self.has("movies_unsorted"):
            movies.sort(key=lambda m: m[1])
        chosen = movies[offset : offset + limit]
        records = [{"movieId": m, "title": t, "genres": g} for m, t, g in chosen]
        return self._page(start_response, records, len(movies), offset, limit, requested)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class RunningServer:
    """A WSGI app served on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._httpd = make_server(
            "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="variant-server",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
