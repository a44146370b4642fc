"""The example DAGs in ``dags/`` follow every house rule on the installed Airflow line.

Run on both lines (``/work/venvs/af2`` and ``af3``); the rules themselves are in ``dag_rules.py`` and
are proven to catch faults by ``test_rules_catch_broken_dags.py``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from pathlib import Path

import pytest
from dag_rules import RULES, ParsedDags, first_scheduled_runs, parse_dags

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
EXAMPLE_DAG_IDS = {"01_python", "02_hook", "03_operator", "04_sensor", "05_pipeline"}
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def parsed() -> ParsedDags:
    return parse_dags(DAGS_FOLDER)


def _ignored(path: Path) -> bool:
    patterns = [
        line.strip()
        for line in (DAGS_FOLDER / ".airflowignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Each pattern must mean the same as regexp (Airflow 2's default) and as glob (Airflow 3's).
    return any(re.search(p, path.name) and fnmatch.fnmatch(path.name, p) for p in patterns)


@pytest.mark.parametrize("rule", list(RULES))
def test_example_dags_follow_rule(parsed: ParsedDags, rule: str) -> None:
    violations = RULES[rule](parsed)
    assert violations == [], "\n".join(map(str, violations))


def test_every_dag_file_defines_dags(parsed: ParsedDags) -> None:
    """No DAG file is skipped silently (e.g. by the safe-mode heuristic or a typo in .airflowignore)."""
    dag_files = {str(p) for p in DAGS_FOLDER.glob("*.py") if not _ignored(p)}
    assert dag_files == set(parsed.dag_ids_by_file)
    assert all(parsed.dag_ids_by_file[f] for f in dag_files)
    assert set(parsed.dags) == EXAMPLE_DAG_IDS


def test_helper_module_is_ignored_not_parsed() -> None:
    assert _ignored(DAGS_FOLDER / "movielens_common.py")
    assert not any(_ignored(p) for p in DAGS_FOLDER.glob("0*.py"))


@pytest.mark.parametrize("dag_id", sorted(EXAMPLE_DAG_IDS))
def test_first_runs_are_consecutive_utc_days_from_2019(parsed: ParsedDags, dag_id: str) -> None:
    runs = first_scheduled_runs(parsed.dags[dag_id], count=3)
    days = [dt.datetime(2019, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    assert [(logical, iv.start, iv.end) for logical, iv in runs] == [
        (days[i], days[i], days[i + 1]) for i in range(3)
    ]


@pytest.mark.parametrize("dag_id", sorted(EXAMPLE_DAG_IDS))
def test_house_conventions(parsed: ParsedDags, dag_id: str) -> None:
    dag = parsed.dags[dag_id]
    assert dag.start_date == dt.datetime(2019, 1, 1, tzinfo=UTC)
    assert dag.catchup is False
    assert "movielens" in dag.tags
    assert {task.owner for task in dag.tasks} == {"movielens"}
    connection_ids = {getattr(task, "conn_id", None) for task in dag.tasks} - {None}
    connection_ids |= {
        task.op_kwargs["conn_id"] for task in dag.tasks if "conn_id" in getattr(task, "op_kwargs", {})
    }
    assert connection_ids == {"movielens_default"}


def test_pipeline_shape(parsed: ParsedDags) -> None:
    dag = parsed.dags["05_pipeline"]
    assert {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks} == {
        "wait_for_ratings": ["fetch_ratings"],
        "fetch_ratings": ["rank_movies"],
        "rank_movies": [],
    }
    assert type(dag.task_dict["wait_for_ratings"]).__name__ == "MovielensRatingsSensor"
    assert type(dag.task_dict["fetch_ratings"]).__name__ == "MovielensFetchRatingsOperator"
    assert type(dag.task_dict["rank_movies"]).__name__ == "MovielensRankMoviesOperator"
