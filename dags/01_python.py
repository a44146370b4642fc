"""Fetch one UTC day of ratings and rank the movies, with plain PythonOperators.

The seed's first DAG, rewritten: the fetch uses ``MovielensHook`` (connection ``movielens_default``,
paging, retries, timeouts) instead of hand-written ``requests`` code, the window comes from the run's
data interval (Airflow 3 has no ``next_ds``), and both files are written atomically. The ranking is
``airflow_movielens.ranking.rank_movies_by_rating``.

Outputs (local disk): ``$MOVIELENS_DATA_DIR/01_python/ratings/<day>.json`` and
``.../rankings/<day>.csv``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from movielens_common import (
    CONN_ID,
    DAG,
    DEFAULT_ARGS,
    START_DATE,
    TAGS,
    WINDOW_END,
    WINDOW_START,
    PythonOperator,
    daily_utc,
    data_path,
    write_csv_atomically,
    write_json_array_atomically,
)

log = logging.getLogger(__name__)

RATING_COLUMNS = ["userId", "movieId", "rating", "timestamp"]


def _fetch_ratings(templates_dict: dict[str, str], conn_id: str, batch_size: int, **_: Any) -> dict:
    """Stream the window's ratings from the API into a JSON array file."""
    from airflow_movielens.hooks import MovielensHook

    start, end, output_path = (templates_dict[k] for k in ("start_date", "end_date", "output_path"))
    log.info("Fetching ratings for [%s, %s) into %s", start, end, output_path)
    with MovielensHook(conn_id=conn_id) as hook:
        count = write_json_array_atomically(
            output_path, hook.get_ratings(start_date=start, end_date=end, batch_size=batch_size)
        )
    log.info("Wrote %d ratings to %s", count, output_path)
    return {"path": output_path, "count": count, "start_date": start, "end_date": end}


def _rank_movies(templates_dict: dict[str, str], min_ratings: int, **_: Any) -> None:
    """Rank the fetched day's movies by average rating (pandas) and write the CSV."""
    import pandas as pd
    from airflow_movielens.ranking import rank_movies_by_rating

    input_path, output_path = templates_dict["input_path"], templates_dict["output_path"]
    with open(input_path, encoding="utf-8") as handle:
        ratings = pd.DataFrame.from_records(json.load(handle), columns=RATING_COLUMNS)
    ranking = rank_movies_by_rating(ratings, min_ratings=min_ratings)
    write_csv_atomically(output_path, ranking, index=True)
    log.info("Ranked %d movies from %d ratings into %s", len(ranking), len(ratings), output_path)


with DAG(
    dag_id="01_python",
    description="Fetches ratings with MovielensHook and ranks movies, using PythonOperators.",
    doc_md=__doc__,
    start_date=START_DATE,
    schedule=daily_utc(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "python"],
):
    ratings_path = data_path("01_python", "ratings", "json")

    fetch_ratings = PythonOperator(
        task_id="fetch_ratings",
        python_callable=_fetch_ratings,
        op_kwargs={"conn_id": CONN_ID, "batch_size": 1000},
        templates_dict={"start_date": WINDOW_START, "end_date": WINDOW_END, "output_path": ratings_path},
    )

    rank_movies = PythonOperator(
        task_id="rank_movies",
        python_callable=_rank_movies,
        op_kwargs={"min_ratings": 2},
        templates_dict={
            "input_path": ratings_path,
            "output_path": data_path("01_python", "rankings", "csv"),
        },
    )

    fetch_ratings >> rank_movies
