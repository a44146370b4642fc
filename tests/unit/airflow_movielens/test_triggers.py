"""MovielensRatingsTrigger: serialisation (hook_params included) and the async run loop (HTTP mocked,
or a stalling loopback server for timeouts; sleep patched)."""

from __future__ import annotations

import asyncio
import json
import time

import pendulum
import pytest
import responses
from _provider_fakes import BASE_URL, PASSWORD, Sleeps, set_connection, stalling_server

import airflow_movielens.triggers as triggers_module
from airflow_movielens.compat import TaskDeferred
from airflow_movielens.sensors import MovielensRatingsSensor
from airflow_movielens.triggers import MovielensRatingsTrigger

RATINGS = BASE_URL + "/ratings"


def envelope(total):
    records = [{"userId": 1, "movieId": 1, "rating": 4.0, "timestamp": 1704067200}] if total else []
    return {"result": records, "offset": 0, "limit": 1, "total": total}


@pytest.fixture
def waits(monkeypatch):
    recorded: list[float] = []

    async def fake_sleep(seconds):
        recorded.append(seconds)

    monkeypatch.setattr(triggers_module, "_sleep", fake_sleep)
    return recorded


def events(trigger, limit=5):
    """Run the trigger until it stops (or `limit` events), like the triggerer consumes it."""

    async def collect():
        out = []
        async for event in trigger.run():
            out.append(event.payload)
            if len(out) >= limit:
                break
        return out

    return asyncio.run(collect())


def make(**kwargs):
    kwargs = {"conn_id": "movielens_default", "start_date": "2024-01-01", "end_date": "2024-01-02", **kwargs}
    return MovielensRatingsTrigger(**kwargs)


@pytest.mark.parametrize(
    "hook_params",
    [None, {"timeout": (3.0, 0.5), "max_attempts": 2, "backoff_base": 0.1}],
    ids=["no-hook-params", "hook-params"],
)
def test_serialize_round_trips_as_json(hook_params):
    trigger = make(poke_interval=15, hook_params=hook_params)
    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, _, name = classpath.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    rebuilt = cls(**json.loads(json.dumps(kwargs)))  # as the triggerer rebuilds it
    assert rebuilt.serialize() == (classpath, kwargs)
    assert rebuilt.hook_params == kwargs["hook_params"] == json.loads(json.dumps(hook_params or {}))


def test_hook_params_are_checked_and_must_cross_into_the_triggerer():
    with pytest.raises(ValueError, match=r"^hook_params 'sleep' \(Sleeps\) cannot be sent to the triggerer"):
        make(hook_params={"sleep": Sleeps()})
    with pytest.raises(ValueError, match=r"^hook_params: unknown 'read_timeout'"):
        make(hook_params={"read_timeout": 5})
    assert make(hook_params={"timeout": 4}).hook_params == {"timeout": 4}


def test_hook_params_timeout_fires_in_the_trigger_against_a_stalling_server(monkeypatch, waits):
    # The sensor's first poke gets "no ratings yet"; every later request is accepted and never answered.
    with stalling_server([envelope(0)]) as server:
        set_connection(monkeypatch, "stalling", host="127.0.0.1", port=server.port)
        op = MovielensRatingsSensor(
            task_id="wait",
            conn_id="stalling",
            deferrable=True,
            hook_params={"timeout": (2.0, 0.3), "max_attempts": 1},
        )
        context = {
            "data_interval_start": pendulum.datetime(2024, 1, 1, tz="UTC"),
            "data_interval_end": pendulum.datetime(2024, 1, 2, tz="UTC"),
        }
        op.render_template_fields(context)
        with pytest.raises(TaskDeferred) as info:
            op.execute(context)
        _, kwargs = info.value.trigger.serialize()
        trigger = MovielensRatingsTrigger(**json.loads(json.dumps(kwargs)))  # as the triggerer does

        started = time.monotonic()
        (event,) = events(trigger)
        elapsed = time.monotonic() - started

    assert len(server.requests) == 2  # the sensor's poke, then the trigger's one attempt
    assert event["status"] == "error"
    assert "Timeout" in event["message"]
    assert "read 0.3 s" in event["message"]  # the sensor's hook_params, not the hook's 60 s default
    assert elapsed < 5  # well under the default read timeout: bounded by the 0.3 s given
    assert waits == []


