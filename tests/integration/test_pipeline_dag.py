"""End to end: ``dag.test()`` of ``dags/05_pipeline.py`` against the reference server.

The run happens in a child process with an Airflow of its own, configured as a user's would be and
not as the test suite's (which runs Airflow in unit-test mode): a temporary ``AIRFLOW_HOME`` with a
SQLite metastore migrated by ``airflow db migrate``, the repository's ``dags/`` as the DAGs folder
(Airflow 3's default bundle is that folder), no example DAGs, the connection ``movielens_default``
from ``AIRFLOW_CONN_MOVIELENS_DEFAULT`` (pointing at ``movielens_api``) and ``MOVIELENS_DATA_DIR`` in
a temporary directory. The child runs the interpreter of the running test session, so the test
covers whichever Airflow line the session runs on.

What is checked: the run and its three tasks succeed; the day's ratings file equals the server's own
listing of that UTC day, fetched directly; the ranking CSV equals ``rank_movies_by_rating`` of that
listing with the titles from ``/movies``. Both sensor modes run: ``reschedule`` and deferrable
(Airflow's ``[operators] default_deferrable``, which the sensor reads; it pokes first and, the day
having ratings, returns without deferring; ``tests/integration/test_sensor.py`` defers). The four
seed DAGs (``01_python`` to ``04_sensor``) run too, in one child, and must write the same listing.

``dag.test(logical_date=D)`` makes a *manual* run, whose data interval is the one that ends at ``D``
(``infer_manual_data_interval``): ``[D - 1 day, D)``. The files are therefore named after ``D - 1``,
the window's first day, not after ``{{ ds }}``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from airflow_child import child_environment, run_child

from airflow_movielens.ranking import rank_movies_by_rating

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
DAG_ID = "05_pipeline"
DAG_TEST_TIMEOUT_S = 300

# Runs in the child: load the DAG as the installed Airflow line loads it, dag.test() it, report.
DRIVER = r"""
import datetime as dt, json, sys
from airflow_movielens.compat import AIRFLOW_V3

dags_folder, logical_date, dag_ids = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), sys.argv[3:]
if AIRFLOW_V3:
    from airflow.dag_processing.dagbag import BundleDagBag
    bag = BundleDagBag(dags_folder, bundle_path=dags_folder, bundle_name="dags-folder")
else:
    from airflow.models.dagbag import DagBag
    bag = DagBag(dags_folder, include_examples=False)
if bag.import_errors:
    raise SystemExit(f"import errors: {bag.import_errors}")

from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session

def text(state):
    return str(getattr(state, "value", state))

for dag_id in dag_ids:
    dag = bag.dags[dag_id]
    run = dag.test(logical_date=logical_date) if AIRFLOW_V3 else dag.test(execution_date=logical_date)
    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id
        )
        states = {ti.task_id: text(ti.state) for ti in tis}
    print("DAG_TEST_RESULT " + json.dumps({
        "dag_id": dag_id,
        "state": text(run.state),
        "data_interval_start": run.data_interval_start.isoformat(),
        "data_interval_end": run.data_interval_end.isoformat(),
        "tasks": states,
    }), flush=True)
"""


def _child_environment(home: Path) -> dict[str, str]:
    return child_environment(home, DAGS_FOLDER)


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    return run_child(cmd, env, what, DAG_TEST_TIMEOUT_S)


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary AIRFLOW_HOME whose SQLite metastore ``airflow db migrate`` has created."""
    home = tmp_path_factory.mktemp("airflow-home")
    airflow = [sys.executable, "-m", "airflow"]
    _run([*airflow, "db", "migrate"], _child_environment(home), "airflow db migrate")
    return home


def _dag_test(env: dict[str, str], logical_date: dt.datetime, *dag_ids: str) -> tuple[dict[str, Any], str]:
    """``dag.test()`` each DAG for ``logical_date`` in one child process; results by dag_id, and the log."""
    out = _run(
        [sys.executable, "-c", DRIVER, str(DAGS_FOLDER), logical_date.isoformat(), *dag_ids],
        env,
        f"dag.test() of {', '.join(dag_ids)}",
    )
    results = [
        json.loads(line.split(" ", 1)[1]) for line in out.splitlines() if line.startswith("DAG_TEST_RESULT ")
    ]
    return {result["dag_id"]: result for result in results}, out


def _env_for_run(airflow_home: Path, server: Any, data_dir: Path, deferrable: bool = False) -> dict[str, str]:
    env = _child_environment(airflow_home)
    env.update(
        {
            "AIRFLOW_CONN_MOVIELENS_DEFAULT": server.connection_json(),
            "MOVIELENS_DATA_DIR": str(data_dir),
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": str(deferrable),
        }
    )
    return env


def _day_with_ratings(direct_api: Any, fraction: float) -> dt.date:
    """The UTC day of the rating ``fraction`` of the way through the server's listing."""
    offset = int(direct_api.total() * fraction)
    record = direct_api.get("/ratings", limit=1, offset=offset)["result"][0]
    return dt.datetime.fromtimestamp(record["timestamp"], tz=dt.timezone.utc).date()


