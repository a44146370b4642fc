"""An Airflow DAG for the rendering tier: every component's ``conn_id`` is a Jinja template.

One DAG file can serve several deployments (staging, production) by choosing the connection from the
DAG's ``params`` or from the run itself. ``test_rendered_windows.py`` checks what each renders to.
"""

from __future__ import annotations

import datetime as dt

from airflow_movielens.compat import AIRFLOW_V3
from airflow_movielens.operators import MovielensFetchRatingsOperator, MovielensRankMoviesOperator
from airflow_movielens.sensors import MovielensRatingsSensor

if AIRFLOW_V3:
    from airflow.sdk import DAG, CronDataIntervalTimetable
else:
    from airflow.models.dag import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable

with DAG(
    dag_id="conn_from_templates",
    start_date=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc),
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    catchup=False,
    params={"env": "staging", "conn": "movielens_reporting"},
    default_args={"owner": "movielens", "retries": 2},
    tags=["movielens", "rendering-fixture"],
):
    (
        MovielensRatingsSensor(task_id="wait_for_ratings", conn_id="movielens_{{ params.env }}")
        >> MovielensFetchRatingsOperator(
            task_id="fetch_ratings", conn_id="{{ params.conn }}", output_path="/srv/conn/ratings.json"
        )
        >> MovielensRankMoviesOperator(
            task_id="rank_movies",
            conn_id="{{ 'movielens_' ~ data_interval_start.strftime('%Y') }}",
            input_path="/srv/conn/ratings.json",
            output_path="/srv/conn/rankings.csv",
        )
    )
