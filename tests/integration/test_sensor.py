"""MovielensRatingsSensor and its trigger against the running server: true, false, and deferred."""

from __future__ import annotations

import asyncio
import json

import pytest

import airflow_movielens.triggers as triggers_module
from airflow_movielens.compat import TaskDeferred
from airflow_movielens.exceptions import MovielensError
from airflow_movielens.sensors import MovielensRatingsSensor
from airflow_movielens.triggers import MovielensRatingsTrigger


def sensor(conn_id: str, day: str, end: str, **kwargs) -> MovielensRatingsSensor:
    return MovielensRatingsSensor(
        task_id="wait_for_ratings", conn_id=conn_id, start_date=day, end_date=end, **kwargs
    )


async def first_event(trigger: MovielensRatingsTrigger, timeout: float = 60.0) -> dict:
    run = trigger.run()
    try:
        event = await asyncio.wait_for(run.__anext__(), timeout)
    finally:
        await run.aclose()
    return event.payload


def test_poke_is_true_for_a_day_with_ratings(movielens_conn, ratings_calendar):
    day = ratings_calendar.busy_day
    assert sensor(movielens_conn, day, ratings_calendar.next_day(day)).poke(context={}) is True


def test_poke_is_false_for_an_empty_day(movielens_conn, ratings_calendar):
    day = ratings_calendar.empty_day
    assert sensor(movielens_conn, day, ratings_calendar.next_day(day)).poke(context={}) is False


def test_deferrable_sensor_defers_then_its_trigger_fires_on_the_live_server(movielens_conn, ratings_calendar):
    day = ratings_calendar.busy_day
    end = ratings_calendar.next_day(day)
    task = sensor(movielens_conn, day, end, deferrable=True, poke_interval=5, timeout=600)

    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context={})
    trigger = deferred.value.trigger
    _, kwargs = trigger.serialize()
    event = asyncio.run(first_event(MovielensRatingsTrigger(**json.loads(json.dumps(kwargs)))))

    assert deferred.value.method_name == "execute_complete"
    assert kwargs == {
        "conn_id": movielens_conn,
        "start_date": day,
        "end_date": end,
        "poke_interval": 5.0,
        "hook_params": {},
    }
    assert event == {"status": "success", "start_date": day, "end_date": end}
    assert task.execute_complete(context={}, event=event) is None


def test_trigger_keeps_waiting_while_the_day_is_empty(movielens_conn, ratings_calendar, monkeypatch):
    day = ratings_calendar.empty_day
    waits: list[float] = []

    class StopWaiting(Exception):
        pass

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise StopWaiting

    monkeypatch.setattr(triggers_module, "_sleep", record_wait)
    trigger = MovielensRatingsTrigger(movielens_conn, day, ratings_calendar.next_day(day), poke_interval=30)

    with pytest.raises(StopWaiting):
        asyncio.run(first_event(trigger))

    assert waits == [30.0, 30.0, 30.0], "three negative checks, each followed by one poke interval"


def test_trigger_reports_bad_credentials_as_an_error_event(wrong_password_conn, ratings_calendar):
    secret = wrong_password_conn.password
    day = ratings_calendar.busy_day
    end = ratings_calendar.next_day(day)
    task = sensor(wrong_password_conn.conn_id, day, end)

    event = asyncio.run(first_event(MovielensRatingsTrigger(wrong_password_conn.conn_id, day, end)))

    assert event["status"] == "error"
    assert event["status_code"] == 401
    assert secret not in event["message"]
    with pytest.raises(MovielensError, match="401") as failure:
        task.execute_complete(context={}, event=event)
    assert secret not in str(failure.value)
