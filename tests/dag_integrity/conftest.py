"""DAG-integrity tier set-up: Airflow's production scheduling defaults while these tests run.

``tests/conftest.py`` runs Airflow in unit-test mode, whose ``unit_tests.cfg`` turns
``[scheduler] create_cron_data_intervals`` and ``create_delta_data_intervals`` on. On Airflow 3 that
makes a bare ``schedule="@daily"`` a whole-day interval again and would hide exactly the pitfall the
data-interval rule exists to catch, so each module runs with the installed line's shipped defaults
(the ``production_scheduler_defaults`` fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _production_scheduler_defaults(production_scheduler_defaults: None) -> None:
    """Every module of this tier under the shipped scheduler defaults."""
