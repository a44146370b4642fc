"""Pages of ``/ratings`` and ``/movies`` as the suite sees them, and walks over a listing.

A :class:`Page` is only built from a 200 whose body has the envelope's shape; anything else is a
:class:`ContractViolation` naming the exchange, so a broken envelope shows up as such in every
clause that needed the page instead of as a ``KeyError``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .client import ApiClient, ContractViolation, Exchange, Params, show

RATINGS = "/ratings"
MOVIES = "/movies"
DAY = 86_400
MAX_INT = 2**53 - 1


def midnight(day: dt.date) -> int:
    """Epoch seconds of 00:00:00 UTC on ``day``."""
    return calendar.timegm(day.timetuple())


# The timestamps the suite works with: seconds whose UTC date, give or take the few days the probe
# windows reach around the data (at most ten), is still a ``datetime.date`` (years 1 to 9999).
FIRST_DAY = dt.date(2, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
MIN_TS = midnight(FIRST_DAY)
MAX_TS = midnight(LAST_DAY) + DAY - 1
# A timestamp that is not seconds but lands in these years once divided is most likely this unit.
_UNITS = (("milliseconds", 10**3), ("microseconds", 10**6), ("nanoseconds", 10**9))
_PLAUSIBLE = (midnight(dt.date(1900, 1, 1)), midnight(dt.date(2200, 1, 1)))


def timestamp_problem(ts: int) -> str | None:
    """Why ``ts`` cannot be seconds since the epoch (with the unit it probably is), or ``None``."""
    if MIN_TS <= ts <= MAX_TS:
        return None
    for unit, factor in _UNITS:
        if _PLAUSIBLE[0] <= ts // factor < _PLAUSIBLE[1]:
            return f"timestamp {show(ts)} is not seconds since the epoch ({unit}?)"
    return f"timestamp {show(ts)} is not seconds since the epoch between {FIRST_DAY} and {LAST_DAY}"


def check_timestamp(ts: int, exchange: Exchange | None = None) -> int:
    """``ts`` itself; a :class:`ContractViolation` naming it when no UTC date can hold it (REC-001)."""
    problem = timestamp_problem(ts)
    if problem:
        raise ContractViolation(f"{problem} (REC-001)", exchange)
    return ts


def utc_day(ts: int) -> dt.date:
    """The UTC date of ``ts`` (a :class:`ContractViolation` when it has none, see :func:`check_timestamp`)."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=check_timestamp(ts) // DAY)


def when(ts: int) -> str:
    """An epoch timestamp as readable UTC, for messages (never raises: it is used to describe failures)."""
    if timestamp_problem(ts):
        return f"{show(ts)} (not a UTC date)"
    return f"{ts} ({(dt.datetime(1970, 1, 1) + dt.timedelta(seconds=ts)).isoformat()}Z)"


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )


@dataclass(frozen=True)
class Window:
    """A date window; ``None`` bounds are omitted from the request."""

    start: dt.date | None = None
    end: dt.date | None = None

    def params(self) -> list[tuple[str, str]]:
        out = []
        if self.start is not None:
            out.append(("start_date", self.start.isoformat()))
        if self.end is not None:
            out.append(("end_date", self.end.isoformat()))
        return out

    def __str__(self) -> str:
        return f"[{self.start or '-inf'}, {self.end or '+inf'})"


ALL = Window()


@dataclass
class Page:
    """One 200 page with a well-formed envelope."""

    path: str
    window: Window
    requested_offset: int | None
    requested_limit: int | None
    records: list[dict[str, Any]]
    offset: int
    limit: int
    total: int
    exchange: Exchange
    raw: dict[str, Any] = field(repr=False)

    @property
    def expected_length(self) -> int:
        """How many records the envelope's ``offset``, ``limit`` and ``total`` say the page holds."""
        return max(0, min(self.limit, self.total - self.offset))

    def order_keys(self) -> list[tuple[int, int, int]]:
        """The ``(timestamp, userId, movieId)`` of each rating (a violation if they are not integers)."""
        return [rating_key(r, self.exchange) for r in self.records]


