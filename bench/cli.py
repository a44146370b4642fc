"""``python -m bench``: run the sections, then write ``RESULTS.md``, ``results.json`` and PNG plots."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import orjson

from .processes import REPO_ROOT
from .profile import FULL, QUICK

SECTIONS = ("server", "hook", "operator", "load")
log = logging.getLogger("bench")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and few repetitions (CI smoke run)")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results directory (default: bench/results, or bench/results/raw/quick with --quick)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where generated datasets live, outside the repo; kept and reused across runs "
        "(default: a temporary directory removed afterwards)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    for noisy in ("httpx", "httpcore", "urllib3"):  # one line per request would swamp the log
        logging.getLogger(noisy).setLevel(logging.WARNING)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        _parser().error(f"--only: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    profile = QUICK if args.quick else FULL
    out = (args.out or (REPO_ROOT / "bench" / "results" / ("raw/quick" if args.quick else ""))).resolve()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="movielens-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # An isolated Airflow home: the hook and operator only need env-var connections.
    airflow_home = workdir / "airflow-home"
    airflow_home.mkdir(exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

    from . import hook_bench, load_bench, operator_bench, report, server_bench
    from .datasets import Datasets
    from .machine import cpu_snapshot, facts, load_average, other_cpu

    started = time.perf_counter()
    results: dict[str, Any] = {
        "profile": profile.name,
        "sections": only,
        "load_average_start": load_average(),
    }
    logs = workdir / "logs"
    failed = False
    try:
        datasets = Datasets(workdir, profile.seed)
        runners = {
            "server": lambda: server_bench.run(datasets, logs, profile),
            "hook": lambda: hook_bench.run(datasets, logs, profile),
            "operator": lambda: operator_bench.run(datasets, logs, profile, airflow_home),
            "load": lambda: load_bench.run(datasets, logs, profile),
        }
        for name in SECTIONS:
            if name not in only:
                continue
            log.info("section %s ...", name)
            t0 = time.perf_counter()
            before = cpu_snapshot()
            try:
                results[name] = runners[name]()
            except Exception as exc:  # one failed section must not lose the others' figures
                failed = True
                log.error("section %s failed: %s", name, exc)
                results[name] = {"error": "".join(traceback.format_exception_only(type(exc), exc)).strip()}
                log.debug("%s", traceback.format_exc())
            results[name]["contention"] = other_cpu(before, cpu_snapshot())
            log.info(
                "section %s done in %.0f s (other processes used %.0f%% of the CPUs meanwhile)",
                name,
                time.perf_counter() - t0,
                100 * results[name]["contention"]["other_share"],
            )
        results["seconds"] = time.perf_counter() - started
        out.mkdir(parents=True, exist_ok=True)
        machine = facts(REPO_ROOT)
        (out / "results.json").write_bytes(
            orjson.dumps({"machine": machine, **results}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        )
        pngs = report.plot(results, out)
        (out / "RESULTS.md").write_text(report.markdown(results, machine, pngs))
        log.info("wrote %s (%d plots) in %.0f s", out / "RESULTS.md", len(pngs), results["seconds"])
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0
