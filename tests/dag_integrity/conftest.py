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

#: Settings that ``unit_tests.cfg`` changes and that change what these tests observe.
PRODUCTION_DEFAULTS = (
    ("scheduler", "create_cron_data_intervals"),
    ("scheduler", "create_delta_data_intervals"),
)


@pytest.fixture(autouse=True, scope="module")
def _production_scheduler_defaults() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for section, key in PRODUCTION_DEFAULTS:
            default = conf.get_default_value(section, key)
            if default is not None:
                patch.setenv(f"AIRFLOW__{section.upper()}__{key.upper()}", str(default))
        yield
