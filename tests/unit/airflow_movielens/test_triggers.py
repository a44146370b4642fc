"""MovielensRatingsTrigger: serialisation (hook_params included) and its async run loop against loopback
servers (a stalling one for timeouts; no real waits)."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pendulum
import pytest
from _loopback import envelope, json_answer
from _provider_fakes import LOGIN, PASSWORD, Sleeps, set_connection, stalling_server

from airflow_movielens.compat import TaskDeferred
from airflow_movielens.hooks import MovielensAsyncHook
from airflow_movielens.sensors import MovielensRatingsSensor
from airflow_movielens.triggers import MovielensRatingsTrigger


@pytest.fixture
def waits(trigger_pokes):
    """The waits between pokes, recorded instead of waited (conftest's guard)."""
    return trigger_pokes


@pytest.fixture(autouse=True)
def retry_waits(trigger_retry_waits):
    """The hook's waits between attempts, recorded instead of waited (the trigger builds its hook)."""
    return trigger_retry_waits


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


def test_bad_hook_params_fail_when_the_trigger_is_made():
    with pytest.raises(ValueError, match="max_attempts must be an integer >= 1"):
        make(hook_params={"max_attempts": 0})
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        make(hook_params={"timeout": [1, 2, 3]})
    with pytest.raises(ValueError, match="unknown 'retries'"):
        make(hook_params={"retries": 3})


def test_dates_are_normalised_and_validated():
    from datetime import date

    assert make(start_date=date(2024, 1, 1)).serialize()[1]["start_date"] == "2024-01-01"
    with pytest.raises(ValueError, match="after end_date"):
        make(start_date="2024-01-05")
    with pytest.raises(ValueError, match="poke_interval"):
        make(poke_interval=-1)


def test_success_event(api, waits, logs):
    api.answer(json_answer(envelope(4)))
    assert events(make()) == [{"status": "success", "start_date": "2024-01-01", "end_date": "2024-01-02"}]
    (request,) = api.received
    assert request.path == "/ratings"
    assert request.query == {
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "offset": "0",
        "limit": "1",
    }
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    )
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("airflow-movielens/")
    assert waits == []
    assert "Found ratings for [2024-01-01, 2024-01-02)" in logs.messages


def test_negative_then_positive_sleeps_between_pokes(api, waits, logs):
    api.answer(json_answer(envelope(0)), json_answer(envelope(0)), json_answer(envelope(1)))
    assert [e["status"] for e in events(make(poke_interval=42))] == ["success"]
    assert waits == [42.0, 42.0]
    assert "No ratings yet for [2024-01-01, 2024-01-02); checking again in 42 s" in logs.messages
    assert len(api.received) == 3


def test_http_error_gives_one_error_event_without_secret(api, waits, retry_waits):
    api.answer(json_answer({"error": f"bad password {PASSWORD}"}, status=401))
    (event,) = events(make())
    assert event["status"] == "error"
    assert event["status_code"] == 401
    assert "401" in event["message"]
    assert "bad password ***" in event["message"]
    assert PASSWORD not in json.dumps(event)
    assert len(api.received) == 1  # a 4xx fails at once
    assert waits == []  # no tight loop on failures
    assert retry_waits == []


def test_transient_errors_are_retried_with_the_injected_sleep(api, waits, retry_waits, logs):
    api.answer(
        json_answer({"error": "busy"}, status=503, headers={"Retry-After": "7"}),
        json_answer({"error": "busy"}, status=502),
        json_answer(envelope(1)),
    )
    trigger = make(hook_params={"backoff_base": 0.5, "backoff_max": 30})
    assert [e["status"] for e in events(trigger)] == ["success"]
    assert len(api.received) == 3
    assert retry_waits[0] == 7.0  # the server's Retry-After
    assert 1.0 <= retry_waits[1] <= 1.5  # backoff_base * 2 plus up to backoff_base of jitter
    assert any("Attempt 1/5 failed" in message and "503" in message for message in logs.messages)
    assert waits == []


def test_retry_after_is_capped_by_max_retry_after(api, retry_waits):
    api.answer(json_answer({"error": "slow down"}, status=429, headers={"Retry-After": "3600"}))
    assert events(make(hook_params={"max_retry_after": 12}))[0]["status"] == "success"
    assert retry_waits == [12.0]


def test_hook_params_bound_the_attempts(api, retry_waits):
    api.default = json_answer({"error": "down"}, status=500)
    (event,) = events(make(hook_params={"max_attempts": 2, "timeout": [3, 4]}))
    assert event["status"] == "error"
    assert event["status_code"] == 500
    assert len(api.received) == 2
    assert len(retry_waits) == 1


def test_an_echoing_server_never_gets_the_password_into_the_event(api, retry_waits):
    def echo(request):
        text = f"got {request.headers.get('Authorization')} for {LOGIN}:{PASSWORD} {json.dumps(PASSWORD)}"
        return 500, {"Content-Type": "text/plain"}, text

    api.default = echo
    (event,) = events(make(hook_params={"max_attempts": 2}))
    text = json.dumps(event)
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    assert event["status_code"] == 500
    assert PASSWORD not in text
    assert token not in text
    assert "got ***" in event["message"]


def test_unreachable_server_gives_error_event_naming_the_attempts(monkeypatch, retry_waits):
    import socket

    from _provider_fakes import set_connection

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_connection(monkeypatch, host="127.0.0.1", port=port, login=LOGIN, password=PASSWORD)
    (event,) = events(make(hook_params={"max_attempts": 3}))
    assert event["status"] == "error"
    assert event["status_code"] is None
    assert event["message"].startswith(
        f"GET http://127.0.0.1:{port}/ratings failed after 3 attempt(s): ConnectError"
    )
    assert len(retry_waits) == 2