def rating_key(record: Any, exchange: Exchange) -> tuple[int, int, int]:
    """The ``(timestamp, userId, movieId)`` of a rating: integers, the timestamp a UTC date (REC-001)."""
    if not isinstance(record, dict) or not all(
        _is_int(record.get(k)) for k in ("timestamp", "userId", "movieId")
    ):
        raise ContractViolation(
            f"rating {str(record)[:120]} lacks integer timestamp/userId/movieId (REC-001)", exchange
        )
    ts = check_timestamp(int(record["timestamp"]), exchange)
    return ts, int(record["userId"]), int(record["movieId"])


def page_params(window: Window = ALL, offset: int | None = None, limit: int | None = None) -> Params:
    params = window.params()
    if offset is not None:
        params.append(("offset", str(offset)))
    if limit is not None:
        params.append(("limit", str(limit)))
    return params


def fetch(
    client: ApiClient,
    path: str = RATINGS,
    *,
    window: Window = ALL,
    offset: int | None = None,
    limit: int | None = None,
    cache: bool = True,
) -> Page:
    """GET one page; a :class:`ContractViolation` unless it is a 200 with a well-formed envelope."""
    reply = client.get(path, page_params(window, offset, limit), cache=cache)
    if reply.status != 200:
        raise ContractViolation(f"expected 200 for a valid page request, got {reply.status}", reply.exchange)
    body = reply.json()
    if not isinstance(body, dict):
        raise ContractViolation("the page is not a JSON object (ENV-001)", reply.exchange)
    missing = [k for k in ("result", "offset", "limit", "total") if k not in body]
    if missing:
        raise ContractViolation(f"the envelope lacks {', '.join(missing)} (ENV-001)", reply.exchange)
    if not isinstance(body["result"], list):
        raise ContractViolation("the envelope's result is not an array (ENV-001)", reply.exchange)
    bad = [k for k in ("offset", "limit", "total") if not _is_int(body[k])]
    if bad:
        raise ContractViolation(f"the envelope's {', '.join(bad)} not integer (ENV-001)", reply.exchange)
    huge = [f"{k} {show(body[k])}" for k in ("offset", "limit", "total") if abs(body[k]) > MAX_INT]
    if huge:
        raise ContractViolation(f"the envelope's {', '.join(huge)} beyond 2^53-1 (ENV-001)", reply.exchange)
    records = body["result"]
    odd = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if odd is not None:
        raise ContractViolation(
            f"the envelope's result[{odd}] is {show(records[odd])}, not an object (ENV-001)", reply.exchange
        )
    if path == RATINGS:  # the schema allows any integer; the suite needs dates (REC-001)
        for record in records:
            if _is_int(record.get("timestamp")):
                check_timestamp(int(record["timestamp"]), reply.exchange)
    return Page(
        path,
        window,
        offset,
        limit,
        records,
        int(body["offset"]),
        int(body["limit"]),
        int(body["total"]),
        reply.exchange,
        body,
    )


def total_of(client: ApiClient, window: Window = ALL, path: str = RATINGS) -> int:
    """``total`` of a listing, from a one-record page."""
    return fetch(client, path, window=window, limit=1).total


@dataclass
class Walk:
    """A listing read page by page with a fixed requested page size."""

    size: int
    total: int
    pages: list[Page]
    complete: bool

    @property
    def records(self) -> list[dict[str, Any]]:
        """The pages' records concatenated, as a client advancing by the page size would get them."""
        return concatenated(self.pages)


def walk(client: ApiClient, path: str, window: Window, size: int, total: int, max_pages: int) -> Walk:
    """Read ``[0, total)`` with pages of ``size`` at offsets 0, size, 2*size, ...

    Advancing by the requested size (not by what came back) is deliberate: a short or long page is
    then visible as a gap or an overlap. When the listing needs more than ``max_pages`` pages, only
    the first and last ``max_pages // 2`` are read (``complete`` is then false).
    """
    count = -(-total // size) if total > 0 else 0  # pages needed; computed, never listed
    complete = count <= max_pages
    shown = range(count) if complete else [*range(max_pages // 2), *range(count - max_pages // 2, count)]
    offsets = [i * size for i in shown]
    pages = [fetch(client, path, window=window, offset=offset, limit=size) for offset in offsets]
    return Walk(size, total, pages, complete)


def concatenated(pages: Sequence[Page]) -> list[dict[str, Any]]:
    return [record for page in pages for record in page.records]
