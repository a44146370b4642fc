"""MovielensHook: connection handling, pagination, retries, errors and date windows (HTTP mocked)."""

from __future__ import annotations

import base64
import json
import re
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
import responses
from _provider_fakes import BASE_URL, LOGIN, PASSWORD, FakeRatingsAPI, Sleeps, rating, set_connection

from airflow_movielens import hooks as hooks_module
from airflow_movielens.exceptions import (
    MovielensAPIError,
    MovielensConnectionError,
    MovielensDataChangedError,
    MovielensError,
    MovielensResponseError,
)
from airflow_movielens.hooks import MovielensHook, RatingsPage

RATINGS = BASE_URL + "/ratings"
MOVIES = BASE_URL + "/movies"


def page(records, total, offset=0, limit=None):
    return {"result": records, "offset": offset, "limit": limit or max(len(records), 1), "total": total}


def make_hook(sleeps, **kwargs) -> MovielensHook:
    return MovielensHook("movielens_default", sleep=sleeps, **kwargs)


# -- connection ------------------------------------------------------------------------------------


def test_connection_defaults_fill_empty_fields(monkeypatch):
    set_connection(monkeypatch)  # only the type: scheme, host and port come from the documented defaults
    with MovielensHook() as hook:
        session, base_url = hook.get_conn()
        assert base_url == "http://movielens:5000"
        assert session.auth is None


def test_connection_fields_build_url_and_basic_auth(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([], 0))
    with make_hook(sleeps) as hook:
        assert hook.get_conn()[1] == BASE_URL
        list(hook.get_ratings())
    header = mocked.calls[0].request.headers["Authorization"]
    assert header == "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize(
    ("fields", "base_url"),
    [
        ({"host": "::1", "port": 5001}, "http://[::1]:5001"),
        ({"host": "[::1]", "port": 5001}, "http://[::1]:5001"),
        ({"host": "https://api.example.test/", "schema": ""}, "https://api.example.test:5000"),
        ({"host": "http://127.0.0.1", "schema": "https", "port": 8443}, "https://127.0.0.1:8443"),
        ({"host": "user:pw@127.0.0.1", "port": 5000}, "http://127.0.0.1:5000"),
        ({"host": "BOX/"}, "http://BOX:5000"),  # only the slash is stripped, not the name's last letter
    ],
)
def test_host_field_forms(monkeypatch, fields, base_url):
    set_connection(monkeypatch, **fields)
    assert MovielensHook().get_conn()[1] == base_url


def test_session_is_cached_and_closed(connection):
    hook = MovielensHook()
    session, _ = hook.get_conn()
    assert hook.get_conn()[0] is session
    closed = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    with hook:
        pass
    assert closed == [True]
    assert hook.get_conn()[0] is not session  # a new session after close


def test_ui_field_behaviour_documents_defaults():
    behaviour = MovielensHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == ["extra"]
    assert behaviour["placeholders"] == {
        "host": "movielens",
        "port": "5000",
        "schema": "http",
        "login": "airflow",
        "password": "API password",
    }
    assert "schema" in behaviour["relabeling"]


# -- requests and pagination -----------------------------------------------------------------------


def test_request_params_window_and_paging(connection, mocked, sleeps):
    api = FakeRatingsAPI([rating(i) for i in range(5)]).register(mocked)
    with make_hook(sleeps) as hook:
        records = list(hook.get_ratings(date(2024, 1, 1), "2024-01-02", batch_size=2))
    assert records == [rating(i) for i in range(5)]
    assert api.requests == [
        {"start_date": "2024-01-01", "end_date": "2024-01-02", "offset": str(o), "limit": "2"}
        for o in (0, 2, 4)
    ]


def test_unbounded_window_sends_no_date_params(connection, mocked, sleeps):
    api = FakeRatingsAPI([rating(0)]).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == [rating(0)]
    assert api.requests == [{"offset": "0", "limit": "1000"}]


def test_timeouts_are_passed_to_requests(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([], 0))
    with make_hook(sleeps, timeout=(3.0, 7.5)) as hook:
        list(hook.get_ratings())
    assert mocked.calls[0].request.req_kwargs["timeout"] == (3.0, 7.5)


def test_default_timeouts(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([], 0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings())
    connect, read = mocked.calls[0].request.req_kwargs["timeout"]
    assert 0 < connect <= 30
    assert 0 < read <= 300


def test_stops_when_offset_reaches_total(connection, mocked, sleeps):
    api = FakeRatingsAPI([rating(i) for i in range(4)]).register(mocked)
    with make_hook(sleeps) as hook:
        assert len(list(hook.get_ratings(batch_size=2))) == 4
    assert len(api.requests) == 2  # no extra request for an empty page


def test_empty_window_is_one_request(connection, mocked, sleeps):
    api = FakeRatingsAPI([]).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings("2024-01-01", "2024-01-01")) == []
    assert len(api.requests) == 1


def test_pages_report_offset_and_total(connection, mocked, sleeps):
    FakeRatingsAPI([rating(i) for i in range(5)]).register(mocked)
    with make_hook(sleeps) as hook:
        pages = list(hook.iter_ratings_pages(batch_size=2))
    assert [(p.offset, len(p.records), p.total) for p in pages] == [(0, 2, 5), (2, 2, 5), (4, 1, 5)]
    assert isinstance(pages[0], RatingsPage)


def test_clamped_limit_advances_by_records_received(connection, mocked, sleeps, logs):
    data = [rating(i) for i in range(7)]
    api = FakeRatingsAPI(data, max_limit=3).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings(batch_size=10)) == data
    assert [(q["offset"], q["limit"]) for q in api.requests] == [("0", "10"), ("3", "3"), ("6", "3")]
    assert any("caps the page size at 3" in m for m in logs.messages)


def test_short_pages_without_echo_still_lose_nothing(connection, mocked, sleeps):
    data = [rating(i) for i in range(5)]
    chunks = iter([data[0:2], data[2:3], data[3:5]])  # a server that silently sends fewer records

    def callback(request):
        chunk = next(chunks)
        return 200, {}, json.dumps({"result": chunk, "total": 5, "offset": 0, "limit": 100})

    mocked.add_callback(responses.GET, RATINGS, callback=callback)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings(batch_size=100)) == data


