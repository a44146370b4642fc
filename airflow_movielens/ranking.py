"""Rank movies by average rating (the textbook's ``rank_movies_by_rating``), with clear input checks.

One deliberate difference from the textbook: it keeps movies with strictly *more* than ``min_ratings``
raters (``num_ratings > min_ratings``), so its default ``min_ratings=2`` needs three raters. Here
``min_ratings`` means what its name says, *at least* that many raters (``>=``): the textbook's
``min_ratings=n`` equals this function's ``min_ratings=n + 1``. Ties are also ordered
deterministically here (by ``movieId``), where the textbook leaves their order to pandas.
"""

from __future__ import annotations

import pandas as pd

REQUIRED_COLUMNS = ("movieId", "userId", "rating")
RANKING_COLUMNS = ("avg_rating", "num_ratings")


def rank_movies_by_rating(ratings: pd.DataFrame, min_ratings: int = 2) -> pd.DataFrame:
    """Per movie: average rating and number of distinct raters, best first.

    Movies rated by fewer than ``min_ratings`` distinct users are dropped (inclusive: exactly
    ``min_ratings`` raters are kept; the textbook's cut is exclusive, see the module docstring).
    Rows are sorted by ``avg_rating`` then ``num_ratings`` (both descending) and, for a
    deterministic order of ties, ``movieId`` ascending. The result is indexed by ``movieId`` with
    columns ``avg_rating`` and ``num_ratings``; an empty input gives an empty frame with those columns.

    :raises ValueError: ``min_ratings`` is not an integer >= 1, or a required column is missing.
    :raises TypeError: ``ratings`` is not a DataFrame.
    """
    if isinstance(min_ratings, bool) or not isinstance(min_ratings, int) or min_ratings < 1:
        raise ValueError(f"min_ratings must be an integer >= 1, got {min_ratings!r}")
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(f"ratings must be a pandas DataFrame, got {type(ratings).__name__}")
    if ratings.empty:
        return _empty_ranking()
    missing = [column for column in REQUIRED_COLUMNS if column not in ratings.columns]
    if missing:
        raise ValueError(
            f"ratings lack the column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}"
        )
    ranking = (
        ratings.groupby("movieId")
        .agg(avg_rating=("rating", "mean"), num_ratings=("userId", "nunique"))
        .reset_index()
    )
    ranking = ranking[ranking["num_ratings"] >= min_ratings]
    ranking = ranking.sort_values(["avg_rating", "num_ratings", "movieId"], ascending=[False, False, True])
    return ranking.set_index("movieId")


def _empty_ranking() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "movieId": pd.Series(dtype="int64"),
            "avg_rating": pd.Series(dtype="float64"),
            "num_ratings": pd.Series(dtype="int64"),
        }
    )
    return frame.set_index("movieId")
