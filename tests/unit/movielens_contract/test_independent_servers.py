"""Direct HTTP tests of the independent test servers (not through the contract suite).

Each server style's default must answer a handful of contract facts correctly, and each fault
switch must have exactly the effect its ``FAULTS`` description claims, shown against the same
server without the fault. Only then can a catalogue test rely on "the suite flags fault X".
"""

from __future__ import annotations

import calendar
import datetime as dt
import importlib
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from _catalogue import STYLE_MODULES, STYLES
from _contract_variants import make_dataset

DATA = make_dataset()
AUTH = ("airflow", "airflow")
N = len(DATA.ratings)
N_MOVIES = len(DATA.movies)
HOUR = 3600
MAX_SAFE = 2**53 - 1
# Days of make_dataset(): 03-01 and 03-03 busy with a record at exactly midnight, 03-02 busy
# without one, 03-04 empty. Busy days have records minutes after and before midnight.
D1, D2, D3, D4 = "2019-03-01", "2019-03-02", "2019-03-03", "2019-03-04"
FULL_SERVERS = ("wsgi", "aiohttp", "reference")  # every endpoint, strict by default
STRICT_SERVERS = ("sqlite", "aiohttp", "reference")  # reject repeated parameters too
SetTZ = Callable[[str], None]


def midnight(day: str) -> int:
    return calendar.timegm(dt.date.fromisoformat(day).timetuple())


def rows(lo: int | None = None, hi: int | None = None) -> list[dict[str, Any]]:
    """The dataset's records with ``lo <= timestamp < hi``, as the API lists them."""
    return [
        {"userId": u, "movieId": m, "rating": r, "timestamp": t}
        for u, m, r, t in DATA.ratings
        if (lo is None or t >= lo) and (hi is None or t < hi)
    ]


def get(server: Any, path: str = "/ratings", *, auth: Any = AUTH, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, auth=auth, timeout=10)


