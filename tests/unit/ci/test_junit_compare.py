"""``.ci/junit_compare.py``: runs agree only when every test has the same outcome in each."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / ".ci" / "junit_compare.py"
spec = importlib.util.spec_from_file_location("junit_compare", SCRIPT)
junit_compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(junit_compare)


def report(directory: Path, env: str, cases: dict[str, str]) -> None:
    body = {"passed": "", "failed": "<failure message='x'/>", "error": "<error/>", "skipped": "<skipped/>"}
    xml = "".join(f'<testcase classname="t" name="{n}">{body[o]}</testcase>' for n, o in cases.items())
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{env}.xml").write_text(f"<testsuites><testsuite>{xml}</testsuite></testsuites>")


def test_identical_runs_agree(tmp_path, capsys):
    for run in ("a", "b"):
        report(tmp_path / run, "unit-af33", {"x": "passed", "y": "skipped", "z": "failed"})
    assert junit_compare.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "1/1/0/1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("second", "shown"),
    [
        ({"x": "passed", "y": "failed"}, "DIFFERS t::y: passed, failed"),
        ({"x": "passed"}, "DIFFERS t::y: passed, missing"),
        ({"x": "passed", "y": "passed", "w": "passed"}, "DIFFERS t::w: missing, passed"),
    ],
)
def test_a_changed_outcome_or_test_is_reported(tmp_path, capsys, second, shown):
    report(tmp_path / "a", "unit-af33", {"x": "passed", "y": "passed"})
    report(tmp_path / "b", "unit-af33", second)
    assert junit_compare.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert shown in capsys.readouterr().out


def test_a_missing_env_is_reported(tmp_path, capsys):
    report(tmp_path / "a", "unit-af33", {"x": "passed"})
    report(tmp_path / "a", "dags-af33", {"d": "passed"})
    report(tmp_path / "b", "unit-af33", {"x": "passed"})
    assert junit_compare.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "missing" in out
    row = next(line for line in out.splitlines() if line.startswith("dags-af33"))
    assert row.split()[1:] == ["1/0/0/0", "missing"]  # the env's row, not only its test's DIFFERS line
