"""Fetch one UTC day of ratings and rank the movies, with plain PythonOperators.

The seed's first DAG, rewritten: the fetch uses ``MovielensHook`` (connection ``movielens_default``,
paging, retries, timeouts) instead of hand-written ``requests`` code, the window comes from the run's
data interval (Airflow 3 has no ``next_ds``), records are streamed to the file rather than held in
memory, and both files appear atomically (``airflow_movielens.storage.atomic_writer``: local paths and
object-storage URIs). The ranking is ``airflow_movielens.ranking.rank_movies_by_rating``.

Outputs: ``$MOVIELENS_DATA_DIR/01_python/ratings/<day>.json`` and ``.../rankings/<day>.csv``.
"""

from __future__ import annotations

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
)

log = logging.getLogger(__name__)

RATING_COLUMNS = ["userId", "movieId", "rating", "timestamp"]


def _fetch_ratings(templates_dict: dict[str, str], conn_id: str, batch_size: int, **_: Any) -> dict:
    """Stream the window's ratings from the API into one JSON array file."""
    import json

    from airflow_movielens.hooks import MovielensHook
    from airflow_movielens.storage import atomic_writer

    start, end, output_path = (templates_dict[k] for k in ("start_date", "end_date", "output_path"))
    log.info("Fetching ratings for [%s, %s) into %s", start, end, output_path)
    count = 0
    with MovielensHook(conn_id=conn_id) as hook, atomic_writer(output_path) as handle:
        handle.write(b"[")
        for record in hook.get_ratings(start_date=start, end_date=end, batch_size=batch_size):
            handle.write((b"," if count else b"") + json.dumps(record).encode("utf-8"))
            count += 1
        handle.write(b"]")
    log.info("Wrote %d ratings to %s", count, output_path)
    return {"path": output_path, "count": count, "start_date": start, "end_date": end}


def _rank_movies(templates_dict: dict[str, str], min_ratings: int, **_: Any) -> dict:
    """Rank the fetched day's movies by average rating (pandas) and write the CSV."""
    import json

    import pandas as pd

    from airflow_movielens.ranking import rank_movies_by_rating
    from airflow_movielens.storage import atomic_writer, read_bytes

    input_path, output_path = templates_dict["input_path"], templates_dict["output_path"]
    ratings = pd.DataFrame.from_records(json.loads(read_bytes(input_path)), columns=RATING_COLUMNS)
    ranking = rank_movies_by_rating(ratings, min_ratings=min_ratings)
    with atomic_writer(output_path) as handle:
        handle.write(ranking.to_csv(index=True).encode("utf-8"))
    log.info("Ranked %d movies from %d ratings into %s", len(ranking), len(ratings), output_path)
    return {"path": output_path, "count": len(ranking)}


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
