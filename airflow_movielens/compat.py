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

#: True on Airflow 3.x (task SDK), False on Airflow 2.11.
AIRFLOW_V3: bool = int(AIRFLOW_VERSION.split(".", 1)[0]) >= 3

if TYPE_CHECKING or AIRFLOW_V3:
    from airflow.sdk import (
        DAG,
        Asset,
        BaseHook,
        BaseOperator,
        BaseSensorOperator,
        Context,
        ObjectStoragePath,
        PokeReturnValue,
    )
    from airflow.sdk.io import attach

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

        collector = get_collector()
        add_input, add_output = collector.add_input_dataset, collector.add_output_dataset
    for uri in inputs:
        add_input(context=context, uri=uri)
    for uri in outputs:
        add_output(context=context, uri=uri)


__all__ = [
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
    "attach",
    "mask_secret",
]
