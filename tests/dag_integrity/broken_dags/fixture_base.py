"""What the broken DAG fixtures share: per-line imports and arguments that satisfy every rule.

Each fixture file breaks exactly one house rule and keeps all the others, so the test can assert
that the rule written for that fault, and only it, reports the file. Not a DAG file (see
``.airflowignore``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_movielens.compat import AIRFLOW_LINE, AIRFLOW_V3

if AIRFLOW_LINE >= (3, 2):
    from airflow.sdk import DAG, CronDataIntervalTimetable, CronTriggerTimetable
elif AIRFLOW_V3:  # 3.0 and 3.1: the SDK does not export the timetables yet
    from airflow.sdk import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.timetables.trigger import CronTriggerTimetable
else:
    from airflow.models.dag import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.timetables.trigger import CronTriggerTimetable

try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2.11 without the standard provider
    from airflow.operators.empty import EmptyOperator  # type: ignore[no-redef]

__all__ = ["DAG", "CronDataIntervalTimetable", "CronTriggerTimetable", "EmptyOperator", "good_dag_args"]


def good_dag_args(**overrides: Any) -> dict[str, Any]:
    """DAG arguments that follow every rule, with ``overrides`` applied."""
    args: dict[str, Any] = {
        "start_date": dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc),
        "schedule": CronDataIntervalTimetable("@daily", timezone="UTC"),
        "catchup": False,
        "tags": ["broken-fixture"],
        "default_args": {"owner": "fixtures", "retries": 1},
    }
    args.update(overrides)
    return args
