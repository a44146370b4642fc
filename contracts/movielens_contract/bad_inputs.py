"""The bad-input table of ERR-001..ERR-004.

Every row is input the contract does not allow. A strict server answers each with a 400 naming the
parameter (ERR-002..ERR-004, SHOULD). What a client can be hurt by (ERR-001, MUST) is narrower: a
5xx, or input accepted with a *different* meaning. So each row says what it means when read
leniently, if anything:

* no meaning (``None``): a typo'd date, a negative offset, ``limit=0``... must be refused (4xx);
* :class:`SameAs`: an unambiguous spelling (``+5``, ``2019-1-1``) may be accepted, but then the
  answer must be the one to the canonical request (any of them, for a repeated parameter);
* :class:`PastEnd`: an offset beyond any listing may be answered as an empty page past the end;
* :class:`OverMax`: an absurd limit may be answered like any over-maximum limit (clamped and
  echoed, or in full by a server without a maximum).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pages import MAX_INT

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SameAs:
    """Accepted, the answer must equal the answer to one of these requests."""

    alternatives: tuple[Params, ...]

    def describe(self) -> str:
        return " or ".join(
            "`" + ("&".join(f"{k}={v}" for k, v in p) or "(no parameters)") + "`" for p in self.alternatives
        )


@dataclass(frozen=True)
class PastEnd:
    """Accepted, the answer must be an empty page with the listing's ``total``."""

    def describe(self) -> str:
        return "an empty page past the end"


@dataclass(frozen=True)
class OverMax:
    """Accepted, the answer must be a valid answer to an over-maximum ``limit``."""

    def describe(self) -> str:
        return "a clamped (echoed) or full page"


Meaning = SameAs | PastEnd | OverMax


@dataclass(frozen=True)
class BadInput:
    path: str
    params: Params
    names: tuple[str, ...]  # the parameter(s) the error may name
    why: str
    meaning: Meaning | None = None  # None: no sensible reading; it must be refused

    @property
    def capability(self) -> str | None:
        """The optional capability whose endpoint this row probes (``None``: core)."""
        return "movies" if self.path == "/movies" else None

    def query(self) -> str:
        return "&".join(f"{k}={v}" for k, v in self.params)


def _same(*alternatives: dict[str, str]) -> SameAs:
    return SameAs(tuple(tuple(a.items()) for a in alternatives))


def _r(params: dict[str, str] | Params, why: str, *names: str, meaning: Meaning | None = None) -> BadInput:
    pairs = tuple(params.items()) if isinstance(params, dict) else params
    return BadInput("/ratings", pairs, names or (pairs[0][0],), why, meaning)


def _m(params: dict[str, str], why: str) -> BadInput:
    return BadInput("/movies", tuple(params.items()), (next(iter(params)),), why)


BAD_INPUTS: tuple[BadInput, ...] = (
    # Refused, or the client gets other records than it asked for (or loops forever).
    _r({"offset": "-1"}, "negative offset"),
    _r({"offset": "abc"}, "non-numeric offset"),
    _r({"offset": "1.5"}, "fractional offset"),
    _r({"offset": "1e3"}, "offset in exponent notation"),
    _r({"offset": ""}, "empty offset"),
    _r({"limit": "0"}, "zero limit"),
    _r({"limit": "-5"}, "negative limit"),
    _r({"limit": "ten"}, "non-numeric limit"),
    _r({"limit": "2.5"}, "fractional limit"),
    _r({"limit": ""}, "empty limit"),
    _r({"start_date": "2019-13-01"}, "month 13"),
    _r({"start_date": "2019-02-30"}, "30 February"),
    _r({"start_date": "yesterday"}, "date as a word"),
    _r({"start_date": ""}, "empty start_date"),
    _r({"end_date": "2019-04-31"}, "31 April"),
    _r({"end_date": "1/2/2019"}, "date with slashes (2 January or 1 February?)"),
    _r({"end_date": ""}, "empty end_date"),
    _r(
        {"start_date": "2019-03-02", "end_date": "2019-03-01"},
        "start_date after end_date",
        "start_date",
        "end_date",
    ),
    # Not allowed, but harmless when read as what they unambiguously mean.
    _r({"offset": str(MAX_INT + 1)}, "offset above 2^53-1", meaning=PastEnd()),
    _r({"offset": "9" * 40}, "absurdly large offset", meaning=PastEnd()),
    _r({"offset": "+5"}, "offset with a plus sign", meaning=_same({"offset": "5"})),
    _r({"offset": " 5"}, "offset with a leading space", meaning=_same({"offset": "5"})),
    _r({"offset": "\uff15"}, "full-width digit offset", meaning=_same({"offset": "5"})),
    _r({"offset": "1_0"}, "offset with an underscore", meaning=_same({"offset": "10"})),
    _r({"offset": "\u0663"}, "Arabic-Indic digit offset", meaning=_same({"offset": "3"})),
    _r(
        (("offset", "1"), ("offset", "2")),
        "repeated offset",
        meaning=_same({"offset": "1"}, {"offset": "2"}),
    ),
    _r({"limit": str(MAX_INT + 1)}, "limit above 2^53-1", meaning=OverMax()),
    _r({"limit": "9" * 40}, "absurdly large limit", meaning=OverMax()),
    _r({"limit": "+3"}, "limit with a plus sign", meaning=_same({"limit": "3"})),
    _r({"limit": "\uff13"}, "full-width digit limit", meaning=_same({"limit": "3"})),
    _r({"start_date": "20190101"}, "date without dashes", meaning=_same({"start_date": "2019-01-01"})),
    _r({"start_date": "2019-1-2"}, "date without zero padding", meaning=_same({"start_date": "2019-01-02"})),
    _r(
        {"start_date": "2019-01-02T00:00:00Z"},
        "date-time instead of a date",
        meaning=_same({"start_date": "2019-01-02"}),
    ),
    _r(
        (("start_date", "2019-01-02"), ("start_date", "2019-01-03")),
        "repeated start_date",
        meaning=_same({"start_date": "2019-01-02"}, {"start_date": "2019-01-03"}),
    ),
    # /movies, when offered
    _m({"offset": "-5"}, "negative offset on /movies"),
    _m({"limit": "0"}, "zero limit on /movies"),
    _m({"limit": "many"}, "non-numeric limit on /movies"),
)


def markdown_table() -> str:
    """The table as it appears in contracts/README.md."""
    lines = [
        "| Endpoint | Query | Why it is bad | The error names | A 2xx is allowed only as (ERR-001) |",
        "|---|---|---|---|---|",
    ]
    for row in BAD_INPUTS:
        names = " or ".join(f"`{n}`" for n in row.names)
        allowed = row.meaning.describe() if row.meaning else "never: it must be refused"
        query = row.query().replace("|", "\\|")
        lines.append(f"| `{row.path}` | `{query}` | {row.why} | {names} | {allowed} |")
    return "\n".join(lines)
