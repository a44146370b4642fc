"""The clause registry: every rule the suite checks, with a stable ID, a level and a capability.

This is the only place a clause's level and capability are declared; the clause table in
``contracts/README.md`` is generated from it (a unit test keeps the two in step), and each test in
the suite carries ``@pytest.mark.clause(ID)`` naming exactly one entry.

Levels say what a violation costs a client that follows the contract:

* **MUST**: the client can lose, duplicate or misread data, hang, or be let in wrongly (wrong
  windows, broken paging, unstable order, authentication, a 5xx on any input, malformed input
  silently given another meaning, ``limit=0`` or negative values accepted). MUST clauses decide the
  exit status.
* **SHOULD**: hygiene that no client following the contract depends on (strict digits, zero
  padding, absurd values answered 400, JSON error bodies, the parameter named). Reported, never
  failing a run.

*Core* is the ratings API as the seed describes it: ``/ratings`` with basic auth, ``offset`` /
``limit`` / ``total``, UTC date windows, order and errors. Everything else is an optional
*capability* (:data:`CAPABILITIES`): the suite detects whether the server offers it; the clauses
of an absent capability are reported as "not implemented" (neither pass nor fail) unless the run
requires that capability (``--require``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["MUST", "SHOULD"]

#: Optional capabilities: name -> what offering it means.
CAPABILITIES: dict[str, str] = {
    "movies": "`/movies`: the movie catalogue, paged like `/ratings`",
    "health": "`/health`: an unauthenticated liveness endpoint",
    "root": "`/`: an unauthenticated hello",
    "openapi": "`/openapi.yaml`: the contract served by the server",
    "max-limit": "`max_limit` in the 400 for an over-maximum `limit` (servers that reject rather than clamp)",
}


@dataclass(frozen=True)
class Clause:
    """One rule of the contract."""

    id: str
    level: Level
    rule: str
    how: str
    why: str  # why this level: what a violation costs a client
    capability: str | None = None  # None: core

    def __post_init__(self) -> None:
        if self.capability is not None and self.capability not in CAPABILITIES:
            raise ValueError(f"{self.id}: unknown capability {self.capability!r}")


_LET_IN = "Anyone who can reach the server reads the data: the one thing basic auth is for."
_PAGING = "A client paging by `offset` and `total` (as the provider does) loses or duplicates records."
_WINDOW = "A daily pipeline reads the wrong records for its day: lost or duplicated across runs."
_HYGIENE = "Hygiene: a client following the contract sends no such input and loses nothing."

_TABLE: tuple[Clause, ...] = (
    # Authentication
    Clause(
        "AUTH-001",
        "MUST",
        "`/ratings` without credentials is answered 401.",
        "GET `/ratings?limit=1` with no `Authorization` header.",
        _LET_IN,
    ),
    Clause(
        "AUTH-002",
        "MUST",
        "A wrong password, or an unknown user, is answered 401.",
        "GET `/ratings?limit=1` once with the user and a wrong password, once with an unknown user.",
        _LET_IN,
    ),
    Clause(
        "AUTH-003",
        "MUST",
        "The right credentials are answered 200 on `/ratings` (and on `/movies` when it is offered).",
        "GET `/ratings?limit=1` and, with the `movies` capability, `/movies?limit=1`.",
        "A client with valid credentials cannot read the data at all.",
    ),
    Clause(
        "AUTH-004",
        "SHOULD",
        "Every 401 carries a `WWW-Authenticate` header with the `Basic` scheme.",
        "The 401s of AUTH-001, AUTH-002 and AUTH-005.",
        "HTTP requires the challenge, but the provider and other API clients send credentials "
        "pre-emptively; only browsers and challenge-driven clients need it.",
    ),
    Clause(
        "AUTH-005",
        "MUST",
        "`/movies` requires credentials like `/ratings`.",
        "GET `/movies?limit=1` with no credentials expects 401.",
        _LET_IN,
        "movies",
    ),
    Clause(
        "AUTH-006",
        "SHOULD",
        "A 401 body is a JSON object with an `error` string.",
        "The 401s of AUTH-001 and AUTH-002, validated against the `Error` schema.",
        "Only the status matters to a client; the body helps a person reading a log.",
    ),
    # Health, root, document
    Clause(
        "HEALTH-001",
        "MUST",
        '`/health` answers 200 `{"status": "ok"}` without credentials.',
        "GET `/health` with no credentials; the body is validated against openapi.yaml.",
        "An orchestrator's health probe is the client: a `/health` that needs credentials or "
        "answers otherwise gets a healthy server restarted.",
        "health",
    ),
    Clause(
        "HEALTH-002",
        "SHOULD",
        "`/health`'s `ratings`/`movies` counts, when given, equal the unfiltered totals.",
        "Compares `/health` with `total` of `/ratings?limit=1` and (when offered) `/movies?limit=1`.",
        "The counts are informative; no client pages by them.",
        "health",
    ),
    Clause(
        "ROOT-001",
        "SHOULD",
        "`/` answers 200 with a JSON object holding a `message` string, no credentials.",
        "GET `/`; the body is validated against openapi.yaml.",
        "A greeting for people; no client depends on it.",
        "root",
    ),
    Clause(
        "DOC-001",
        "SHOULD",
        "`/openapi.yaml` serves an OpenAPI 3 document describing `/ratings`.",
        "GET `/openapi.yaml` with no credentials and parse it as YAML.",
        "Documentation; clients are written against the contract, not the served copy.",
        "openapi",
    ),
    # Envelope and records
    Clause(
        "ENV-001",
        "MUST",
        "A `/ratings` 200 is a JSON object with `result` (array) and integer `offset`, `limit`, `total`.",
        "Every page the suite fetches is checked before use.",
        "A client cannot page or stop without `total`, `offset` and `limit`.",
    ),
    Clause(
        "ENV-002",
        "MUST",
        "The envelope echoes the requested `offset`; `limit` is between 1 and the "
        "requested limit; `total` >= 0.",
        "Pages at offsets 0, 1, a middle and the last offset, limits 1 to 50.",
        "Clients detect a clamped page from the echoed `limit`; a wrong echo makes them skip or re-read.",
    ),
    Clause(
        "ENV-003",
        "MUST",
        "Without `offset`/`limit` the page starts at 0 and holds min(limit, total) records "
        "(any default page size).",
        "GET `/ratings` with no paging parameters.",
        "A client that leaves the paging parameters out reads a page its own envelope misdescribes.",
    ),
    Clause(
        "ENV-004",
        "SHOULD",
        "JSON bodies declare `Content-Type: application/json`.",
        "The bodies of pages, errors and `/health` that parse as JSON (an honestly labelled "
        "non-JSON body is judged by the clauses about error bodies).",
        "Clients parse the body they asked for; the label matters to proxies and tools.",
    ),
    Clause(
        "REC-001",
        "MUST",
        "Ratings have integer `userId` >= 1, integer `movieId` >= 1, numeric `rating` in "
        "0.5..5 in half stars and integer `timestamp` in seconds.",
        "Every sampled record, validated against the `Rating` schema of openapi.yaml.",
        "A string rating or a timestamp in milliseconds is misread by every client.",
    ),
    Clause(
        "REC-002",
        "MUST",
        "Movies have integer `movieId` >= 1, string `title` and string `genres`.",
        "The first and last pages of `/movies`, validated against the `Movie` schema.",
        "A client ranking movies misreads titles or genres.",
        "movies",
    ),
    # Pagination
    Clause(
        "PAGE-001",
        "MUST",
        "Pages of several sizes, 1 included, concatenate to exactly the full listing of a "
        "window: same records, same order, no duplicates, no gaps, `total` of them.",
        "Walks a small discovered window with page sizes 1, 2, 3, a seeded odd size and the largest page.",
        _PAGING,
    ),
    Clause(
        "PAGE-002",
        "MUST",
        "Every page holds exactly min(limit, total - offset) records, `limit` being the "
        "echoed (effective) limit, never more than requested.",
        "Every page of the PAGE-001 walks.",
        _PAGING,
    ),
    Clause(
        "PAGE-003",
        "MUST",
        "`total` is the same on every page of a listing, whatever the offset and page size.",
        "Every page of the PAGE-001 walks, and unfiltered pages at sampled offsets.",
        "A client stops at `total`: a changing one cuts the listing short or never ends it.",
    ),
    Clause(
        "PAGE-004",
        "MUST",
        "`offset` at or past `total` is a 200 with an empty `result` and the same `total`.",
        "Offsets `total`, `total + 1` and `total + 1000` on the unfiltered listing and a window.",
        "A client probing past the end gets an error instead of the end of the listing.",
    ),
    Clause(
        "PAGE-005",
        "MUST",
        "A `limit` above the server's maximum is clamped with the effective limit echoed, or "
        "answered 4xx; a server without a maximum answers the page in full.",
        "GET `/ratings?limit=1000000` (body read up to a byte cap) and `limit=max+1`.",
        "A short page that echoes the requested limit makes a client advancing by `limit` skip records.",
    ),
    Clause(
        "PAGE-006",
        "SHOULD",
        "A 400 for an over-maximum `limit` holds `max_limit`, and a page of that size is accepted.",
        "Only for servers that reject rather than clamp; absent `max_limit` is a missing capability.",
        "Clients can find the maximum by halving; `max_limit` saves them the round trips.",
        "max-limit",
    ),
    Clause(
        "PAGE-007",
        "SHOULD",
        "The page size is capped: `limit=1000000` is clamped or rejected, whatever the size of the data.",
        "The answer to `limit=1000000`: a 200 echoing it (or a body over the suite's byte cap) has no cap.",
        "Without a cap one request's memory grows with the data on both sides; the records are still right.",
    ),
    # Order
    Clause(
        "ORDER-001",
        "MUST",
        "`/ratings` is ordered by `(timestamp, userId, movieId)` within and across pages.",
        "Every sampled page and every walked listing, including across page boundaries.",
        _PAGING,
    ),
    Clause(
        "ORDER-002",
        "MUST",
        "The same request answers the same records in the same order every time.",
        "Repeats three pages (one with tied timestamps when the data has any) three times each.",
        _PAGING,
    ),
    # Date windows
    Clause(
        "WIN-001",
        "MUST",
        "Every record of a window has start 00:00 UTC <= `timestamp` < end 00:00 UTC.",
        "First and last pages of day and two-day windows around discovered midnights.",
        _WINDOW,
    ),
    Clause(
        "WIN-002",
        "MUST",
        "`end_date=D` selects exactly the records before D 00:00 UTC and `start_date=D` exactly the others.",
        "The last record of `end_date=D` is before D 00:00 UTC, the first of `start_date=D` at or after "
        "it, they are neighbours in the unfiltered listing and the two totals add up to it.",
        _WINDOW,
    ),
    Clause(
        "WIN-003",
        "MUST",
        "Dates are read in UTC: records in the hours around a UTC midnight fall on their UTC "
        "side of it, whatever the server's time zone.",
        "For midnights with records close on both sides, the day window's first and last records and their "
        "unfiltered neighbours.",
        _WINDOW,
    ),
    Clause(
        "WIN-004",
        "MUST",
        "A record at exactly 00:00:00 UTC belongs to the day that starts then.",
        "A discovered record at midnight is the first of `[D, D+1)` and outside `[D-1, D)`; "
        "N/A when no rating at midnight is found.",
        _WINDOW,
    ),
    Clause(
        "WIN-005",
        "MUST",
        "Adjacent windows add up: `[a,b)` + `[b,c)` = `[a,c)` in totals and records; "
        "`end_date=D` + `start_date=D` = everything.",
        "Discovered days a < b < c around a busy midnight.",
        _WINDOW,
    ),
    Clause(
        "WIN-006",
        "MUST",
        "`start_date == end_date` is a 200 with an empty `result` and `total` 0.",
        "A busy discovered day and a day without records.",
        _WINDOW,
    ),
    Clause(
        "WIN-007",
        "MUST",
        "`start_date > end_date` is answered 4xx.",
        "A busy discovered day and the day before it, swapped.",
        "A client that swapped its dates silently gets an empty result instead of an error.",
    ),
    Clause(
        "WIN-008",
        "MUST",
        "A window without records (before the first or after the last) is a 200 with an "
        "empty `result` and `total` 0.",
        "Windows a week before the first record and after the last.",
        _WINDOW,
    ),
    Clause(
        "WIN-009",
        "MUST",
        "The epoch is a date like any other: `end_date=1970-01-01` selects only ratings before "
        "1970 and `start_date=1970-01-01` every rating from 1970 on.",
        "`total` of `end_date=1970-01-01` is the number of negative timestamps, `start_date=1970-01-01` "
        "and `start_date=1970-01-01&end_date=D` agree with the unfiltered listing and `end_date=D`.",
        "A server testing a bound for truthiness reads timestamp 0 as no bound and returns everything.",
    ),
    # Errors
    Clause(
        "ERR-001",
        "MUST",
        "No bad input of the table gets a 5xx or is silently given another meaning: each is "
        "answered 4xx or, where the table gives the input a meaning, exactly as that meaning.",
        "The bad-input table in this README (`contracts/bad_inputs.py`) and an unknown path.",
        "A typo'd date silently ignored, a negative offset served as a slice or `limit=0` "
        "accepted (a naive client loops forever) hand the client wrong data; a 5xx is retried.",
    ),
    Clause(
        "ERR-002",
        "SHOULD",
        "A 4xx for bad input carries a JSON object with an `error` string.",
        "The 4xx answers to the bad-input table, validated against the `Error` schema.",
        "The status already tells a client it sent bad input; the body helps a person.",
    ),
    Clause(
        "ERR-003",
        "SHOULD",
        "The error names the offending parameter (in `error` or `parameter`).",
        "The 4xx answers to the bad-input table.",
        "Helps a person fix the request; no client reads it.",
    ),
    Clause(
        "ERR-004",
        "SHOULD",
        "Bad query parameters are answered 400 exactly: strict digits, zero-padded dates, "
        "absurdly large values rejected.",
        "The answers to the bad-input table.",
        _HYGIENE,
    ),
    Clause(
        "ERR-005",
        "MUST",
        "An unknown path is answered 4xx, never 2xx or 5xx.",
        "GET `/no-such-endpoint` with credentials.",
        "A client with a wrong base URL must get an error, not a page to misread or a 5xx to retry.",
    ),
    Clause(
        "ERR-006",
        "SHOULD",
        "The answer to an unknown path is a 404 with a JSON object holding an `error` string.",
        "The answer of ERR-005.",
        "Any 4xx stops a client; the exact status and body help a person.",
    ),
    # Movies
    Clause(
        "MOVIES-001",
        "MUST",
        "`/movies` is ordered by `movieId`, ascending and unique, and pages of several "
        "sizes concatenate to the same listing.",
        "The first records walked with page sizes 1, 7 and one large page; the last page.",
        _PAGING,
        "movies",
    ),
    Clause(
        "MOVIES-002",
        "MUST",
        "`/movies` pages hold min(limit, total - offset) records with a stable `total`; "
        "past the end a 200 with an empty `result`.",
        "The pages of MOVIES-001 and offset `total`.",
        _PAGING,
        "movies",
    ),
    # Schema and fuzzing
    Clause(
        "SCHEMA-001",
        "MUST",
        "`/ratings` (and, when offered, `/movies`) pages validate against their schema in openapi.yaml.",
        "First, middle, last, window and empty pages, validated with jsonschema.",
        "The schema is what clients are generated from and validate against.",
    ),
    Clause(
        "FUZZ-001",
        "MUST",
        "No generated request, valid or invalid, gets a 5xx or a dropped connection.",
        "schemathesis cases for `/ratings` (and `/movies` when offered) from openapi.yaml, seeded, bounded.",
        "A 5xx on valid input fails a client's run; on invalid input it hides the client's mistake.",
    ),
    Clause(
        "FUZZ-002",
        "SHOULD",
        "Answers to generated valid requests have documented status codes and validate against the schema.",
        "schemathesis' conformance checks on the positive cases of FUZZ-001.",
        "Generated requests reach corners clients rarely use; the core clauses judge the common ones.",
    ),
)

CLAUSES: dict[str, Clause] = {clause.id: clause for clause in _TABLE}


def get(clause_id: str) -> Clause:
    """Return the clause with this ID (``KeyError`` for an unknown one)."""
    return CLAUSES[clause_id.upper()]


def markdown_table() -> str:
    """The clause table as it appears in ``contracts/README.md``."""
    lines = [
        "| ID | Level | Capability | Rule | How it is checked | Why this level |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.id} | {c.level} | {c.capability or 'core'} | {c.rule} | {c.how} | {c.why} |" for c in _TABLE
    ]
    return "\n".join(lines)


def capabilities_table() -> str:
    """The capability table as it appears in ``contracts/README.md``."""
    lines = ["| Capability | What it is | Clauses |", "|---|---|---|"]
    for name, what in CAPABILITIES.items():
        ids = ", ".join(c.id for c in _TABLE if c.capability == name)
        lines.append(f"| `{name}` | {what} | {ids} |")
    return "\n".join(lines)
