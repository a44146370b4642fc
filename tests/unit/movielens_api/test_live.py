"""Live mode in-process: the cut-off follows an injected clock and every listing respects it."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from _api_fixtures import AUTH, day, expected_records
from werkzeug.test import Client

from movielens_api.live import LiveClock, parse_speed, parse_start

UTC = dt.timezone.utc


class FakeClock:
    """Real seconds that move only when a test says so; counts how often it is read."""

    def __init__(self, now: float = 1000.0, step: float = 0.0) -> None:
        self.now = now
        self.step = step  # added after every read: time that passes while a request is answered
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        value = self.now
        self.now += self.step
        return value


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=UTC)


def body(response):
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)


def flask_only(client: Client) -> Client:
    """The same app with the ``/ratings`` fast path bypassed: Flask answers every request."""
    return Client(client.application.wsgi_app.app)


# --- the clock -----------------------------------------------------------------------------


def test_cutoff_follows_the_injected_clock():
    clock = FakeClock(now=50.0)
    live = LiveClock(at(day("2019-01-02")), speed=60.0, clock=clock)
    assert live.cutoff().seconds == day("2019-01-02")
    clock.now += 2.5
    assert live.cutoff().seconds == day("2019-01-02", 150)
    live.anchor()  # the server is ready: virtual time starts again at live_start
    assert live.cutoff().seconds == day("2019-01-02")
    clock.now -= 10  # an injected clock before the anchor never shows a time before live_start
    assert live.cutoff().seconds == day("2019-01-02")


def test_speed_zero_stops_virtual_time():
    clock = FakeClock()
    live = LiveClock(at(day("2019-01-02", 30)), speed=0.0, clock=clock)
    clock.now += 10**6
    assert live.cutoff().seconds == day("2019-01-02", 30)


def test_bound_covers_fractional_cutoffs():
    clock = FakeClock()
    live = LiveClock(at(day("2019-01-01", 86_398)), speed=1.0, clock=clock)
    clock.now += 1.5  # 23:59:59.5: the rating stamped 23:59:59 is visible, midnight's is not
    cutoff = live.cutoff()
    assert cutoff.describe() == "2019-01-01T23:59:59.500000Z"
    assert cutoff.bound == day("2019-01-01", 86_400)


def test_virtual_time_stops_at_the_end_of_year_9999():
    clock = FakeClock()
    live = LiveClock(at(day("2019-01-01")), speed=1e300, clock=clock)
    clock.now += 1
    assert live.cutoff().describe() == "9999-12-31T23:59:59Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2019-01-02T23:59:30Z", day("2019-01-02", 86_370)),
        ("2019-01-02t23:59:30z", day("2019-01-02", 86_370)),
        (" 2019-01-03T08:59:30+09:00 ", day("2019-01-02", 86_370)),
        ("2019-01-02T18:59:30.25-05:00", day("2019-01-02", 86_370) + 0.25),
        ("2019-01-02T23:59Z", day("2019-01-02", 86_340)),
    ],
)
def test_parse_start_reads_aware_iso_8601(text, seconds):
    moment = parse_start(text)
    assert moment.utcoffset() == dt.timedelta(0)
    assert moment.timestamp() == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019-01-02T23:59:30", "has no time zone; add Z for UTC"),
        ("2019-01-02", "has no time zone"),
        ("tomorrow", "is not an ISO 8601 date and time"),
        ("2019-02-30T00:00:00Z", "is not an ISO 8601 date and time"),
        ("", "is not an ISO 8601 date and time"),
    ],
)
def test_parse_start_refuses_naive_or_malformed_times(text, message):
    with pytest.raises(ValueError, match=message):
        parse_start(text)


@pytest.mark.parametrize(("text", "speed"), [("0", 0.0), ("1", 1.0), ("2.5", 2.5), ("1e3", 1000.0)])
def test_parse_speed(text, speed):
    assert parse_speed(text) == speed


@pytest.mark.parametrize(
    ("text", "message"),
    [("-1", "finite number >= 0"), ("nan", "finite"), ("inf", "finite"), ("fast", "is not a number")],
)
def test_parse_speed_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_speed(text)


def test_live_clock_refuses_a_naive_start_or_a_negative_speed():
    with pytest.raises(ValueError, match="no time zone"):
        LiveClock(dt.datetime(2019, 1, 2))
    with pytest.raises(ValueError, match="live speed"):
        LiveClock(at(day("2019-01-02")), speed=-1.0)


# --- the API under a cut-off ---------------------------------------------------------------


def test_a_days_ratings_appear_as_virtual_time_passes(make_client):
    clock = FakeClock()
    client = make_client(live=LiveClock(at(day("2019-01-01", 86_398)), speed=1.0, clock=clock))
    first_day = "/ratings?start_date=2019-01-01&end_date=2019-01-02"
    second_day = "/ratings?start_date=2019-01-02&end_date=2019-01-03"

    # 23:59:58: the day's three midnight ratings; the one at 23:59:59 is still to come.
    assert body(client.get(first_day, headers=AUTH))["result"] == expected_records(
        day("2019-01-01"), day("2019-01-01", 86_399)
    )
    clock.now += 1.5  # 23:59:59.5
    page = body(client.get(first_day, headers=AUTH))
    assert (page["total"], page["result"]) == (4, expected_records(day("2019-01-01"), day("2019-01-02")))
    assert body(client.get(second_day, headers=AUTH))["total"] == 0
    clock.now += 0.5  # exactly midnight: a rating stamped midnight is not before the cut-off yet
    assert body(client.get(second_day, headers=AUTH))["total"] == 0
    clock.now += 0.001
    page = body(client.get(second_day, headers=AUTH))
    assert page["result"] == expected_records(day("2019-01-02"), day("2019-01-03"))
    assert page["total"] == 1
    assert body(client.get("/health"))["ratings"] == 5


@pytest.mark.parametrize("path", ["fast", "flask"])
def test_total_pages_and_health_agree_under_the_cutoff(make_client, path):
    cutoff = day("2019-01-03", 43_200)  # the rating stamped exactly then is not visible
    client = make_client(live=LiveClock(at(cutoff), speed=0.0, clock=FakeClock()))
    client = client if path == "fast" else flask_only(client)
    visible = expected_records(None, cutoff)
    assert len(visible) == 5

    pages = [
        body(client.get(f"/ratings?offset={offset}&limit=2", headers=AUTH)) for offset in (0, 2, 4, 5, 6)
    ]
    assert [page["total"] for page in pages] == [5] * 5
    assert [page["offset"] for page in pages] == [0, 2, 4, 5, 6]
    assert pages[0]["result"] + pages[1]["result"] + pages[2]["result"] == visible
    assert pages[3]["result"] == pages[4]["result"] == []  # past the visible total: an empty page

    window = body(client.get("/ratings?start_date=2019-01-02&limit=10", headers=AUTH))
    assert (window["total"], window["result"]) == (1, expected_records(day("2019-01-02"), cutoff))
    later = body(client.get("/ratings?start_date=2019-01-04", headers=AUTH))
    assert (later["total"], later["result"]) == (0, [])  # a window after the cut-off is empty

    health = body(client.get("/health"))
    assert health == {
        "status": "ok",
        "ratings": 5,
        "movies": 5,
        "live": {
            "start": "2019-01-03T12:00:00Z",
            "speed": 0.0,
            "cutoff": "2019-01-03T12:00:00Z",
            "cutoff_timestamp": cutoff,
        },
    }


def test_the_fast_path_and_flask_answer_alike_under_the_cutoff(make_client):
    cutoff = day("2019-01-02", 1)
    client = make_client(live=LiveClock(at(cutoff), speed=0.0, clock=FakeClock()))
    for query, total in [
        ("", 5),
        ("limit=1&offset=3", 5),
        ("start_date=2019-01-01&end_date=2019-01-03", 5),
        ("start_date=2019-01-02", 1),
        ("offset=9", 5),
    ]:
        fast = client.get(f"/ratings?{query}", headers=AUTH)
        flask = flask_only(client).get(f"/ratings?{query}", headers=AUTH)
        assert fast.data == flask.data
        assert body(fast)["total"] == total, query


@pytest.mark.parametrize("path", ["fast", "flask"])
def test_a_request_takes_the_cutoff_once(make_client, path):
    # A day of virtual time passes between any two reads of the clock; still every answer holds
    # together: one read per request, so total and records agree with one cut-off.
    start = day("2018-12-31", 86_399)
    clock = FakeClock(now=1000.0, step=86_400.0)
    client = make_client(live=LiveClock(at(start), speed=1.0, clock=clock))  # anchored at 1000
    client = client if path == "fast" else flask_only(client)
    for _ in range(3):
        reads, cutoff = clock.reads, start + clock.now - 1000.0
        page = body(client.get("/ratings?limit=100", headers=AUTH))
        assert clock.reads == reads + 1
        assert page["result"] == expected_records(None, cutoff)
        assert page["total"] == len(page["result"])
        reads, cutoff = clock.reads, start + clock.now - 1000.0
        health = body(client.get("/health"))
        assert clock.reads == reads + 1
        assert health["live"]["cutoff_timestamp"] == cutoff
        assert health["ratings"] == len(expected_records(None, cutoff))


def test_nothing_before_the_first_rating_everything_long_after(make_client):
    early = make_client(live=LiveClock(at(day("2018-12-31")), speed=0.0))
    assert body(early.get("/ratings", headers=AUTH)) == {"result": [], "offset": 0, "limit": 100, "total": 0}
    assert body(early.get("/health"))["ratings"] == 0
    late = make_client(live=LiveClock(at(day("2030-01-01")), speed=0.0))
    assert body(late.get("/ratings", headers=AUTH))["result"] == expected_records()
    assert body(late.get("/movies", headers=AUTH))["total"] == 5  # movies are not ratings: all shown


def test_errors_are_unchanged_in_live_mode(make_client):
    client = make_client(live=LiveClock(at(day("2019-01-02")), speed=0.0))
    assert client.get("/ratings").status_code == 401
    error = orjson.loads(client.get("/ratings?limit=0", headers=AUTH).data)
    assert error["parameter"] == "limit"
