"""The daily pipeline: wait for the day's ratings, fetch them, rank the movies.

* ``wait_for_ratings``: ``MovielensRatingsSensor``; ``reschedule`` mode, or, when Airflow's
  ``[operators] default_deferrable`` is on (``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE=True``; the sensor
  reads it itself), deferrable: one poke on the worker, then the triggerer polls, freeing the worker.
* ``fetch_ratings``: ``MovielensFetchRatingsOperator`` writes ``ratings/<day>.json`` atomically.
* ``rank_movies``: ``MovielensRankMoviesOperator`` writes ``rankings/<day>.csv`` with the movie titles
  from the API's ``/movies``.

Every window is one UTC day, ``[data_interval_start, data_interval_end)``; outputs live under
``$MOVIELENS_DATA_DIR/05_pipeline/`` (a path or an object-storage URI), partitioned by that day.
"""

from __future__ import annotations

import datetime as dt

from airflow_movielens.operators import MovielensFetchRatingsOperator, MovielensRankMoviesOperator
from airflow_movielens.sensors import MovielensRatingsSensor
from movielens_common import (
    CONN_ID,
    DAG,
    DEFAULT_ARGS,
    START_DATE,
    TAGS,
    daily_utc,
    data_path,
)

with DAG(
    dag_id="05_pipeline",
    description="Waits for the day's ratings, fetches them and ranks the movies.",
    doc_md=__doc__,
    start_date=START_DATE,
    schedule=daily_utc(),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "pipeline"],
):
    ratings_path = data_path("05_pipeline", "ratings", "json")

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
        output_path=ratings_path,
    )

    rank_movies = MovielensRankMoviesOperator(
        task_id="rank_movies",
        conn_id=CONN_ID,
        input_path=ratings_path,
        output_path=data_path("05_pipeline", "rankings", "csv"),
        min_ratings=2,
    )

    wait_for_ratings >> fetch_ratings >> rank_movies
