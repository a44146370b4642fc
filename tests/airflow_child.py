"""A child Airflow process set up as a user would have it: for tiers that run ``airflow`` or ``dag.test()``.

``dag.test()`` needs a migrated metadata DB and the DAG files inside the configured DAGs folder; a
child process gets both from a temporary ``AIRFLOW_HOME`` (SQLite) and never sees the test
process's own Airflow settings, connections or variables.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

_PARENT_AIRFLOW_SETTINGS = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")


def child_environment(home: Path, dags_folder: Path, **extra: str) -> dict[str, str]:
    """The parent's environment without its Airflow settings, plus a fresh home, DB and DAGs folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_PARENT_AIRFLOW_SETTINGS) and key != "AIRFLOW_CONFIG"
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            **extra,
        }
    )
    return env


def run_child(cmd: list[str], env: dict[str, str], what: str, timeout_s: float) -> str:
    """Run ``cmd``; its stdout, or a test failure quoting the end of its output."""
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} exited with {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done.stdout