def test_dates_are_normalised_and_validated():
    from datetime import date

    assert make(start_date=date(2024, 1, 1)).serialize()[1]["start_date"] == "2024-01-01"
    with pytest.raises(ValueError, match="after end_date"):
        make(start_date="2024-01-05")
    with pytest.raises(ValueError, match="poke_interval"):
        make(poke_interval=-1)


def test_success_event(connection, mocked, waits, logs):
    mocked.add(responses.GET, RATINGS, json=envelope(4))
    assert events(make()) == [{"status": "success", "start_date": "2024-01-01", "end_date": "2024-01-02"}]
    assert mocked.calls[0].request.params == {
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "offset": "0",
        "limit": "1",
    }
    assert waits == []
    assert "Found ratings for [2024-01-01, 2024-01-02)" in logs.messages


def test_negative_then_positive_sleeps_between_pokes(connection, mocked, waits, logs):
    mocked.add(responses.GET, RATINGS, json=envelope(0))
    mocked.add(responses.GET, RATINGS, json=envelope(0))
    mocked.add(responses.GET, RATINGS, json=envelope(1))
    assert [e["status"] for e in events(make(poke_interval=42))] == ["success"]
    assert waits == [42.0, 42.0]
    assert "No ratings yet for [2024-01-01, 2024-01-02); checking again in 42 s" in logs.messages
    assert len(mocked.calls) == 3


def test_http_error_gives_one_error_event_without_secret(connection, mocked, waits):
    mocked.add(responses.GET, RATINGS, status=401, json={"error": f"bad password {PASSWORD}"})
    (event,) = events(make())
    assert event["status"] == "error"
    assert event["status_code"] == 401
    assert "401" in event["message"]
    assert PASSWORD not in json.dumps(event)
    assert len(mocked.calls) == 1
    assert waits == []  # no tight loop on failures


def test_missing_connection_gives_error_event(monkeypatch, mocked, waits):
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    (event,) = events(make(conn_id="nope"))
    assert event["status"] == "error"
    assert "nope" in event["message"]
    assert len(mocked.calls) == 0


def test_poke_interval_default_and_bounds():
    assert make(poke_interval=60).serialize() == make().serialize()
    assert make().poke_interval == 60.0
    assert make(poke_interval=0).poke_interval == 0.0
    for bad in (True, "5", -0.5):
        with pytest.raises(ValueError, match=r"^poke_interval must be a number of seconds >= 0, got "):
            make(poke_interval=bad)


def test_malformed_answer_gives_error_event(connection, mocked, waits):
    mocked.add(responses.GET, RATINGS, json={"result": []})
    (event,) = events(make())
    url = f"{RATINGS}?start_date=2024-01-01&end_date=2024-01-02&offset=0&limit=1"
    assert event == {
        "status": "error",
        "status_code": None,
        "message": f"GET {url}: 'total' is missing or not a non-negative integer",
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
    }


def test_unexpected_exception_names_its_type(connection, mocked, waits, monkeypatch):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(MovielensRatingsTrigger, "_check", broken)
    (event,) = events(make())
    assert event["message"] == "RuntimeError: boom"
    assert event["status_code"] is None


def test_check_runs_where_async_to_sync_reaches_the_triggerer_loop(connection, mocked, waits, monkeypatch):
    # On Airflow 3.0-3.2 a connection lookup inside the check calls the supervisor through
    # async_to_sync; the coroutine must run on the trigger's own event loop, not on a new one.
    from asgiref.sync import async_to_sync

    loops = []

    async def on_loop():
        loops.append(asyncio.get_running_loop())

    def check(self):
        async_to_sync(on_loop)()
        return True

    monkeypatch.setattr(MovielensRatingsTrigger, "_check", check)

    async def collect():
        main = asyncio.get_running_loop()
        return main, [event.payload["status"] async for event in make().run()]

    main, statuses = asyncio.run(collect())
    assert statuses == ["success"]
    assert loops == [main]


def test_the_trigger_runs_in_a_forked_process(connection, mocked, waits):
    # Executors and test runners fork. asgiref's shared thread-sensitive executor does not survive
    # a fork, so a check sent there after the parent used it would hang the child for ever.
    import os
    import signal

    mocked.add(responses.GET, RATINGS, json=envelope(1))
    assert events(make())[0]["status"] == "success"  # the parent has used the worker now
    pid = os.fork()
    if pid == 0:  # child: exit 0 on success, killed by the alarm if the check never runs
        signal.alarm(20)
        try:
            os._exit(0 if events(make())[0]["status"] == "success" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
