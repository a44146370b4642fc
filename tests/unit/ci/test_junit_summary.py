"""``.ci/junit_summary.py``: every expected env ran tests, each integration env in the required mode."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / ".ci" / "junit_summary.py"
spec = importlib.util.spec_from_file_location("junit_summary", SCRIPT)
junit_summary = importlib.util.module_from_spec(spec)
sys.modules["junit_summary"] = junit_summary  # its dataclass looks itself up
spec.loader.exec_module(junit_summary)

ENVS = "unit-af33,integration-af211,integration-af33"


def report(directory: Path, env: str, mode: str | None = None, failures: int = 0) -> None:
    props = f'<properties><property name="integration_mode" value="{mode}"/></properties>' if mode else ""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{env}.xml").write_text(
        f'<testsuites><testsuite name="{env}" tests="2" failures="{failures}" errors="0" skipped="0" '
        f'time="1.5">{props}<testcase classname="t" name="a"/><testcase classname="t" name="b"/>'
        "</testsuite></testsuites>"
    )


def run(junit: Path, *extra: str) -> int:
    return junit_summary.main(["--expect", ENVS, *extra, str(junit)])


def test_every_env_ran_in_docker_mode(tmp_path, capsys):
    report(tmp_path, "unit-af33")
    report(tmp_path, "integration-af211", "docker")
    report(tmp_path, "integration-af33", "docker")
    assert run(tmp_path, "--integration-mode", "docker") == 0
    out = capsys.readouterr().out
    assert "integration-af211 servers ran as: docker" in out
    assert "integration-af33 servers ran as: docker" in out


def test_each_integration_env_must_record_the_mode(tmp_path, capsys):
    report(tmp_path, "unit-af33")
    report(tmp_path, "integration-af211", "docker")
    report(tmp_path, "integration-af33", "local")
    assert run(tmp_path) == 0  # without --integration-mode the mode is only shown
    assert run(tmp_path, "--integration-mode", "docker") == 1
    assert "integration-af33: ran as local, docker required" in capsys.readouterr().err


def test_missing_integration_report_or_failures_are_problems(tmp_path, capsys):
    report(tmp_path, "unit-af33", failures=1)
    report(tmp_path, "integration-af211", "docker")
    assert run(tmp_path, "--integration-mode", "docker") == 1
    err = capsys.readouterr().err
    assert "integration-af33: no JUnit report" in err
    assert "integration-af33: no report, docker mode required" in err
    assert "unit-af33: 1 failures, 0 errors" in err


def zone_report(directory: Path, env: str, zone: str | None) -> None:
    report(directory, env)
    if zone is not None:
        path = directory / f"{env}.xml"
        props = f'<properties><property name="time_zone" value="{zone}"/></properties>'
        path.write_text(path.read_text().replace('time="1.5">', f'time="1.5">{props}'))


def test_each_required_env_must_record_its_time_zone(tmp_path, capsys):
    zone_report(tmp_path, "unit-af33", "Asia/Seoul")
    zone_report(tmp_path, "integration-af211", "UTC")
    zone_report(tmp_path, "integration-af33", None)
    assert run(tmp_path) == 0  # without --time-zone the zone is not checked
    assert run(tmp_path, "--time-zone", "unit-af33=Asia/Seoul") == 0
    assert "unit-af33 ran in time zone: Asia/Seoul" in capsys.readouterr().out
    zones = ["--time-zone", "integration-af211=America/New_York", "--time-zone", "integration-af33=UTC"]
    assert run(tmp_path, *zones) == 1
    err = capsys.readouterr().err
    assert "integration-af211: ran in time zone UTC, America/New_York required" in err
    assert "integration-af33: ran in time zone (not recorded), UTC required" in err
    assert run(tmp_path, "--time-zone", "unit-af211=UTC") == 1
    assert "unit-af211: no report, time zone UTC required" in capsys.readouterr().err


def test_statuses_come_from_every_tox_log(tmp_path, capsys):
    # .ci/run runs `tox -e contract` (the README's main job) before `tox`, which then skips it.
    report(tmp_path, "unit-af33")
    main_log, tox_log = tmp_path / "main-job.log", tmp_path / "tox.log"
    main_log.write_text(
        "contract: OK ✔ in 31.5 seconds\n  contract: OK (31.50=setup[2.00]+cmd[29.50] seconds)\n"
    )
    tox_log.write_text(
        "  unit-af33: OK (90.00=setup[5.00]+cmd[85.00] seconds)\n  contract-tz: FAIL code 1 (9.5 seconds)\n"
    )
    code = junit_summary.main(
        [
            "--expect",
            "unit-af33,contract",
            "--tox-log",
            str(main_log),
            "--tox-log",
            str(tox_log),
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert [line.split()[:3] for line in out.splitlines()[1:4]] == [
        ["unit-af33", "OK", "90.0"],
        ["contract", "OK", "31.5"],
        ["contract-tz", "FAIL", "9.5"],
    ]
    assert "contract-tz: tox reported FAIL" in err


def test_the_airflow_free_unit_envs_must_leave_a_report(tmp_path, capsys):
    """unit-server and unit-contract are pytest tiers like the others: a missing report fails CI."""
    report(tmp_path, "unit-server")
    assert junit_summary.main(["--expect", "unit-server,unit-contract", str(tmp_path)]) == 1
    assert "unit-contract: no JUnit report" in capsys.readouterr().err


def test_the_deployment_tier_must_leave_a_report(tmp_path, capsys):
    """The deployment tier is a pytest env too: a run that left no report (or ran nothing) fails CI."""
    report(tmp_path, "unit-af33")
    assert junit_summary.main(["--expect", "unit-af33,deployment", str(tmp_path)]) == 1
    assert "deployment: no JUnit report" in capsys.readouterr().err
    report(tmp_path, "deployment")
    assert junit_summary.main(["--expect", "unit-af33,deployment", str(tmp_path)]) == 0
