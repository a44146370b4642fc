"""A core-only MovieLens ratings server: stdlib ``http.server`` over an in-memory SQLite table.

Only ``/ratings`` exists; every other path is a JSON 404 (``/movies``, ``/health``, ``/`` and
``/openapi.yaml`` included), so it exercises how the contract suite treats a server implementing
just the core of the API. Every page is answered with SQL (``WHERE``/``ORDER BY``/``LIMIT``/
``OFFSET`` and ``COUNT(*)``), not with Python slicing, so paging and window bugs shared with a
list-based implementation cannot hide here.

It shares no request-handling code with the contract suite, the reference server or the other
test servers on purpose: a bug common to two of them would hide itself. Only the data
(:class:`_contract_variants.Dataset`) is borrowed.

``lenient=True`` accepts (and reads correctly) what a forgiving parser accepts; each name in
:data:`FAULTS` breaks exactly one rule.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import contextlib
import datetime as dt
import hmac
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from _contract_variants import Dataset, make_dataset

MAX_SAFE = 2**53 - 1
HOUR = 3600

FAULTS: dict[str, str] = {
    "any_password": "the right user with any password is let in",
    "default_limit_not_echoed": "without limit the page holds default_limit records but echoes max_limit",
    "ms_timestamps": "timestamps are served in milliseconds (filters still correct)",
    "start_one_early": "start_date=D also includes the last record before D 00:00 UTC",
    "both_dates_end_shift": "with both start_date and end_date, the end is read one hour late",
    "empty_window_everything": "a date window matching no record answers the unfiltered listing",
    "epoch_falsy": "a date bound equal to timestamp 0 (1970-01-01) is treated as absent",
    "negative_offset_slice": "a negative offset is served Python-slice style (-1 = the last record), 200",
    "limit_zero_accepted": "limit=0 is a 200 with an empty page",
    "typo_date_ignored": "an invalid date (2019-13-01, yesterday) is ignored as if absent, 200",
    "unbounded": "no maximum page size: any limit is honoured and echoed",
    "mktime_dates": "dates are read as local midnight of the process time zone (time.mktime)",
}

_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_STRICT_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
# What a lenient parser also takes: unpadded, compact and ISO date-time at UTC.
_LENIENT_DATES = (
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII),
    re.compile(
        r"([0-9]{4})-([0-9]{2})-([0-9]{2})T00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?", re.ASCII | re.IGNORECASE
    ),
)
_OVER_MAX = ("clamp", "reject", "reject_no_max_limit")


class _Answer(Exception):
    """A finished non-200 answer, raised from deep in the parsing."""

    def __init__(self, status: int, body: dict[str, Any], headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, list(headers)


def _bad(parameter: str, message: str, **extra: Any) -> _Answer:
    return _Answer(400, {"error": message, "parameter": parameter, **extra})


@dataclass(frozen=True)
class Config:
    """How the server answers: credentials, parsing strictness, page sizes and faults."""

    user: str = "airflow"
    password: str = "airflow"
    lenient: bool = False
    max_limit: int = 1000
    default_limit: int = 100
    over_max: str = "clamp"
    faults: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        if self.over_max not in _OVER_MAX:
            raise ValueError(f"over_max must be one of {_OVER_MAX}, got {self.over_max!r}")
        if self.max_limit < 1 or self.default_limit < 1:
            raise ValueError("max_limit and default_limit must be >= 1")


class RatingsDB:
    """The ratings in an in-memory SQLite table, one connection shared under a lock."""

    def __init__(self, dataset: Dataset) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE TABLE ratings (seq INTEGER PRIMARY KEY, userId INTEGER NOT NULL,"
            " movieId INTEGER NOT NULL, rating REAL NOT NULL, timestamp INTEGER NOT NULL)"
        )
        self._db.execute("CREATE INDEX by_order ON ratings (timestamp, userId, movieId)")
        # seq is the row's position in (timestamp, userId, movieId) order; only start_one_early uses it.
        ordered = sorted(dataset.ratings, key=lambda r: (r[3], r[0], r[1]))
        self._db.executemany(
            "INSERT INTO ratings (seq, userId, movieId, rating, timestamp) VALUES (?, ?, ?, ?, ?)",
            [(i, u, m, r, t) for i, (u, m, r, t) in enumerate(ordered)],
        )
        self._db.commit()

    def query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _to_int(raw: str) -> int:
    """Python ``int()`` after strip: signs, spaces, underscores and any Unicode decimal digits."""
    return int(raw.strip())


class RatingsService:
    """Parses a ``/ratings`` query and answers it from :class:`RatingsDB`."""

    def __init__(self, db: RatingsDB, config: Config) -> None:
        self.db, self.c = db, config

    def has(self, fault: str) -> bool:
        return fault in self.c.faults

    # -- auth -----------------------------------------------------------------------------------
    def authorised(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError):
            return False
        user_ok = hmac.compare_digest(user.encode(), self.c.user.encode())
        if self.has("any_password"):
            return bool(sep) and user_ok
        return bool(sep) & user_ok & hmac.compare_digest(password.encode(), self.c.password.encode())

    # -- parameters -----------------------------------------------------------------------------
    def _one(self, query: dict[str, list[str]], name: str) -> str | None:
        values = query.get(name)
        if not values:
            return None
        if len(values) > 1 and not self.c.lenient:
            raise _bad(name, f"{name} is given {len(values)} times; give it once")
        if values[-1] == "":
            raise _bad(name, f"{name} is empty")
        return values[-1]

    def _count(self, name: str, raw: str, *, allow_negative: bool = False) -> int:
        """An integer parameter; range checks are the caller's."""
        if allow_negative and raw.startswith("-") and _ASCII_DIGITS.fullmatch(raw[1:]):
            return int(raw)
        if self.c.lenient:
            try:
                return _to_int(raw)
            except ValueError:
                raise _bad(name, f"{name} must be an integer, got {raw[:40]!r}") from None
        if not _ASCII_DIGITS.fullmatch(raw):
            raise _bad(name, f"{name} must be written in ASCII digits, got {raw[:40]!r}")
        if len(raw.lstrip("0")) > 16 or int(raw) > MAX_SAFE:
            raise _bad(name, f"{name} must be at most {MAX_SAFE}")
        return int(raw)

    def _date(self, query: dict[str, list[str]], name: str) -> int | None:
        raw = self._one(query, name)
        if raw is None:
            return None
        patterns = _LENIENT_DATES if self.c.lenient else (_STRICT_DATE,)
        day = None
        for pattern in patterns:
            found = pattern.fullmatch(raw.strip() if self.c.lenient else raw)
            if found:
                with contextlib.suppress(ValueError):  # 2019-13-01: matched, but no such day
                    day = dt.date(*(int(g) for g in found.groups()))
                break
        if day is None:
            if self.has("typo_date_ignored"):
                return None
            raise _bad(name, f"{name} must be a valid date as YYYY-MM-DD, got {raw[:40]!r}")
        if self.has("mktime_dates"):
            try:
                ts = int(time.mktime(time.strptime(day.isoformat(), "%Y-%m-%d")))
            except (OverflowError, ValueError):
                raise _bad(name, f"{name} is out of range: {raw[:40]!r}") from None
        else:
            ts = calendar.timegm(day.timetuple())
        if ts == 0 and self.has("epoch_falsy"):
            return None
        return ts

    def _paging(self, query: dict[str, list[str]]) -> tuple[int, int, int]:
        """(offset, limit served, limit echoed)."""
        raw_offset = self._one(query, "offset")
        offset = 0
        if raw_offset is not None:
            offset = self._count("offset", raw_offset, allow_negative=self.has("negative_offset_slice"))
            if offset < 0 and not self.has("negative_offset_slice"):
                raise _bad("offset", f"offset must be at least 0, got {offset}")
        raw_limit = self._one(query, "limit")
        if raw_limit is None:
            limit = min(self.c.default_limit, self.c.max_limit)
            echoed = self.c.max_limit if self.has("default_limit_not_echoed") else limit
            return offset, limit, echoed
        limit = self._count("limit", raw_limit)
        minimum = 0 if self.has("limit_zero_accepted") else 1
        if limit < minimum:
            raise _bad("limit", f"limit must be at least {minimum}, got {limit}")
        if limit > self.c.max_limit and not self.has("unbounded"):
            if self.c.over_max == "reject":
                raise _bad("limit", f"limit must be at most {self.c.max_limit}", max_limit=self.c.max_limit)
            if self.c.over_max == "reject_no_max_limit":
                raise _bad("limit", f"limit {limit} is too large")
            limit = self.c.max_limit
        return offset, limit, limit

    # -- the listing ----------------------------------------------------------------------------
    def ratings(self, query: dict[str, list[str]]) -> dict[str, Any]:
        start, end = self._date(query, "start_date"), self._date(query, "end_date")
        if start is not None and end is not None and start > end:
            raise _bad("start_date", "start_date is after end_date")
        offset, limit, echoed = self._paging(query)
        if start is not None and end is not None and self.has("both_dates_end_shift"):
            end += HOUR
        where, params = self._where(start, end)
        total = self.db.query(f"SELECT COUNT(*) FROM ratings WHERE {where}", params)[0][0]
        if total == 0 and (start is not None or end is not None) and self.has("empty_window_everything"):
            where, params = "1", ()
            total = self.db.query("SELECT COUNT(*) FROM ratings", ())[0][0]
        first = offset if offset >= 0 else max(total + offset, 0)
        # SQLite integers are 64-bit: bind no more than the table can hold (the answer is the same).
        rows = self.db.query(
            f"SELECT userId, movieId, rating, timestamp FROM ratings WHERE {where}"
            " ORDER BY timestamp, userId, movieId LIMIT ? OFFSET ?",
            (*params, min(limit, total), min(first, total)),
        )
        scale = 1000 if self.has("ms_timestamps") else 1
        result = [{"userId": u, "movieId": m, "rating": r, "timestamp": t * scale} for u, m, r, t in rows]
        return {"result": result, "offset": offset, "limit": echoed, "total": total}

    def _where(self, start: int | None, end: int | None) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            if self.has("start_one_early"):
                clauses.append("(timestamp >= ? OR seq = (SELECT MAX(seq) FROM ratings WHERE timestamp < ?))")
                params += [start, start]
            else:
                clauses.append("timestamp >= ?")
                params.append(start)
        if end is not None:
            clauses.append("timestamp < ?")
            params.append(end)
        return (" AND ".join(clauses) or "1"), tuple(params)


