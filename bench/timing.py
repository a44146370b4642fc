"""Timed page requests against a server, shared by the server and load sections."""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass

import requests

from .processes import PASSWORD, USER
from .stats import percentile


@dataclass(frozen=True)
class Query:
    """One ``GET /ratings`` page: a UTC day window and an offset/limit within it."""

    start: dt.date
    end: dt.date
    offset: int
    limit: int

    def params(self) -> dict[str, str]:
        return {
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat(),
            "offset": str(self.offset),
            "limit": str(self.limit),
        }

    def path(self) -> str:
        return "/ratings?" + "&".join(f"{k}={v}" for k, v in self.params().items())


def plan_queries(start: dt.date, end: dt.date, total: int, limit: int, count: int, seed: int) -> list[Query]:
    """``count`` pages of ``limit`` records at seeded random offsets across the whole window.

    The window covers every rating, so the seed approach's date masks scan the whole table.
    """
    rng = random.Random(f"{seed}-{total}-{limit}")
    top = max(total - limit, 0)
    return [Query(start, end, rng.randint(0, top), limit) for _ in range(count)]


@dataclass
class Run:
    """Latencies (seconds) of one repetition and how many requests failed."""

    latencies: list[float]
    errors: int

    @property
    def median_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


def timed_run(base_url: str, queries: list[Query], max_seconds: float, warmup: int = 3) -> Run:
    """Send the queries in order over one ``requests`` session, timing request to full body.

    The clock covers sending, the server's work, and receiving the whole body; it excludes
    decoding the JSON in the client. Stops early (bounded) after ``max_seconds``.
    """
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    latencies: list[float] = []
    errors = 0
    try:
        for query in queries[:warmup]:
            session.get(base_url + "/ratings", params=query.params(), timeout=60).raise_for_status()
        started = time.perf_counter()
        for query in queries:
            if latencies and time.perf_counter() - started > max_seconds:
                break
            t0 = time.perf_counter()
            try:
                response = session.get(base_url + "/ratings", params=query.params(), timeout=60)
                body = response.content
            except requests.RequestException:
                errors += 1
                continue
            elapsed = time.perf_counter() - t0
            if response.status_code != 200 or not body:
                errors += 1
                continue
            latencies.append(elapsed)
    finally:
        session.close()
    return Run(latencies, errors)
