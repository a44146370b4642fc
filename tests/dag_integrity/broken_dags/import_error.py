"""Broken Airflow DAG on purpose (rule ``imports``): imports a module that does not exist."""

import movielens_no_such_module  # noqa: F401
from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_import_error", **good_dag_args()):
    EmptyOperator(task_id="never_defined")
