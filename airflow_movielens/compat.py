"""The one place that knows which Airflow line is installed.

Airflow 3 moved the authoring interface to ``airflow.sdk``; Airflow 2.11 keeps it in
``airflow.hooks.base``, ``airflow.models``, ``airflow.sensors.base`` and ``airflow.io``. Every other
module imports these names from here, so supporting a new Airflow line means editing this file only.

The line is decided from ``airflow.__version__`` rather than by trying ``import airflow.sdk``: an
Airflow 2 environment can carry a stray ``airflow.sdk`` package (pulled in by newer providers) that
must not be mistaken for Airflow 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    from airflow.exceptions import AirflowException, AirflowTaskTerminated, AirflowTaskTimeout, TaskDeferred
    from airflow.hooks.base import BaseHook
    from airflow.io.path import ObjectStoragePath
    from airflow.io.store import attach
    from airflow.models import BaseOperator
    from airflow.models.dag import DAG
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue
    from airflow.utils.context import Context
    from airflow.utils.log.secrets_masker import mask_secret

__all__ = [
    "AIRFLOW_LINE",
    "AIRFLOW_V3",
    "AIRFLOW_VERSION",
    "DAG",
    "AirflowException",
    "AirflowTaskTerminated",
    "AirflowTaskTimeout",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "ObjectStoragePath",
    "PokeReturnValue",
    "TaskDeferred",
    "TriggerEvent",
    "attach",
    "mask_secret",
]
