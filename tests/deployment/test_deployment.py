"""Scenarios on a real Airflow 3 deployment (conftest.py): asserted from the bucket and the REST API.

In file order, on one deployment:

* the connection test of the REST API runs the provider's hook in the api-server;
* a backfill of seven UTC days of the example pipeline writes each day's partition and ranking to
  the S3 API, equal record for record to the reference server's listing, run by both workers;
* clearing one of those days reruns it and rewrites byte-identical objects;
* a worker SIGKILLed in the middle of a fetch: the task is retried on the other worker, the partition
  is complete and no partial or temporary object is left;
* the deferrable sensor waits in the triggerer for a day whose data appears later (the reference
  server's live mode), then the run succeeds.
"""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from conftest import LIVE_DAY, LIVE_GAP_S, SLOW_PAGE, Deployment, next_day
from deployment_airflow import WORKERS
from deployment_processes import wait_until

#: Seven consecutive UTC days of the sample data, backfilled in one go.
WEEK = [f"2019-01-{day:02d}" for day in range(2, 9)]
PIPELINE = "05_pipeline"
#: The longest a scenario's runs may take to finish (the machine is small and shared).
RUN_TIMEOUT_S = 240.0
PREFIX = "airflow"


def partition_keys(dag_id: str, day: str, *, rank: bool = True) -> list[str]:
    keys = [f"{PREFIX}/{dag_id}/ratings/{day}.json"]
    if rank:
        keys.append(f"{PREFIX}/{dag_id}/rankings/{day}.csv")
    return keys


def expected_ranking(listing: list[dict], titles: dict[int, str], min_ratings: int = 2) -> pd.DataFrame:
    """The ranking of a day, computed here from the server's listing (not by the provider's code)."""
    frame = pd.DataFrame(listing)
    per_movie = frame.groupby("movieId").agg(avg_rating=("rating", "mean"), num_ratings=("userId", "nunique"))
    per_movie = per_movie[per_movie["num_ratings"] >= min_ratings].reset_index()
    per_movie = per_movie.sort_values(
        ["avg_rating", "num_ratings", "movieId"], ascending=[False, False, True]
    )
    per_movie["title"] = per_movie["movieId"].map(titles)
    return per_movie.reset_index(drop=True)


def backfill_runs(deployment: Deployment, dag_id: str, first: str, last: str, *, max_active_runs: int):
    """Start a backfill of ``first`` .. ``last`` and return its runs (by UTC day) once they finished."""
    days = pd.date_range(first, last, freq="D").strftime("%Y-%m-%d").tolist()
    deployment.api.backfill(dag_id, first, last, max_active_runs=max_active_runs)

    def created() -> dict[str, str] | None:
        runs = {
            run["data_interval_start"][:10]: run["dag_run_id"]
            for run in deployment.api.dag_runs(dag_id)
            if run["run_type"] == "backfill" and run["data_interval_start"][:10] in days
        }
        return runs if len(runs) == len(days) else None

    by_day = wait_until(created, timeout=60, what=f"the backfill runs of {dag_id}")
    finished = deployment.api.wait_for_runs(
        dag_id, by_day.values(), timeout=RUN_TIMEOUT_S, alive=deployment.airflow.components()
    )
    return {day: finished[run_id] for day, run_id in by_day.items()}


@pytest.fixture(scope="module")
def week(deployment):
    """The example pipeline backfilled for :data:`WEEK` (seven runs at once), by UTC day."""
    return backfill_runs(deployment, PIPELINE, WEEK[0], WEEK[-1], max_active_runs=len(WEEK))


