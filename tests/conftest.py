"""Test-suite wide setup: an isolated Airflow home, and each test's tier marker from its directory.

The environment is prepared when this module is imported, which pytest does before it imports any
test module, so Airflow (imported by the tests) reads its configuration from a fresh temporary
AIRFLOW_HOME with unit-test mode on, no example DAGs and this repository's ``dags/`` folder, and
never sees the developer's own Airflow settings, connections or variables.

The tests run in whatever zone ``TZ`` names (tox.ini runs some tiers outside UTC); a ``TZ`` that is
not in effect for this process (a zone missing from the tz database, which libc silently reads as
UTC) stops the run instead of letting it pass in UTC, and each JUnit report records the zone
(testsuite property ``time_zone``), which ``.ci/junit_summary.py --time-zone`` checks.

Unit-test mode also changes a few scheduling settings (see :data:`PRODUCTION_SCHEDULER_DEFAULTS`);
a tier whose tests must observe what a production deployment does requests the
``production_scheduler_defaults`` fixture (the DAG-integrity and rendering tiers do, from their
``conftest.py``).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import time
import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent


KEEP_ASGIREF_EXECUTOR_ENV = "MOVIELENS_TEST_KEEP_ASGIREF_EXECUTOR"


def _fresh_asgiref_executor_after_fork() -> None:
    """Give a forked child a working asgiref "thread-sensitive" executor (test runners fork).

    asgiref runs ``sync_to_async(thread_sensitive=True)`` work (Airflow 3.3's
    ``BaseHook.aget_connection`` does, for connections from the environment) on one class-level
    ``ThreadPoolExecutor``. Its worker thread does not exist in a forked child, which inherits the
    executor and then waits for ever on the first submission. Forking test runners (mutmut forks a
    child per mutant after a warm-up run) would hang on every trigger test; the provider itself
    never forks after a trigger ran. A test of the provider's own fork safety sets
    ``KEEP_ASGIREF_EXECUTOR_ENV`` so that its child inherits the executor as a real one would.
    """
    if os.environ.get(KEEP_ASGIREF_EXECUTOR_ENV):
        return
    try:
        from asgiref.sync import SyncToAsync
    except ImportError:  # the server and contract tiers run without asgiref
        return
    from concurrent.futures import ThreadPoolExecutor

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


os.register_at_fork(after_in_child=_fresh_asgiref_executor_after_fork)
REPO_ROOT = TESTS_DIR.parent

# Directory under tests/ -> marker (declared in pyproject.toml). A test anywhere else under tests/
# would belong to no tier (and so to no tox env), so collection refuses it.
TIER_BY_DIRECTORY = {
    "unit": "unit",
    "property": "property",
    "dag_integrity": "dag_integrity",
    "rendering": "rendering",
    "integration": "integration",
    "deployment": "deployment",
}

#: Scheduling settings that Airflow's ``unit_tests.cfg`` (unit-test mode) turns on. Airflow 3 ships
#: them off; turned on, they make a bare ``schedule="@daily"`` a whole-day interval again, which would
#: hide the pitfall the DAG-integrity and rendering tiers exist to catch (Airflow 2.11 ships them on).
PRODUCTION_SCHEDULER_DEFAULTS = (
    ("scheduler", "create_cron_data_intervals"),
    ("scheduler", "create_delta_data_intervals"),
)


def _isolate_airflow() -> Path:
    """Point Airflow at a fresh temp home; drop inherited Airflow settings, connections, variables."""
    for key in list(os.environ):
        if key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) or key == "AIRFLOW_CONFIG":
            del os.environ[key]
    home = Path(tempfile.mkdtemp(prefix="airflow-movielens-home-"))
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        }
    )
    return home


AIRFLOW_HOME = _isolate_airflow()
_OWNER_PID = os.getpid()  # forked runners (mutmut) must not delete the home under their siblings


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


#: Midnight UTC of 2019-01-01 and 2019-07-01: winter and summer, for zones with daylight saving time.
_PROBE_STAMPS = (1_546_300_800, 1_561_939_200)


def time_zone_label() -> str:
    """The zone the tests run in: ``TZ`` if set, else the machine's (libc's abbreviation)."""
    return os.environ.get("TZ") or f"(machine) {time.tzname[0]}"


def time_zone_problem() -> str | None:
    """Why the zone ``TZ`` names is not the one in effect for this process, or ``None``."""
    name = os.environ.get("TZ", "")
    key = name.removeprefix(":")
    if not key:
        return None
    try:
        zone = zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if "/" in key:  # an Area/Location name; anything else may be a POSIX TZ string such as EST5EDT
            return f"TZ={name} names no zone of the tz database (is tzdata installed?)"
        return None
    for stamp in _PROBE_STAMPS:
        expected = datetime.fromtimestamp(stamp, zone).utcoffset()
        actual = time.localtime(stamp).tm_gmtoff
        if expected is None or actual != expected.total_seconds():
            wanted = None if expected is None else int(expected.total_seconds())
            return (
                f"TZ={name} is not in effect: the C library's UTC offset at {stamp} is {actual}s, the tz "
                f"database's {wanted}s, so the tests would run in another zone (is tzdata installed?)"
            )
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a ``TZ`` that is not in effect, and two test modules with one basename under tests/.

    The tiers run in separate tox envs, but a plain ``pytest`` collects them together, and pytest
    imports test modules (which have no packages here) by basename: a second ``test_x.py`` would
    fail collection there. Checking every tier makes the clash fail in tox too.
    """
    problem = time_zone_problem()
    if problem:
        raise pytest.UsageError(problem)
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted(TESTS_DIR.rglob("*.py")):
        if not path.name.startswith("test_") or "__pycache__" in path.parts:
            continue
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(REPO_ROOT)} and {path.relative_to(REPO_ROOT)}")
        seen.setdefault(path.name, path)
    if clashes:
        raise pytest.UsageError("test modules need unique basenames: " + "; ".join(clashes))


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"airflow-movielens: apache-airflow {_version('apache-airflow')}, AIRFLOW_HOME={AIRFLOW_HOME}",
        f"hypothesis profile: {os.environ.get('HYPOTHESIS_PROFILE', '(default)')}",
        f"time zone: {time_zone_label()} (UTC{time.strftime('%z')} now)",
    ]


