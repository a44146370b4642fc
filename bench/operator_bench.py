"""Operator section: peak resident memory writing N ratings, the operator next to the seed approach.

Each measurement runs in a fresh interpreter (``bench.operator_child``) so peaks do not mix. The
child takes its baseline after importing everything both modes need; the figure is the peak
resident set during the fetch minus that baseline (how the peak is read: ``operator_child``).
Windows holding about N ratings are found on the served dataset through the API's ``total``; the
actual counts are reported.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .datasets import Api, Datasets
from .hook_bench import connection_env
from .processes import REPO_ROOT, reference_server
from .profile import Profile
from .stats import bounded, median

log = logging.getLogger(__name__)
MB = 1024 * 1024


def _child(
    mode: str,
    base_url: str,
    start: str,
    end: str,
    batch: int,
    workdir: Path,
    airflow_home: Path,
    timeout: float,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=workdir, prefix="operator-out-") as out_dir:
        output = Path(out_dir) / "ratings.json"
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_MOVIELENS_DEFAULT": connection_env(base_url),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        argv = [
            sys.executable,
            "-m",
            "bench.operator_child",
            mode,
            base_url,
            start,
            end,
            str(batch),
            str(output),
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"operator child {mode} failed ({done.returncode}): {done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def run(datasets: Datasets, logs: Path, profile: Profile, airflow_home: Path) -> dict[str, Any]:
    """The operator section."""
    started = time.perf_counter()
    ds = datasets.get(profile.operator_source_size)
    counts: dict[str, Any] = {}
    errors: list[str] = []
    with reference_server(ds.path, logs, workers=profile.workers, name="operator").start(
        timeout=300
    ) as server:
        api = Api(server.base_url)
        windows = {n: api.window_with(n) for n in profile.operator_counts}
        api.close()
        for target, (first, end, total) in windows.items():
            runs: dict[str, list[dict[str, Any]]] = {"operator": [], "seed": []}
            for _ in bounded(
                profile.operator_reps, profile.operator_count_seconds, min(2, profile.operator_reps)
            ):
                for mode in ("operator", "seed"):
                    result = _child(
                        mode,
                        server.base_url,
                        first.isoformat(),
                        end.isoformat(),
                        profile.operator_batch_size,
                        datasets.workdir,
                        airflow_home,
                        profile.operator_timeout,
                    )
                    if result["count"] != total:
                        errors.append(f"{mode} wrote {result['count']} of {total}")
                    result["growth_bytes"] = result["peak_bytes"] - result["baseline_bytes"]
                    runs[mode].append(result)
            counts[str(target)] = {
                "window": {"start": first.isoformat(), "end": end.isoformat()},
                "records": total,
                **{
                    f"{mode}_{key}": median([r[src] for r in runs[mode]]) / scale
                    for mode in ("operator", "seed")
                    for key, src, scale in (
                        ("growth_mb", "growth_bytes", MB),
                        ("baseline_mb", "baseline_bytes", MB),
                        ("seconds", "seconds", 1),
                        ("output_mb", "output_bytes", MB),
                    )
                },
                "repetitions": len(runs["operator"]),
                "method": runs["operator"][0]["method"] if runs["operator"] else "",
            }
    return {
        "source_size": profile.operator_source_size,
        "batch_size": profile.operator_batch_size,
        "counts": counts,
        "errors": errors,
        "seconds": time.perf_counter() - started,
    }
