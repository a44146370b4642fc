"""Broken Airflow DAG on purpose (rule ``tags``): no tags, so the DAG cannot be found by tag in the UI."""

from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_no_tags", **good_dag_args(tags=[])):
    EmptyOperator(task_id="untagged")
