"""Server section: page latency, start-up time and memory per dataset size, against the seed approach.

For every size the reference server is started from CSV (its columnar cache removed first) and
then from the cached columnar copy, ``startup_reps`` times each. A server started from the cache
then answers the latency runs; where the size is in ``baseline_sizes`` the seed-approach baseline
(``bench.seed_baseline``) is served by gunicorn with the same worker count next to it, and every
repetition times the *same* queries on both back to back, so each ratio is a pair from one
repetition. Both are also called in-process through their WSGI apps (no sockets), which isolates
the per-request work from HTTP overhead; the latency of an empty page over HTTP (the "HTTP floor")
shows how much of every HTTP figure is transport, and so the highest ratio any server could reach.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from . import columnar_cache, inprocess
from .datasets import Api, Datasets
from .processes import Memory, ServerProcess, baseline_server, reference_server
from .profile import Profile
from .stats import bounded, median, ratio
from .timing import Query, plan_queries, timed_run

log = logging.getLogger(__name__)
MB = 1024 * 1024
SWEEP_SECONDS = 180.0  # bound on reading every page once (about 25 s at 25M ratings)


def _mem(memory: Memory) -> dict[str, float]:
    return {"rss_mb": memory.rss / MB, "pss_mb": memory.pss / MB, "processes": memory.processes}


def _startup(ds_path: Path, logs: Path, profile: Profile) -> dict[str, Any]:
    """Start-up from CSV (cache removed first) and from the cache, ``startup_reps`` times each.

    Memory is read once every worker is up: after a CSV start the master holds the parsed arrays
    (workers share them copy-on-write), after a cache start the arrays are memory-mapped files.
    Once, after a CSV start, every page is then read and memory measured again: the worst case,
    with every memory-mapped page (the pre-rendered JSON above all) touched.
    """
    csv_s: list[float] = []
    cache_s: list[float] = []
    memory: dict[str, dict[str, float]] = {}
    for _ in bounded(profile.startup_reps, 600.0):
        for kind, runs in (("csv", csv_s), ("cache", cache_s)):
            if kind == "csv":
                columnar_cache.clear(ds_path)
            server = reference_server(ds_path, logs, workers=profile.workers, name=f"startup-{kind}")
            with server.start(timeout=300):
                runs.append(server.startup_seconds)
                server.wait_for_processes(1 + profile.workers)
                memory[kind] = _mem(server.memory())
                if kind == "csv" and "csv_read_all" not in memory:  # the worst case, measured once
                    api = Api(server.base_url)
                    read = api.read_everything(SWEEP_SECONDS)
                    api.close()
                    memory["csv_read_all"] = {**_mem(server.memory()), "records_read": read}
            if kind == "csv" and not columnar_cache.exists(ds_path):
                log.warning("no columnar cache appeared for %s after a start from CSV", ds_path)
    return {
        "csv_s": median(csv_s),
        "cache_s": median(cache_s),
        "csv_runs": csv_s,
        "cache_runs": cache_s,
        "cache_found": columnar_cache.exists(ds_path),
        "memory_after_csv_start": memory.get("csv", {}),
        "memory_after_cache_start": memory.get("cache", {}),
        "memory_after_reading_all": memory.get("csv_read_all", {}),
    }


def _same_pages(ref_url: str, base_url: str, queries: list) -> bool:
    """Do both servers return the same records for these queries? (fairness check)"""
    ref, base = Api(ref_url), Api(base_url)
    try:
        for q in queries:
            a = ref.page(q.start, q.end, q.offset, q.limit)
            b = base.page(q.start, q.end, q.offset, q.limit)
            if (a["total"], a["result"]) != (b["total"], b["result"]):
                return False
        return True
    finally:
        ref.close()
        base.close()


def measure_size(size: int, datasets: Datasets, logs: Path, profile: Profile) -> dict[str, Any]:
    """Every server figure for one dataset size."""
    ds = datasets.get(size)
    out: dict[str, Any] = {"size": size, "generate_s": ds.generate_seconds, "workers": profile.workers}
    log.info("server %s: start-up from CSV and cache", f"{size:,}")
    out["startup"] = _startup(ds.path, logs, profile)
    log.info("server %s: latency runs", f"{size:,}")
    with_baseline = size in profile.baseline_sizes
    ref = reference_server(ds.path, logs, workers=profile.workers).start(timeout=300)
    base: ServerProcess | None = None
    try:
        if with_baseline:
            base = baseline_server(ds.path, logs, workers=profile.workers).start(timeout=300)
            out["baseline_startup_s"] = base.startup_seconds
        api = Api(ref.base_url)
        first, stop = api.day_range()
        total = api.total(first, stop)
        api.close()
        out["window"] = {"start": first.isoformat(), "end": stop.isoformat(), "total": total}
        plans = {
            limit: plan_queries(first, stop, total, limit, profile.latency_requests, profile.seed)
            for limit in profile.limits
        }
        if base is not None:
            out["pages_identical"] = _same_pages(
                ref.base_url, base.base_url, [plans[limit][0] for limit in profile.limits]
            )
        per_limit: dict[str, Any] = {}
        for limit in profile.limits:
            per_limit[str(limit)] = {"ref_runs": [], "base_runs": [], "ratios": [], "errors": 0}
        # The HTTP floor: an empty page (start == end) costs the reference a window lookup and no
        # records, so its latency is what HTTP, the client and the framework cost on this machine.
        empty = [Query(first, first, 0, 1)] * profile.latency_requests
        floor_ms: list[float] = []
        for _ in bounded(profile.latency_reps, profile.latency_rep_seconds * 6 * len(profile.limits)):
            floor_ms.append(timed_run(ref.base_url, empty, profile.latency_rep_seconds).median_ms)
            for limit in profile.limits:
                entry = per_limit[str(limit)]
                run = timed_run(ref.base_url, plans[limit], profile.latency_rep_seconds)
                entry["ref_runs"].append(
                    {"median_ms": run.median_ms, "p99_ms": run.p99_ms, "n": len(run.latencies)}
                )
                entry["errors"] += run.errors
                if base is not None:
                    brun = timed_run(base.base_url, plans[limit], profile.latency_rep_seconds)
                    entry["base_runs"].append(
                        {"median_ms": brun.median_ms, "p99_ms": brun.p99_ms, "n": len(brun.latencies)}
                    )
                    entry["errors"] += brun.errors
                    entry["ratios"].append(ratio(brun.median_ms, run.median_ms))
        for entry in per_limit.values():
            entry["ref_median_ms"] = median([r["median_ms"] for r in entry["ref_runs"]])
            entry["ref_p99_ms"] = median([r["p99_ms"] for r in entry["ref_runs"]])
            if entry["base_runs"]:
                entry["base_median_ms"] = median([r["median_ms"] for r in entry["base_runs"]])
                entry["base_p99_ms"] = median([r["p99_ms"] for r in entry["base_runs"]])
                entry["ratio"] = median(entry["ratios"])
        out["limits"] = per_limit
        out["http_floor_ms"] = median(floor_ms)
        out["memory"] = _mem(ref.memory())  # steady state, after serving the latency runs
        if base is not None:
            out["baseline_memory"] = _mem(base.memory())
    finally:
        ref.stop()
        if base is not None:
            base.stop()
    if with_baseline:
        log.info("server %s: in-process comparison", f"{size:,}")
        out["inprocess"] = inprocess.compare(ds.path, plans, profile)
    return out


def run(datasets: Datasets, logs: Path, profile: Profile) -> dict[str, Any]:
    """The server section over every size of the profile."""
    started = time.perf_counter()
    sizes = {}
    for size in profile.server_sizes:
        log.info("server: %s ratings", f"{size:,}")
        sizes[str(size)] = measure_size(size, datasets, logs, profile)
    return {"sizes": sizes, "seconds": time.perf_counter() - started}
