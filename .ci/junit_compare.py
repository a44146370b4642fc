"""Compare the JUnit reports of several runs of the suite: the same tests, the same outcomes?

    python .ci/junit_compare.py RUN_DIR RUN_DIR [RUN_DIR ...]

Each RUN_DIR holds one run's ``<env>.xml`` reports (``reports/junit``). Prints per env the number
of tests and of each outcome in every run, then every test whose outcome differs between runs (or
that is missing from some). Exits 0 when all runs agree test by test, 1 otherwise. Used by
``.ci/repeat`` to show that the suite is deterministic.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

OUTCOMES = ("passed", "failed", "error", "skipped")
TAG_OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}  # first present wins


def outcomes(report: Path) -> dict[str, str]:
    """``classname::name`` -> outcome for every test case of one report."""
    result: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        key = f"{case.get('classname', '')}::{case.get('name', '')}"
        result[key] = next((o for tag, o in TAG_OUTCOMES.items() if tag in tags), "passed")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="directories of JUnit reports, one per run")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        parser.error("give at least two runs")
    runs = [{p.stem: outcomes(p) for p in sorted(d.glob("*.xml"))} for d in args.runs]
    envs = sorted(set().union(*runs))
    differences = 0
    print(f"{'env':<22}" + "".join(f"  run {i + 1:<18}" for i in range(len(runs))))
    for env in envs:
        cells = []
        for run in runs:
            counts = Counter(run.get(env, {}).values())
            cells.append("missing" if env not in run else "/".join(str(counts[o]) for o in OUTCOMES))
        print(f"{env:<22}" + "".join(f"  {cell:<22}" for cell in cells))
        names = sorted(set().union(*(run.get(env, {}) for run in runs)))
        for name in names:
            seen = [run.get(env, {}).get(name, "missing") for run in runs]
            if len(set(seen)) > 1:
                differences += 1
                print(f"  DIFFERS {name}: {', '.join(seen)}")
    print(f"(counts are {'/'.join(OUTCOMES)})")
    if differences:
        print(f"{differences} test(s) differ between the {len(runs)} runs")
        return 1
    print(f"all {len(runs)} runs agree, test by test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
