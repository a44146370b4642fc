"""Rendered windows and paths of every templated component, for chosen logical dates, exactly.

Rendering goes through Airflow's own machinery (``airflow_rendering.py`` says how and why): the DAG's
timetable gives the scheduled run's data interval, and the task instance's real template context and
rendering produce the values the task would see when it runs, on the installed Airflow line.

Semantics pinned here (the API's windows are UTC days, ``start <= timestamp < end``):

* A run's window is ``[UTC date of data_interval_start, UTC date of data_interval_end)``, and its
  partition is named after the window's first day. For the example DAGs (daily in UTC) that is the
  logical day and the next one.
* A DAG scheduled daily in another timezone still fetches whole UTC days: its interval bounds are
  local midnights, and each is floored to its UTC date. East of UTC (Berlin) the run for local day D
  fetches UTC day D-1; west of UTC (New York) it fetches UTC day D. Consecutive runs tile the UTC
  days exactly once (also across DST changes), and each run starts only after its UTC day has ended,
  so no run fetches a day that is still filling up.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from airflow_rendering import _scheduler_dag, load_dags, render_task, scheduled_interval

from airflow_movielens.compat import AIRFLOW_V3

TESTS = Path(__file__).resolve().parents[1]
DAGS_FOLDER = TESTS.parent / "dags"
UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


#: Every task of dags/ -> its templated fields as they must render ({root}, {start}, {end} filled in).
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("01_python", "fetch_ratings"): {
        "templates_dict": {
            "start_date": "{start}",
            "end_date": "{end}",
            "output_path": "{root}/01_python/ratings/{start}.json",
        }
    },
    ("01_python", "rank_movies"): {
        "templates_dict": {
            "input_path": "{root}/01_python/ratings/{start}.json",
            "output_path": "{root}/01_python/rankings/{start}.csv",
        }
    },
    ("02_hook", "fetch_ratings"): {
        "templates_dict": {
            "start_date": "{start}",
            "end_date": "{end}",
            "output_path": "{root}/02_hook/ratings/{start}.jsonl",
        }
    },
    ("03_operator", "fetch_ratings"): {
        "window_start": "{start}",
        "window_end": "{end}",
        "output_path": "{root}/03_operator/ratings/{start}.json",
    },
    ("04_sensor", "wait_for_ratings"): {"window_start": "{start}", "window_end": "{end}"},
    ("04_sensor", "fetch_ratings"): {
        "window_start": "{start}",
        "window_end": "{end}",
        "output_path": "{root}/04_sensor/ratings/{start}.json",
    },
    ("05_pipeline", "wait_for_ratings"): {"window_start": "{start}", "window_end": "{end}"},
    ("05_pipeline", "fetch_ratings"): {
        "window_start": "{start}",
        "window_end": "{end}",
        "output_path": "{root}/05_pipeline/ratings/{start}.json",
    },
    ("05_pipeline", "rank_movies"): {
        "input_path": "{root}/05_pipeline/ratings/{start}.json",
        "output_path": "{root}/05_pipeline/rankings/{start}.csv",
    },
}

#: logical date of a scheduled run of the UTC-daily example DAGs -> its window [start, end).
UTC_DATES = [
    pytest.param(dt.datetime(2019, 3, 14, tzinfo=UTC), "2019-03-14", "2019-03-15", id="ordinary-day"),
    pytest.param(dt.datetime(2019, 1, 1, tzinfo=UTC), "2019-01-01", "2019-01-02", id="first-run"),
    pytest.param(dt.datetime(2019, 1, 31, tzinfo=UTC), "2019-01-31", "2019-02-01", id="month-end"),
    pytest.param(dt.datetime(2019, 2, 28, tzinfo=UTC), "2019-02-28", "2019-03-01", id="february-end"),
    pytest.param(dt.datetime(2019, 12, 31, tzinfo=UTC), "2019-12-31", "2020-01-01", id="year-end"),
    pytest.param(dt.datetime(2020, 2, 28, tzinfo=UTC), "2020-02-28", "2020-02-29", id="before-leap-day"),
    pytest.param(dt.datetime(2020, 2, 29, tzinfo=UTC), "2020-02-29", "2020-03-01", id="leap-day"),
]


def _fill(template: Any, **values: str) -> Any:
    if isinstance(template, dict):
        return {key: _fill(value, **values) for key, value in template.items()}
    return template.format(**values)


def _has_template(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return isinstance(value, str) and "{{" in value


@pytest.fixture(scope="module")
def example_dags() -> dict[str, Any]:
    return load_dags(DAGS_FOLDER)


@pytest.fixture(scope="module")
def timezone_dags() -> dict[str, Any]:
    return load_dags(Path(__file__).resolve().parent / "timezone_dags")


def test_every_templated_field_of_the_example_dags_is_checked(example_dags: dict[str, Any]) -> None:
    tasks = {(dag_id, task.task_id): task for dag_id, dag in example_dags.items() for task in dag.tasks}
    assert set(tasks) == set(EXPECTED)
    for key, task in tasks.items():
        templated = {f for f in task.template_fields if _has_template(getattr(task, f))}
        assert templated == set(EXPECTED[key]), key


@pytest.mark.parametrize(("logical_date", "start", "end"), UTC_DATES)
@pytest.mark.parametrize(("dag_id", "task_id"), list(EXPECTED), ids=[f"{d}/{t}" for d, t in EXPECTED])
def test_example_dags_render_the_utc_day_of_the_run(
    example_dags: dict[str, Any],
    data_root: str,
    dag_id: str,
    task_id: str,
    logical_date: dt.datetime,
    start: str,
    end: str,
) -> None:
    task = render_task(example_dags[dag_id], task_id, logical_date)

    expected = _fill(EXPECTED[(dag_id, task_id)], root=data_root, start=start, end=end)
    assert {field: getattr(task, field) for field in expected} == expected


@pytest.mark.parametrize(
    ("dag_id", "local_day", "start", "end"),
    [
        pytest.param(
            "pipeline_berlin", dt.date(2019, 1, 31), "2019-01-30", "2019-01-31", id="berlin-month-end"
        ),
        pytest.param(
            "pipeline_berlin", dt.date(2019, 3, 31), "2019-03-30", "2019-03-31", id="berlin-23h-dst-day"
        ),
        pytest.param(
            "pipeline_berlin", dt.date(2019, 10, 27), "2019-10-26", "2019-10-27", id="berlin-25h-day"
        ),
        pytest.param(
            "pipeline_berlin", dt.date(2020, 1, 1), "2019-12-31", "2020-01-01", id="berlin-new-year"
        ),
        pytest.param(
            "pipeline_new_york", dt.date(2019, 12, 31), "2019-12-31", "2020-01-01", id="ny-year-end"
        ),
        pytest.param("pipeline_new_york", dt.date(2020, 2, 29), "2020-02-29", "2020-03-01", id="ny-leap-day"),
    ],
)
def test_non_utc_dag_fetches_the_utc_day_its_interval_starts_in(
    timezone_dags: dict[str, Any], data_root: str, dag_id: str, local_day: dt.date, start: str, end: str
) -> None:
    dag = timezone_dags[dag_id]
    tz = BERLIN if dag_id == "pipeline_berlin" else NEW_YORK
    logical_date = dt.datetime.combine(local_day, dt.time(), tzinfo=tz)

    sensor, fetch, rank = (
        render_task(dag, t, logical_date) for t in ("wait_for_ratings", "fetch_ratings", "rank_movies")
    )

    assert (sensor.window_start, sensor.window_end) == (start, end)
    assert (fetch.window_start, fetch.window_end) == (start, end)
    assert fetch.output_path == f"{data_root}/{dag_id}/ratings/{start}.json"
    assert rank.input_path == fetch.output_path
    assert rank.output_path == f"{data_root}/{dag_id}/rankings/{start}.csv"


@pytest.mark.parametrize("dag_id", ["pipeline_berlin", "pipeline_new_york"])
@pytest.mark.parametrize(
    "first_day", [dt.date(2019, 3, 5), dt.date(2019, 10, 22)], ids=["spring-dst", "autumn-dst"]
)
def test_non_utc_runs_tile_utc_days_and_start_after_their_day(
    timezone_dags: dict[str, Any], dag_id: str, first_day: dt.date
) -> None:
    """Across both DST changes of each zone (US: 10 Mar / 3 Nov, EU: 31 Mar / 27 Oct 2019)."""
    dag = timezone_dags[dag_id]
    tz = BERLIN if dag_id == "pipeline_berlin" else NEW_YORK
    days = [first_day + dt.timedelta(days=i) for i in range(28)]
    windows = []
    for day in days:
        logical_date = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        sensor = render_task(dag, "wait_for_ratings", logical_date)
        start, end = dt.date.fromisoformat(sensor.window_start), dt.date.fromisoformat(sensor.window_end)
        run_after = scheduled_interval(dag, logical_date)[1]  # a run starts once its interval has ended
        assert end - start == dt.timedelta(days=1)
        assert dt.datetime.combine(end, dt.time(), tzinfo=UTC) <= run_after
        windows.append((start, end))
    assert all(earlier[1] == later[0] for earlier, later in itertools.pairwise(windows))


def _dag_rules() -> Any:
    """The DAG-integrity tier's rules module (loaded by path: tiers are separate test directories)."""
    name = "dag_rules_for_rendering"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "dag_integrity" / "dag_rules.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_string_daily_schedule_renders_an_empty_window_on_airflow_3_and_is_flagged() -> None:
    dag = load_dags(Path(__file__).resolve().parent / "pitfall_dags")["string_daily_pitfall"]
    logical_date = dt.datetime(2019, 1, 31, tzinfo=UTC)

    task = render_task(dag, "fetch_ratings", logical_date)
    rules = _dag_rules()
    flagged = rules.check_data_intervals(rules.ParsedDags(dags={dag.dag_id: dag}))

    if AIRFLOW_V3:  # CronTriggerTimetable: data_interval_start == data_interval_end
        assert (task.window_start, task.window_end) == ("2019-01-31", "2019-01-31")
        assert [v.subject for v in flagged] == ["string_daily_pitfall"]
    else:  # Airflow 2.11: CronDataIntervalTimetable, the whole day
        assert (task.window_start, task.window_end) == ("2019-01-31", "2019-02-01")
        assert flagged == []
    assert task.output_path == "/srv/pitfall/2019-01-31.json"