@pytest.mark.parametrize(
    ("send_max_limit", "expected_limits"), [(True, ["8", "3", "3"]), (False, ["8", "4", "2"])]
)
def test_400_about_limit_lowers_the_page_size(
    connection, mocked, sleeps, logs, send_max_limit, expected_limits
):
    data = [rating(i) for i in range(5)]
    api = FakeRatingsAPI(data, reject_limit_above=3, send_max_limit=send_max_limit).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings(batch_size=8)) == data
    assert [q["limit"] for q in api.requests[:3]] == expected_limits
    assert any("rejected limit=8" in m for m in logs.messages)
    assert sleeps == []  # a 400 is not retried as a transient failure


def test_400_about_limit_at_one_is_raised(connection, mocked, sleeps):
    mocked.add(
        responses.GET, RATINGS, status=400, json={"error": "limit is not allowed", "parameter": "limit"}
    )
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError, match="limit is not allowed"):
        list(hook.get_ratings(batch_size=1))


def test_400_about_other_parameter_is_raised(connection, mocked, sleeps):
    mocked.add(
        responses.GET,
        RATINGS,
        status=400,
        json={"error": "start_date must be YYYY-MM-DD", "parameter": "start_date"},
    )
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings(batch_size=10))
    assert info.value.status_code == 400
    assert len(mocked.calls) == 1


def test_total_changing_between_pages_is_an_error(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([rating(0), rating(1)], total=4))
    mocked.add(responses.GET, RATINGS, json=page([rating(2), rating(3)], total=5, offset=2))
    with (
        make_hook(sleeps) as hook,
        pytest.raises(MovielensDataChangedError, match="total changed from 4 to 5"),
    ):
        list(hook.get_ratings(batch_size=2))


def test_page_longer_than_asked_for_is_an_error(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([rating(i) for i in range(3)], total=3, limit=2))
    with (
        make_hook(sleeps) as hook,
        pytest.raises(MovielensDataChangedError, match="more than the 2 asked for"),
    ):
        list(hook.get_ratings(batch_size=2))


def test_empty_page_before_total_is_an_error(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([rating(0), rating(1)], total=4))
    mocked.add(responses.GET, RATINGS, json=page([], total=4, offset=2, limit=2))
    with make_hook(sleeps) as hook, pytest.raises(MovielensDataChangedError, match="empty page at offset 2"):
        list(hook.get_ratings(batch_size=2))


def test_repeated_boundary_record_is_an_error(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([rating(0), rating(1)], total=4))
    mocked.add(responses.GET, RATINGS, json=page([rating(1), rating(2)], total=4, offset=2))
    with make_hook(sleeps) as hook, pytest.raises(MovielensDataChangedError, match="repeated or reordered"):
        list(hook.get_ratings(batch_size=2))


def test_get_movies_pages_movies(connection, mocked, sleeps):
    movies = [{"movieId": i, "title": f"Movie {i}", "genres": "Drama"} for i in range(1, 6)]
    api = FakeRatingsAPI(movies).register(mocked, "/movies")
    with make_hook(sleeps) as hook:
        assert list(hook.get_movies(batch_size=2)) == movies
    assert [q["offset"] for q in api.requests] == ["0", "2", "4"]


@pytest.mark.parametrize(
    ("records", "total", "expected"),
    [([], 0, False), ([rating(0)], 12, True), ([], 1, True)],  # total decides, even with no record
)
def test_has_ratings_is_one_request_with_limit_1(connection, mocked, sleeps, records, total, expected):
    mocked.add(responses.GET, RATINGS, json=page(records, total=total, limit=1))
    with make_hook(sleeps) as hook:
        assert hook.has_ratings("2024-01-01", "2024-01-02") is expected
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.params == {
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "offset": "0",
        "limit": "1",
    }


def test_test_connection_success(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([rating(0)], total=42, limit=1))
    ok, message = make_hook(sleeps).test_connection()
    assert ok is True
    assert "42 ratings" in message
    assert message == f"Connected to {BASE_URL}: 42 ratings available."
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.params == {"offset": "0", "limit": "1"}


def test_test_connection_failure_is_one_request_without_secret(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=503, json={"error": "down for maintenance"})
    ok, message = make_hook(sleeps).test_connection()
    assert ok is False
    assert "503" in message
    assert "down for maintenance" in message
    assert PASSWORD not in message
    assert len(mocked.calls) == 1
    assert sleeps == []


def test_test_connection_reports_unknown_connection(monkeypatch, mocked, sleeps):
    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CONN", raising=False)
    ok, message = MovielensHook("no_such_conn", sleep=sleeps).test_connection()
    assert ok is False
    assert "no_such_conn" in message
    assert re.match(r"^\w+(Error|Exception): ", message)  # the error's type, then its text
    assert len(mocked.calls) == 0


def test_test_connection_rejects_malformed_answer(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json={"result": []})
    ok, message = make_hook(sleeps).test_connection()
    assert ok is False
    assert message == f"GET {RATINGS}?offset=0&limit=1: 'total' is missing or not a non-negative integer"


# -- retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [1.0, 0.25])
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_with_growing_backoff(connection, mocked, sleeps, status, base):
    for _ in range(3):
        mocked.add(responses.GET, RATINGS, status=status, json={"error": "try later"})
    mocked.add(responses.GET, RATINGS, json=page([rating(0)], total=1))
    with make_hook(sleeps, backoff_base=base, backoff_max=60.0) as hook:
        assert list(hook.get_ratings()) == [rating(0)]
    assert len(mocked.calls) == 4
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):  # base * 2**n plus up to `base` seconds of jitter
        assert base * 2**attempt <= wait <= base * 2**attempt + base


def test_backoff_is_capped(connection, mocked, sleeps):
    for _ in range(4):
        mocked.add(responses.GET, RATINGS, status=503, json={"error": "busy"})
    mocked.add(responses.GET, RATINGS, json=page([], total=0))
    with make_hook(sleeps, backoff_base=2.0, backoff_max=5.0) as hook:
        list(hook.get_ratings())
    assert len(sleeps) == 4
    assert max(sleeps) <= 5.0
    assert sleeps[-1] == 5.0


def test_backoff_is_the_exponential_floor_plus_real_jitter(connection, mocked):
    # Workers that failed together must not retry together: each wait is base * 2**n plus a random
    # part in (0, base], and that part differs from attempt to attempt and from run to run.
    base = 0.5
    runs: list[list[float]] = []
    for _ in range(3):
        mocked.reset()
        for _ in range(4):
            mocked.add(responses.GET, RATINGS, status=503, json={"error": "busy"})
        mocked.add(responses.GET, RATINGS, json=page([], total=0))
        waits = Sleeps()
        with make_hook(waits, backoff_base=base, backoff_max=60.0) as hook:
            list(hook.get_ratings())
        runs.append(list(waits))
    jitters = []
    for waits in runs:
        assert len(waits) == 4
        for attempt, wait in enumerate(waits):
            floor = min(base * 2**attempt, 60.0)
            assert floor < wait <= floor + base
            jitters.append(wait - floor)
    assert len(set(jitters)) == len(jitters)  # no two attempts of any run wait the same extra time
    for attempt in range(4):
        assert len({waits[attempt] for waits in runs}) == len(runs)


def test_retries_are_bounded(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=503, json={"error": "still down"})
    with make_hook(sleeps, max_attempts=3) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings())
    assert info.value.status_code == 503
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2


def test_retry_after_seconds_is_honoured(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=429, json={"error": "slow down"}, headers={"Retry-After": "7"})
    mocked.add(responses.GET, RATINGS, json=page([], total=0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings())
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(connection, mocked, sleeps):
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    mocked.add(
        responses.GET,
        RATINGS,
        status=503,
        json={"error": "maintenance"},
        headers={"Retry-After": format_datetime(when, usegmt=True)},
    )
    mocked.add(responses.GET, RATINGS, json=page([], total=0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings())
    assert len(sleeps) == 1
    assert 27 <= sleeps[0] <= 30


def test_retry_after_is_capped(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=429, json={"error": "slow"}, headers={"Retry-After": "86400"})
    mocked.add(responses.GET, RATINGS, json=page([], total=0))
    with make_hook(sleeps, max_retry_after=120) as hook:
        list(hook.get_ratings())
    assert sleeps == [120.0]


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError("connection refused"),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("truncated body"),
    ],
)
def test_transport_errors_are_retried(connection, mocked, sleeps, error):
    mocked.add(responses.GET, RATINGS, body=error)
    mocked.add(responses.GET, RATINGS, json=page([rating(0)], total=1))
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == [rating(0)]
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1


def test_transport_errors_exhausted_raise_connection_error(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, body=requests.ReadTimeout("read timed out"))
    with (
        make_hook(sleeps, max_attempts=4, timeout=(2.0, 9.0)) as hook,
        pytest.raises(MovielensConnectionError) as info,
    ):
        list(hook.get_ratings())
    assert len(mocked.calls) == 4
    assert "after 4 attempt(s)" in str(info.value)
    assert "read 9 s" in str(info.value)
    assert isinstance(info.value, MovielensError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_4xx_are_not_retried(connection, mocked, sleeps, status):
    mocked.add(responses.GET, RATINGS, status=status, json={"error": "nope"})
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings(batch_size=1))
    assert info.value.status_code == status
    assert len(mocked.calls) == 1
    assert sleeps == []


# -- error texts and secrets -----------------------------------------------------------------------


def test_error_names_status_url_and_server_message(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=401, json={"error": "invalid credentials"})
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings("2024-01-01", "2024-01-02"))
    text = str(info.value)
    assert "401" in text
    assert "invalid credentials" in text
    assert f"{RATINGS}?start_date=2024-01-01&end_date=2024-01-02" in text
    assert info.value.url.startswith(RATINGS)


def test_non_json_error_body_is_quoted(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=404, body="<html>no such page</html>")
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError, match="no such page"):
        list(hook.get_ratings())


def test_password_never_in_logs_or_errors(connection, mocked, sleeps, logs, capsys):
    # A server that echoes the password back must not make us print it.
    mocked.add(responses.GET, RATINGS, status=503, json={"error": f"bad password {PASSWORD}"})
    mocked.add(responses.GET, RATINGS, status=401, json={"error": f"wrong password {PASSWORD}"})
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings())
    assert len(sleeps) == 1  # the 503 was retried and logged
    assert any("retrying in" in m for m in logs.messages)
    out = capsys.readouterr()
    for text in (str(info.value), repr(info.value), info.value.message, logs.text, out.out, out.err):
        assert PASSWORD not in text
    assert info.value.message == "wrong password ***"


def test_password_not_in_connection_error(connection, mocked, sleeps, logs):
    mocked.add(responses.GET, RATINGS, body=requests.ConnectionError(f"refused for airflow:{PASSWORD}"))
    with make_hook(sleeps, max_attempts=2) as hook, pytest.raises(MovielensConnectionError) as info:
        list(hook.get_ratings())
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in logs.text


def test_credentials_in_a_redirect_target_never_reach_errors(connection, mocked, sleeps, logs):
    # A server redirecting to a URL with userinfo must not make the error text or .url carry it.
    target = "http://someone:leaked-secret@127.0.0.1:5000/moved"
    mocked.add(responses.GET, RATINGS, status=302, headers={"Location": target})
    mocked.add(responses.GET, target, status=400, json={"error": "gone"})
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings())
    assert info.value.status_code == 400
    assert info.value.url.startswith("http://127.0.0.1:5000/moved")
    for text in (str(info.value), repr(info.value), info.value.url, logs.text):
        assert "leaked-secret" not in text


