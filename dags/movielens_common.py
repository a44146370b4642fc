"""Shared settings of the example DAGs: DAG class and timetable per Airflow line, house defaults, paths.

This module is not a DAG file (``.airflowignore`` lists it). The DAG files import it as
``movielens_common``: Airflow puts the DAGs folder (2.x) or the DAG bundle's root (3.x) on
``sys.path``. Nothing here does I/O at import time; the environment is only read.

* ``DAG``: ``airflow.sdk.DAG`` on Airflow 3, ``airflow.models.dag.DAG`` on 2.11. The line is decided by
  ``airflow_movielens.compat.AIRFLOW_LINE`` (the version), not by probing ``import airflow.sdk``.
* ``daily_utc()``: a data-interval timetable, so every run covers ``[day, day + 1)`` in UTC on both
  lines. A bare ``schedule="@daily"`` is a zero-length interval on Airflow 3 (CronTriggerTimetable).
* Output: ``$MOVIELENS_DATA_DIR/<dag_id>/<kind>/<YYYY-MM-DD>.<ext>``, partitioned by the UTC day of
  the data interval's start (``WINDOW_START``), not by ``{{ ds }}``: the partition is named after the
  window the API is asked for, also in manual runs (logical date at or after the interval's end).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow_movielens.compat import AIRFLOW_LINE, AIRFLOW_V3
from airflow_movielens.dates import DEFAULT_END_DATE, DEFAULT_START_DATE

if AIRFLOW_LINE >= (3, 2):
    from airflow.sdk import DAG, CronDataIntervalTimetable
elif AIRFLOW_V3:  # Airflow 3.0 and 3.1 do not export the timetable from the SDK yet
    from airflow.sdk import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable
else:  # Airflow 2.11
    from airflow.models.dag import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable

try:
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2.11 without apache-airflow-providers-standard
    from airflow.operators.python import PythonOperator  # type: ignore[no-redef]

__all__ = [
    "CONN_ID",
    "DAG",
    "DEFAULT_ARGS",
    "START_DATE",
    "TAGS",
    "WINDOW_END",
    "WINDOW_START",
    "PythonOperator",
    "daily_utc",
    "data_path",
    "data_root",
]

#: The Airflow connection every example uses (``AIRFLOW_CONN_MOVIELENS_DEFAULT`` or the metastore).
CONN_ID = "movielens_default"
#: First day the examples are scheduled for; runs are not caught up (``catchup=False``).
START_DATE = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)
TAGS = ["movielens", "example"]
#: Applied to every task: an owner other than Airflow's default and retries for transient failures
#: (the hook already retries single requests; these retry the whole task).
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "movielens",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
}
#: The run's window as the API's ``YYYY-MM-DD`` UTC dates (``[start, end)``): the provider's own
#: defaults, so a partition is always named after the window its file holds. Airflow 3 has no
#: ``next_ds``; ``data_interval_end`` exists on both lines.
WINDOW_START = DEFAULT_START_DATE
WINDOW_END = DEFAULT_END_DATE


def daily_utc() -> CronDataIntervalTimetable:
    """One run per UTC day whose data interval is that whole day (``[00:00, 24:00)`` UTC)."""
    return CronDataIntervalTimetable("@daily", timezone="UTC")


def data_root() -> str:
    """Output root: ``$MOVIELENS_DATA_DIR`` (path or URI), else ``$AIRFLOW_HOME/data/movielens``."""
    root = os.environ.get("MOVIELENS_DATA_DIR", "").strip()
    if not root:
        home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
        root = os.path.join(home, "data", "movielens")
    return root.rstrip("/")


def data_path(dag_id: str, kind: str, extension: str) -> str:
    """Templated path of one day's partition, e.g. ``<root>/05_pipeline/ratings/2019-01-31.json``."""
    return f"{data_root()}/{dag_id}/{kind}/{WINDOW_START}.{extension}"
