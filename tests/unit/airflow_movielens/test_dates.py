"""Window helpers: coercion edge cases, default_args detection and the empty-window explanation."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo

import pytest

from airflow_movielens.dates import (
    DEFAULT_END_DATE,
    DEFAULT_START_DATE,
    coerce_date,
    coerce_window,
    empty_window_message,
    window_argument,
)


def test_none_stays_unbounded():
    assert coerce_date(None, "start_date") is None
    assert coerce_window(None, "2024-01-01") == (None, "2024-01-01")
    assert coerce_window("2024-01-01", None) == ("2024-01-01", None)


def test_equal_bounds_are_an_empty_but_valid_window():
    assert coerce_window(date(2024, 1, 1), "2024-01-01") == ("2024-01-01", "2024-01-01")


def test_error_names_the_argument():
    with pytest.raises(ValueError, match=r"^end_date must be a date as YYYY-MM-DD, got '2024-1-1'$"):
        coerce_date("2024-1-1", "end_date")
    with pytest.raises(ValueError, match=r"^start_date is not a valid calendar date: '2023-02-29'$"):
        coerce_date("2023-02-29", "start_date")
    with pytest.raises(TypeError, match=r"^start_date must be .* got float$"):
        coerce_date(1.5, "start_date")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^start_date \(2024-01-02\) is after end_date \(2024-01-01\)"):
        coerce_window("2024-01-02", "2024-01-01")


def test_window_argument_ignores_default_args_value():
    dag_start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    default_args = {"start_date": dag_start}
    assert window_argument(dag_start, "start_date", default_args, DEFAULT_START_DATE) == DEFAULT_START_DATE
    assert window_argument(None, "end_date", default_args, DEFAULT_END_DATE) == DEFAULT_END_DATE
    other = datetime(2020, 1, 1, tzinfo=timezone.utc)  # equal but passed explicitly: kept
    assert window_argument(other, "start_date", default_args, DEFAULT_START_DATE) is other
    assert window_argument("2024-01-01", "start_date", None, DEFAULT_START_DATE) == "2024-01-01"
    assert window_argument("{{ ds }}", "end_date", default_args, DEFAULT_END_DATE) == "{{ ds }}"


def test_empty_window_message_explains_the_fix():
    assert empty_window_message("2024-03-01") == (
        "The window [2024-03-01, 2024-03-01) is empty because start_date == end_date. On Airflow 3 a "
        "schedule such as '@daily' or timedelta(days=1) makes zero-length data intervals; schedule with "
        "CronDataIntervalTimetable('@daily', timezone='UTC') or "
        "DeltaDataIntervalTimetable(timedelta(days=1)) to get [day, next day)."
    )


class _NoOffset(tzinfo):
    """A tzinfo whose ``utcoffset`` is ``None``: Python treats such a datetime as naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None


def test_aware_datetimes_use_utc_whatever_the_machine_timezone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        # 20:00 UTC on the 5th is already the 6th in Seoul (and in the machine's local time).
        evening = datetime(2024, 1, 5, 18, 0, tzinfo=timezone(timedelta(hours=-2)))
        assert coerce_date(evening, "end_date") == "2024-01-05"
        assert coerce_date(datetime(2024, 1, 5, 23, 30), "end_date") == "2024-01-05"  # naive: as UTC
        # A tzinfo without an offset makes the value naive too: 03:00 stays the 5th (not 18:00 on the
        # 4th, which converting it as local Seoul time would give).
        assert coerce_date(datetime(2024, 1, 5, 3, 0, tzinfo=_NoOffset()), "end_date") == "2024-01-05"
    finally:
        monkeypatch.undo()
        time.tzset()
