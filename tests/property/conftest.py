"""Hypothesis profiles for the property tier and the connection the simulated servers answer on.

``HYPOTHESIS_PROFILE=ci`` (the default) is derandomised and bounded so CI is reproducible and quick;
``HYPOTHESIS_PROFILE=dev`` explores many more examples locally; ``HYPOTHESIS_PROFILE=mutation``
(tox -e mutation) runs the first quarter of ci's examples: every surviving mutant runs every
property test, and a mutant that breaks paging fails within the first few examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("mutation", parent=settings.get_profile("ci"), max_examples=50)
settings.register_profile("dev", parent=settings.get_profile("ci"), derandomize=False, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CONN_ENV = "AIRFLOW_CONN_MOVIELENS_DEFAULT"


@pytest.fixture(scope="session", autouse=True)
def movielens_connection() -> Iterator[None]:
    """A loopback connection for the whole session (hypothesis re-runs tests without new fixtures)."""
    previous = os.environ.get(CONN_ENV)
    os.environ[CONN_ENV] = json.dumps(
        {
            "conn_type": "movielens",
            "host": "127.0.0.1",
            "port": 5000,
            "schema": "http",
            "login": "airflow",
            "password": "airflow",
        }
    )
    yield
    if previous is None:
        os.environ.pop(CONN_ENV, None)
    else:
        os.environ[CONN_ENV] = previous
