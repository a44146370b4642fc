"""Strict parsing of the API's query parameters.

Every rule here is a clause of ``contracts/movielens_contract/openapi.yaml``: dates are ``YYYY-MM-DD`` read as
midnight UTC, ``offset``/``limit`` are plain decimal digits up to 2^53-1 (the largest integer a
JSON client can hold exactly), a parameter may appear at most once and never empty. Failures raise
:class:`ParameterError`, which the app turns into a 400 naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_SAFE_INTEGER = 2**53 - 1
# What to do with a ``limit`` above the server's maximum page size. ``reject`` (the default) answers
# 400 with ``max_limit``, so a client that advances by the limit it asked for cannot lose records
# silently; ``clamp`` serves the maximum and echoes it in the envelope's ``limit``.
OVER_MAX_LIMIT_MODES = ("reject", "clamp")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_EPOCH = dt.date(1970, 1, 1)


class ParameterError(ValueError):
    """A query parameter is missing its value, repeated, malformed or out of range."""

    def __init__(self, parameter: str, message: str, **extra: int) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, object]:
        """The JSON error body: ``{"error": ..., "parameter": ...}`` plus any extra fields."""
        return {"error": self.message, "parameter": self.parameter, **self.extra}


@dataclass(frozen=True)
class Page:
    """A validated page request: ``offset`` and the effective ``limit`` (clamped in clamp mode)."""

    offset: int
    limit: int


def single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The one value of ``name`` in ``args`` (name -> all values), or ``None`` if absent."""
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ParameterError(name, f"parameter {name} is given {len(values)} times; give it at most once")
    value = values[0]
    if value == "":
        raise ParameterError(name, f"parameter {name} is empty; omit it or give a value")
    return value


def parse_date(name: str, value: str) -> int:
    """``YYYY-MM-DD`` -> epoch seconds of that day's midnight UTC."""
    if not _DATE.fullmatch(value):
        raise ParameterError(name, f"{name} must be a date as YYYY-MM-DD, got {value[:40]!r}")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(name, f"{name} {value!r} is not a valid calendar date") from None
    return (day - _EPOCH).days * 86_400


def parse_count(name: str, value: str, *, minimum: int) -> int:
    """Decimal digits only (no sign, spaces or exponent), ``minimum`` .. 2^53-1."""
    if not _DIGITS.fullmatch(value):
        raise ParameterError(name, f"{name} must be a whole number written in digits, got {value[:40]!r}")
    significant = value.lstrip("0") or "0"
    if len(significant) > len(str(MAX_SAFE_INTEGER)) or int(significant) > MAX_SAFE_INTEGER:
        raise ParameterError(name, f"{name} must be at most {MAX_SAFE_INTEGER}, got {value[:40]}")
    number = int(significant)
    if number < minimum:
        raise ParameterError(name, f"{name} must be at least {minimum}, got {number}")
    return number


def parse_window(args: Mapping[str, Sequence[str]]) -> tuple[int | None, int | None]:
    """``start_date``/``end_date`` -> epoch-second bounds ``[start, end)``; either may be ``None``."""
    start_text = single(args, "start_date")
    end_text = single(args, "end_date")
    start = None if start_text is None else parse_date("start_date", start_text)
    end = None if end_text is None else parse_date("end_date", end_text)
    if start is not None and end is not None and start > end:
        raise ParameterError(
            "start_date", f"start_date {start_text} is after end_date {end_text}; the window is [start, end)"
        )
    return start, end


def parse_page(
    args: Mapping[str, Sequence[str]], *, max_limit: int, default_limit: int = 100, over_max: str = "reject"
) -> Page:
    """``offset`` (default 0) and ``limit`` (default 100; above ``max_limit``: rejected or clamped).

    Every error about ``limit`` carries ``max_limit``, so a client can retry with a page that fits.
    """
    if over_max not in OVER_MAX_LIMIT_MODES:
        raise ValueError(f"over_max must be one of {', '.join(OVER_MAX_LIMIT_MODES)}, got {over_max!r}")
    offset_text = single(args, "offset")
    offset = 0 if offset_text is None else parse_count("offset", offset_text, minimum=0)
    try:
        limit_text = single(args, "limit")
        limit = default_limit if limit_text is None else parse_count("limit", limit_text, minimum=1)
    except ParameterError as exc:
        exc.extra["max_limit"] = max_limit
        raise
    if limit > max_limit:
        # The default page shrinks to a small maximum; only a limit the client asked for is refused.
        if over_max == "reject" and limit_text is not None:
            raise ParameterError(
                "limit",
                f"limit must be at most {max_limit} (the largest page), got {limit}",
                max_limit=max_limit,
            )
        limit = max_limit
    return Page(offset=offset, limit=limit)
