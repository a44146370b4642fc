"""Shared data and helpers for the reference server's unit tests (imported by tests and conftest).

A uniquely named module rather than ``conftest``: several test directories have a ``conftest``.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from movielens_api.store import Store

USER = "tester"
PASSWORD = "s3cret:with:colons"


def day(text: str, seconds: int = 0) -> int:
    """Epoch seconds of ``text`` (YYYY-MM-DD) at midnight UTC plus ``seconds``."""
    midnight = dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
    return int(midnight.timestamp()) + seconds


# (timestamp, userId, movieId, rating), deliberately unsorted. Covers: ties on the timestamp
# (ordered by userId, then movieId), records exactly at midnight UTC, the last second of a day,
# an empty day (2019-01-04) and a leap day.
RECORDS: list[tuple[int, int, int, float]] = [
    (day("2019-01-02"), 3, 7, 5.0),
    (day("2019-01-01"), 2, 1, 3.5),
    (day("2019-01-01"), 1, 10, 4.0),
    (day("2019-01-01"), 1, 5, 0.5),
    (day("2019-01-01", 86_399), 4, 2, 2.0),
    (day("2019-01-03", 43_200), 1, 2, 4.5),
    (day("2019-01-05", 1), 2, 10, 1.0),
    (day("2020-02-29", 600), 5, 7, 3.0),
]
MOVIES = [
    (10, "Heat (1995)", "Action|Crime|Thriller"),
    (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy"),
    (7, "American President, The (1995)", "Comedy|Drama|Romance"),
    (2, 'Jumanji "Deluxe", Part 2 (1995)', "(no genres listed)"),
    (5, "Father of the Bride Part II (1995)", "Comedy"),
]


def expected_records(start: int | None = None, end: int | None = None) -> list[dict[str, Any]]:
    """The API's records for ``[start, end)`` computed independently of the store."""
    rows = sorted(RECORDS)
    return [
        {"userId": u, "movieId": m, "rating": r, "timestamp": t}
        for t, u, m, r in rows
        if (start is None or t >= start) and (end is None or t < end)
    ]


def build_store(records: list[tuple[int, int, int, float]] = RECORDS, movies: list = MOVIES) -> Store:
    return Store.from_columns(
        timestamp=[r[0] for r in records],
        user=[r[1] for r in records],
        movie=[r[2] for r in records],
        half_stars=[int(r[3] * 2) for r in records],
        movie_ids=[m[0] for m in movies],
        titles=[m[1] for m in movies],
        genres=[m[2] for m in movies],
    )


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


AUTH = basic(USER, PASSWORD)
