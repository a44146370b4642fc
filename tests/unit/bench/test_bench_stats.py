"""The statistics and the bounded loop every benchmark figure goes through."""

from __future__ import annotations

import math

import pytest

from bench import stats


def test_percentile_interpolates_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 4.0
    assert stats.percentile(values, 50) == pytest.approx(2.5)
    assert stats.percentile(list(range(101)), 99) == pytest.approx(99.0)


def test_percentile_and_median_of_nothing_are_nan():
    assert math.isnan(stats.percentile([], 50))
    assert math.isnan(stats.median([]))


def test_ratio_is_nan_when_undefined():
    assert stats.ratio(10.0, 2.0) == 5.0
    assert math.isnan(stats.ratio(1.0, 0.0))
    assert math.isnan(stats.ratio(math.nan, 1.0))


def test_bounded_stops_at_count():
    assert list(stats.bounded(3, 60.0)) == [0, 1, 2]


def test_bounded_stops_when_time_is_up_but_runs_min_count():
    # max_seconds=0: the time is up before the first check, yet min_count iterations still run.
    assert list(stats.bounded(100, 0.0, min_count=2)) == [0, 1]