# -- malformed bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("[]", "expected a JSON object"),
        ('{"total": 1}', "'result'"),
        ('{"result": {}, "total": 1}', "'result'"),
        ('{"result": []}', "'total'"),
        ('{"result": [], "total": "3"}', "'total'"),
        ('{"result": [], "total": -1}', "'total'"),
        ('{"result": [1], "total": 1}', "record 0"),
        ('{"result": [{"userId": 1}], "total": 1}', "timestamp"),
    ],
)
def test_malformed_envelope_is_a_response_error(connection, mocked, sleeps, body, match):
    mocked.add(responses.GET, RATINGS, body=body, content_type="application/json")
    with make_hook(sleeps) as hook, pytest.raises(MovielensResponseError, match=match):
        list(hook.get_ratings())
    assert sleeps == []


def test_non_json_body_is_retried_then_a_response_error(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, body='{"result": [{"userId"', content_type="application/json")
    with make_hook(sleeps, max_attempts=2) as hook, pytest.raises(MovielensResponseError, match="not JSON"):
        list(hook.get_ratings())
    assert len(mocked.calls) == 2


# -- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2024-02-29", "2024-02-29"),
        (" 2024-01-05 ", "2024-01-05"),
        (date(2024, 1, 5), "2024-01-05"),
        (datetime(2024, 1, 5, 23, 59), "2024-01-05"),  # naive: taken as UTC
        (datetime(2024, 1, 5, 23, 30, tzinfo=timezone(timedelta(hours=-2))), "2024-01-06"),  # 01:30 UTC
        (datetime(2024, 1, 6, 1, 0, tzinfo=timezone(timedelta(hours=9))), "2024-01-05"),  # 16:00 UTC
        (datetime(2024, 1, 5, tzinfo=timezone.utc), "2024-01-05"),
    ],
)
def test_date_coercion(connection, mocked, sleeps, start, expected):
    api = FakeRatingsAPI([]).register(mocked)
    with make_hook(sleeps) as hook:
        list(hook.get_ratings(start_date=start))
    assert api.requests[0]["start_date"] == expected


def test_pendulum_datetime_is_converted_to_utc(connection, mocked, sleeps):
    import pendulum

    api = FakeRatingsAPI([]).register(mocked)
    with make_hook(sleeps) as hook:
        list(hook.get_ratings(end_date=pendulum.datetime(2024, 3, 1, 8, tz="Asia/Seoul")))  # 23:00 UTC
    assert api.requests[0]["end_date"] == "2024-02-29"


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"start_date": "2024-13-01"}, ValueError, "start_date is not a valid calendar date"),
        ({"start_date": "2024-02-30"}, ValueError, "start_date"),
        ({"end_date": "01/02/2024"}, ValueError, "end_date must be a date as YYYY-MM-DD"),
        ({"end_date": "2024-01-01T00:00:00"}, ValueError, "end_date"),
        ({"start_date": "yesterday"}, ValueError, "start_date"),
        ({"start_date": "2024-01-03", "end_date": "2024-01-02"}, ValueError, "after end_date"),
        ({"start_date": 20240101}, TypeError, "start_date"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_invalid_arguments_rejected_before_any_request(connection, mocked, sleeps, kwargs, exc, match):
    hook = make_hook(sleeps)
    with pytest.raises(exc, match=match):
        hook.get_ratings(**kwargs)  # raised at call time, not when iterating
    with pytest.raises(exc, match=match):
        hook.iter_ratings_pages(**kwargs)
    if "batch_size" not in kwargs:
        with pytest.raises(exc, match=match):
            hook.has_ratings(**kwargs)
    assert len(mocked.calls) == 0


# -- documented defaults, argument checks, exact messages (what users read) ------------------------


def test_documented_defaults():
    hook = MovielensHook()
    assert hook.conn_id == "movielens_default"
    assert hook.timeout == (10.0, 60.0)
    assert (hook.max_attempts, hook.backoff_base, hook.backoff_max, hook.max_retry_after) == (
        5,
        1.0,
        60.0,
        300.0,
    )


def test_default_page_sizes(connection, mocked, sleeps):
    ratings = FakeRatingsAPI([]).register(mocked)
    movies = FakeRatingsAPI([]).register(mocked, "/movies")
    with make_hook(sleeps) as hook:
        list(hook.iter_ratings_pages())
        list(hook.get_movies())
    assert ratings.requests[0]["limit"] == "1000"
    assert movies.requests[0]["limit"] == "1000"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be an integer >= 1, got 0"),
        ({"max_attempts": True}, "max_attempts must be an integer >= 1, got True"),
        ({"backoff_base": -0.5}, "backoff_base must be a number >= 0, got -0.5"),
        ({"backoff_max": -1}, "backoff_max must be a number >= 0, got -1"),
        ({"max_retry_after": "10"}, "max_retry_after must be a number >= 0, got '10'"),
        ({"timeout": 0}, "timeout must be a positive number or a (connect, read) pair, got 0"),
        ({"timeout": (1.0, 0)}, "timeout must be a positive number or a (connect, read) pair, got (1.0, 0)"),
        (
            {"timeout": (1.0, 2.0, 3.0)},
            "timeout must be a positive number or a (connect, read) pair, got (1.0, 2.0, 3.0)",
        ),
    ],
)
def test_constructor_messages(kwargs, message):
    with pytest.raises(ValueError, match=r"^\w+ must be ") as info:
        MovielensHook(**kwargs)
    assert str(info.value) == message


def test_constructor_boundaries_are_accepted():
    hook = MovielensHook(max_attempts=1, backoff_base=0, backoff_max=0, max_retry_after=0, timeout=0.5)
    assert hook.timeout == (0.5, 0.5)
    assert hook.max_attempts == 1


def test_max_attempts_1_disables_retries(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, status=503, json={"error": "busy"})
    with make_hook(sleeps, max_attempts=1) as hook, pytest.raises(MovielensAPIError):
        list(hook.get_ratings())
    assert len(mocked.calls) == 1
    assert sleeps == []


