"""MovielensRatingsSensor: poke, reschedule mode, poke-then-defer to the trigger and resumption, the
``default_deferrable`` convention, hook_params checks, templated conn_id, and Airflow's safeguard."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from unittest import mock

import pendulum
import pytest
import responses
from _provider_fakes import BASE_URL, PASSWORD, Sleeps, execute_as_the_task_runner, set_connection

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
    assert set(op.template_fields) == {"conn_id", "window_start", "window_end"}
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


def test_deferrable_pokes_first_then_defers_to_trigger_with_timeout(connection, mocked):
    answer(mocked, 0)
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
    assert len(mocked.calls) == 1  # the one negative poke; the waiting happens in the triggerer


def test_deferrable_returns_without_deferring_when_the_first_poke_finds_ratings(connection, mocked, logs):
    answer(mocked, 2)
    op = sensor(deferrable=True, poke_interval=30, timeout=3600)
    assert op.execute(ctx()) is None  # no TaskDeferred raised
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.params["start_date"] == "2024-01-01"
    assert "The first poke found the ratings: not deferring" in logs.messages


def test_deferrable_first_poke_gets_the_task_context(connection, mocked):
    # A subclass that decides from the context (the run, the params) sees it in the first poke too.
    seen = []

    class ContextSensor(MovielensRatingsSensor):
        def poke(self, context):
            seen.append(context)
            return True

    context = ctx()
    op = ContextSensor(task_id="wait", start_date="2024-01-01", end_date="2024-01-02", deferrable=True)
    assert op.execute(context) is None
    assert seen == [context]
    assert seen[0] is context


def test_deferrable_first_poke_errors_propagate_without_deferring(connection, mocked):
    mocked.add(responses.GET, RATINGS, status=401, json={"error": "bad credentials"})
    with pytest.raises(MovielensAPIError, match="bad credentials"):
        sensor(deferrable=True).execute(ctx())


# -- [operators] default_deferrable ----------------------------------------------------------------


@pytest.mark.parametrize(("setting", "expected"), [("True", True), ("False", False), (None, False)])
def test_deferrable_defaults_from_airflow_config(monkeypatch, setting, expected):
    if setting is None:
        monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", setting)
    assert sensor().deferrable is expected
    assert sensor(deferrable=not expected).deferrable is (not expected)  # an explicit value wins


def test_default_deferrable_is_read_at_construction(connection, mocked, monkeypatch):
    answer(mocked, 0)
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    deferring = sensor()
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    classic = sensor()
    assert (deferring.deferrable, classic.deferrable) == (True, False)
    with pytest.raises(TaskDeferred):
        deferring.execute(ctx())


def test_deferrable_must_be_a_bool():
    with pytest.raises(ValueError, match=r"^deferrable must be True, False or None, got 'yes'$"):
        sensor(deferrable="yes")


# -- hook_params -----------------------------------------------------------------------------------


def test_hook_params_typo_fails_at_construction():
    with pytest.raises(
        ValueError, match=r"^hook_params: unknown 'timout'; MovielensHook takes .*\btimeout\b"
    ):
        MovielensRatingsSensor(task_id="wait", hook_params={"timout": 5})
    with pytest.raises(ValueError, match=r"^hook_params: max_attempts must be an integer >= 1, got 0$"):
        MovielensRatingsSensor(task_id="wait", deferrable=True, hook_params={"max_attempts": 0})
    with pytest.raises(ValueError, match=r"^hook_params: timeout must be .* got \[1, 2, 3\]$"):
        MovielensRatingsSensor(task_id="wait", deferrable=True, hook_params={"timeout": (1, 2, 3)})


def test_deferrable_refuses_a_sleep_function_in_hook_params():
    with pytest.raises(ValueError, match=r"^hook_params 'sleep' \(Sleeps\) cannot be sent to the triggerer"):
        MovielensRatingsSensor(task_id="wait", deferrable=True, hook_params={"sleep": Sleeps()})
    classic = MovielensRatingsSensor(task_id="wait", deferrable=False, hook_params={"sleep": Sleeps()})
    assert set(classic.hook_params) == {"sleep"}  # a classic sensor pokes in the worker: fine there


def test_deferrable_hook_params_reach_the_trigger_in_json_form(connection, mocked):
    answer(mocked, 0)
    params = {"timeout": (2.0, 7.5), "max_attempts": 2}
    op = sensor(deferrable=True, hook_params=params)
    with pytest.raises(TaskDeferred) as info:
        op.execute(ctx())
    _, kwargs = info.value.trigger.serialize()
    assert kwargs["hook_params"] == {"timeout": [2.0, 7.5], "max_attempts": 2}
    assert params == {"timeout": (2.0, 7.5), "max_attempts": 2}  # the caller's dict is left alone


# -- templated conn_id -----------------------------------------------------------------------------


def test_conn_id_is_templated(monkeypatch, mocked):
    set_connection(monkeypatch, "movielens_staging", host="127.0.0.1", port=5000)
    answer(mocked, 1)
    op = MovielensRatingsSensor(
        task_id="wait", conn_id="movielens_{{ params.env }}", hook_params={"max_attempts": 1}
    )
    assert op.conn_id == "movielens_{{ params.env }}"  # left as given until rendered
    context = ctx(params={"env": "staging"})
    op.render_template_fields(context)
    assert op.conn_id == "movielens_staging"
    assert op.poke(context) is True
    assert len(mocked.calls) == 1


# -- Airflow's ExecutorSafeguard ---------------------------------------------------------------------


def _safeguard_warnings(logs) -> list[str]:
    return [m for m in logs.messages if "MovielensRatingsSensor.execute cannot be called outside" in m]


@pytest.mark.parametrize("deferrable", [False, True], ids=["classic", "deferrable"])
def test_a_task_run_logs_no_safeguard_warning(connection, mocked, logs, executor_safeguard, deferrable):
    answer(mocked, 1)
    with DAG("safeguard", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
        op = MovielensRatingsSensor(task_id="wait", deferrable=deferrable, poke_interval=0)
    op.render_template_fields(ctx())
    assert execute_as_the_task_runner(op, ctx()) is None
    assert _safeguard_warnings(logs) == []
    assert "Found ratings for [2024-01-01, 2024-01-02)" in logs.messages
    assert len(mocked.calls) == 1


def test_the_safeguard_still_flags_execute_called_outside_a_task(
    connection, mocked, logs, executor_safeguard
):
    answer(mocked, 1)
    assert sensor().execute(ctx()) is None
    assert len(_safeguard_warnings(logs)) == 1  # once, by the sensor's own execute (not again nested)


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
