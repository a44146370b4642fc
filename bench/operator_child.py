"""One operator-memory measurement, run in its own interpreter by ``bench.operator_bench``.

``python -m bench.operator_child {operator|seed} BASE_URL START END BATCH OUTPUT``

Both modes import the same modules (Airflow, the provider, requests, json) and collect garbage
before the baseline is taken, so the baseline is the interpreter plus imports. The peak is the
process's resident high-water mark after the fetch; the figure is peak minus baseline.

The high-water mark is reset to the current resident size right before the fetch (Linux:
``echo 5 > /proc/self/clear_refs``), then read from ``VmHWM`` in ``/proc/self/status``. Plain
``ru_maxrss`` would hide the fetch: it keeps the import-time peak and, after fork + exec, even the
parent process's size. Where the reset is unavailable the child falls back to ``ru_maxrss`` and
says so (``method``). Prints one JSON line.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

PRELOADED = (
    "pendulum",
    "requests",
    "airflow_movielens.hooks",
    "airflow_movielens.operators",
    "bench.seed_client",
)


def _status_bytes(key: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` figure of this process in bytes, None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name == key:
                    return int(value.split()[0]) * 1024  # reported in kB
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the resident high-water mark to the current resident size (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _operator(start: str, end: str, batch: int, output: Path) -> int:
    import pendulum

    from airflow_movielens.operators import MovielensFetchRatingsOperator

    operator = MovielensFetchRatingsOperator(
        task_id="bench_fetch",
        conn_id="movielens_default",
        output_path=str(output),
        start_date=start,
        end_date=end,
        batch_size=batch,
    )
    context: dict[str, Any] = {
        "data_interval_start": pendulum.parse(start),
        "data_interval_end": pendulum.parse(end),
        "ds": start,
    }
    result = operator.execute(context)
    return int(result["count"])


def _seed(base_url: str, start: str, end: str, batch: int, output: Path) -> int:
    from bench.seed_client import naive_fetch_to_file

    conn = json.loads(os.environ["AIRFLOW_CONN_MOVIELENS_DEFAULT"])
    return naive_fetch_to_file(base_url, (conn["login"], conn["password"]), start, end, batch, output)


def main(argv: list[str]) -> int:
    mode, base_url, start, end, batch_s, output_s = argv
    for module in PRELOADED:  # the same imports in both modes, before the baseline
        importlib.import_module(module)

    gc.collect()
    baseline = _status_bytes("VmRSS") if _reset_peak() else None
    if baseline is not None:
        method, read_peak = "VmHWM after clear_refs reset", lambda: _status_bytes("VmHWM") or 0
    else:
        method, read_peak, baseline = "ru_maxrss", _maxrss_bytes, _maxrss_bytes()
    t0 = time.perf_counter()
    output = Path(output_s)
    if mode == "operator":
        count = _operator(start, end, int(batch_s), output)
    elif mode == "seed":
        count = _seed(base_url, start, end, int(batch_s), output)
    else:
        raise SystemExit(f"unknown mode {mode!r}: expected operator or seed")
    seconds = time.perf_counter() - t0
    peak = read_peak()
    print(
        json.dumps(
            {
                "mode": mode,
                "method": method,
                "count": count,
                "seconds": seconds,
                "baseline_bytes": baseline,
                "peak_bytes": peak,
                "output_bytes": output.stat().st_size,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
