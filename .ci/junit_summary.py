"""Summarise a tox run from its JUnit reports and log, and check that every tier really ran.

    python .ci/junit_summary.py [--tox-log reports/ci/tox.log ...] [--expect ENV,ENV]
                                [--integration-mode docker] [--time-zone ENV=ZONE ...] reports/junit

Prints one line per env (tox status and seconds from the logs, a later log winning; tests,
failures, errors, skips from ``reports/junit/<env>.xml``) and exits 1 when a pytest env of the
default ``tox`` run (or of ``--expect``) has no report, ran no test, skipped every test, or reported
failures or errors; with
``--integration-mode``, also when an integration env (``integration-af211``, ``integration-af33``)
did not record that its servers ran in that mode; with ``--time-zone ENV=ZONE``, also when the
report of ENV does not record that its tests ran with ``TZ=ZONE`` (testsuite property ``time_zone``,
written by tests/conftest.py).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

PYTEST_ENV = re.compile(
    r"^((unit|property|dags|rendering|integration)-af\d+|unit-server|unit-contract|deployment)$"
)
INTEGRATION_ENV = re.compile(r"^integration-af\d+$")
TOX_RESULT = re.compile(r"^\s+(?P<env>\S+): (?P<status>OK|FAIL|SKIP)\b.*?\((?P<seconds>[\d.]+)")


@dataclass
class Counts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0


def suite_properties(path: Path) -> dict[str, str]:
    """The ``<property>`` entries of a report (``record_testsuite_property``)."""
    return {p.get("name", ""): p.get("value", "") for p in ET.parse(path).getroot().iter("property")}


def read_report(path: Path) -> Counts:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    counts = Counts()
    for suite in suites:
        counts.tests += int(suite.get("tests", 0))
        counts.failures += int(suite.get("failures", 0))
        counts.errors += int(suite.get("errors", 0))
        counts.skipped += int(suite.get("skipped", 0))
        counts.seconds += float(suite.get("time", 0.0))
    return counts


def tox_results(*logs: Path | None) -> dict[str, tuple[str, float]]:
    results: dict[str, tuple[str, float]] = {}
    for log in logs:
        if log is None or not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            match = TOX_RESULT.match(line)
            if match:
                results[match["env"]] = (match["status"], float(match["seconds"]))
    return results


def default_envs() -> list[str]:
    out = subprocess.run(["tox", "-l"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit_dir", type=Path)
    parser.add_argument(
        "--tox-log", type=Path, action="append", default=[], help="a tox run's output (repeatable)"
    )
    parser.add_argument("--expect", help="comma-separated envs that must have run (default: `tox -l`)")
    parser.add_argument(
        "--integration-mode",
        help="fail unless the report of every integration env (integration-af*.xml) records this mode",
    )
    parser.add_argument(
        "--time-zone",
        action="append",
        default=[],
        metavar="ENV=ZONE",
        help="fail unless the report of ENV records that its tests ran with TZ=ZONE (repeatable)",
    )
    args = parser.parse_args(argv)
    required_zones = dict(item.partition("=")[::2] for item in args.time_zone)
    if not all(required_zones) or not all(required_zones.values()):
        parser.error(f"--time-zone takes ENV=ZONE, got {args.time_zone}")

    envs = [env for env in args.expect.split(",") if env] if args.expect else default_envs()
    statuses = tox_results(*args.tox_log)
    problems: list[str] = []
    total = Counts()
    print(f"{'env':<20} {'tox':<5} {'seconds':>8} {'tests':>6} {'fail':>5} {'error':>5} {'skip':>5}")
    for env in envs + sorted(set(statuses) - set(envs)):
        status, seconds = statuses.get(env, ("?", 0.0))
        report = args.junit_dir / f"{env}.xml"
        if report.exists():
            c = read_report(report)
            total.tests += c.tests
            total.failures += c.failures
            total.errors += c.errors
            total.skipped += c.skipped
            row = f"{c.tests:>6} {c.failures:>5} {c.errors:>5} {c.skipped:>5}"
            print(f"{env:<20} {status:<5} {seconds:>8.1f} {row}")
            if c.tests == 0 or c.tests == c.skipped:
                problems.append(f"{env}: no test ran ({c.tests} collected, {c.skipped} skipped)")
            if c.failures or c.errors:
                problems.append(f"{env}: {c.failures} failures, {c.errors} errors")
        else:
            print(f"{env:<20} {status:<5} {seconds:>8.1f} {'-':>6} {'-':>5} {'-':>5} {'-':>5}")
            if PYTEST_ENV.match(env) and env in envs:
                problems.append(f"{env}: no JUnit report {report}")
        if status == "FAIL":
            problems.append(f"{env}: tox reported FAIL")
    print(
        f"{'total':<20} {'':<5} {sum(s for _, s in statuses.values()):>8.1f} {total.tests:>6} "
        f"{total.failures:>5} {total.errors:>5} {total.skipped:>5}"
    )
    integration_envs = sorted(
        {env for env in envs if INTEGRATION_ENV.match(env)}
        | {path.stem for path in args.junit_dir.glob("integration-*.xml") if INTEGRATION_ENV.match(path.stem)}
    )
    for env in integration_envs:
        report = args.junit_dir / f"{env}.xml"
        if report.exists():
            mode = suite_properties(report).get("integration_mode", "(not recorded)")
            print(f"{env} servers ran as: {mode}")
            if args.integration_mode and mode != args.integration_mode:
                problems.append(f"{env}: ran as {mode}, {args.integration_mode} required")
        elif args.integration_mode:
            problems.append(f"{env}: no report, {args.integration_mode} mode required")
    if args.integration_mode and not integration_envs:
        problems.append(f"no integration env ran, {args.integration_mode} mode required")
    for env, zone in required_zones.items():
        report = args.junit_dir / f"{env}.xml"
        if not report.exists():
            problems.append(f"{env}: no report, time zone {zone} required")
            continue
        recorded = suite_properties(report).get("time_zone", "(not recorded)")
        print(f"{env} ran in time zone: {recorded}")
        if recorded != zone:
            problems.append(f"{env}: ran in time zone {recorded}, {zone} required")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
