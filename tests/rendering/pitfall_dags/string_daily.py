"""An Airflow DAG with the Airflow 3 pitfall: ``schedule="@daily"`` as a bare string.

On Airflow 2.11 the string becomes a ``CronDataIntervalTimetable`` (a run covers the whole day); on
Airflow 3 it becomes a ``CronTriggerTimetable`` whose data interval is zero-length, so the operator's
default window ``[data_interval_start, data_interval_end)`` renders as the same day twice: empty.
"""

from __future__ import annotations

import datetime as dt

from airflow_movielens.compat import AIRFLOW_V3
from airflow_movielens.operators import MovielensFetchRatingsOperator

if AIRFLOW_V3:
    from airflow.sdk import DAG
else:
    from airflow.models.dag import DAG

with DAG(
    dag_id="string_daily_pitfall",
    start_date=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc),
    schedule="@daily",
    catchup=False,
    default_args={"owner": "movielens", "retries": 2},
    tags=["movielens", "rendering-fixture"],
):
    MovielensFetchRatingsOperator(task_id="fetch_ratings", output_path="/srv/pitfall/{{ ds }}.json")
