"""Broken Airflow DAG on purpose (rule ``unique_dag_ids``): the same dag_id as duplicate_id_a.py."""

from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_duplicate_id", **good_dag_args()):
    EmptyOperator(task_id="task_b")