def test_connection_test_through_the_rest_api_runs_the_hook(deployment):
    api, ref = deployment.api, deployment.ref
    total = len(ref.listing("2019-01-01", "2020-01-01"))

    ok = api.post("/connections/test", {"connection_id": "movielens_probe", **ref.connection()})
    assert ok == {"status": True, "message": f"Connected to {ref.url}: {total} ratings available."}

    wrong = {**ref.connection(), "password": "not-the-password-4711"}
    refused = api.post("/connections/test", {"connection_id": "movielens_probe", **wrong})
    assert refused["status"] is False
    assert "401" in refused["message"]
    assert "not-the-password-4711" not in refused["message"]

    s3 = api.post("/connections/test", {"connection_id": "movielens_s3_probe", **deployment.s3.connection()})
    assert s3["status"] is True, s3


def test_backfill_of_a_week_writes_every_day_as_the_server_lists_it(deployment, week):
    assert sorted(week) == WEEK
    assert {day: run["state"] for day, run in week.items()} == {day: "success" for day in WEEK}

    expected_keys = sorted(key for day in WEEK for key in partition_keys(PIPELINE, day))
    assert deployment.object_keys(f"{PREFIX}/{PIPELINE}/") == expected_keys

    titles = {movie["movieId"]: movie["title"] for movie in deployment.ref.movies()}
    for day in WEEK:
        listing = deployment.ref.listing(day, next_day(day))
        assert listing, f"the sample has no ratings on {day}"
        ratings_key, ranking_key = partition_keys(PIPELINE, day)
        assert json.loads(deployment.read_object(ratings_key)) == listing, day
        ranking = pd.read_csv(io.BytesIO(deployment.read_object(ranking_key)))
        pd.testing.assert_frame_equal(
            ranking, expected_ranking(listing, titles), check_exact=False, rtol=1e-12
        )

    hosts = {
        ti["hostname"]
        for run in week.values()
        for ti in deployment.api.task_instances(PIPELINE, run["dag_run_id"])
    }
    assert hosts == set(WORKERS), f"task instances ran on {hosts}"


def test_rerunning_a_day_rewrites_byte_identical_objects(deployment, week):
    day = WEEK[3]
    run_id = week[day]["dag_run_id"]
    keys = partition_keys(PIPELINE, day)
    before = {key: deployment.read_object(key) for key in keys}
    written = {key: deployment.head_object(key)["LastModified"] for key in keys}

    deployment.api.post(
        f"/dags/{PIPELINE}/clearTaskInstances",
        {"dag_run_id": run_id, "dry_run": False, "only_failed": False, "reset_dag_runs": True},
    )

    def rerun_finished() -> list[dict] | None:
        tis = deployment.api.task_instances(PIPELINE, run_id)
        done = all(ti["try_number"] >= 2 and ti["state"] in ("success", "failed") for ti in tis)
        return tis if done else None

    tis = wait_until(
        rerun_finished,
        timeout=RUN_TIMEOUT_S,
        what=f"the rerun of {day}",
        alive=deployment.airflow.components(),
    )
    assert {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in tis} == {
        "wait_for_ratings": ("success", 2),
        "fetch_ratings": ("success", 2),
        "rank_movies": ("success", 2),
    }
    for key in keys:
        assert deployment.head_object(key)["LastModified"] > written[key], f"{key} was not rewritten"
        assert deployment.read_object(key) == before[key], key


def _pages_served(log: str, day: str, page: int) -> int:
    """How many full pages of ``day`` the slow server has answered (its access log)."""
    pattern = re.compile(rf'"GET /ratings\?[^"]*start_date={day}[^"]*limit={page}\b[^"]*" 200 ')
    return len(pattern.findall(log))


