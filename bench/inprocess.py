"""In-process comparison: both WSGI apps called directly, the same queries, no sockets.

Over HTTP both servers pay the same connection, parsing and transfer costs, which dilute the
ratio. Here each WSGI app is called directly with a WSGI environ built before the clock starts
(``werkzeug.test.EnvironBuilder``), and the clock covers the call and joining the body: the app's
own per-request work, i.e. the reference's index lookup + serialisation against the seed
approach's whole-table masks + ``to_dict`` + ``jsonify``.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

from . import columnar_cache, seed_baseline
from .processes import PASSWORD, USER
from .profile import Profile
from .stats import bounded, median, percentile, ratio
from .timing import Query

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def reference_app(data_dir: Path) -> Any:
    """The reference WSGI app over ``data_dir``."""
    from movielens_api.app import create_app
    from movielens_api.store import load_directory

    store = load_directory(data_dir, cache_dir=columnar_cache.cache_dir(data_dir))
    return create_app(store, user=USER, password=PASSWORD)


def _environ(query: Query) -> dict[str, Any]:
    builder = EnvironBuilder(path="/ratings", query_string=query.params(), headers=AUTH)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _call(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, bytes]:
    """One WSGI call on a fresh copy of ``environ`` (apps annotate the environ they get)."""
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(code)
        return lambda data: None

    env = dict(environ)
    env["wsgi.input"] = io.BytesIO()
    chunks = app(env, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return status[0], body


def _run(app: Callable[..., Any], queries: list[Query], max_seconds: float) -> list[float]:
    environs = [_environ(q) for q in queries]
    for environ in environs[:3]:  # warm-up
        _call(app, environ)
    latencies: list[float] = []
    started = time.perf_counter()
    for query, environ in zip(queries, environs, strict=True):
        if latencies and time.perf_counter() - started > max_seconds:
            break
        t0 = time.perf_counter()
        status, body = _call(app, environ)
        elapsed = time.perf_counter() - t0
        if not status.startswith("200") or not body:
            raise RuntimeError(f"in-process {query.path()} answered {status}")
        latencies.append(elapsed)
    return latencies


def compare(data_dir: Path, plans: dict[int, list[Query]], profile: Profile) -> dict[str, Any]:
    """Median per-request time of both apps per limit, with per-repetition ratios."""
    try:
        ref = reference_app(data_dir)
    except Exception as exc:  # reported in the table rather than failing the section
        return {"error": f"reference app unavailable in-process: {exc}"}
    base = seed_baseline.create_app(data_dir)
    count = min(profile.latency_requests, 50)
    limits: dict[str, Any] = {}
    for _ in bounded(profile.latency_reps, profile.latency_rep_seconds * 2 * len(plans)):
        for limit, queries in plans.items():
            entry = limits.setdefault(str(limit), {"ref": [], "base": [], "ratios": []})
            r = percentile(_run(ref, queries[:count], profile.latency_rep_seconds), 50) * 1000
            b = percentile(_run(base, queries[:count], profile.latency_rep_seconds), 50) * 1000
            entry["ref"].append(r)
            entry["base"].append(b)
            entry["ratios"].append(ratio(b, r))
    return {
        "requests_per_run": count,
        "limits": {
            limit: {
                "ref_median_ms": median(e["ref"]),
                "base_median_ms": median(e["base"]),
                "ratio": median(e["ratios"]),
            }
            for limit, e in limits.items()
        },
    }
