"""Property: the reference server's date windows split and page exactly, with midnight-UTC bounds.

For random small datasets (timestamps piled on midnights and day ends around a leap day, many ties)
and dates ``a <= b <= c`` (each bound possibly open), through the real WSGI app:

* the listing of ``[a, c)`` is the listing of ``[a, b)`` followed by that of ``[b, c)``;
* a listing holds exactly the records with ``midnight_utc(a) <= timestamp < midnight_utc(b)``, in
  ``(timestamp, userId, movieId)`` order (computed here independently of the server);
* pages of any size, advanced by the echoed (possibly clamped) ``limit``, or by ``max_limit`` after a
  rejecting server's 400, concatenate to it, every
  page holds ``min(limit, total - offset)`` records and ``total`` never changes;
* whichever share of the newest records is pre-rendered as JSON (the rest serialised per request);
* in live mode, all of the above for the ratings before the cut-off, and paging while the cut-off
  moves on neither repeats nor skips a rating.
"""

from __future__ import annotations

import base64
import datetime as dt

import orjson
from hypothesis import given, note
from hypothesis import strategies as st
from werkzeug.test import Client

from movielens_api.app import create_app
from movielens_api.live import LiveClock
from movielens_api.store import Store

BASE = dt.date(2020, 2, 25)  # the days span 2020-02-29
DAYS = 10
AUTH = {"Authorization": "Basic " + base64.b64encode(b"prop:erty").decode()}

records = st.lists(
    st.tuples(
        st.integers(0, DAYS - 1),  # day
        st.one_of(st.sampled_from([0, 1, 43_200, 86_399]), st.integers(0, 86_399)),  # second of day
        st.integers(1, 4),  # userId
        st.integers(1, 6),  # movieId
        st.integers(1, 10),  # half stars
    ),
    max_size=60,
)
bound = st.one_of(st.none(), st.integers(-1, DAYS + 1))


def midnight_utc(offset: int) -> int:
    return int(
        dt.datetime.combine(BASE + dt.timedelta(days=offset), dt.time(), tzinfo=dt.timezone.utc).timestamp()
    )


def iso(offset: int | None) -> str | None:
    return None if offset is None else (BASE + dt.timedelta(days=offset)).isoformat()


def expected(rows: list[tuple[int, int, int, int]], start: int | None, end: int | None) -> list[dict]:
    low = None if start is None else midnight_utc(start)
    high = None if end is None else midnight_utc(end)
    return [
        {"userId": u, "movieId": m, "rating": h / 2, "timestamp": t}
        for t, u, m, h in sorted(rows, key=lambda row: row[:3])  # stable: equal keys keep input order
        if (low is None or t >= low) and (high is None or t < high)
    ]


def listing(client: Client, start: str | None, end: str | None, size: int, max_limit: int) -> list[dict]:
    """All pages of ``[start, end)`` with page size ``size``, checking every envelope."""
    window = "".join(f"&{k}={v}" for k, v in (("start_date", start), ("end_date", end)) if v is not None)
    seen: list[dict] = []
    offset, total = 0, None
    for _ in range(200):
        response = client.get(f"/ratings?offset={offset}&limit={size}{window}", headers=AUTH)
        if size > max_limit and response.status_code == 400:  # a rejecting server: page by max_limit
            error = orjson.loads(response.data)
            assert (error["parameter"], error["max_limit"]) == ("limit", max_limit), error
            size = max_limit
            continue
        assert response.status_code == 200, response.data
        page = orjson.loads(response.data)
        assert page["offset"] == offset
        assert page["limit"] == min(size, max_limit)
        total = page["total"] if total is None else total
        assert page["total"] == total
        assert len(page["result"]) == max(0, min(page["limit"], total - offset))
        if not page["result"]:
            break
        seen += page["result"]
        offset += page["limit"]
    assert len(seen) == total
    return seen


def rows_and_store(data, json_records=None):
    """The generated ratings as ``(timestamp, user, movie, half_stars)`` rows, and a store of them
    with about the newest ``json_records`` pre-rendered as JSON (``None``: the store's default)."""
    rows = [(midnight_utc(day) + second, user, movie, half) for day, second, user, movie, half in data]
    budget = {} if json_records is None else {"json_budget_mb": json_records * 80 / 2**20}
    store = Store.from_columns(
        timestamp=[r[0] for r in rows],
        user=[r[1] for r in rows],
        movie=[r[2] for r in rows],
        half_stars=[r[3] for r in rows],
        **budget,
    )
    return rows, store


def ordered(a, b, c):
    """Window bounds ``a <= b <= c`` (``None`` is an open bound)."""
    b = max(b, a) if a is not None else b
    c = max(c, b) if c is not None else c
    return a, b, c


