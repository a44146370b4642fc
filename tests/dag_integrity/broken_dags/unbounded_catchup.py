"""Broken Airflow DAG on purpose (rule ``catchup``): catch-up on with no end_date, so enabling the DAG
schedules one run per day since 2019 at once."""

from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_unbounded_catchup", **good_dag_args(catchup=True)):
    EmptyOperator(task_id="thousands_of_runs")
