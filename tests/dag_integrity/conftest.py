"""DAG-integrity tier set-up: Airflow's production scheduling defaults while these tests run.

``tests/conftest.py`` runs Airflow in unit-test mode, whose ``unit_tests.cfg`` turns
``[scheduler] create_cron_data_intervals`` and ``create_delta_data_intervals`` on. On Airflow 3 that
makes a bare ``schedule="@daily"`` a whole-day interval again and would hide exactly the pitfall the
data-interval rule exists to catch, so each module runs with the installed line's shipped defaults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airflow.configuration import conf

PRODUCTION_SCHEDULER_DEFAULTS = ("create_cron_data_intervals", "create_delta_data_intervals")


@pytest.fixture(autouse=True, scope="module")
def _production_scheduler_defaults() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in PRODUCTION_SCHEDULER_DEFAULTS:
            default = conf.get_default_value("scheduler", key)
            if default is not None:
                patch.setenv(f"AIRFLOW__SCHEDULER__{key.upper()}", str(default))
        yield
