"""The clause registry: every rule the suite checks, with a stable ID and a level.

This is the single source of the clause table in ``contracts/README.md`` (a unit test keeps the
two in step). Each test in the suite carries ``@pytest.mark.clause(ID)`` naming exactly one entry.
MUST clauses decide the exit status; SHOULD clauses are reported but never fail a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["MUST", "SHOULD"]


@dataclass(frozen=True)
class Clause:
    """One rule of the contract."""

    id: str
    level: Level
    rule: str
    how: str


_TABLE: tuple[Clause, ...] = (
    # Authentication
    Clause(
        "AUTH-001",
        "MUST",
        "`/ratings` without credentials is answered 401.",
        "GET `/ratings?limit=1` with no `Authorization` header.",
    ),
    Clause(
        "AUTH-002",
        "MUST",
        "A wrong password, or an unknown user, is answered 401.",
        "GET `/ratings?limit=1` once with the user and a wrong password, once with an unknown user.",
    ),
    Clause(
        "AUTH-003",
        "MUST",
        "The right credentials are answered 200 on `/ratings` and `/movies`.",
        "GET `/ratings?limit=1` and `/movies?limit=1` with the given credentials.",
    ),
    Clause(
        "AUTH-004",
        "MUST",
        "Every 401 carries a `WWW-Authenticate` header with the `Basic` scheme.",
        "The 401s of AUTH-001, AUTH-002 and AUTH-005.",
    ),
    Clause(
        "AUTH-005",
        "MUST",
        "`/movies` requires credentials like `/ratings`.",
        "GET `/movies?limit=1` with no credentials expects 401.",
    ),
    Clause(
        "AUTH-006",
        "SHOULD",
        "A 401 body is a JSON object with an `error` string.",
        "The 401s of AUTH-001 and AUTH-002, validated against the `Error` schema.",
    ),
    # Health, root, document
    Clause(
        "HEALTH-001",
        "MUST",
        '`/health` answers 200 `{"status": "ok"}` without credentials.',
        "GET `/health` with no credentials; the body is validated against openapi.yaml.",
    ),
    Clause(
        "HEALTH-002",
        "SHOULD",
        "`/health`'s `ratings`/`movies` counts, when given, equal the unfiltered totals.",
        "Compares `/health` with `total` of `/ratings?limit=1` and `/movies?limit=1`.",
    ),
    Clause(
        "ROOT-001",
        "SHOULD",
        "`/` answers 200 with a JSON object holding a `message` string, no credentials.",
        "GET `/`; the body is validated against openapi.yaml.",
    ),
    Clause(
        "DOC-001",
        "SHOULD",
        "`/openapi.yaml` serves an OpenAPI 3 document describing `/ratings`.",
        "GET `/openapi.yaml` with no credentials and parse it as YAML.",
    ),
    # Envelope and records
    Clause(
        "ENV-001",
        "MUST",
        "A `/ratings` 200 is a JSON object with `result` (array) and integer `offset`, `limit`, `total`.",
        "Every page the suite fetches is checked before use.",
    ),
    Clause(
        "ENV-002",
        "MUST",
        "The envelope echoes the requested `offset`; `limit` is between 1 and the "
        "requested limit; `total` >= 0.",
        "Pages at offsets 0, 1, a middle and the last offset, limits 1 to 50.",
    ),
    Clause(
        "ENV-003",
        "MUST",
        "Without `offset`/`limit` the page starts at 0 and holds min(limit, total) records "
        "(any default page size).",
        "GET `/ratings` with no paging parameters.",
    ),
    Clause(
        "ENV-004",
        "SHOULD",
        "JSON responses declare `Content-Type: application/json`.",
        "The content type of the pages, errors and `/health` the suite fetched.",
    ),
    Clause(
        "REC-001",
        "MUST",
        "Ratings have integer `userId` >= 1, integer `movieId` >= 1, numeric `rating` in "
        "0.5..5 in half stars and integer `timestamp`.",
        "Every sampled record, validated against the `Rating` schema of openapi.yaml.",
    ),
    Clause(
        "REC-002",
        "MUST",
        "Movies have integer `movieId` >= 1, string `title` and string `genres`.",
        "The first and last pages of `/movies`, validated against the `Movie` schema.",
    ),
    # Pagination
    Clause(
        "PAGE-001",
        "MUST",
        "Pages of several sizes, 1 included, concatenate to exactly the full listing of a "
        "window: same records, same order, no duplicates, no gaps, `total` of them.",
        "Walks a small discovered window with page sizes 1, 2, 3, a seeded odd size and the largest page.",
    ),
    Clause(
        "PAGE-002",
        "MUST",
        "Every page holds exactly min(limit, total - offset) records, `limit` being the "
        "echoed (effective) limit, never more than requested.",
        "Every page of the PAGE-001 walks.",
    ),
    Clause(
        "PAGE-003",
        "MUST",
        "`total` is the same on every page of a listing, whatever the offset and page size.",
        "Every page of the PAGE-001 walks, and unfiltered pages at sampled offsets.",
    ),
    Clause(
        "PAGE-004",
        "MUST",
        "`offset` at or past `total` is a 200 with an empty `result` and the same `total`.",
        "Offsets `total`, `total + 1` and `total + 1000` on the unfiltered listing and a window.",
    ),
    Clause(
        "PAGE-005",
        "MUST",
        "A `limit` above the server's maximum is clamped with the effective limit echoed, "
        "or answered 400 naming `limit`.",
        "GET `/ratings?limit=9007199254740991` (body read up to a byte cap) and `limit=max+1`.",
    ),
    Clause(
        "PAGE-006",
        "SHOULD",
        "A 400 for an over-maximum `limit` holds `max_limit`, and a page of that size is accepted.",
        "Only for servers that reject rather than clamp.",
    ),
    # Order
    Clause(
        "ORDER-001",
        "MUST",
        "`/ratings` is ordered by `(timestamp, userId, movieId)` within and across pages.",
        "Every sampled page and every walked listing, including across page boundaries.",
    ),
    Clause(
        "ORDER-002",
        "MUST",
        "The same request answers the same records in the same order every time.",
        "Repeats three pages (one with tied timestamps when the data has any) three times each.",
    ),
    # Date windows
    Clause(
        "WIN-001",
        "MUST",
        "Every record of a window has start 00:00 UTC <= `timestamp` < end 00:00 UTC.",
        "First and last pages of day and two-day windows around discovered midnights.",
    ),
    Clause(
        "WIN-002",
        "MUST",
        "`end_date=D` selects exactly the records before D 00:00 UTC and `start_date=D` exactly the others.",
        "`total` of `end_date=D` is the offset of the first unfiltered record at or after D 00:00 UTC.",
    ),
    Clause(
        "WIN-003",
        "MUST",
        "Dates are read in UTC: records in the hours around a UTC midnight fall on their UTC "
        "side of it, whatever the server's time zone.",
        "For midnights with records close on both sides, the day window's first and last records and their "
        "unfiltered neighbours.",
    ),
    Clause(
        "WIN-004",
        "MUST",
        "A record at exactly 00:00:00 UTC belongs to the day that starts then.",
        "A discovered record at midnight is the first of `[D, D+1)` and outside `[D-1, D)`.",
    ),
    Clause(
        "WIN-005",
        "MUST",
        "Adjacent windows add up: `[a,b)` + `[b,c)` = `[a,c)` in totals and records; "
        "`end_date=D` + `start_date=D` = everything.",
        "Discovered days a < b < c around a busy midnight.",
    ),
    Clause(
        "WIN-006",
        "MUST",
        "`start_date == end_date` is a 200 with an empty `result` and `total` 0.",
        "A busy discovered day and a day without records.",
    ),
    Clause(
        "WIN-007",
        "MUST",
        "`start_date > end_date` is a 400 naming a date parameter.",
        "A busy discovered day and the day before it, swapped.",
    ),
    Clause(
        "WIN-008",
        "MUST",
        "A window without records (before the first or after the last) is a 200 with an "
        "empty `result` and `total` 0.",
        "Windows a week before the first record and after the last.",
    ),
    # Errors
    Clause(
        "ERR-001",
        "MUST",
        "Each bad input of the table is answered 4xx, never 2xx or 5xx.",
        "The bad-input table in this README (`contracts/bad_inputs.py`).",
    ),
    Clause(
        "ERR-002",
        "MUST",
        "A 4xx for bad input carries a JSON object with an `error` string.",
        "The answers to the bad-input table, validated against the `Error` schema.",
    ),
    Clause(
        "ERR-003",
        "SHOULD",
        "The error names the offending parameter (in `error` or `parameter`).",
        "The answers to the bad-input table.",
    ),
    Clause(
        "ERR-004",
        "SHOULD",
        "Bad query parameters are answered 400 exactly.",
        "The answers to the bad-input table.",
    ),
    Clause("ERR-005", "MUST", "An unknown path is a 404.", "GET `/no-such-endpoint` with credentials."),
    Clause(
        "ERR-006",
        "SHOULD",
        "The 404 for an unknown path is a JSON object with an `error` string.",
        "The answer of ERR-005.",
    ),
    # Movies
    Clause(
        "MOVIES-001",
        "MUST",
        "`/movies` is ordered by `movieId`, ascending and unique, and pages of several "
        "sizes concatenate to the same listing.",
        "The first records walked with page sizes 1, 7 and one large page; the last page.",
    ),
    Clause(
        "MOVIES-002",
        "MUST",
        "`/movies` pages hold min(limit, total - offset) records with a stable `total`; "
        "past the end a 200 with an empty `result`.",
        "The pages of MOVIES-001 and offset `total`.",
    ),
    # Schema and fuzzing
    Clause(
        "SCHEMA-001",
        "MUST",
        "`/ratings` and `/movies` pages validate against their schema in openapi.yaml.",
        "First, middle, last, window and empty pages, validated with jsonschema.",
    ),
    Clause(
        "FUZZ-001",
        "MUST",
        "No generated request, valid or invalid, gets a 5xx or a dropped connection.",
        "schemathesis cases for `/ratings` and `/movies` from openapi.yaml, seeded, bounded.",
    ),
    Clause(
        "FUZZ-002",
        "SHOULD",
        "Answers to generated valid requests have documented status codes and validate against the schema.",
        "schemathesis' conformance checks on the positive cases of FUZZ-001.",
    ),
)

CLAUSES: dict[str, Clause] = {clause.id: clause for clause in _TABLE}


def get(clause_id: str) -> Clause:
    """Return the clause with this ID (``KeyError`` for an unknown one)."""
    return CLAUSES[clause_id.upper()]


def markdown_table() -> str:
    """The clause table as it appears in ``contracts/README.md``."""
    lines = ["| ID | Level | Rule | How it is checked |", "|---|---|---|---|"]
    lines += [f"| {c.id} | {c.level} | {c.rule} | {c.how} |" for c in _TABLE]
    return "\n".join(lines)
