"""Load section: N concurrent loopback clients for a bounded time; throughput, p99 and errors.

Each client is an asyncio task with its own ``httpx.AsyncClient`` (its own connection), sending
``GET /ratings`` pages of ``load_limit`` records at seeded random offsets across the whole dataset,
one after another, until the deadline. A request counts as an error when it raises (timeout,
reset, refused), answers anything but 200, or returns a page whose length or ``total`` is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from .datasets import Api, Datasets
from .processes import PASSWORD, USER, reference_server
from .profile import Profile
from .stats import percentile
from .timing import Query

log = logging.getLogger(__name__)


async def _client(
    client: httpx.AsyncClient, rng: random.Random, window: tuple[Any, Any, int], limit: int, deadline: float
) -> tuple[list[float], dict[str, int]]:
    start, end, total = window
    latencies: list[float] = []
    errors: dict[str, int] = {}
    while time.perf_counter() < deadline:
        query = Query(start, end, rng.randint(0, max(total - limit, 0)), limit)
        t0 = time.perf_counter()
        try:
            response = await client.get("/ratings", params=query.params())
            body = response.content
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
            errors[kind] = errors.get(kind, 0) + 1
            continue
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            kind = f"HTTP {response.status_code}"
            errors[kind] = errors.get(kind, 0) + 1
            continue
        page = orjson.loads(body)
        if page["total"] != total or len(page["result"]) != min(limit, total - query.offset):
            errors["wrong page"] = errors.get("wrong page", 0) + 1
            continue
        latencies.append(elapsed)
    return latencies, errors


async def _load(
    base_url: str, window: tuple[Any, Any, int], clients: int, seconds: float, limit: int, seed: int
) -> dict[str, Any]:
    # Clients are built before the clock starts (httpx sets up an SSL context per client, which
    # would otherwise eat the first seconds); verify=False because loopback HTTP never uses TLS.
    pool = [
        httpx.AsyncClient(base_url=base_url, auth=(USER, PASSWORD), timeout=httpx.Timeout(30.0), verify=False)
        for _ in range(clients)
    ]
    try:
        started = time.perf_counter()
        deadline = started + seconds
        results = await asyncio.gather(
            *(
                _client(client, random.Random(f"{seed}-{i}"), window, limit, deadline)
                for i, client in enumerate(pool)
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    latencies = [lat for lats, _ in results for lat in lats]
    errors: dict[str, int] = {}
    for _, errs in results:
        for kind, n in errs.items():
            errors[kind] = errors.get(kind, 0) + n
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": len(latencies),
        "throughput_rps": len(latencies) / elapsed,
        "records_per_s": len(latencies) * limit / elapsed,
        "median_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def run(datasets: Datasets, logs: Path, profile: Profile) -> dict[str, Any]:
    """The load section."""
    started = time.perf_counter()
    ds = datasets.get(profile.load_size)
    levels = []
    with reference_server(ds.path, logs, workers=profile.workers, name="load").start(timeout=300) as server:
        api = Api(server.base_url)
        first, stop = api.day_range()
        window = (first, stop, api.total(first, stop))
        api.close()
        for clients in profile.load_clients:
            log.info("load: %d clients for %.0f s", clients, profile.load_seconds)
            levels.append(
                asyncio.run(
                    _load(
                        server.base_url,
                        window,
                        clients,
                        profile.load_seconds,
                        profile.load_limit,
                        profile.seed,
                    )
                )
            )
        memory = server.memory()
    return {
        "size": profile.load_size,
        "limit": profile.load_limit,
        "workers": profile.workers,
        "levels": levels,
        "memory_rss_mb": memory.rss / 1024 / 1024,
        "seconds": time.perf_counter() - started,
    }