def test_worker_killed_mid_fetch_is_retried_on_the_other_worker(deployment):
    dag_id, day = "deployment_slow", "2019-01-12"
    api, slow = deployment.api, deployment.slow
    api.backfill(dag_id, day, day, max_active_runs=1)
    run_id = wait_until(
        lambda: next((r["dag_run_id"] for r in api.dag_runs(dag_id) if r["run_type"] == "backfill"), None),
        timeout=60,
        what=f"the backfill run of {dag_id}",
    )

    def fetching_on() -> str | None:
        for ti in api.task_instances(dag_id, run_id):
            if ti["task_id"] == "fetch_ratings" and ti["state"] == "running" and ti["hostname"] in WORKERS:
                return ti["hostname"]
        return None

    victim = wait_until(
        fetching_on, timeout=RUN_TIMEOUT_S, what="the fetch to run", alive=deployment.airflow.components()
    )
    (survivor,) = set(WORKERS) - {victim}
    wait_until(
        lambda: _pages_served(slow.service.log_text(), day, SLOW_PAGE) >= 3,
        timeout=60,
        what="three pages of the fetch to be served",
    )
    total_pages = -(-len(deployment.ref.listing(day, next_day(day))) // SLOW_PAGE)
    assert _pages_served(slow.service.log_text(), day, SLOW_PAGE) < total_pages, (
        "the fetch ended before the kill"
    )
    worker = deployment.airflow.workers[victim]
    worker.kill()
    assert worker.group_pids() == [], f"processes of {victim} survived SIGKILL"
    try:
        (run,) = api.wait_for_runs(dag_id, [run_id], timeout=RUN_TIMEOUT_S).values()
        tries = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/fetch_ratings/tries")[
            "task_instances"
        ]
    finally:
        deployment.airflow.start_worker(victim)
        deployment.airflow.wait_for_workers(deployment.broker_url, [victim])

    assert run["state"] == "success"
    assert [(t["try_number"], t["hostname"]) for t in tries] == [(1, victim), (2, survivor)]
    assert tries[-1]["state"] == "success"
    (key,) = partition_keys(dag_id, day, rank=False)
    assert deployment.object_keys(f"{PREFIX}/{dag_id}/") == [key]
    assert json.loads(deployment.read_object(key)) == deployment.ref.listing(day, next_day(day))
    assert deployment.multipart_uploads() == []


def test_deferred_sensor_waits_in_the_triggerer_until_the_day_has_data(deployment):
    dag_id, api = "deployment_live", deployment.api
    live, started_at = deployment.start_live_server()
    assert live.listing(LIVE_DAY, next_day(LIVE_DAY)) == [], "the day's data is visible too early"
    api.backfill(dag_id, LIVE_DAY, LIVE_DAY, max_active_runs=1)
    run_id = wait_until(
        lambda: next((r["dag_run_id"] for r in api.dag_runs(dag_id) if r["run_type"] == "backfill"), None),
        timeout=60,
        what=f"the backfill run of {dag_id}",
    )
    seen: list[str] = []

    def sensor_done() -> dict | None:
        for ti in api.task_instances(dag_id, run_id):
            if ti["task_id"] == "wait_for_ratings" and ti["state"]:
                if not seen or seen[-1] != ti["state"]:
                    seen.append(ti["state"])
                if ti["state"] in ("success", "failed"):
                    return ti
        return None

    sensor = wait_until(
        sensor_done,
        timeout=LIVE_GAP_S + RUN_TIMEOUT_S,
        what="the sensor",
        alive=deployment.airflow.components(),
    )
    assert "deferred" in seen, f"the sensor never deferred: {seen}"
    assert sensor["state"] == "success"
    assert sensor["try_number"] == 1  # waiting in the triggerer is not a retry
    finished = pd.Timestamp(sensor["end_date"]).timestamp()
    assert finished >= started_at + LIVE_GAP_S, "the sensor succeeded before the day had data"

    (run,) = api.wait_for_runs(dag_id, [run_id], timeout=RUN_TIMEOUT_S).values()
    assert run["state"] == "success"
    ratings_key, _ = partition_keys(dag_id, LIVE_DAY)
    records = json.loads(deployment.read_object(ratings_key))
    whole_day = deployment.ref.listing(LIVE_DAY, next_day(LIVE_DAY))
    # Fetched while the day was still arriving: the ratings up to then, in order, none missing.
    assert records, "the fetch wrote an empty partition"
    assert records == whole_day[: len(records)]
