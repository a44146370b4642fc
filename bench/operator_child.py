"""One operator-memory measurement, run in its own interpreter by ``bench.operator_bench``.

``python -m bench.operator_child {operator|seed} BASE_URL START END BATCH OUTPUT``

Both modes import the same modules (Airflow, the provider, requests, json) before the baseline is
taken, so the baseline is the interpreter plus imports. Peak is ``ru_maxrss`` (the process's
resident high-water mark) after the fetch; the figure is peak minus baseline. Prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


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

    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_MOVIELENS_DEFAULT"])
    return naive_fetch_to_file(base_url, (conn["login"], conn["password"]), start, end, batch, output)


def main(argv: list[str]) -> int:
    mode, base_url, start, end, batch_s, output_s = argv
    # Same imports in both modes, before the baseline.
    import airflow_movielens.operators
    import pendulum  # noqa: F401
    import requests  # noqa: F401

    import airflow_movielens.hooks  # noqa: F401
    import bench.seed_client  # noqa: F401

    gc.collect()
    baseline = _maxrss_bytes()
    t0 = time.perf_counter()
    output = Path(output_s)
    if mode == "operator":
        count = _operator(start, end, int(batch_s), output)
    elif mode == "seed":
        count = _seed(base_url, start, end, int(batch_s), output)
    else:
        raise SystemExit(f"unknown mode {mode!r}: expected operator or seed")
    seconds = time.perf_counter() - t0
    peak = _maxrss_bytes()
    print(
        json.dumps(
            {
                "mode": mode,
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
