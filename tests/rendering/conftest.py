"""Template-rendering tier set-up.

* Airflow's production scheduling defaults while these tests run: ``tests/conftest.py`` runs Airflow
  in unit-test mode, whose ``unit_tests.cfg`` turns ``[scheduler] create_cron_data_intervals`` (and
  ``create_delta_data_intervals``) on, which on Airflow 3 would turn ``schedule="@daily"`` back into a
  whole-day interval and hide the pitfall this tier demonstrates (the ``production_scheduler_defaults``
  fixture of ``tests/conftest.py``).
* On Airflow 2.11 the ``SequentialExecutor`` it pairs with SQLite (unit tests set ``LocalExecutor``).
* ``MOVIELENS_DATA_DIR`` fixed while the DAG files are parsed, so output paths are known exactly.
* On Airflow 2.11 a migrated metastore: its ``TaskInstance.get_template_context`` looks up the
  previous successful run (``prev_data_interval_start_success``) eagerly. Airflow 3 builds the
  context on the worker without a database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_movielens.compat import AIRFLOW_V3

#: The output root the example DAGs see while parsed by this tier.
DATA_ROOT = "/srv/movielens-rendering"


@pytest.fixture(scope="session")
def data_root() -> str:
    """``MOVIELENS_DATA_DIR`` as the DAG files see it in this tier."""
    return DATA_ROOT


@pytest.fixture(autouse=True, scope="module")
def _rendering_environment(production_scheduler_defaults: None) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        if not AIRFLOW_V3:
            # unit_tests.cfg sets LocalExecutor, which Airflow 2 refuses on SQLite when a sensor is
            # prepared for execution; SequentialExecutor is Airflow 2's default for SQLite.
            patch.setenv("AIRFLOW__CORE__EXECUTOR", "SequentialExecutor")
        patch.setenv("MOVIELENS_DATA_DIR", DATA_ROOT)
        yield


@pytest.fixture(autouse=True, scope="session")
def _metastore_for_airflow_2() -> None:
    if not AIRFLOW_V3:
        from airflow.utils.db import initdb

        initdb(load_connections=False)
