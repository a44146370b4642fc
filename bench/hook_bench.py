"""Hook section: records per second fetching one large window, next to the seed loop and a lower bound.

One reference server (started with ``--max-limit`` at least the window's size) answers all of them:

* ``MovielensHook.get_ratings`` with its default (``batch_size=None``: pages that grow towards the
  hook's cap) and with each explicit batch size;
* the seed's naive loop (``bench.seed_client.naive_ratings``) for the same batch sizes;
* the lower bound: a single request returning the whole window, read with ``http.client`` in
  one call and decoded with orjson (the leanest client at hand): no paging, no validation.

Every repetition runs all of them back to back; every hook-to-lower-bound ratio is taken per
repetition (the default's from a pair measured back to back, in alternating order), and each figure
is the median over repetitions.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from .datasets import Api, Datasets
from .processes import PASSWORD, USER, reference_server
from .profile import Profile
from .seed_client import naive_ratings
from .stats import bounded, median

log = logging.getLogger(__name__)


def connection_env(base_url: str) -> str:
    """``AIRFLOW_CONN_*`` JSON for a loopback reference server."""
    port = int(base_url.rsplit(":", 1)[1])
    return json.dumps(
        {
            "conn_type": "movielens",
            "host": "127.0.0.1",
            "port": port,
            "schema": "http",
            "login": USER,
            "password": PASSWORD,
        }
    )


def _hook_fetch(start: str, end: str, batch: int | None) -> int:
    """Fetch the window with ``MovielensHook.get_ratings``; ``batch=None`` is the hook's default."""
    from airflow_movielens.hooks import MovielensHook

    count = 0
    with MovielensHook("movielens_default") as hook:
        for _ in hook.get_ratings(start_date=start, end_date=end, batch_size=batch):
            count += 1
    return count


def _default_pages(start: str, end: str) -> list[int]:
    """The page sizes the hook's default path gets for the window (also the warm-up)."""
    from airflow_movielens.hooks import MovielensHook

    with MovielensHook("movielens_default") as hook:
        return [len(page.records) for page in hook.iter_ratings_pages(start_date=start, end_date=end)]


def _naive_fetch(base_url: str, start: str, end: str, batch: int) -> int:
    return sum(1 for _ in naive_ratings(base_url, (USER, PASSWORD), start, end, batch))


def _one_request(base_url: str, start: str, end: str, total: int) -> int:
    """The whole window in one response, read with the leanest client at hand.

    ``http.client`` reads the body in one call and orjson decodes it: no per-chunk iteration as in
    ``requests``, which on a body of tens of MB costs as much as the server's own work and would
    make this "lower bound" easy to beat.
    """
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    query = urlencode({"start_date": start, "end_date": end, "offset": 0, "limit": total})
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    try:
        conn.request("GET", f"/ratings?{query}", headers={"Authorization": _basic_auth()})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"one-request fetch answered {response.status}: {body[:200]!r}")
    finally:
        conn.close()
    return sum(1 for _ in orjson.loads(body)["result"])


def _basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _timed(fn: Any, *args: Any) -> tuple[float, int]:
    t0 = time.perf_counter()
    count = fn(*args)
    return time.perf_counter() - t0, count


def run(datasets: Datasets, logs: Path, profile: Profile) -> dict[str, Any]:
    """The hook section."""
    started = time.perf_counter()
    ds = datasets.get(profile.hook_size)
    # One server for everything: its max limit (the dataset size) lets one request hold any window.
    max_limit = max(profile.hook_size, *profile.hook_batch_sizes)
    server = reference_server(ds.path, logs, workers=profile.workers, max_limit=max_limit, name="hook")
    server.start(timeout=300)
    try:
        api = Api(server.base_url)
        first, end, total = api.window_with(profile.hook_window_records)
        api.close()
    except BaseException:
        server.stop()
        raise
    start_s, end_s = first.isoformat(), end.isoformat()
    reps: list[dict[str, Any]] = []
    mismatches: list[str] = []
    old_conn = os.environ.get("AIRFLOW_CONN_MOVIELENS_DEFAULT")
    with server:
        os.environ["AIRFLOW_CONN_MOVIELENS_DEFAULT"] = connection_env(server.base_url)
        try:
            _hook_fetch(start_s, end_s, max(profile.hook_batch_sizes))  # warm-up (imports, pages)
            default_pages = _default_pages(start_s, end_s)
            if sum(default_pages) != total:
                mismatches.append(f"hook default (pages): {sum(default_pages)} != {total}")
            for index in bounded(profile.hook_reps, profile.hook_seconds):
                rep: dict[str, Any] = {"hook": {}, "naive": {}}
                # The default and the single request back to back, alternating which goes first, so
                # their ratio (the default's target) is not skewed by drifting load on a shared machine.
                pair = [
                    ("default", _hook_fetch, (start_s, end_s, None)),
                    ("one_request", _one_request, (server.base_url, start_s, end_s, total)),
                ]
                for kind, fn, args in pair if index % 2 == 0 else pair[::-1]:
                    seconds, count = _timed(fn, *args)
                    if count != total:
                        mismatches.append(f"{kind}: {count} != {total}")
                    rep[kind] = seconds
                for batch in profile.hook_batch_sizes:
                    for kind, fn, args in (
                        ("hook", _hook_fetch, (start_s, end_s, batch)),
                        ("naive", _naive_fetch, (server.base_url, start_s, end_s, batch)),
                    ):
                        seconds, count = _timed(fn, *args)
                        if count != total:
                            mismatches.append(f"{kind} batch {batch}: {count} != {total}")
                        rep[kind][str(batch)] = seconds
                bound = rep["one_request"]
                rep["default_vs_bound"] = rep["default"] / bound
                rep["batch_vs_bound"] = {b: t / bound for b, t in rep["hook"].items()}
                rep["hook_vs_bound"] = min(rep["hook"].values()) / bound
                reps.append(rep)
        finally:
            if old_conn is None:
                os.environ.pop("AIRFLOW_CONN_MOVIELENS_DEFAULT", None)
            else:
                os.environ["AIRFLOW_CONN_MOVIELENS_DEFAULT"] = old_conn

    def rps(kind: str, batch: int) -> float:
        return total / median([r[kind][str(batch)] for r in reps])

    batches = {
        str(b): {
            "hook_rps": rps("hook", b),
            "naive_rps": rps("naive", b),
            "vs_one_request": median([r["batch_vs_bound"][str(b)] for r in reps]),
        }
        for b in profile.hook_batch_sizes
    }
    best = max(profile.hook_batch_sizes, key=lambda b: batches[str(b)]["hook_rps"])
    default_vs_bound = median([r["default_vs_bound"] for r in reps])
    return {
        "size": profile.hook_size,
        "window": {"start": start_s, "end": end_s, "total": total},
        "max_limit": max_limit,
        "batches": batches,
        "one_request_rps": total / median([r["one_request"] for r in reps]),
        "best_batch": best,
        "hook_vs_bound": median([r["hook_vs_bound"] for r in reps]),
        "default": {
            "hook_rps": total / median([r["default"] for r in reps]),
            "vs_one_request": default_vs_bound,
            "pages": default_pages,
        },
        "default_vs_bound": default_vs_bound,
        "ratios_by_repetition": [{"default": r["default_vs_bound"], **r["batch_vs_bound"]} for r in reps],
        "repetitions": len(reps),
        "mismatches": mismatches,
        "seconds": time.perf_counter() - started,
    }