def test_request_headers(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=page([], 0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings())
    headers = mocked.calls[0].request.headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("airflow-movielens/")


def test_login_without_password(monkeypatch, mocked, sleeps):
    set_connection(monkeypatch, host="127.0.0.1", port=5000, login="reader")
    mocked.add(responses.GET, RATINGS, json=page([], 0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings())
    assert (
        mocked.calls[0].request.headers["Authorization"] == "Basic " + base64.b64encode(b"reader:").decode()
    )


def test_userinfo_in_host_never_reaches_urls(monkeypatch, mocked, sleeps):
    set_connection(monkeypatch, host="user:p@ss@127.0.0.1", port=5000, login=LOGIN, password=PASSWORD)
    mocked.add(responses.GET, RATINGS, status=404, json={"error": "gone"})
    with make_hook(sleeps) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings())
    assert info.value.url == f"{RATINGS}?offset=0&limit=1000"


def test_has_ratings_malformed_answer_names_the_url(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json=[])
    with pytest.raises(MovielensResponseError) as info:
        make_hook(sleeps).has_ratings("2024-01-01", "2024-01-02")
    url = f"{RATINGS}?start_date=2024-01-01&end_date=2024-01-02&offset=0&limit=1"
    assert str(info.value) == f"GET {url}: expected a JSON object, got list"


# -- HTTP error details ----------------------------------------------------------------------------


def api_error(mocked, sleeps, **response) -> MovielensAPIError:
    mocked.add(responses.GET, RATINGS, **response)
    with make_hook(sleeps, max_attempts=1) as hook, pytest.raises(MovielensAPIError) as info:
        list(hook.get_ratings(batch_size=1))
    return info.value


def test_empty_error_body_uses_the_reason(connection, mocked, sleeps):
    error = api_error(mocked, sleeps, status=404, body="")
    assert error.message == "Not Found"
    assert str(error) == f"MovieLens API answered HTTP 404 for GET {RATINGS}?offset=0&limit=1: Not Found"


def test_no_reason_and_no_body(connection, mocked, sleeps):
    assert api_error(mocked, sleeps, status=599, body="").message == "no message"


def test_long_text_error_body_is_cut(connection, mocked, sleeps):
    assert api_error(mocked, sleeps, status=403, body="  " + "x" * 300).message == "x" * 198


def test_undecodable_error_body(connection, mocked, sleeps):
    assert api_error(mocked, sleeps, status=403, body=b"denied \xff\xfe").message == "denied \ufffd\ufffd"


def test_error_body_fields(connection, mocked, sleeps):
    error = api_error(
        mocked,
        sleeps,
        status=400,
        json={"error": "bad start_date", "parameter": "start_date", "max_limit": 50},
    )
    assert (error.status_code, error.message, error.parameter, error.max_limit) == (
        400,
        "bad start_date",
        "start_date",
        50,
    )
    assert error.retry_after is None


@pytest.mark.parametrize(
    "body",
    [
        {"error": 5, "parameter": 7, "max_limit": 0},
        {"error": "x", "max_limit": True},
        ["not", "an", "object"],
    ],
)
def test_ill_typed_error_body_fields_are_ignored(connection, mocked, sleeps, body):
    error = api_error(mocked, sleeps, status=422, json=body)
    assert error.parameter is None
    assert error.max_limit is None


def test_max_limit_1_is_honoured(connection, mocked, sleeps):
    api = FakeRatingsAPI([rating(0), rating(1)], reject_limit_above=1).register(mocked)
    with make_hook(sleeps) as hook:
        assert len(list(hook.get_ratings(batch_size=5))) == 2
    assert [q["limit"] for q in api.requests] == ["5", "1", "1"]


@pytest.mark.parametrize(
    ("body", "next_limit"),
    [
        ({"error": "Limit too large"}, "4"),  # no parameter field: the message decides; halved
        ({"error": "page too large", "max_limit": 2}, "2"),  # no parameter field, but max_limit
        ({"error": "limit is fine, start_date is not", "parameter": "start_date"}, None),
        ({"error": "bad request"}, None),
    ],
)
def test_which_400s_are_about_limit(connection, mocked, sleeps, body, next_limit):
    mocked.add(responses.GET, RATINGS, status=400, json=body)
    mocked.add(responses.GET, RATINGS, json=page([rating(0)], total=1))
    with make_hook(sleeps) as hook:
        if next_limit is not None:
            assert list(hook.get_ratings(batch_size=8)) == [rating(0)]
            assert mocked.calls[1].request.params["limit"] == next_limit
        else:
            with pytest.raises(MovielensAPIError):
                list(hook.get_ratings(batch_size=8))
            assert len(mocked.calls) == 1


def test_max_limit_not_below_the_request_halves(connection, mocked, sleeps):
    mocked.add(
        responses.GET, RATINGS, status=400, json={"error": "limit", "parameter": "limit", "max_limit": 8}
    )
    mocked.add(responses.GET, RATINGS, json=page([], total=0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings(batch_size=8))
    assert mocked.calls[1].request.params["limit"] == "4"


# -- adaptive page size (batch_size=None, the default) ---------------------------------------------


class Listing:
    """``n`` synthetic ratings, made only when sliced: a listing large enough to reach the page cap."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, window: slice) -> list[dict]:
        return [rating(i) for i in range(*window.indices(self.n))]


@pytest.fixture
def small_pages(monkeypatch):
    """Adaptive paging scaled down (first page 2, x4, cap 100) so a test's listing stays small."""
    monkeypatch.setattr(hooks_module, "ADAPTIVE_FIRST_PAGE", 2)
    monkeypatch.setattr(hooks_module, "ADAPTIVE_GROWTH", 4)
    monkeypatch.setattr(hooks_module, "ADAPTIVE_MAX_PAGE", 100)


def requested(api: FakeRatingsAPI) -> list[tuple[int, int]]:
    return [(int(q["offset"]), int(q["limit"])) for q in api.requests]


def test_adaptive_paging_defaults_are_documented():
    assert (hooks_module.ADAPTIVE_FIRST_PAGE, hooks_module.ADAPTIVE_GROWTH) == (1_000, 4)
    assert hooks_module.ADAPTIVE_MAX_PAGE == 20_000


def test_default_grows_the_page_size_up_to_the_cap(connection, mocked, sleeps):
    listing = Listing(65_000)
    api = FakeRatingsAPI(listing).register(mocked)  # accepts any limit: only the hook's cap applies
    with make_hook(sleeps) as hook:
        pages = list(hook.iter_ratings_pages())
    assert requested(api) == [
        (0, 1_000),
        (1_000, 4_000),
        (5_000, 16_000),
        (21_000, 20_000),  # 64,000 would be next: the cap bounds the page held in memory
        (41_000, 20_000),
        (61_000, 4_000),  # the last page asks for what is left, no more
    ]
    assert [len(p.records) for p in pages] == [limit for _, limit in requested(api)]
    records = [r for p in pages for r in p.records]
    assert records == listing[0 : len(listing)]


def test_default_applies_to_movies_too(connection, mocked, sleeps, small_pages):
    movies = [{"movieId": i, "title": f"Movie {i}", "genres": "Drama"} for i in range(1, 31)]
    api = FakeRatingsAPI(movies).register(mocked, "/movies")
    with make_hook(sleeps) as hook:
        assert list(hook.get_movies()) == movies
    assert requested(api) == [(0, 2), (2, 8), (10, 20)]


def test_small_window_is_one_small_request(connection, mocked, sleeps):
    data = [rating(i) for i in range(5)]
    api = FakeRatingsAPI(data).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == data
    assert requested(api) == [(0, 1_000)]


def test_echoed_cap_stops_the_growth(connection, mocked, sleeps, logs, small_pages):
    data = [rating(i) for i in range(60)]
    api = FakeRatingsAPI(data, max_limit=12).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == data
    # 2, 8, then 32 is clamped to 12 (echoed): never more than 12 again; the last asks for the rest.
    assert requested(api) == [(0, 2), (2, 8), (10, 32), (22, 12), (34, 12), (46, 12), (58, 2)]
    assert "The server caps the page size at 12 (asked for 32)" in logs.messages


def test_silent_clamp_freezes_the_growth(connection, mocked, sleeps, small_pages):
    data = [rating(i) for i in range(60)]
    api = FakeRatingsAPI(data, max_limit=12, echo_limit=False).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == data
    # The short page at 32 (12 served, no echo) stops the growth; offsets follow the records served.
    assert requested(api) == [(0, 2), (2, 8), (10, 32), (22, 32), (34, 26), (46, 14), (58, 2)]


@pytest.mark.parametrize(
    ("send_max_limit", "settled"),
    [(True, 20), (False, 16)],  # max_limit named: used as is; not named: the rejected 32 halved
)
def test_400_about_limit_settles_without_losing_or_repeating(
    connection, mocked, sleeps, logs, small_pages, send_max_limit, settled
):
    data = [rating(i) for i in range(70)]
    api = FakeRatingsAPI(data, reject_limit_above=20, send_max_limit=send_max_limit).register(mocked)
    with make_hook(sleeps) as hook:
        pages = list(hook.iter_ratings_pages())
    assert [r for p in pages for r in p.records] == data
    assert [p.offset for p in pages] == [0, 2, *range(10, 70, settled)]  # contiguous: no gap, no repeat
    limits = [limit for _, limit in requested(api)]
    assert limits[:4] == [2, 8, 32, settled]  # rejected once, then settled: 32 is never asked again
    assert all(limit <= settled for limit in limits[4:])
    rejected = f"The server rejected limit=32 (limit must be <= 20); continuing with limit={settled}"
    assert rejected in logs.messages
    assert rejected not in logs.warnings  # growing pages meet a cap by design: not worth a warning
    assert sleeps == []


def test_reference_server_default_cap_is_learnt_from_its_400(connection, mocked, sleeps):
    # The reference server rejects limits above 10,000 by default, naming max_limit.
    listing = Listing(45_000)
    api = FakeRatingsAPI(listing, reject_limit_above=10_000).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == listing[0 : len(listing)]
    assert requested(api) == [
        (0, 1_000),
        (1_000, 4_000),
        (5_000, 16_000),  # rejected: 400 with max_limit 10,000
        (5_000, 10_000),
        (15_000, 10_000),
        (25_000, 10_000),
        (35_000, 10_000),
    ]


@pytest.mark.parametrize(
    ("batch_size", "server"),
    [(7, {}), (7, {"max_limit": 50}), (150, {}), (1_000, {})],  # 150 and 1,000: above the cap of 100
)
def test_explicit_batch_size_is_sent_on_every_request(
    connection, mocked, sleeps, small_pages, batch_size, server
):
    listing = Listing(3 * batch_size + 1)  # full pages, then a one-record page: never grown, never cut
    api = FakeRatingsAPI(listing, **server).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings(batch_size=batch_size)) == listing[0 : len(listing)]
    assert requested(api) == [(o, batch_size) for o in range(0, len(listing), batch_size)]


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "100"])
def test_batch_size_must_be_none_or_a_positive_integer(connection, mocked, sleeps, bad):
    hook = make_hook(sleeps)
    message = rf"^batch_size must be None \(adaptive\) or an integer >= 1, got {re.escape(repr(bad))}$"
    for call in (hook.get_ratings, hook.iter_ratings_pages, hook.get_movies):
        with pytest.raises(ValueError, match=message):
            call(batch_size=bad)
    assert len(mocked.calls) == 0


