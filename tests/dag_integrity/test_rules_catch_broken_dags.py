"""Each house rule reports the deliberately broken DAG written for it, and only that rule does.

The fixtures in ``broken_dags/`` each break one rule and satisfy the others, so a rule that stopped
working, or one that fired on the wrong fault, fails here. Parsed by the installed Airflow line
itself (DagBag / BundleDagBag), as ``dags/`` is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dag_rules import (
    RULES,
    ParsedDags,
    Violation,
    check_all,
    check_data_intervals,
    check_no_cycles,
    parse_dags,
)

from airflow_movielens.compat import AIRFLOW_V3

BROKEN = Path(__file__).resolve().parent / "broken_dags"

#: rule -> (fixture files parsed together, the subject the violation must name)
CASES: dict[str, tuple[list[str], str]] = {
    "imports": (["import_error.py"], str(BROKEN / "import_error.py")),
    "no_parse_time_io": (["top_level_network.py"], str(BROKEN / "top_level_network.py")),
    "unique_dag_ids": (["duplicate_id_a.py", "duplicate_id_b.py"], "broken_duplicate_id"),
    "no_cycles": (["cycle.py"], str(BROKEN / "cycle.py")),
    "retries": (["no_retries.py"], "broken_no_retries.fails_on_first_error"),
    "owner": (["default_owner.py"], "broken_default_owner.nobody_owns_me"),
    "data_interval": (["zero_length_interval.py"], "broken_zero_length_interval"),
    "catchup": (["unbounded_catchup.py"], "broken_unbounded_catchup"),
    "tags": (["no_tags.py"], "broken_no_tags"),
}


def _rules_reporting(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def test_every_rule_has_a_broken_fixture() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", list(CASES))
def test_rule_reports_its_broken_dag_and_no_other_rule_does(rule: str) -> None:
    files, subject = CASES[rule]
    parsed = parse_dags(BROKEN, [BROKEN / name for name in files])

    violations = check_all(parsed)

    assert _rules_reporting(violations) == {rule}, "\n".join(map(str, violations))
    assert [v.subject for v in violations] == [subject]


def test_violation_details_say_what_is_wrong() -> None:
    parsed = parse_dags(BROKEN)  # the whole folder at once, as the DAG processor would see it
    details = {v.rule: v.detail for v in check_all(parsed)}

    assert "movielens_no_such_module" in details["imports"]
    assert details["no_parse_time_io"] == "name lookup('127.0.0.1', 9)"
    assert "duplicate_id_a.py" in details["unique_dag_ids"]
    assert "duplicate_id_b.py" in details["unique_dag_ids"]
    assert "Cycle detected" in details["no_cycles"]
    assert details["retries"] == "retries=0, expected >= 1"
    assert details["owner"].startswith("owner='airflow'")
    assert "CronTriggerTimetable" in details["data_interval"]
    assert "[2019-01-01T00:00:00+00:00, 2019-01-01T00:00:00+00:00)" in details["data_interval"]
    assert details["catchup"].startswith("catchup=True without end_date")


def test_whole_broken_folder_reports_every_rule_once_per_fixture() -> None:
    violations = check_all(parse_dags(BROKEN))
    assert sorted((v.rule, v.subject) for v in violations) == sorted(
        (rule, subject) for rule, (_, subject) in CASES.items()
    )


def _dag_module():  # the DAG class of the installed line
    if AIRFLOW_V3:
        from airflow.sdk import DAG
    else:
        from airflow.models.dag import DAG
    try:
        from airflow.providers.standard.operators.empty import EmptyOperator
    except ImportError:
        from airflow.operators.empty import EmptyOperator
    return DAG, EmptyOperator


def test_cycle_rule_also_checks_dags_built_in_code() -> None:
    """A DAG that never went through DagBag (which refuses cycles) is checked by graph traversal."""
    DAG, EmptyOperator = _dag_module()
    with DAG(
        "in_memory_cycle", schedule=None, start_date=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)
    ) as dag:
        a, b, c, d = (EmptyOperator(task_id=name) for name in "abcd")
        a >> b >> c >> b
        a >> d

    assert check_no_cycles(ParsedDags(dags={dag.dag_id: dag})) == [
        Violation("no_cycles", "in_memory_cycle", "cycle b >> c >> b")
    ]
    c.downstream_task_ids.discard("b")
    b.upstream_task_ids.discard("c")
    assert check_no_cycles(ParsedDags(dags={dag.dag_id: dag})) == []


@pytest.mark.parametrize("schedule", ["@daily", dt.timedelta(days=1)], ids=["string-daily", "timedelta"])
def test_shorthand_daily_schedule_is_flagged_on_airflow_3_only(schedule: object) -> None:
    """``"@daily"`` and ``timedelta(days=1)``: zero-length intervals on Airflow 3, a day on 2.11."""
    DAG, EmptyOperator = _dag_module()
    start = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)
    with DAG("shorthand_daily", schedule=schedule, start_date=start) as dag:
        EmptyOperator(task_id="t")

    violations = check_data_intervals(ParsedDags(dags={dag.dag_id: dag}))

    if AIRFLOW_V3:
        assert [v.subject for v in violations] == ["shorthand_daily"]
        assert "TriggerTimetable" in violations[0].detail  # CronTriggerTimetable / DeltaTriggerTimetable
    else:
        assert violations == []
