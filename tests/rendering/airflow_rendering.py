"""Render a task's template fields for a scheduled run, the way Airflow does when the task runs.

Two steps, each done by Airflow's own code:

1. **The run.** The scheduler asks the DAG's timetable for the run with a given logical date
   (``iter_dagrun_infos_between`` on the scheduler's view of the DAG: on Airflow 3 the serialized
   DAG, whose timetable holds the scheduling logic). Its data interval is what the DagRun row gets.
   ``airflow tasks render DAG TASK DATE`` would instead *infer a manual run's* interval for a date
   without a DagRun (the interval that ends at that date), which is not what a scheduled run renders.
2. **The rendering.** A DagRun is built in memory with that interval, as ``airflow tasks render``
   builds its in-memory run, and the task instance's template context is built by Airflow:

   * Airflow 3: the ORM DagRun is converted to the execution API's ``DagRun`` model (what the API
     server sends the worker in ``TIRunContext``), and the worker's ``RuntimeTaskInstance`` builds the
     context (``get_template_context``) and renders (``render_templates`` with the DAG's Jinja
     environment) after ``prepare_for_execution``, exactly as ``task_runner._prepare`` does.
   * Airflow 2.11: ``TaskInstance.get_template_context`` and ``TaskInstance.render_templates`` on a
     TaskInstance bound to the in-memory DagRun, after ``prepare_for_execution``, as
     ``_execute_task_with_callbacks`` does.

So ``ds``, ``data_interval_start``/``_end`` and every filter and macro are Airflow's, for the line
under test; only the network, the database and the executor are left out.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from pathlib import Path
from typing import Any

from airflow.utils.state import DagRunState
from airflow.utils.types import DagRunType

from airflow_movielens.compat import AIRFLOW_V3


def load_dags(folder: Path) -> dict[str, Any]:
    """Parse a DAG folder the way the installed line does (see ``tests/dag_integrity/dag_rules.py``)."""
    folder = folder.resolve()
    if AIRFLOW_V3:
        from airflow.dag_processing.dagbag import BundleDagBag

        bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="movielens-rendering")
    else:
        from airflow.models.dagbag import DagBag

        if str(folder) not in sys.path:
            sys.path.append(str(folder))
        bag = DagBag(dag_folder=str(folder), include_examples=False, safe_mode=True)
    if bag.import_errors:
        raise RuntimeError(f"DAG files in {folder} failed to import: {bag.import_errors}")
    return dict(bag.dags)


_SCHEDULER_DAGS: dict[int, tuple[Any, Any]] = {}


def _scheduler_dag(dag: Any) -> Any:
    """The DAG as the scheduler holds it (Airflow 3: deserialized from its serialized form)."""
    if not AIRFLOW_V3:
        return dag
    cached = _SCHEDULER_DAGS.get(id(dag))
    if cached is None or cached[0] is not dag:
        from airflow.serialization.serialized_objects import DagSerialization

        cached = (dag, DagSerialization.from_dict(DagSerialization.to_dict(dag)))
        _SCHEDULER_DAGS[id(dag)] = cached
    return cached[1]


def scheduled_interval(dag: Any, logical_date: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The data interval of ``dag``'s scheduled run at ``logical_date``, from its timetable.

    :raises LookupError: the timetable schedules no run at exactly that logical date.
    """
    infos = list(_scheduler_dag(dag).iter_dagrun_infos_between(logical_date, logical_date))
    if len(infos) != 1 or infos[0].logical_date != logical_date:
        raise LookupError(f"{dag.dag_id} schedules no run at {logical_date.isoformat()}: {infos}")
    return infos[0].data_interval.start, infos[0].data_interval.end


def _orm_dag_run(dag: Any, logical_date: dt.datetime, interval: tuple[dt.datetime, dt.datetime]) -> Any:
    from airflow.models.dagrun import DagRun

    run_id = f"scheduled__{logical_date.isoformat()}"
    common: dict[str, Any] = {
        "dag_id": dag.dag_id,
        "run_id": run_id,
        "data_interval": interval,
        "run_type": DagRunType.SCHEDULED,
        "state": DagRunState.RUNNING,
        "conf": {},
    }
    if AIRFLOW_V3:
        run = DagRun(logical_date=logical_date, run_after=interval[1], **common)
    else:
        run = DagRun(execution_date=logical_date, **common)
    run.start_date = interval[1]
    return run


def render_task(dag: Any, task_id: str, logical_date: dt.datetime) -> Any:
    """A copy of the task with its template fields rendered for the scheduled run at ``logical_date``."""
    interval = scheduled_interval(dag, logical_date)
    dag_run = _orm_dag_run(dag, logical_date, interval)
    task = dag.get_task(task_id)
    if AIRFLOW_V3:
        return _render_airflow_3(dag, task, dag_run)
    return _render_airflow_2(task, dag_run)


def _render_airflow_3(dag: Any, task: Any, dag_run: Any) -> Any:
    from airflow.api_fastapi.execution_api.datamodels.taskinstance import DagRun as ApiDagRun
    from airflow.api_fastapi.execution_api.datamodels.taskinstance import TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    runtime_ti = RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(),
        task_id=task.task_id,
        dag_id=dag.dag_id,
        run_id=dag_run.run_id,
        try_number=1,
        map_index=-1,
        dag_version_id=uuid.uuid4(),
        start_date=dag_run.start_date,
        task=task,
        max_tries=task.retries,
        _ti_context_from_server=TIRunContext(
            dag_run=ApiDagRun.model_validate(dag_run, from_attributes=True),
            max_tries=task.retries,
            variables=[],
            connections=[],
            xcom_keys_to_clear=[],
        ),
    )
    context = runtime_ti.get_template_context()
    runtime_ti.task = task.prepare_for_execution()
    context["task"] = runtime_ti.task
    runtime_ti.render_templates(context=context, jinja_env=dag.get_template_env())
    return runtime_ti.task


def _render_airflow_2(task: Any, dag_run: Any) -> Any:
    from airflow.models.taskinstance import TaskInstance

    ti = TaskInstance(task.prepare_for_execution(), run_id=dag_run.run_id, map_index=-1)
    ti.dag_run = dag_run
    context = ti.get_template_context()
    ti.render_templates(context=context)
    return ti.task
