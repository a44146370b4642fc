"""Broken Airflow DAG on purpose (rule ``owner``): no owner, so Airflow's default owner ("airflow")."""

from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_default_owner", **good_dag_args(default_args={"retries": 1})):
    EmptyOperator(task_id="nobody_owns_me")
