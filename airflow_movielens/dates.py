"""Coercion of the ``start_date`` / ``end_date`` window bounds to the API's ``YYYY-MM-DD`` UTC dates.

The API reads both bounds as midnight UTC (``start <= timestamp < end``). Users pass strings from
templates, ``date`` objects or ``datetime`` objects; all of them are normalised here, before any request
is sent, so a typo fails fast with a message naming the argument instead of as an HTTP 400 later.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import TypeAlias

#: What callers may pass for a window bound.
DateLike: TypeAlias = str | date | datetime | None

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def coerce_date(value: DateLike, argument: str) -> str | None:
    """Return ``value`` as a ``YYYY-MM-DD`` string (``None`` stays ``None``).

    * ``str``: must be exactly ``YYYY-MM-DD`` and a real calendar date.
    * ``datetime``: an aware value is converted to UTC and its UTC date is used; a naive value is
      taken to be UTC already.
    * ``date``: used as is.

    :param argument: the parameter name used in error messages, e.g. ``"start_date"``.
    :raises ValueError: the string is not a valid ``YYYY-MM-DD`` date.
    :raises TypeError: the value is of another type.
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # before ``date``: datetime is a subclass of date
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(timezone.utc)
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        if not _DATE_RE.fullmatch(text):
            raise ValueError(f"{argument} must be a date as YYYY-MM-DD, got {value!r}")
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"{argument} is not a valid calendar date: {value!r}") from None
    raise TypeError(
        f"{argument} must be a YYYY-MM-DD string, a date or a datetime, got {type(value).__name__}"
    )


def coerce_window(start_date: DateLike, end_date: DateLike) -> tuple[str | None, str | None]:
    """Coerce both bounds and check ``start_date <= end_date`` (an equal pair is an empty window).

    :raises ValueError: a bound is invalid, or ``start_date`` is after ``end_date``.
    """
    start = coerce_date(start_date, "start_date")
    end = coerce_date(end_date, "end_date")
    if start is not None and end is not None and start > end:  # ISO dates sort as strings
        raise ValueError(
            f"start_date ({start}) is after end_date ({end}); the window [start, end) is invalid"
        )
    return start, end


#: Default window of the fetch operator and the sensor: the run's data interval, as UTC dates.
#: ``data_interval_start``/``data_interval_end`` exist on Airflow 2.11 and 3.x (``next_ds`` is gone in 3).
DEFAULT_START_DATE = "{{ data_interval_start.in_timezone('UTC').strftime('%Y-%m-%d') }}"
DEFAULT_END_DATE = "{{ data_interval_end.in_timezone('UTC').strftime('%Y-%m-%d') }}"


def empty_window_message(day: str) -> str:
    """Explain a ``[day, day)`` window, which on Airflow 3 usually comes from a trigger timetable."""
    return (
        f"The window [{day}, {day}) is empty because start_date == end_date. On Airflow 3 a schedule "
        "such as '@daily' or timedelta(days=1) makes zero-length data intervals; schedule with "
        "CronDataIntervalTimetable('@daily', timezone='UTC') or "
        "DeltaDataIntervalTimetable(timedelta(days=1)) to get [day, next day)."
    )


def window_argument(
    value: DateLike, argument: str, default_args: dict[str, object] | None, default: str
) -> DateLike:
    """The window bound an operator should keep for ``argument`` (``start_date`` or ``end_date``).

    Airflow fills any ``__init__`` parameter from the DAG's ``default_args``; a DAG's
    ``default_args={"start_date": datetime(...)}`` is meant for ``BaseOperator.start_date``, not for the
    ratings window. A value that *is* the ``default_args`` entry therefore falls back to ``default``
    (the data-interval template), as does ``None``.
    """
    if value is None:
        return default
    if default_args and argument in default_args and value is default_args[argument]:
        return default
    return value
