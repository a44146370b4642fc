"""Broken Airflow DAG on purpose (rule ``retries``): no retries in default_args, so Airflow's default of 0."""

from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_no_retries", **good_dag_args(default_args={"owner": "fixtures"})):
    EmptyOperator(task_id="fails_on_first_error")
