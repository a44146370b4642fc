"""Mutation testing of the provider with mutmut, with a score threshold (tox -e mutation).

    python .ci/mutation.py [--threshold 90] [--max-children N] [--timeout-minutes 25] [--keep]

Runs ``mutmut run`` (configuration: ``[tool.mutmut]`` in pyproject.toml) from a clean ``mutants/``
directory (``--keep`` reuses earlier results), then reports

    score = (killed + timeout) / (total - skipped)        # mutmut's own definition

lists every surviving mutant (and those no test covers) with its diff, writes
``reports/mutation.json`` and exits 1 when the score is under the threshold or the run exceeded
its time bound.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REPORT = REPO_ROOT / "reports" / "mutation.json"
NOT_KILLED = ("survived", "no tests", "suspicious", "segfault")


def mutmut(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Diffs of many mutants in one interpreter (one `mutmut show` process per mutant takes a second each).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
json.dump({name: get_diff_for_mutant(name) for name in json.load(sys.stdin)}, sys.stdout)
"""


def mutant_diffs(names: list[str]) -> dict[str, str]:
    """``{mutant: unified diff}``; falls back to ``mutmut show`` if mutmut's internals moved."""
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=REPO_ROOT,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return dict(json.loads(done.stdout))
    return {name: mutmut("show", name).stdout.strip() for name in names}


def parse_results(text: str) -> dict[str, str]:
    """``mutmut results --all true`` lines ``    name: status`` -> {name: status}."""
    results = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name and "__mutmut_" in name:
            results[name] = status.strip()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=90.0, help="minimum score in percent")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout-minutes", type=float, default=25.0, help="bound on `mutmut run`")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ from an earlier run")
    args = parser.parse_args()

    if not args.keep:
        shutil.rmtree(REPO_ROOT / "mutants", ignore_errors=True)
    started = time.monotonic()
    try:
        run = mutmut("run", "--max-children", str(args.max_children), timeout=args.timeout_minutes * 60)
    except subprocess.TimeoutExpired:
        print(f"mutation: FAIL: mutmut run exceeded {args.timeout_minutes:g} minutes", file=sys.stderr)
        return 1
    minutes = (time.monotonic() - started) / 60
    # mutmut redraws a progress line with carriage returns: keep only the final state of each line.
    print("\n".join(line.rsplit("\r", 1)[-1] for line in run.stdout.strip().splitlines()[-3:]))
    if run.returncode != 0:
        print(run.stderr[-4000:], file=sys.stderr)
        print(f"mutation: FAIL: mutmut run exited with {run.returncode}", file=sys.stderr)
        return 1

    stats_run = mutmut("export-cicd-stats")
    if stats_run.returncode != 0:
        print(stats_run.stdout + stats_run.stderr, file=sys.stderr)
        return 1
    stats = json.loads((REPO_ROOT / "mutants" / "mutmut-cicd-stats.json").read_text())
    tested = stats["total"] - stats["skipped"]
    score = 100.0 * (stats["killed"] + stats["timeout"]) / tested if tested > 0 else 0.0

    results = parse_results(mutmut("results", "--all", "true").stdout)
    weak = {name: status for name, status in results.items() if status in NOT_KILLED}
    print(f"\nmutants not killed ({len(weak)}):")
    diffs = mutant_diffs(sorted(weak))
    for name, status in sorted(weak.items()):
        print(f"\n--- {name} [{status}]\n{diffs.get(name, '(no diff)')}")

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "score": round(score, 2),
                "threshold": args.threshold,
                "minutes": round(minutes, 1),
                "stats": stats,
                "not_killed": [
                    {"mutant": n, "status": s, "diff": diffs.get(n, "")} for n, s in sorted(weak.items())
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"\nmutation score: {score:.1f}% ({stats['killed']} killed + {stats['timeout']} timeout of {tested}; "
        f"{stats['survived']} survived, {stats['no_tests']} without tests) in {minutes:.1f} min; "
        f"threshold {args.threshold:g}%; report {REPORT.relative_to(REPO_ROOT)}"
    )
    if score < args.threshold:
        print(f"mutation: FAIL: score {score:.1f}% is under {args.threshold:g}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
