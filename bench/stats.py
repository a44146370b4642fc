"""Small statistics and the bounded-repetition helper every measurement loop goes through.

Every loop in the benchmark is bounded both in count and in wall time, so a slow machine or a
regression makes the run shorter and noisier, never endless.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values (a section that could not run)."""
    return float(statistics.median(values)) if values else math.nan


def bounded(max_count: int, max_seconds: float, min_count: int = 1) -> Iterator[int]:
    """Yield 0, 1, ... at most ``max_count`` times, stopping once ``max_seconds`` have passed.

    At least ``min_count`` iterations run even when the time is up, so every figure has data.
    """
    start = time.perf_counter()
    for i in range(max_count):
        if i >= min_count and time.perf_counter() - start >= max_seconds:
            return
        yield i


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is zero."""
    if denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator
