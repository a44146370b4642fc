"""Fetch one UTC day of ratings through ``MovielensHook`` inside a PythonOperator.

The seed's second DAG, rewritten: the hook is used as a context manager (its session is always
closed), records are written to the file as the pages arrive (JSON lines, constant memory) instead of
being held in a list, the file appears atomically, and the window is the run's data interval
``[data_interval_start, data_interval_end)`` as UTC dates.

Output: ``$MOVIELENS_DATA_DIR/02_hook/ratings/<day>.jsonl``.
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


def _fetch_ratings(conn_id: str, templates_dict: dict[str, str], batch_size: int = 1000, **_: Any) -> int:
    """Write the window's ratings to ``templates_dict["output_path"]``, one per line; return how many."""
    import json

    from airflow_movielens.hooks import MovielensHook
    from airflow_movielens.storage import atomic_writer

    start, end, output_path = (templates_dict[k] for k in ("start_date", "end_date", "output_path"))
    log.info("Fetching ratings for [%s, %s)", start, end)
    count = 0
    with MovielensHook(conn_id=conn_id) as hook, atomic_writer(output_path) as handle:
        for page in hook.iter_ratings_pages(start_date=start, end_date=end, batch_size=batch_size):
            handle.write(b"".join(json.dumps(r).encode("utf-8") + b"\n" for r in page.records))
            count += len(page.records)
            log.info("Fetched %d of %d ratings", count, page.total)
    log.info("Wrote %d ratings to %s", count, output_path)
    return count


with DAG(
    dag_id="02_hook",
    description="Fetches ratings from the Movielens API using the custom hook.",
    doc_md=__doc__,
    start_date=START_DATE,
    schedule=daily_utc(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "hook"],
):
    PythonOperator(
        task_id="fetch_ratings",
        python_callable=_fetch_ratings,
        op_kwargs={"conn_id": CONN_ID},
        templates_dict={
            "start_date": WINDOW_START,
            "end_date": WINDOW_END,
            "output_path": data_path("02_hook", "ratings", "jsonl"),
        },
    )