def page(server: Any, path: str = "/ratings", **params: Any) -> dict[str, Any]:
    """A 200 JSON page (fails the test otherwise)."""
    response = get(server, path, **params)
    assert response.status_code == 200, (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    return body


def bad_request(server: Any, status: int = 400, **params: Any) -> dict[str, Any]:
    """The JSON body of a refused ``/ratings`` request with ``status``."""
    response = get(server, **params)
    assert response.status_code == status, (params, response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


# -- every style: start, stop, unknown faults ---------------------------------------------------
@pytest.mark.parametrize("style", STYLES)
def test_starts_fast_on_loopback_and_stops(serve_style: Any, style: str) -> None:
    if style in STYLE_MODULES:
        importlib.import_module(STYLE_MODULES[style])  # imports (pandas, flask) are not start-up
    began = time.monotonic()
    server = serve_style(style, dataset=DATA)
    assert time.monotonic() - began < 1
    parts = urlsplit(server.url)
    assert (parts.scheme, parts.hostname) == ("http", "127.0.0.1")
    assert get(server).status_code == 200
    server.close()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", parts.port or 0)) != 0


@pytest.mark.parametrize("style", STYLES)
def test_an_unknown_fault_is_a_value_error(serve_style: Any, style: str) -> None:
    with pytest.raises(ValueError, match="no_such_fault"):
        serve_style(style, faults=["no_such_fault"], dataset=DATA)


@pytest.mark.parametrize("style", sorted(STYLE_MODULES))
def test_faults_are_one_line_descriptions(style: str) -> None:
    faults = importlib.import_module(STYLE_MODULES[style]).FAULTS
    assert all(isinstance(d, str) and d.strip() and "\n" not in d for d in faults.values())


def test_the_serve_style_fixture_rejects_an_unknown_style(serve_style: Any) -> None:
    with pytest.raises(ValueError, match="style"):
        serve_style("cobol")


# -- correct defaults ---------------------------------------------------------------------------
@pytest.fixture
def any_tz(process_tz: SetTZ, style: str) -> None:
    """Correct servers must not depend on the process time zone; the textbook one does (UTC)."""
    process_tz("UTC" if style == "textbook" else "Asia/Seoul")


@pytest.mark.parametrize("style", STYLES)
def test_401_without_or_with_wrong_credentials(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA)
    for auth in (None, ("airflow", "wrong"), ("nobody", "airflow")):
        response = get(server, auth=auth, limit=1)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].lower().startswith("basic")
        if style != "textbook":
            assert response.headers["Content-Type"].startswith("application/json")
            assert isinstance(response.json()["error"], str)


@pytest.mark.parametrize("style", STYLES)
def test_a_page_and_its_envelope(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA)
    assert page(server, offset=3, limit=7) == {"result": rows()[3:10], "offset": 3, "limit": 7, "total": N}
    default = page(server)
    assert (default["result"], default["offset"], default["limit"]) == (rows()[:100], 0, 100)
    assert page(server, offset=N)["result"] == []


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.usefixtures("any_tz")
def test_a_utc_day_window(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA)
    day = page(server, start_date=D3, end_date=D4, limit=1000)
    assert day["result"] == rows(midnight(D3), midnight(D4))
    assert day["result"][0]["timestamp"] == midnight(D3)  # the record at exactly midnight is in
    assert day["total"] == len(day["result"]) > 10
    assert page(server, end_date=D3)["total"] == len(rows(hi=midnight(D3)))
    assert page(server, start_date=D3)["total"] == len(rows(lo=midnight(D3)))


@pytest.mark.parametrize("path", ["/movies", "/health", "/", "/openapi.yaml", "/no-such-endpoint"])
def test_the_core_only_server_has_nothing_but_ratings(serve_style: Any, path: str) -> None:
    server = serve_style("sqlite")
    for auth in (None, AUTH):
        response = get(server, path, auth=auth)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        assert path in response.json()["error"]


@pytest.mark.parametrize("style", FULL_SERVERS)
def test_the_full_servers_other_endpoints(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA)
    movies = [{"movieId": m, "title": t, "genres": g} for m, t, g in DATA.movies]
    assert page(server, "/movies", offset=35, limit=7) == {
        "result": movies[35:],
        "offset": 35,
        "limit": 7,
        "total": N_MOVIES,
    }
    assert get(server, "/movies", auth=None).status_code == 401
    health = get(server, "/health", auth=None)
    assert health.json() == {"status": "ok", "ratings": N, "movies": N_MOVIES}
    root = get(server, "/", auth=None)
    assert root.headers["Content-Type"].startswith("application/json")
    assert isinstance(root.json()["message"], str)
    doc = yaml.safe_load(get(server, "/openapi.yaml", auth=None).text)
    assert str(doc["openapi"]).startswith("3.")
    assert "/ratings" in doc["paths"]
    missing = get(server, "/no-such-endpoint")
    assert missing.status_code == 404
    assert "error" in missing.json()


STRICT_REFUSALS = [
    ("offset", {"offset": "-1"}),
    ("offset", {"offset": "abc"}),
    ("offset", {"offset": "+5"}),
    ("offset", {"offset": " 5"}),
    ("offset", {"offset": "\uff15"}),
    ("offset", {"offset": str(MAX_SAFE + 1)}),
    ("offset", {"offset": ["1", "2"]}),
    ("limit", {"limit": "0"}),
    ("limit", {"limit": "1_0"}),
    ("limit", {"limit": "\u0663"}),
    ("limit", {"limit": ""}),
    ("limit", {"limit": str(MAX_SAFE + 1)}),
    ("start_date", {"start_date": "2019-3-1"}),
    ("start_date", {"start_date": "20190301"}),
    ("start_date", {"start_date": "2019-03-01T00:00:00Z"}),
    ("end_date", {"end_date": "2019-13-01"}),
    ("end_date", {"end_date": "yesterday"}),
    ("start_date", {"start_date": D4, "end_date": D3}),
]


@pytest.mark.parametrize("style", STRICT_SERVERS)
def test_strict_parsing_by_default(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA)
    for name, params in STRICT_REFUSALS:
        body = bad_request(server, **params)
        assert body["parameter"] == name, params
        assert isinstance(body["error"], str)


# How each style is told to clamp or to reject an over-maximum limit (the reference rejects by default).
CLAMP = {"wsgi": {}, "sqlite": {}, "aiohttp": {}, "reference": {"over_max_limit": "clamp"}}
REJECT = {"sqlite": {"over_max": "reject"}, "aiohttp": {"over_max": "reject"}, "reference": {}}


@pytest.mark.parametrize("style", ["wsgi", *STRICT_SERVERS])
def test_an_over_maximum_limit_is_clamped_and_echoed(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA, max_limit=10, **CLAMP[style])
    assert page(server, limit=11) == {"result": rows()[:10], "offset": 0, "limit": 10, "total": N}


@pytest.mark.parametrize("style", sorted(REJECT))
def test_an_over_maximum_limit_can_be_rejected_with_max_limit(serve_style: Any, style: str) -> None:
    server = serve_style(style, dataset=DATA, max_limit=10, **REJECT[style])
    body = bad_request(server, limit=11)
    assert (body["parameter"], body["max_limit"]) == ("limit", 10)
    assert len(page(server, limit=10)["result"]) == 10


def test_sqlite_options_default_limit_and_reject_without_max_limit(serve_style: Any) -> None:
    small = serve_style("sqlite", default_limit=7)
    assert (len(page(small)["result"]), page(small)["limit"]) == (7, 7)
    quiet = serve_style("sqlite", max_limit=10, over_max="reject_no_max_limit")
    body = bad_request(quiet, limit=11)
    assert body["parameter"] == "limit"
    assert "max_limit" not in body
    with pytest.raises(ValueError, match="over_max"):
        serve_style("sqlite", over_max="sometimes")


LENIENT_READINGS = [
    ({"offset": "+5"}, {"offset": "5"}),
    ({"offset": " 5"}, {"offset": "5"}),
    ({"offset": "\uff15"}, {"offset": "5"}),
    ({"offset": "1_0"}, {"offset": "10"}),
    ({"limit": "\u0663"}, {"limit": "3"}),
    ({"offset": ["1", "5"], "limit": ["9", "4"]}, {"offset": "5", "limit": "4"}),
    ({"start_date": "2019-3-3"}, {"start_date": D3}),
    ({"start_date": "20190303", "end_date": "2019-3-4"}, {"start_date": D3, "end_date": D4}),
    ({"end_date": "2019-03-03T00:00:00Z"}, {"end_date": D3}),
    ({"limit": str(MAX_SAFE + 1)}, {"limit": "1000"}),
]


def test_sqlite_lenient_reads_what_it_accepts_correctly(serve_style: Any) -> None:
    lenient, strict = serve_style("sqlite", lenient=True), serve_style("sqlite")
    for given, meant in LENIENT_READINGS:
        assert page(lenient, **given) == page(strict, **meant), given
    far = page(lenient, offset=str(MAX_SAFE + 10))
    assert (far["result"], far["offset"], far["total"]) == ([], MAX_SAFE + 10, N)
    for name, params in [
        ("offset", {"offset": "-1"}),
        ("limit", {"limit": "0"}),
        ("limit", {"limit": "-3"}),
        ("offset", {"offset": "abc"}),
        ("limit", {"limit": "1e3"}),
        ("start_date", {"start_date": "2019-13-01"}),
        ("end_date", {"end_date": "yesterday"}),
        ("start_date", {"start_date": D4, "end_date": D3}),
    ]:
        assert bad_request(lenient, **params)["parameter"] == name, params


def test_reference_style_defaults_to_the_reference_tests_store(serve_style: Any) -> None:
    server = serve_style("reference")
    health = get(server, "/health", auth=None).json()
    assert health["ratings"] == 100_000
    body = bad_request(server, limit=20_000)  # the reference's own maximum, rejected by default
    assert (body["parameter"], body["max_limit"]) == ("limit", 10_000)


# -- the textbook server's defects --------------------------------------------------------------
@pytest.fixture
def textbook(serve_style: Any, process_tz: SetTZ) -> Any:
    process_tz("UTC")
    return serve_style("textbook", dataset=DATA)


def test_textbook_epoch_end_date_returns_everything(textbook: Any) -> None:
    assert page(textbook, end_date="1970-01-01")["total"] == N  # 0 is falsy: no bound
    assert page(textbook, end_date="1970-01-02")["total"] == 0


def test_textbook_negative_offset_counts_from_the_end(textbook: Any) -> None:
    day = rows(midnight(D3), midnight(D4))
    assert len(day) < 100  # iloc[-1:99]: the last record only while offset + limit reaches the end
    body = page(textbook, start_date=D3, end_date=D4, offset="-1")
    assert (body["result"], body["offset"]) == (day[-1:], -1)
    assert page(textbook, offset="-1", limit=N + 1)["result"] == rows()[-1:]
    assert page(textbook, offset="-1")["result"] == []  # iloc[-1:99] of 264 records


def test_textbook_limit_zero_is_an_empty_200(textbook: Any) -> None:
    assert page(textbook, limit="0") == {"result": [], "offset": 0, "limit": 0, "total": N}


def test_textbook_has_no_maximum_page_size(textbook: Any) -> None:
    assert page(textbook, limit="1000000") == {"result": rows(), "offset": 0, "limit": 1_000_000, "total": N}


def test_textbook_bad_integer_is_an_html_500(textbook: Any) -> None:
    for params in ({"offset": "abc"}, {"limit": "1.5"}, {"start_date": "2019-13-01"}):
        response = get(textbook, **params)
        assert response.status_code == 500
        assert response.headers["Content-Type"].startswith("text/html")


def test_textbook_accepts_unpadded_dates(textbook: Any) -> None:
    assert page(textbook, start_date="2019-3-3", end_date="2019-3-4") == page(
        textbook, start_date=D3, end_date=D4
    )


def test_textbook_start_after_end_is_an_empty_200(textbook: Any) -> None:
    assert page(textbook, start_date=D4, end_date=D3) == {"result": [], "offset": 0, "limit": 100, "total": 0}


def test_textbook_reads_dates_in_the_process_time_zone(serve_style: Any, process_tz: SetTZ) -> None:
    server = serve_style("textbook", dataset=DATA)
    process_tz("Asia/Seoul")
    seoul = page(server, start_date=D3, end_date=D4, limit=1000)["result"]
    assert seoul == rows(midnight(D3) - 9 * HOUR, midnight(D4) - 9 * HOUR)
    assert seoul != rows(midnight(D3), midnight(D4))
    process_tz("UTC")
    assert page(server, start_date=D3, end_date=D4, limit=1000)["result"] == rows(midnight(D3), midnight(D4))


def test_textbook_endpoints(textbook: Any) -> None:
    root = get(textbook, "/", auth=None)
    assert (root.status_code, root.text) == (200, "Hello from the Movie Rating API!")
    for path in ("/movies", "/health", "/openapi.yaml", "/no-such-endpoint"):
        response = get(textbook, path)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")


# -- faults: each has exactly its claimed effect ------------------------------------------------
FaultCheck = Callable[[Any, Any, SetTZ], None]
CHECKS: dict[tuple[str, str], tuple[dict[str, Any], FaultCheck]] = {}


def fault_check(style: str, fault: str, **options: Any) -> Callable[[FaultCheck], FaultCheck]:
    """Register ``check(bad, good, process_tz)`` for ``fault``; both servers get ``options``."""

    def register(check: FaultCheck) -> FaultCheck:
        CHECKS[(style, fault)] = (options, check)
        return check

    return register


def _all(server: Any, **params: Any) -> dict[str, Any]:
    return page(server, limit=1000, **params)


# sqlite
@fault_check("sqlite", "any_password")
def _any_password(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert get(bad, auth=("airflow", "not-the-password")).status_code == 200
    assert get(good, auth=("airflow", "not-the-password")).status_code == 401
    assert get(bad, auth=("someone-else", "airflow")).status_code == 401
    assert get(bad, auth=None).status_code == 401


@fault_check("sqlite", "default_limit_not_echoed")
def _default_limit_not_echoed(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong, right = page(bad), page(good)
    assert wrong["result"] == right["result"] == rows()[:100]
    assert (wrong["limit"], right["limit"]) == (1000, 100)
    assert page(bad, limit=5) == page(good, limit=5)


@fault_check("sqlite", "ms_timestamps")
def _ms_timestamps(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong, right = _all(bad, start_date=D3, end_date=D4), _all(good, start_date=D3, end_date=D4)
    assert wrong["total"] == right["total"] == len(right["result"])
    assert [{**r, "timestamp": r["timestamp"] * 1000} for r in right["result"]] == wrong["result"]


@fault_check("sqlite", "start_one_early")
def _start_one_early(bad: Any, good: Any, process_tz: SetTZ) -> None:
    last_before = rows(hi=midnight(D3))[-1]
    wrong, right = _all(bad, start_date=D3), _all(good, start_date=D3)
    assert wrong["total"] == right["total"] + 1
    assert wrong["result"] == [last_before, *right["result"]]
    assert _all(bad, end_date=D3) == _all(good, end_date=D3)


@fault_check("sqlite", "both_dates_end_shift")
def _both_dates_end_shift(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong = _all(bad, start_date=D2, end_date=D3)["result"]
    assert wrong == rows(midnight(D2), midnight(D3) + HOUR)
    assert len(wrong) > len(rows(midnight(D2), midnight(D3)))
    assert _all(good, start_date=D2, end_date=D3)["result"] == rows(midnight(D2), midnight(D3))
    for one_bound in ({"start_date": D3}, {"end_date": D3}):
        assert _all(bad, **one_bound) == _all(good, **one_bound)


@fault_check("sqlite", "empty_window_everything")
def _empty_window_everything(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for empty in ({"start_date": "2019-02-01", "end_date": "2019-02-08"}, {"start_date": D4, "end_date": D4}):
        assert page(good, **empty)["total"] == 0
        assert page(bad, **empty) == page(good)
    assert page(bad, start_date=D3, end_date=D4) == page(good, start_date=D3, end_date=D4)


@fault_check("sqlite", "epoch_falsy")
def _epoch_falsy(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert page(good, end_date="1970-01-01")["total"] == 0
    assert page(bad, end_date="1970-01-01") == page(good)
    assert page(bad, end_date="1970-01-02")["total"] == 0
    assert page(bad, start_date="1970-01-01") == page(good, start_date="1970-01-01")


@fault_check("sqlite", "negative_offset_slice")
def _negative_offset_slice(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert bad_request(good, offset="-1")["parameter"] == "offset"
    assert page(bad, offset="-1") == {"result": rows()[-1:], "offset": -1, "limit": 100, "total": N}
    assert page(bad, offset="-3", limit=2)["result"] == rows()[-3:-1]
    assert page(bad, offset=5) == page(good, offset=5)


@fault_check("sqlite", "limit_zero_accepted")
def _limit_zero_accepted(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert bad_request(good, limit="0")["parameter"] == "limit"
    assert page(bad, limit="0") == {"result": [], "offset": 0, "limit": 0, "total": N}
    assert page(bad, limit=1) == page(good, limit=1)


@fault_check("sqlite", "typo_date_ignored")
def _typo_date_ignored(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for typo in ({"start_date": "2019-13-01"}, {"end_date": "yesterday"}):
        assert bad_request(good, **typo)["parameter"] in typo
        assert page(bad, **typo) == page(good)
    assert page(bad, start_date=D3, end_date="2019-02-30") == page(good, start_date=D3)


@fault_check("sqlite", "unbounded", max_limit=10)
def _unbounded(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert page(bad, limit=50) == {"result": rows()[:50], "offset": 0, "limit": 50, "total": N}
    assert page(good, limit=50) == {"result": rows()[:10], "offset": 0, "limit": 10, "total": N}


@fault_check("sqlite", "mktime_dates")
def _mktime_dates(bad: Any, good: Any, process_tz: SetTZ) -> None:
    window = {"start_date": D3, "end_date": D4}
    process_tz("Asia/Seoul")
    shifted = rows(midnight(D3) - 9 * HOUR, midnight(D4) - 9 * HOUR)
    assert _all(bad, **window)["result"] == shifted != rows(midnight(D3), midnight(D4))
    assert _all(good, **window)["result"] == rows(midnight(D3), midnight(D4))
    process_tz("UTC")
    assert _all(bad, **window) == _all(good, **window)


# aiohttp
@fault_check("aiohttp", "movies_rejects_valid")
def _movies_rejects_valid(bad: Any, good: Any, process_tz: SetTZ) -> None:
    refused = get(bad, "/movies")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert get(good, "/movies").status_code == 200
    assert page(bad) == page(good)


@fault_check("aiohttp", "movies_open")
def _movies_open(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert get(good, "/movies", auth=None).status_code == 401
    assert get(bad, "/movies", auth=None).json() == page(good, "/movies")
    assert get(bad, auth=None).status_code == 401


@fault_check("aiohttp", "movie_genres_list")
def _movie_genres_list(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong, right = page(bad, "/movies"), page(good, "/movies")
    assert [{**m, "genres": m["genres"].split("|")} for m in right["result"]] == wrong["result"]
    assert ["Action", "Thriller"] in [m["genres"] for m in wrong["result"]]


@fault_check("aiohttp", "movies_total_wrong")
def _movies_total_wrong(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong, right = page(bad, "/movies", limit=5), page(good, "/movies", limit=5)
    assert (wrong["total"], right["total"]) == (5, N_MOVIES)
    assert wrong["result"] == right["result"]
    assert page(bad, limit=5) == page(good, limit=5)


@fault_check("aiohttp", "past_end_limit_zero")
def _past_end_limit_zero(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for offset in (N, N + 1000):
        assert page(bad, offset=offset) == {"result": [], "offset": offset, "limit": 0, "total": N}
        assert page(good, offset=offset)["limit"] == 100
    assert page(bad, offset=N - 1) == page(good, offset=N - 1)


@fault_check("aiohttp", "health_counts_wrong")
def _health_counts_wrong(bad: Any, good: Any, process_tz: SetTZ) -> None:
    right = get(good, "/health", auth=None).json()
    assert get(bad, "/health", auth=None).json() == {**right, "ratings": N + 1}


@fault_check("aiohttp", "root_text")
def _root_text(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong = get(bad, "/", auth=None)
    assert (wrong.status_code, wrong.text) == (200, "Hello")
    assert wrong.headers["Content-Type"].startswith("text/plain")
    assert "message" in get(good, "/", auth=None).json()


@fault_check("aiohttp", "doc_not_openapi")
def _doc_not_openapi(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong = yaml.safe_load(get(bad, "/openapi.yaml", auth=None).text)
    right = yaml.safe_load(get(good, "/openapi.yaml", auth=None).text)
    assert "openapi" not in wrong
    assert "openapi" in right
    assert wrong == {k: v for k, v in right.items() if k != "openapi"}


@fault_check("aiohttp", "html_401")
def _html_401(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for path in ("/ratings", "/movies"):
        wrong, right = get(bad, path, auth=None), get(good, path, auth=None)
        assert wrong.status_code == right.status_code == 401
        assert wrong.headers["Content-Type"].startswith("text/html")
        assert wrong.headers["WWW-Authenticate"] == right.headers["WWW-Authenticate"]
        assert right.headers["Content-Type"].startswith("application/json")


@fault_check("aiohttp", "max_limit_off_by_one", max_limit=10, over_max="reject")
def _max_limit_off_by_one(bad: Any, good: Any, process_tz: SetTZ) -> None:
    advertised = bad_request(bad, limit=11)["max_limit"]
    assert advertised == 11
    assert bad_request(bad, limit=advertised)["parameter"] == "limit"  # the advertised size is refused
    assert bad_request(good, limit=11)["max_limit"] == 10
    assert page(bad, limit=10) == page(good, limit=10)


@fault_check("aiohttp", "error_without_parameter_name")
def _error_without_parameter_name(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for params in ({"limit": "abc"}, {"start_date": "2019-13-01"}, {"start_date": D4, "end_date": D3}):
        assert bad_request(bad, **params) == {"error": "bad request"}
        assert bad_request(good, **params)["parameter"] in params


@fault_check("aiohttp", "unknown_path_html_404")
def _unknown_path_html_404(bad: Any, good: Any, process_tz: SetTZ) -> None:
    wrong, right = get(bad, "/no-such-endpoint"), get(good, "/no-such-endpoint")
    assert wrong.status_code == right.status_code == 404
    assert wrong.headers["Content-Type"].startswith("text/html")
    assert "error" in right.json()


@fault_check("aiohttp", "old_dates_422")
def _old_dates_422(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for name in ("start_date", "end_date"):
        assert bad_request(bad, 422, **{name: "1989-12-31"})["parameter"] == name
        assert get(good, **{name: "1989-12-31"}).status_code == 200
        assert page(bad, **{name: "1990-01-01"}) == page(good, **{name: "1990-01-01"})


@fault_check("aiohttp", "bad_input_422")
def _bad_input_422(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for _, params in STRICT_REFUSALS:
        assert bad_request(bad, 422, **params) == bad_request(good, **params)
    assert page(bad, start_date=D3) == page(good, start_date=D3)


# reference
@fault_check("reference", "inclusive_end")
def _inclusive_end(bad: Any, good: Any, process_tz: SetTZ) -> None:
    assert _all(bad, end_date=D3) == _all(good, end_date=D4)
    assert _all(bad, start_date=D3, end_date=D3) == _all(good, start_date=D3, end_date=D4)
    assert _all(bad, start_date=D3) == _all(good, start_date=D3)


@fault_check("reference", "drop_www_authenticate")
def _drop_www_authenticate(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for path in ("/ratings", "/movies"):
        wrong, right = get(bad, path, auth=None), get(good, path, auth=None)
        assert wrong.status_code == right.status_code == 401
        assert "WWW-Authenticate" not in wrong.headers
        assert right.headers["WWW-Authenticate"].startswith("Basic")
        assert wrong.json() == right.json()


@fault_check("reference", "total_off_by_one")
def _total_off_by_one(bad: Any, good: Any, process_tz: SetTZ) -> None:
    for params in ({}, {"start_date": D3, "end_date": D4}, {"offset": N + 5}):
        right = page(good, **params)
        assert page(bad, **params) == {**right, "total": right["total"] + 1}
    assert page(bad, "/movies") == page(good, "/movies")


@pytest.mark.parametrize("style", sorted(STYLE_MODULES))
def test_every_fault_has_a_check(style: str) -> None:
    faults = importlib.import_module(STYLE_MODULES[style]).FAULTS
    assert {fault for s, fault in CHECKS if s == style} == set(faults)


@pytest.mark.parametrize(("style", "fault"), sorted(CHECKS), ids=[f"{s}-{f}" for s, f in sorted(CHECKS)])
def test_a_fault_has_exactly_its_claimed_effect(
    serve_style: Any, process_tz: SetTZ, style: str, fault: str
) -> None:
    options, check = CHECKS[(style, fault)]
    bad = serve_style(style, faults=[fault], dataset=DATA, **options)
    good = serve_style(style, dataset=DATA, **options)
    check(bad, good, process_tz)


@pytest.mark.parametrize(("style", "fault"), sorted(CHECKS), ids=[f"{s}-{f}" for s, f in sorted(CHECKS)])
def test_a_fault_check_fails_on_a_correct_server(
    serve_style: Any, process_tz: SetTZ, style: str, fault: str
) -> None:
    """No check is vacuous: against two fault-free servers each one fails."""
    options, check = CHECKS[(style, fault)]
    one, other = (serve_style(style, dataset=DATA, **options) for _ in range(2))
    with pytest.raises(AssertionError):
        check(one, other, process_tz)
