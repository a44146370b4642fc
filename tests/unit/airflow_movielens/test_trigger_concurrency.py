"""Hundreds of triggers share one event loop: the point of checking with an async client.

300 triggers wait on a server that holds every answer for 0.5 s. Checked on one event loop they
overlap: the server sees (nearly) all of them at once and the batch takes about one delay. Checks in a
thread pool could overlap only as many as it has threads (the default pool: min(32, cores + 4)), so
300 * 0.5 s / 32 threads >= 4.7 s even with the largest default pool, and ~25 s on a 2-core machine.
The bounds leave room for a loaded machine: peak overlap > 32, wall time < 10 s.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from _loopback import LoopbackAPI, envelope, json_answer
from _provider_fakes import LOGIN, PASSWORD, set_connection

from airflow_movielens.triggers import MovielensRatingsTrigger

TRIGGERS = 300
DELAY = 0.5
DEFAULT_POOL_MAX = 32  # concurrent.futures.ThreadPoolExecutor's largest default max_workers


@pytest.fixture
def slow_api(monkeypatch):
    with LoopbackAPI(delay=DELAY, default=json_answer(envelope(1))) as server:
        set_connection(
            monkeypatch, host="127.0.0.1", port=server.port, schema="http", login=LOGIN, password=PASSWORD
        )
        yield server


def test_hundreds_of_triggers_wait_concurrently_on_one_loop(slow_api):
    async def first_event(trigger):
        async for event in trigger.run():
            return event.payload["status"]
        return "no event"

    async def run_all():
        # A generous connect timeout: hundreds of connections arrive at once on a shared machine.
        triggers = [
            MovielensRatingsTrigger(
                "movielens_default",
                "2024-01-01",
                "2024-01-02",
                hook_params={"timeout": [30, 30], "max_attempts": 1},
            )
            for _ in range(TRIGGERS)
        ]
        started = time.monotonic()
        statuses = await asyncio.wait_for(asyncio.gather(*map(first_event, triggers)), timeout=30)
        return statuses, time.monotonic() - started

    statuses, elapsed = asyncio.run(run_all())
    assert statuses == ["success"] * TRIGGERS
    assert len(slow_api.received) == TRIGGERS
    assert slow_api.peak > DEFAULT_POOL_MAX, f"only {slow_api.peak} checks overlapped"
    assert elapsed < 10, f"{TRIGGERS} checks of a {DELAY} s server took {elapsed:.1f} s"
