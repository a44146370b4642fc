"""Fetch one UTC day of ratings with ``MovielensFetchRatingsOperator``.

The seed's third DAG, rewritten. The window is passed explicitly here to show the templates that
replace the seed's ``{{ds}}`` / ``{{next_ds}}`` (``next_ds`` is gone in Airflow 3); they equal the
operator's defaults. ``output_path`` may also be an object-storage URI (``MOVIELENS_DATA_DIR=s3://...``).

Output: ``$MOVIELENS_DATA_DIR/03_operator/ratings/<day>.json``.

The task is an asset producer: every successful run emits an event for ``RATINGS``, the asset of
the ratings directory (``file:///...`` for a local path, the URI without ``conn_id@`` for object
storage), so a DAG with ``schedule=[RATINGS]`` (the same URI) runs once a day's partition is in place.
On Airflow 2.11 the asset is an ``airflow.datasets.Dataset`` (``airflow_movielens.compat.Asset``).
"""

from __future__ import annotations

from airflow_movielens.compat import Asset
from airflow_movielens.lineage import asset_uri
from airflow_movielens.operators import MovielensFetchRatingsOperator
from movielens_common import (
    CONN_ID,
    DAG,
    DEFAULT_ARGS,
    START_DATE,
    TAGS,
    WINDOW_END,
    WINDOW_START,
    daily_utc,
    data_path,
    data_root,
)

#: The asset the fetch updates: the directory of the daily partitions.
RATINGS = Asset(asset_uri(f"{data_root()}/03_operator/ratings"))

with DAG(
    dag_id="03_operator",
    description="Fetches ratings from the Movielens API using the custom operator.",
    doc_md=__doc__,
    start_date=START_DATE,
    schedule=daily_utc(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "operator"],
):
    MovielensFetchRatingsOperator(
        task_id="fetch_ratings",
        conn_id=CONN_ID,
        start_date=WINDOW_START,
        end_date=WINDOW_END,
        output_path=data_path("03_operator", "ratings", "json"),
        batch_size=1000,
        outlets=[RATINGS],
    )