def _day_listing(direct_api: Any, day: dt.date) -> list[dict[str, Any]]:
    """The server's own listing of the ratings of ``day`` (UTC)."""
    next_day = day + dt.timedelta(days=1)
    return direct_api.paged_listing(start_date=day.isoformat(), end_date=next_day.isoformat())


def _assert_ranking_file(
    path: Path, listing: list[dict[str, Any]], titles: dict[Any, str] | None = None
) -> pd.DataFrame:
    """The CSV at ``path`` is ``rank_movies_by_rating`` of ``listing`` (with ``titles``, if given)."""
    expected = rank_movies_by_rating(pd.DataFrame.from_records(listing), min_ratings=2)
    if titles is not None:
        expected["title"] = expected.index.map(titles)
    actual = pd.read_csv(path, index_col=0)
    pd.testing.assert_frame_equal(actual, pd.read_csv(io.StringIO(expected.to_csv()), index_col=0))
    return actual


# Each case runs a different day: Airflow 2.11's dag.test() cannot re-run a logical date that already
# has a run in the metastore (it fails deleting the old run), and two days cover more data anyway.
@pytest.mark.parametrize(
    ("deferrable", "fraction"), [(False, 1 / 3), (True, 2 / 3)], ids=["reschedule", "deferrable"]
)
def test_pipeline_dag_test_writes_the_days_ratings_and_ranking(
    airflow_home: Path,
    movielens_api: Any,
    direct_api: Any,
    tmp_path: Path,
    deferrable: bool,
    fraction: float,
) -> None:
    day = _day_with_ratings(direct_api, fraction)
    next_day = day + dt.timedelta(days=1)
    data_dir = tmp_path / "data"
    logical_date = dt.datetime.combine(next_day, dt.time(), tzinfo=dt.timezone.utc)

    results, out = _dag_test(
        _env_for_run(airflow_home, movielens_api, data_dir, deferrable), logical_date, DAG_ID
    )

    result = results[DAG_ID]
    assert result["state"] == "success", out[-4000:]
    assert result["tasks"] == {
        "wait_for_ratings": "success",
        "fetch_ratings": "success",
        "rank_movies": "success",
    }
    assert dt.datetime.fromisoformat(result["data_interval_start"]).date() == day
    assert dt.datetime.fromisoformat(result["data_interval_end"]).date() == next_day
    # Deferrable, the sensor pokes first: the day has ratings, so it returns without deferring
    # (dag.test would log "[DAG TEST] running trigger in line" for a trigger run in-process).
    assert ("The first poke found the ratings: not deferring" in out) is deferrable
    assert "[DAG TEST] running trigger in line" not in out

    expected_ratings = _day_listing(direct_api, day)
    ratings_file = data_dir / DAG_ID / "ratings" / f"{day.isoformat()}.json"
    assert json.loads(ratings_file.read_text()) == expected_ratings
    assert expected_ratings  # the day was chosen to have ratings

    titles = {movie["movieId"]: movie["title"] for movie in direct_api.paged_listing("/movies")}
    ranking_file = data_dir / DAG_ID / "rankings" / f"{day.isoformat()}.csv"
    actual = _assert_ranking_file(ranking_file, expected_ratings, titles)
    assert len(actual) > 0
    assert actual["title"].notna().all()

    leftovers = [p.name for p in data_dir.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []  # no temporary files left behind by the atomic writes


def test_the_seed_example_dags_run_end_to_end(
    airflow_home: Path, movielens_api: Any, direct_api: Any, tmp_path: Path
) -> None:
    """01_python, 02_hook, 03_operator and 04_sensor each write exactly the day's listing."""
    day = _day_with_ratings(direct_api, 1 / 2)
    next_day = day + dt.timedelta(days=1)
    data_dir = tmp_path / "data"
    dag_ids = ("01_python", "02_hook", "03_operator", "04_sensor")
    logical_date = dt.datetime.combine(next_day, dt.time(), tzinfo=dt.timezone.utc)

    results, out = _dag_test(_env_for_run(airflow_home, movielens_api, data_dir), logical_date, *dag_ids)

    assert {dag_id: results[dag_id]["state"] for dag_id in dag_ids} == dict.fromkeys(dag_ids, "success"), out[
        -4000:
    ]
    assert all(set(results[d]["tasks"].values()) == {"success"} for d in dag_ids)
    listing = _day_listing(direct_api, day)
    assert listing
    partition = day.isoformat()
    for dag_id in ("01_python", "03_operator", "04_sensor"):
        assert json.loads((data_dir / dag_id / "ratings" / f"{partition}.json").read_text()) == listing, (
            dag_id
        )
    lines = (data_dir / "02_hook" / "ratings" / f"{partition}.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == listing

    _assert_ranking_file(data_dir / "01_python" / "rankings" / f"{partition}.csv", listing)