@pytest.mark.parametrize(
    ("task_id", "template", "rendered"),
    [
        ("wait_for_ratings", "movielens_{{ params.env }}", "movielens_staging"),
        ("fetch_ratings", "{{ params.conn }}", "movielens_reporting"),
        ("rank_movies", "{{ 'movielens_' ~ data_interval_start.strftime('%Y') }}", "movielens_2019"),
    ],
)
def test_conn_id_is_rendered_from_params_and_the_run(task_id: str, template: str, rendered: str) -> None:
    dag = load_dags(Path(__file__).resolve().parent / "templated_conn_dags")["conn_from_templates"]
    assert dag.get_task(task_id).conn_id == template  # the DAG keeps the template as written

    task = render_task(dag, task_id, dt.datetime(2019, 3, 14, tzinfo=UTC))

    assert task.conn_id == rendered


def test_a_date_that_is_not_a_scheduled_run_is_refused(example_dags: dict[str, Any]) -> None:
    with pytest.raises(LookupError, match="schedules no run"):
        render_task(example_dags["05_pipeline"], "fetch_ratings", dt.datetime(2019, 1, 31, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("run_after", "first_day"),
    [
        pytest.param(dt.datetime(2019, 1, 4, tzinfo=UTC), dt.date(2019, 1, 3), id="at-midnight"),
        pytest.param(dt.datetime(2019, 1, 3, 12, tzinfo=UTC), dt.date(2019, 1, 2), id="midday"),
        pytest.param(dt.datetime(2019, 3, 1, tzinfo=UTC), dt.date(2019, 2, 28), id="month-end"),
    ],
)
@pytest.mark.parametrize("dag_id", ["03_operator", "04_sensor", "05_pipeline"])
def test_a_manual_run_covers_the_last_full_utc_day_before_its_date(
    example_dags: dict[str, Any], dag_id: str, run_after: dt.datetime, first_day: dt.date
) -> None:
    # What the README's "Running past days" relies on: Airflow infers a manual run's interval from
    # a date (2.11: the -e date; 3.x: run_after, which the CLI sets to now), as the last full day
    # before it, so the day D is triggered with the date D + 1 at midnight.
    interval = _scheduler_dag(example_dags[dag_id]).timetable.infer_manual_data_interval(run_after=run_after)
    assert (interval.start, interval.end) == (
        dt.datetime.combine(first_day, dt.time(), UTC),
        dt.datetime.combine(first_day + dt.timedelta(days=1), dt.time(), UTC),
    )
