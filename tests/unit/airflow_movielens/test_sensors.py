"""MovielensRatingsSensor: poke, reschedule mode, deferral to the trigger and resumption."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from unittest import mock

import pendulum
import pytest
import responses
from _provider_fakes import BASE_URL, PASSWORD, Sleeps, set_connection

from airflow_movielens.compat import AIRFLOW_V3, DAG, TaskDeferred
from airflow_movielens.dates import DEFAULT_END_DATE, DEFAULT_START_DATE
from airflow_movielens.exceptions import MovielensAPIError, MovielensError
from airflow_movielens.sensors import MovielensRatingsSensor
from airflow_movielens.triggers import MovielensRatingsTrigger

RATINGS = BASE_URL + "/ratings"


def ctx(**extra):
    return {
        "data_interval_start": pendulum.datetime(2024, 1, 1, tz="UTC"),
        "data_interval_end": pendulum.datetime(2024, 1, 2, tz="UTC"),
        **extra,
    }


def sensor(**kwargs) -> MovielensRatingsSensor:
    kwargs.setdefault("task_id", "wait")
    op = MovielensRatingsSensor(**kwargs)
    op.render_template_fields(ctx())
    return op


def answer(mocked, total):
    records = [{"userId": 1, "movieId": 1, "rating": 4.0, "timestamp": 1704067200}] if total else []
    mocked.add(responses.GET, RATINGS, json={"result": records, "offset": 0, "limit": 1, "total": total})


@pytest.mark.parametrize(
    ("total", "expected", "line"),
    [
        (0, False, "No ratings yet for [2024-01-01, 2024-01-02); waiting"),
        (3, True, "Found ratings for [2024-01-01, 2024-01-02)"),
    ],
)
def test_poke_is_one_request_for_the_rendered_window(connection, mocked, logs, total, expected, line):
    answer(mocked, total)
    assert sensor().poke(ctx()) is expected
    assert line in logs.messages
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.params == {
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "offset": "0",
        "limit": "1",
    }


def test_poke_error_propagates(connection, mocked):
    mocked.add(responses.GET, RATINGS, status=401, json={"error": "bad credentials"})
    with pytest.raises(MovielensAPIError, match="bad credentials"):
        sensor().poke(ctx())


def test_window_defaults_and_default_args():
    start, end = datetime(2023, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc)
    with DAG("sensor_defaults", schedule=None, default_args={"start_date": start, "end_date": end}):
        op = MovielensRatingsSensor(task_id="wait")
    assert (op.window_start, op.window_end) == (DEFAULT_START_DATE, DEFAULT_END_DATE)
    assert (op.start_date, op.end_date) == (start, end)
    assert set(op.template_fields) == {"window_start", "window_end"}
    explicit = sensor(start_date="{{ data_interval_end.strftime('%Y-%m-%d') }}", end_date="2024-01-09")
    assert (explicit.window_start, explicit.window_end) == ("2024-01-02", "2024-01-09")


def test_poke_mode_execute_returns_when_ratings_exist(connection, mocked):
    answer(mocked, 5)
    assert sensor(mode="poke").execute(ctx()) is None
    assert len(mocked.calls) == 1


def reschedule_context(monkeypatch):
    """What reschedule mode reads besides the poke: when the first try started (never, here)."""
    if AIRFLOW_V3:
        return ctx(ti=mock.Mock(get_first_reschedule_date=mock.Mock(return_value=None)))
    import airflow.sensors.base

    monkeypatch.setattr(airflow.sensors.base, "_orig_start_date", lambda **_kwargs: None)
    return ctx(ti=mock.Mock(max_tries=0))


def test_reschedule_mode_releases_the_slot_until_ratings_exist(connection, mocked, monkeypatch):
    context = reschedule_context(monkeypatch)
    answer(mocked, 0)
    op = sensor(mode="reschedule", poke_interval=300)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class lives in a version-specific module
        op.execute(context)
    assert type(info.value).__name__ == "AirflowRescheduleException"
    assert info.value.reschedule_date > datetime.now(timezone.utc) + timedelta(seconds=250)
    answer(mocked, 2)
    assert op.execute(context) is None
    assert len(mocked.calls) == 2


def test_deferrable_defers_to_trigger_with_timeout(connection, mocked):
    op = sensor(deferrable=True, poke_interval=30, timeout=3600)
    with pytest.raises(TaskDeferred) as info:
        op.execute(ctx())
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == timedelta(seconds=3600)
    trigger = deferred.trigger
    assert isinstance(trigger, MovielensRatingsTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_movielens.triggers.MovielensRatingsTrigger"
    assert kwargs == {
        "conn_id": "movielens_default",
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "poke_interval": 30.0,
        "hook_params": {},
    }
    assert MovielensRatingsTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert len(mocked.calls) == 0  # the waiting happens in the triggerer


def test_deferrable_rejects_invalid_window_before_deferring():
    op = sensor(deferrable=True, start_date="2024-02-01", end_date="2024-01-01")
    with pytest.raises(ValueError, match="start_date"):
        op.execute(ctx())


def test_execute_complete_success(logs):
    event = {"status": "success", "start_date": "2024-01-01", "end_date": "2024-01-02"}
    assert sensor().execute_complete(ctx(), event) is None
    assert "Found ratings for [2024-01-01, 2024-01-02)" in logs.messages


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (
            {"status": "error", "status_code": 401, "message": "HTTP 401: invalid credentials"},
            "invalid credentials",
        ),
        ({"status": "error"}, "Waiting for MovieLens ratings failed"),
        (None, "^Waiting for MovieLens ratings failed: the trigger sent no event$"),
    ],
)
def test_execute_complete_error_is_clear(event, match):
    with pytest.raises(MovielensError, match=match) as info:
        sensor().execute_complete(ctx(), event)
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize("deferrable", [False, True])
def test_empty_window_fails_fast(connection, mocked, deferrable):
    op = sensor(start_date="2024-01-01", end_date="2024-01-01", deferrable=deferrable)
    with pytest.raises(ValueError, match=r"\[2024-01-01, 2024-01-01\) is empty.*DeltaDataIntervalTimetable"):
        op.execute(ctx())
    assert len(mocked.calls) == 0


def test_poke_uses_the_given_connection_and_hook_params(monkeypatch, mocked):
    set_connection(monkeypatch, "sensor_conn", host="127.0.0.1", port=5000)
    mocked.add(responses.GET, RATINGS, status=429, json={"error": "slow down"}, headers={"Retry-After": "2"})
    answer(mocked, 1)
    waits = Sleeps()
    assert sensor(conn_id="sensor_conn", hook_params={"sleep": waits}).poke(ctx()) is True
    assert waits == [2.0]