def test_missing_connection_gives_error_event(monkeypatch, waits):
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    (event,) = events(make(conn_id="nope"))
    assert event["status"] == "error"
    assert "nope" in event["message"]


def test_poke_interval_default_and_bounds():
    assert make(poke_interval=60).serialize() == make().serialize()
    assert make().poke_interval == 60.0
    assert make(poke_interval=0).poke_interval == 0.0
    for bad in (True, "5", -0.5):
        with pytest.raises(ValueError, match=r"^poke_interval must be a number of seconds >= 0, got "):
            make(poke_interval=bad)


def test_malformed_answer_gives_error_event(api, waits):
    api.answer(json_answer({"result": []}))
    (event,) = events(make())
    url = f"{api.url}/ratings?start_date=2024-01-01&end_date=2024-01-02&offset=0&limit=1"
    assert event == {
        "status": "error",
        "status_code": None,
        "message": f"GET {url}: 'total' is missing or not a non-negative integer",
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
    }


def test_unexpected_exception_names_its_type(api, waits, monkeypatch):
    async def broken(self, start, end):
        raise RuntimeError("boom")

    monkeypatch.setattr(MovielensAsyncHook, "has_ratings", broken)
    (event,) = events(make())
    assert event["message"] == "RuntimeError: boom"
    assert event["status_code"] is None


def test_the_client_is_closed_when_the_trigger_stops(api, waits, monkeypatch):
    closed = []
    original = MovielensAsyncHook.aclose

    async def aclose(self):
        closed.append(self._client is not None)
        await original(self)

    monkeypatch.setattr(MovielensAsyncHook, "aclose", aclose)
    api.answer(json_answer(envelope(0)), json_answer(envelope(1)))
    assert [e["status"] for e in events(make())] == ["success"]
    assert closed == [True]  # once, after both pokes shared one client


def test_connection_lookup_without_aget_connection_reaches_the_triggerer_loop(api, waits, monkeypatch):
    # Airflow 2.11 (and task SDKs without BaseHook.aget_connection) look connections up with the
    # blocking get_connection, in a worker thread; on Airflow 3 that lookup may call the supervisor
    # through async_to_sync, whose coroutine must run on the trigger's own event loop.
    from asgiref.sync import async_to_sync

    from airflow_movielens import compat

    loops = []
    real_lookup = compat.BaseHook.get_connection

    async def on_loop():
        loops.append(asyncio.get_running_loop())

    def get_connection(conn_id):
        async_to_sync(on_loop)()
        return real_lookup(conn_id)

    monkeypatch.delattr(compat.BaseHook, "aget_connection", raising=False)
    monkeypatch.setattr(compat.BaseHook, "get_connection", get_connection)

    async def collect():
        main = asyncio.get_running_loop()
        return main, [event.payload["status"] async for event in make().run()]

    main, statuses = asyncio.run(collect())
    assert statuses == ["success"]
    assert loops == [main]


def test_connection_lookup_uses_airflows_aget_connection_where_it_exists(api, waits, monkeypatch):
    # Where the task SDK has BaseHook.aget_connection (3.3), the trigger asks it, on the event loop,
    # instead of running the blocking get_connection in a thread.
    import threading

    from airflow_movielens import compat

    real_lookup = compat.BaseHook.get_connection
    asked = []

    async def aget_connection(conn_id):
        asked.append((conn_id, threading.current_thread() is threading.main_thread()))
        return real_lookup(conn_id)

    monkeypatch.setattr(compat.BaseHook, "aget_connection", staticmethod(aget_connection), raising=False)
    assert [e["status"] for e in events(make())] == ["success"]
    assert asked == [("movielens_default", True)]


def test_the_trigger_runs_in_a_forked_process(api, waits, monkeypatch):
    # Executors and test runners fork. asgiref's shared thread-sensitive executor does not survive
    # a fork, so a lookup sent there after the parent used it would hang the child for ever. This is
    # about the provider's own threaded lookup (compat.aget_connection without BaseHook.aget_connection,
    # i.e. Airflow 2.11); Airflow's native aget_connection is Airflow's to keep fork-safe. The child
    # keeps the inherited asgiref executor (tests/conftest.py would otherwise replace it).
    import os
    import signal

    from airflow_movielens import compat

    monkeypatch.delattr(compat.BaseHook, "aget_connection", raising=False)
    monkeypatch.setenv("MOVIELENS_TEST_KEEP_ASGIREF_EXECUTOR", "1")  # tests/conftest.py reads it

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


def test_a_child_forked_after_a_trigger_ran_runs_one_too(api, waits):
    # Airflow's own lookup (BaseHook.aget_connection on 3.3) goes through asgiref's one shared thread,
    # which a forked child does not have: tests/conftest.py gives children a fresh one, so forking
    # test runners (mutmut forks per mutant) do not hang. Without it this child is killed by the alarm.
    import os
    import signal

    assert events(make())[0]["status"] == "success"  # the parent has used asgiref's thread now
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        try:
            os._exit(0 if events(make())[0]["status"] == "success" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_unknown_url_scheme_fails_at_once(monkeypatch, retry_waits):
    from _provider_fakes import set_connection

    set_connection(monkeypatch, host="127.0.0.1", port=5000, schema="htps", login=LOGIN, password=PASSWORD)
    (event,) = events(make())
    assert event["status"] == "error"
    assert "failed after 1 attempt(s): UnsupportedProtocol" in event["message"]
    assert retry_waits == []
