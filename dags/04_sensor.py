"""Wait until the API has ratings for the day, then fetch them.

The seed's fourth DAG, rewritten. ``MovielensRatingsSensor`` asks for one record of the window
(``limit=1``) and, in ``reschedule`` mode, frees its worker slot between pokes. Both tasks use their
default window, the run's data interval as UTC dates.

Output: ``$MOVIELENS_DATA_DIR/04_sensor/ratings/<day>.json``.
"""

from __future__ import annotations

import datetime as dt

from airflow_movielens.operators import MovielensFetchRatingsOperator
from airflow_movielens.sensors import MovielensRatingsSensor
from movielens_common import CONN_ID, DAG, DEFAULT_ARGS, START_DATE, TAGS, daily_utc, data_path

with DAG(
    dag_id="04_sensor",
    description="Fetches ratings from the Movielens API, with a custom sensor.",
    doc_md=__doc__,
    start_date=START_DATE,
    schedule=daily_utc(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "sensor"],
):
    wait_for_ratings = MovielensRatingsSensor(
        task_id="wait_for_ratings",
        conn_id=CONN_ID,
        mode="reschedule",
        poke_interval=dt.timedelta(minutes=10),
        timeout=dt.timedelta(hours=12),
    )

    fetch_ratings = MovielensFetchRatingsOperator(
        task_id="fetch_ratings",
        conn_id=CONN_ID,
        output_path=data_path("04_sensor", "ratings", "json"),
    )

    wait_for_ratings >> fetch_ratings