@pytest.fixture(scope="session", autouse=True)
def _record_time_zone(record_testsuite_property) -> None:
    """Record the zone in the JUnit report (testsuite property ``time_zone``)."""
    record_testsuite_property("time_zone", time_zone_label())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/<tier>/ with its tier marker; refuse tests outside a tier."""
    misplaced = []
    for item in items:
        try:
            parts = item.path.resolve().relative_to(TESTS_DIR).parts
        except ValueError:
            continue  # not under tests/ (e.g. the contract suite's own modules)
        tier = TIER_BY_DIRECTORY.get(parts[0]) if len(parts) > 1 else None
        if tier is None:
            misplaced.append(item.nodeid)
            continue
        item.add_marker(getattr(pytest.mark, tier))
    if misplaced:
        raise pytest.UsageError(
            "tests must live in a tier directory ("
            + ", ".join(f"tests/{d}/" for d in TIER_BY_DIRECTORY)
            + "); found: "
            + ", ".join(misplaced)
        )


@pytest.fixture(scope="module")
def production_scheduler_defaults() -> Iterator[None]:
    """:data:`PRODUCTION_SCHEDULER_DEFAULTS` at the installed Airflow line's shipped values.

    Set as ``AIRFLOW__SCHEDULER__*`` environment variables for one test module, restored after it.
    A setting the installed line does not know (no shipped default) is left alone.
    """
    from airflow.configuration import conf  # not at import time: the environment is set up first

    with pytest.MonkeyPatch.context() as patch:
        for section, key in PRODUCTION_SCHEDULER_DEFAULTS:
            default = conf.get_default_value(section, key)
            if default is None:  # Airflow 3.0 and 3.1 drop the defaults in unit-test mode: config.yml's
                option = conf.configuration_description.get(section, {}).get("options", {}).get(key, {})
                default = option.get("default")
            if default is not None:
                patch.setenv(f"AIRFLOW__{section.upper()}__{key.upper()}", str(default))
        yield


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.getpid() == _OWNER_PID:
        shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