@given(
    data=records,
    bounds=st.tuples(bound, st.integers(-1, DAYS + 1), bound),
    size=st.integers(1, 25),
    max_limit=st.integers(1, 12),
    over_max_limit=st.sampled_from(["reject", "clamp"]),
    json_records=st.integers(0, 70),
)
def test_windows_split_and_page_exactly(data, bounds, size, max_limit, over_max_limit, json_records):
    rows, store = rows_and_store(data, json_records)
    app = create_app(store, user="prop", password="erty", max_limit=max_limit, over_max_limit=over_max_limit)
    client = Client(app)
    a, b, c = bounds
    a, b, c = ordered(a, b, c)
    note(f"a={iso(a)} b={iso(b)} c={iso(c)} size={size} max_limit={max_limit} json={store.rendered.first}")

    whole = listing(client, iso(a), iso(c), size, max_limit)
    left = listing(client, iso(a), iso(b), size, max_limit)
    right = listing(client, iso(b), iso(c), size, max_limit)
    assert whole == left + right
    assert left == expected(rows, a, b)
    assert right == expected(rows, b, c)
    assert listing(client, iso(b), iso(b), size, max_limit) == []
    # One request with the largest page returns the same records as paging.
    assert listing(client, iso(a), iso(c), max_limit, max_limit) == whole


class SteppingClock:
    """Real seconds that advance by the next of ``steps`` at every read (then stand still)."""

    def __init__(self, steps: list[int]) -> None:
        self.now = 0.0
        self._steps = iter(steps)

    def __call__(self) -> float:
        value = self.now
        self.now += next(self._steps, 0)
        return value


cutoffs = st.tuples(
    st.integers(-1, DAYS), st.sampled_from([0, 1, 43_200, 86_399]), st.sampled_from([0.0, 0.25])
)


@given(
    data=records,
    cutoff=cutoffs,
    bounds=st.tuples(bound, st.integers(-1, DAYS + 1), bound),
    size=st.integers(1, 25),
    max_limit=st.integers(1, 12),
    json_records=st.integers(0, 70),
)
def test_live_cutoff_hides_exactly_the_ratings_not_yet_due(
    data, cutoff, bounds, size, max_limit, json_records
):
    """Under a (frozen) live cut-off every listing, split and page is that of the visible ratings:
    those with ``timestamp < cut-off``, whichever part of them is pre-rendered as JSON."""
    rows, store = rows_and_store(data, json_records)
    day, second, fraction = cutoff
    now = midnight_utc(day) + second + fraction
    live = LiveClock(dt.datetime.fromtimestamp(now, tz=dt.timezone.utc), speed=0.0)
    app = create_app(store, user="prop", password="erty", max_limit=max_limit, live=live)
    client = Client(app)
    visible = [row for row in rows if row[0] < now]
    a, b, c = bounds
    a, b, c = ordered(a, b, c)
    note(f"cutoff={now} a={iso(a)} b={iso(b)} c={iso(c)} size={size} json={store.rendered.first}")

    whole = listing(client, iso(a), iso(c), size, max_limit)
    assert whole == listing(client, iso(a), iso(b), size, max_limit) + listing(
        client, iso(b), iso(c), size, max_limit
    )
    assert whole == expected(visible, a, c)
    health = orjson.loads(client.get("/health").data)
    assert health["ratings"] == len(visible)
    assert health["live"]["cutoff_timestamp"] == now


@given(
    data=records,
    start=cutoffs,
    steps=st.lists(st.integers(0, 2 * 86_400), max_size=30),
    size=st.integers(1, 25),
    end=bound,
)
def test_paging_while_virtual_time_passes_neither_repeats_nor_skips(data, start, steps, size, end):
    """Newer ratings join only at the end of the order, so a client paging while the cut-off moves
    on (by random steps between requests) collects exactly what is visible at its last request,
    each page being that request's listing at its offset."""
    rows, store = rows_and_store(data)
    day, second, fraction = start
    first = midnight_utc(day) + second + fraction
    clock = SteppingClock([0, *steps])  # the first read anchors the clock
    live = LiveClock(dt.datetime.fromtimestamp(first, tz=dt.timezone.utc), speed=1.0, clock=clock)
    client = Client(create_app(store, user="prop", password="erty", max_limit=25, live=live))
    window = "" if end is None else f"&end_date={iso(end)}"
    seen: list[dict] = []
    for _ in range(200):
        now = first + clock.now  # what this request's single read of the clock will give
        page = orjson.loads(
            client.get(f"/ratings?offset={len(seen)}&limit={size}{window}", headers=AUTH).data
        )
        due = expected([row for row in rows if row[0] < now], None, end)
        assert page["total"] == len(due)
        assert page["result"] == due[len(seen) : len(seen) + size]
        if not page["result"]:
            break
        seen += page["result"]
    assert seen == due
