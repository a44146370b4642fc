"""Airflow DAGs for the rendering tier: the pipeline's tasks scheduled daily in non-UTC timezones.

The same components and default templates as ``dags/05_pipeline.py``, with the daily data-interval
timetable in ``Europe/Berlin`` (east of UTC, DST in March/October) and ``America/New_York`` (west of
UTC). See ``test_rendered_windows.py`` for the semantics these DAGs pin down.
"""

from __future__ import annotations

import datetime as dt

from airflow_movielens.compat import AIRFLOW_V3
from airflow_movielens.dates import DEFAULT_START_DATE
from airflow_movielens.operators import MovielensFetchRatingsOperator, MovielensRankMoviesOperator
from airflow_movielens.sensors import MovielensRatingsSensor

if AIRFLOW_V3:
    from airflow.sdk import DAG, CronDataIntervalTimetable
else:
    from airflow.models.dag import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable

ROOT = "/srv/movielens-rendering"

for dag_id, timezone in (("pipeline_berlin", "Europe/Berlin"), ("pipeline_new_york", "America/New_York")):
    with DAG(
        dag_id=dag_id,
        start_date=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc),
        schedule=CronDataIntervalTimetable("@daily", timezone=timezone),
        catchup=False,
        default_args={"owner": "movielens", "retries": 2},
        tags=["movielens", "rendering-fixture"],
    ) as dag:
        ratings = f"{ROOT}/{dag_id}/ratings/{DEFAULT_START_DATE}.json"
        (
            MovielensRatingsSensor(task_id="wait_for_ratings")
            >> MovielensFetchRatingsOperator(task_id="fetch_ratings", output_path=ratings)
            >> MovielensRankMoviesOperator(
                task_id="rank_movies",
                input_path=ratings,
                output_path=f"{ROOT}/{dag_id}/rankings/{DEFAULT_START_DATE}.csv",
            )
        )
    globals()[dag_id] = dag
