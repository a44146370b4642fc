"""Broken Airflow DAG on purpose (rule ``data_interval``): a CronTriggerTimetable.

Its runs have an empty data interval on both Airflow lines (start == end == the trigger time);
Airflow 3's ``schedule="@daily"`` is exactly this.
"""

from fixture_base import DAG, CronTriggerTimetable, EmptyOperator, good_dag_args

with DAG(
    dag_id="broken_zero_length_interval",
    **good_dag_args(schedule=CronTriggerTimetable("@daily", timezone="UTC")),
):
    EmptyOperator(task_id="fetches_an_empty_window")
