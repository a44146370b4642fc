"""The bad-input table of ERR-001..ERR-004: each row must be answered 4xx with a JSON error naming it."""

from __future__ import annotations

from dataclasses import dataclass

from .pages import MAX_INT


@dataclass(frozen=True)
class BadInput:
    path: str
    params: tuple[tuple[str, str], ...]
    names: tuple[str, ...]  # the parameter(s) the error may name
    why: str


def _r(params: dict[str, str], why: str, *names: str) -> BadInput:
    return BadInput("/ratings", tuple(params.items()), names or (next(iter(params)),), why)


def _m(params: dict[str, str], why: str) -> BadInput:
    return BadInput("/movies", tuple(params.items()), (next(iter(params)),), why)


BAD_INPUTS: tuple[BadInput, ...] = (
    _r({"offset": "-1"}, "negative offset"),
    _r({"offset": "abc"}, "non-numeric offset"),
    _r({"offset": "1.5"}, "fractional offset"),
    _r({"offset": "1e3"}, "offset in exponent notation"),
    _r({"offset": str(MAX_INT + 1)}, "offset above 2^53-1"),
    _r({"offset": "9" * 40}, "absurdly large offset"),
    _r({"limit": "0"}, "zero limit"),
    _r({"limit": "-5"}, "negative limit"),
    _r({"limit": "ten"}, "non-numeric limit"),
    _r({"limit": "2.5"}, "fractional limit"),
    _r({"limit": str(MAX_INT + 1)}, "limit above 2^53-1"),
    _r({"limit": "9" * 40}, "absurdly large limit"),
    _r({"start_date": "2019-13-01"}, "month 13"),
    _r({"start_date": "2019-02-30"}, "30 February"),
    _r({"start_date": "20190101"}, "date without dashes"),
    _r({"start_date": "2019-1-1"}, "date without zero padding"),
    _r({"start_date": "yesterday"}, "date as a word"),
    _r({"start_date": "2019-01-01T00:00:00Z"}, "date-time instead of a date"),
    _r({"end_date": "2019-04-31"}, "31 April"),
    _r({"end_date": "1/2/2019"}, "date with slashes"),
    _r(
        {"start_date": "2019-03-02", "end_date": "2019-03-01"},
        "start_date after end_date",
        "start_date",
        "end_date",
    ),
    _m({"offset": "-5"}, "negative offset on /movies"),
    _m({"limit": "0"}, "zero limit on /movies"),
    _m({"limit": "many"}, "non-numeric limit on /movies"),
)


def markdown_table() -> str:
    """The table as it appears in contracts/README.md."""
    lines = ["| Endpoint | Query | Why it is bad | The error names |", "|---|---|---|---|"]
    for row in BAD_INPUTS:
        query = "&".join(f"{k}={v}" for k, v in row.params)
        lines.append(f"| `{row.path}` | `{query}` | {row.why} | {' or '.join(f'`{n}`' for n in row.names)} |")
    return "\n".join(lines)
