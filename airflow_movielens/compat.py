"""The one place that knows which Airflow line is installed.

Airflow 3 moved the authoring interface to ``airflow.sdk``; Airflow 2.11 keeps it in
``airflow.hooks.base``, ``airflow.models``, ``airflow.sensors.base`` and ``airflow.io``. Every other
module imports these names from here, so supporting a new Airflow line means editing this file only.

The line is decided from ``airflow.__version__`` rather than by trying ``import airflow.sdk``: an
Airflow 2 environment can carry a stray ``airflow.sdk`` package (pulled in by newer providers) that
must not be mistaken for Airflow 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION

# The trigger base classes live in the same (non-deprecated) module on both lines.
from airflow.triggers.base import BaseTrigger, TriggerEvent

#: The installed Airflow line as (major, minor), e.g. ``(3, 1)``; compare it with tuples.
AIRFLOW_LINE: tuple[int, int] = (
    int(AIRFLOW_VERSION.split(".")[0]),
    int(AIRFLOW_VERSION.split(".")[1]),
)

#: True on Airflow 3.x (task SDK), False on Airflow 2.11.
AIRFLOW_V3: bool = AIRFLOW_LINE >= (3, 0)

if TYPE_CHECKING or AIRFLOW_V3:
    from airflow.sdk import (
        DAG,
        Asset,
        BaseOperator,
        BaseSensorOperator,
        Context,
        ObjectStoragePath,
        PokeReturnValue,
    )
    from airflow.sdk.io import attach

    try:  # Airflow >= 3.1 (the task SDK's hook reads connections through the supervisor)
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 3.0: the hook base class is still Airflow core's
        from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]

    try:  # the task SDK's configuration, where it exports it (what a task and the DAG processor read)
        from airflow.sdk import conf
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.configuration import conf  # type: ignore[no-redef,assignment]

    try:  # Airflow >= 3.1 (masks in the task process and tells the supervisor)
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow 3.0
        from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef,attr-defined]

    try:  # Airflow >= 3.1: the task SDK owns the exceptions (airflow.exceptions' copies are deprecated)
        from airflow.sdk.exceptions import (
            AirflowException,
            AirflowTaskTerminated,
            AirflowTaskTimeout,
            TaskDeferred,
        )
    except ImportError:  # Airflow 3.0
        from airflow.exceptions import (  # type: ignore[no-redef,assignment,attr-defined]
            AirflowException,
            AirflowTaskTerminated,
            AirflowTaskTimeout,
            TaskDeferred,
        )
else:  # Airflow 2.11
    from airflow.configuration import conf
    from airflow.datasets import Dataset as Asset
    from airflow.exceptions import AirflowException, AirflowTaskTerminated, AirflowTaskTimeout, TaskDeferred
    from airflow.hooks.base import BaseHook
    from airflow.io.path import ObjectStoragePath
    from airflow.io.store import attach
    from airflow.models import BaseOperator
    from airflow.models.dag import DAG
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue
    from airflow.utils.context import Context
    from airflow.utils.log.secrets_masker import mask_secret


async def aget_connection(conn_id: str) -> Any:
    """Look a connection up from a running event loop (the triggerer) without blocking it.

    Newer task SDKs (3.3 among them) have ``BaseHook.aget_connection``, which asks the supervisor (or
    the secrets backends) asynchronously; it is detected, not inferred from the version number.
    Airflow 2.11 and the Airflow 3 releases without it only have the blocking
    ``BaseHook.get_connection``: it runs in a worker thread (asgiref's ``sync_to_async``, as upstream
    providers do). Not asgiref's one shared "thread-sensitive" thread: a forked process inherits it
    dead and hangs; and not ``asyncio.to_thread``: on Airflow 3.0 the lookup reaches the supervisor
    with ``async_to_sync``, which must find the triggerer's own loop.
    """
    native = getattr(BaseHook, "aget_connection", None)
    if native is not None:
        return await native(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection, thread_sensitive=False)(conn_id)


def add_hook_lineage(context: object, *, inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = ()) -> None:
    """Report asset URIs read (``inputs``) and written (``outputs``) to Airflow's hook lineage collector.

    The collector is what lineage listeners (the OpenLineage provider) read when an operator gives
    no lineage of its own; it is a no-op unless such a listener is installed. Airflow 3 names the
    methods ``add_*_asset``, Airflow 2.11 ``add_*_dataset``; 3.0 keeps the getter in ``airflow.lineage``.
    """
    collector: Any
    if AIRFLOW_V3:
        try:  # Airflow >= 3.1
            from airflow.sdk.lineage import get_hook_lineage_collector
        except ImportError:  # Airflow 3.0
            from airflow.lineage.hook import get_hook_lineage_collector  # type: ignore[no-redef]
        collector = get_hook_lineage_collector()
        add_input, add_output = collector.add_input_asset, collector.add_output_asset
    else:
        from airflow.lineage.hook import get_hook_lineage_collector as get_collector

        # Mutants of these two lines cannot be killed in the mutation env (Airflow 3.3); the 2.11 unit
        # tier runs them (test_lineage.py's hook-lineage tests).
        collector = get_collector()  # pragma: no mutate
        add_input, add_output = collector.add_input_dataset, collector.add_output_dataset  # pragma: no mutate
    for uri in inputs:
        add_input(context=context, uri=uri)
    for uri in outputs:
        add_output(context=context, uri=uri)


__all__ = [
    "AIRFLOW_LINE",
    "AIRFLOW_V3",
    "AIRFLOW_VERSION",
    "DAG",
    "AirflowException",
    "AirflowTaskTerminated",
    "AirflowTaskTimeout",
    "Asset",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "ObjectStoragePath",
    "PokeReturnValue",
    "TaskDeferred",
    "TriggerEvent",
    "add_hook_lineage",
    "aget_connection",
    "attach",
    "conf",
    "default_deferrable",
    "mask_secret",
    "run_base_sensor_loop",
]


def default_deferrable() -> bool:
    """Airflow's switch for deferrable operators, ``[operators] default_deferrable`` (default off).

    Read when an operator is constructed (official providers read it as an argument default), so
    ``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE`` set in the environment of the DAG processor counts.
    """
    # No mutants: Airflow's config is case-insensitive and always has this option (with a default), so
    # neither the names' case nor the fallback can change what this returns.
    return conf.getboolean("operators", "default_deferrable", fallback=False)  # pragma: no mutate


# Airflow 2.11's ExecutorSafeguard wraps the ``execute`` of every operator class. The TaskInstance
# hands its sentinel to the outermost wrapper (the subclass's ``execute``), which files it under the
# *instance's* class name; a ``super().execute()`` reaches BaseSensorOperator's wrapper, which looks
# under *its own* class name, finds nothing and logs "X.execute cannot be called outside
# TaskInstance!" on every run (apache/airflow#41470). Airflow 3's safeguard tracks the instance in
# a ContextVar, so nested calls pass there. The subclass's wrapper has checked the sentinel already,
# so on 2.11 the base loop is entered past its (redundant, mis-keyed) second check.
# (One level: ``__wrapped__`` is the safeguard's functools.wraps; nothing else decorates it in 2.11.)
_BASE_SENSOR_EXECUTE: Any = (
    BaseSensorOperator.execute
    if AIRFLOW_V3
    else getattr(BaseSensorOperator.execute, "__wrapped__", BaseSensorOperator.execute)
)


def run_base_sensor_loop(sensor: BaseSensorOperator, context: Context) -> Any:
    """``BaseSensorOperator.execute`` (the poke loop) for a sensor whose own ``execute`` overrides it.

    Use instead of ``super().execute(context)``: identical on Airflow 3, and on Airflow 2.11 without
    the spurious "cannot be called outside TaskInstance" warning of a nested safeguard check.
    """
    return _BASE_SENSOR_EXECUTE(sensor, context)
