"""Broken Airflow DAG on purpose (rule ``no_cycles``): extract >> transform >> load >> extract."""

from fixture_base import DAG, EmptyOperator, good_dag_args

with DAG(dag_id="broken_cycle", **good_dag_args()):
    extract = EmptyOperator(task_id="extract")
    transform = EmptyOperator(task_id="transform")
    load = EmptyOperator(task_id="load")
    extract >> transform >> load >> extract