# -- exact messages and logs -----------------------------------------------------------------------


def test_retry_log_lines(connection, mocked, sleeps, logs):
    mocked.add(responses.GET, RATINGS, status=503, json={"error": "busy"})
    mocked.add(responses.GET, RATINGS, body=requests.ConnectionError("refused"))
    mocked.add(responses.GET, RATINGS, json=page([], total=0))
    with make_hook(sleeps) as hook:
        list(hook.get_ratings())
    retries = [m for m in logs.messages if m.startswith("Attempt ")]
    assert retries == [
        f"Attempt 1/5 failed (MovieLens API answered HTTP 503 for GET {RATINGS}?offset=0&limit=1000: busy); "
        f"retrying in {sleeps[0]:.2f} s",
        f"Attempt 2/5 failed (ConnectionError); retrying in {sleeps[1]:.2f} s",
    ]


def test_clamp_and_limit_logs(connection, mocked, sleeps, logs):
    FakeRatingsAPI([rating(i) for i in range(4)], max_limit=3).register(mocked)
    with make_hook(sleeps) as hook:
        list(hook.get_ratings(batch_size=3))  # echo equals the request: nothing to report
    assert not any("caps" in m for m in logs.messages)
    with make_hook(sleeps) as hook:
        list(hook.get_ratings(batch_size=10))
    assert "The server caps the page size at 3 (asked for 10)" in logs.messages