class _Handler(BaseHTTPRequestHandler):
    """Routes GET /ratings to the service; every other path or method is a JSON error."""

    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections do not outlive a test for long
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any], headers: Iterable[tuple[str, str]] = ()) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        service = self.server.service
        try:
            if parts.path != "/ratings":
                raise _Answer(404, {"error": f"no such endpoint: {parts.path[:200]}"})
            if not service.authorised(self.headers.get("Authorization")):
                challenge = [("WWW-Authenticate", 'Basic realm="movielens"')]
                raise _Answer(401, {"error": "authentication required"}, challenge)
            query = parse_qs(parts.query, keep_blank_values=True)
            self._send(200, service.ratings(query))
        except _Answer as answer:
            self._send(answer.status, answer.body, answer.headers)
        except Exception as exc:  # a bug: still a JSON answer, not a dropped connection
            self._send(500, {"error": f"internal error: {type(exc).__name__}"})

    def _not_allowed(self) -> None:
        self._send(405, {"error": f"method {self.command} not allowed"}, [("Allow", "GET")])

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def do_HEAD(self) -> None:
        self.do_GET()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    service: RatingsService


class SqliteServer:
    """The server on 127.0.0.1 (a free port) in a daemon thread; ``close()`` stops it."""

    def __init__(self, dataset: Dataset, config: Config) -> None:
        self.config = config
        self._db = RatingsDB(dataset)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.service = RatingsService(self._db, config)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sqlite", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._db.close()

    def __enter__(self) -> SqliteServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(dataset: Dataset | None = None, *, faults: Iterable[str] = (), **options: Any) -> SqliteServer:
    """Start a server over ``dataset`` (default: ``make_dataset()``); options are :class:`Config` fields."""
    config = Config(faults=frozenset(faults), **options)
    return SqliteServer(make_dataset() if dataset is None else dataset, config)