def test_rejected_limit_log(connection, mocked, sleeps, logs):
    FakeRatingsAPI([rating(0)], reject_limit_above=3).register(mocked)
    with make_hook(sleeps) as hook:
        list(hook.get_ratings(batch_size=8))
    assert "The server rejected limit=8 (limit must be <= 3); continuing with limit=3" in logs.warnings


def test_clamp_to_one_is_recognised(connection, mocked, sleeps, logs):
    FakeRatingsAPI([rating(0), rating(1)], max_limit=1).register(mocked)
    with make_hook(sleeps) as hook:
        assert len(list(hook.get_ratings(batch_size=4))) == 2
    assert "The server caps the page size at 1 (asked for 4)" in logs.messages


def data_changed(mocked, sleeps, *pages, batch_size=2) -> str:
    for body in pages:
        mocked.add(responses.GET, RATINGS, json=body)
    with make_hook(sleeps) as hook, pytest.raises(MovielensDataChangedError) as info:
        list(hook.get_ratings(batch_size=batch_size))
    return str(info.value)


def test_data_changed_messages(connection, mocked, sleeps):
    first = page([rating(0), rating(1)], total=4)
    url2 = f"{RATINGS}?offset=2&limit=2"
    assert data_changed(mocked, sleeps, first, page([rating(2)], total=5, offset=2)) == (
        f"GET {url2}: total changed from 4 to 5 while paging; the data changed under the fetch, "
        "rerun to get a consistent listing"
    )
    assert data_changed(mocked, sleeps, first, page([], total=4, offset=2, limit=2)) == (
        f"GET {url2}: empty page at offset 2 although total is 4; the listing shrank under the fetch"
    )
    assert data_changed(mocked, sleeps, first, page([rating(1), rating(2)], total=4, offset=2)) == (
        f"GET {url2}: record 2 is not after the previous one in (timestamp, userId, movieId) order; "
        "the server repeated or reordered records"
    )
    assert data_changed(mocked, sleeps, first, page([rating(3), rating(2)], total=4, offset=2)) == (
        f"GET {url2}: record 3 is not after the previous one in (timestamp, userId, movieId) order; "
        "the server repeated or reordered records"
    )


def test_page_beyond_total_and_over_own_limit(connection, mocked, sleeps):
    url = f"{RATINGS}?offset=0&limit=5"
    three = [rating(0), rating(1), rating(2)]
    assert data_changed(mocked, sleeps, page(three, total=2, limit=5), batch_size=5) == (
        f"GET {url}: records 0..2 exceed total 2"
    )
    assert data_changed(mocked, sleeps, page(three, total=3, limit=2), batch_size=5) == (
        f"GET {url}: the page holds 3 records, more than its own limit 2"
    )
    assert data_changed(mocked, sleeps, page([*three, rating(3)], total=9, limit=3), batch_size=3) == (
        f"{RATINGS}?offset=0&limit=3".join(["GET ", ": the page holds 4 records, more than the 3 asked for"])
    )


def test_record_without_order_field_message(connection, mocked, sleeps):
    bad = {**rating(3)}
    del bad["userId"]
    mocked.add(responses.GET, RATINGS, json=page([rating(0), rating(1)], total=4))
    mocked.add(responses.GET, RATINGS, json=page([rating(2), bad], total=4, offset=2))
    with make_hook(sleeps) as hook, pytest.raises(MovielensResponseError) as info:
        list(hook.get_ratings(batch_size=2))
    assert str(info.value) == f"GET {RATINGS}?offset=2&limit=2: record 3 has no numeric 'userId'"


def test_envelope_messages(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, json={"result": [{"userId": 1}, "x"], "total": 2})
    with make_hook(sleeps) as hook, pytest.raises(MovielensResponseError) as info:
        list(hook.get_ratings())
    assert (
        str(info.value) == f"GET {RATINGS}?offset=0&limit=1000: record 1 of 'result' is a str, not an object"
    )


def test_undecodable_body_message(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, body=b"<html>" + b"y" * 100 + b"\xff", content_type="text/html")
    with make_hook(sleeps, max_attempts=1) as hook, pytest.raises(MovielensResponseError) as info:
        list(hook.get_ratings())
    excerpt = "<html>" + "y" * 74
    assert str(info.value) == f"GET {RATINGS}?offset=0&limit=1000: HTTP 200 body is not JSON: {excerpt!r}"


def test_undecodable_excerpt_is_replaced(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, body=b"\xff{", content_type="application/json")
    with make_hook(sleeps, max_attempts=1) as hook, pytest.raises(MovielensResponseError) as info:
        list(hook.get_ratings())
    assert str(info.value).endswith("body is not JSON: '\ufffd{'")


def test_connection_error_messages(connection, mocked, sleeps):
    mocked.add(responses.GET, RATINGS, body=requests.ConnectionError("connection refused"))
    with make_hook(sleeps, max_attempts=2) as hook, pytest.raises(MovielensConnectionError) as info:
        list(hook.get_ratings())
    assert str(info.value) == (
        f"GET {RATINGS} failed after 2 attempt(s): ConnectionError: connection refused"
    )
    mocked.replace(responses.GET, RATINGS, body=requests.ConnectTimeout("slow"))
    with (
        make_hook(sleeps, max_attempts=1, timeout=(2.5, 30)) as hook,
        pytest.raises(MovielensConnectionError) as info,
    ):
        list(hook.get_ratings())
    assert str(info.value) == (
        f"GET {RATINGS} failed after 1 attempt(s): ConnectTimeout (timeouts: connect 2.5 s, read 30 s)"
    )


# -- Retry-After -----------------------------------------------------------------------------------


NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("   ", None),
        ("120", 120.0),
        ("1.5", 1.5),
        ("-3", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:30 -0000", 30.0),  # no zone information: read as UTC
        ("Wed, 21 Oct 2015 09:28:30 +0200", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: retry now
    ],
)
def test_parse_retry_after(header, seconds):
    from airflow_movielens.hooks import parse_retry_after

    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize("echo", [0, -1, "3", None, 2.0])
def test_ill_typed_echoed_limit_is_ignored(connection, mocked, sleeps, logs, echo):
    mocked.add(responses.GET, RATINGS, json={"result": [rating(0)], "offset": 0, "limit": echo, "total": 2})
    mocked.add(responses.GET, RATINGS, json={"result": [rating(1)], "offset": 1, "limit": echo, "total": 2})
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings(batch_size=5)) == [rating(0), rating(1)]
    assert [c.request.params["limit"] for c in mocked.calls] == ["5", "5"]
    assert not any("caps" in m for m in logs.messages)


@pytest.mark.parametrize(
    ("field", "value"),
    [("timestamp", "1546300800"), ("userId", True), ("movieId", None), ("timestamp", [1])],
)
def test_record_with_non_numeric_order_field_message(connection, mocked, sleeps, field, value):
    # A string, a boolean or a list where the order needs a number is malformed, even when the
    # records would still sort: the hook must not guess an order for values of the wrong type.
    bad = {**rating(1), field: value}
    mocked.add(responses.GET, RATINGS, json=page([rating(0), bad], total=2))
    with make_hook(sleeps) as hook, pytest.raises(MovielensResponseError) as info:
        list(hook.get_ratings(batch_size=2))
    assert str(info.value) == f"GET {RATINGS}?offset=0&limit=2: record 1 has no numeric {field!r}"


def test_movies_out_of_order_is_reported(connection, mocked, sleeps):
    movie = lambda movie_id: {"movieId": movie_id, "title": f"M{movie_id}", "genres": "Drama"}  # noqa: E731
    mocked.add(responses.GET, MOVIES, json=page([movie(1), movie(3)], total=4))
    mocked.add(responses.GET, MOVIES, json=page([movie(3), movie(4)], total=4, offset=2))
    with make_hook(sleeps) as hook, pytest.raises(MovielensDataChangedError) as info:
        list(hook.get_movies(batch_size=2))
    assert "record 2 is not after the previous one in (movieId) order" in str(info.value)


# -- check_hook_params: the messages a DAG author reads at parse time -----------------------------


def test_check_hook_params_names_every_unknown_key_and_what_the_hook_takes():
    from airflow_movielens.hooks import HOOK_PARAMS, check_hook_params

    takes = ", ".join(sorted(HOOK_PARAMS))
    with pytest.raises(ValueError, match=r"^hook_params: unknown ") as error:
        check_hook_params({"timout": 5, 1: "x", "retries": 3})
    # sorted as text (a non-string key cannot break the message), joined by ", "
    assert str(error.value) == f"hook_params: unknown 1, 'retries', 'timout'; MovielensHook takes {takes}"


def test_check_hook_params_for_the_triggerer_names_what_cannot_cross():
    from airflow_movielens.hooks import check_hook_params

    with pytest.raises(ValueError, match=r"^hook_params 'sleep'") as error:
        check_hook_params({"sleep": print, "timeout": object()}, for_triggerer=True)
    assert str(error.value) == (
        "hook_params 'sleep' (builtin_function_or_method), 'timeout' (object) cannot be sent to the "
        "triggerer: with deferrable=True the hook runs in the triggerer process, which receives only "
        "JSON values. Leave it out, or use deferrable=False."
    )


# -- the order check's fast path ------------------------------------------------------------------


@pytest.fixture
def no_record_walk(monkeypatch):
    """Fail if the order check falls back to its record-by-record walk (meant for anomalies only)."""

    def walk(*args):
        raise AssertionError("a well-formed page was checked record by record")

    monkeypatch.setattr(hooks_module, "_order_key", walk)


def test_well_formed_rating_pages_are_checked_without_the_record_walk(
    connection, mocked, sleeps, no_record_walk
):
    # Ties on the leading fields, int and float values (JSON numbers), over several pages.
    records = [
        {**rating(0), "timestamp": 100, "userId": 1, "movieId": 1},
        {**rating(1), "timestamp": 100, "userId": 1, "movieId": 2},
        {**rating(2), "timestamp": 100, "userId": 2, "movieId": 1},
        {**rating(3), "timestamp": 100.5, "userId": 1, "movieId": 1},
        {**rating(4), "timestamp": 101, "userId": 1, "movieId": 1},
    ]
    FakeRatingsAPI(records).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings(batch_size=2)) == records


def test_well_formed_movie_pages_are_checked_without_the_record_walk(
    connection, mocked, sleeps, no_record_walk
):
    movie = lambda movie_id: {"movieId": movie_id, "title": f"M{movie_id}", "genres": "Drama"}  # noqa: E731
    mocked.add(responses.GET, MOVIES, json=page([movie(1), movie(2.5)], total=3))
    mocked.add(responses.GET, MOVIES, json=page([movie(3)], total=3, offset=2))
    with make_hook(sleeps) as hook:
        assert [m["movieId"] for m in hook.get_movies(batch_size=2)] == [1, 2.5, 3]


# -- connection problems -------------------------------------------------------------------------


def test_a_bad_extra_names_the_connection(monkeypatch):
    set_connection(monkeypatch, conn_id="ratings_eu", host="h", extra=json.dumps({"verify": 3}))
    with pytest.raises(ValueError, match="ratings_eu") as info, MovielensHook("ratings_eu") as hook:
        hook.get_conn()
    assert "'verify'" in str(info.value)


def test_a_failing_log_masker_does_not_fail_the_fetch(connection, mocked, sleeps, monkeypatch):
    def broken(secrets):
        raise RuntimeError("secrets masker unavailable")

    monkeypatch.setattr(hooks_module, "mask_secret", broken)
    FakeRatingsAPI([rating(0)]).register(mocked)
    with make_hook(sleeps) as hook:
        assert list(hook.get_ratings()) == [rating(0)]
