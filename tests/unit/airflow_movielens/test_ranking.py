"""rank_movies_by_rating: averages, distinct raters, min_ratings, deterministic order, input checks."""

from __future__ import annotations

import pandas as pd
import pytest

from airflow_movielens.ranking import rank_movies_by_rating


def frame(rows):
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])


def test_average_and_distinct_raters():
    ratings = frame(
        [
            (1, 10, 3.0, 1),
            (2, 10, 4.0, 2),
            (2, 10, 5.0, 3),  # the same user again: counted once as a rater, every rating averaged
            (1, 20, 2.0, 4),
            (3, 20, 2.0, 5),
        ]
    )
    ranking = rank_movies_by_rating(ratings, min_ratings=2)
    assert ranking.index.name == "movieId"
    assert ranking.index.tolist() == [10, 20]
    assert ranking["avg_rating"].tolist() == [4.0, 2.0]
    assert ranking["num_ratings"].tolist() == [2, 2]


def test_min_ratings_is_inclusive():
    ratings = frame([(1, 10, 5.0, 1), (1, 20, 4.0, 2), (2, 20, 4.0, 3), (3, 30, 1.0, 4)])
    assert rank_movies_by_rating(ratings, min_ratings=1).index.tolist() == [10, 20, 30]
    assert rank_movies_by_rating(ratings, min_ratings=2).index.tolist() == [20]
    assert rank_movies_by_rating(ratings, min_ratings=3).empty


def _textbook_ranking(ratings, min_ratings):
    """The textbook's filter, as an oracle: strictly more than ``min_ratings`` distinct raters."""
    per_movie = ratings.groupby("movieId").agg(
        avg_rating=("rating", "mean"), num_ratings=("userId", "nunique")
    )
    return per_movie[per_movie["num_ratings"] > min_ratings]


@pytest.mark.parametrize("textbook_min", [0, 1, 2, 3])
def test_textbook_min_ratings_n_is_our_n_plus_one(textbook_min):
    # Movie m has m distinct raters (1..5), so every cut keeps a different set of movies.
    ratings = frame(
        [
            (user, movie, float(1 + (user + movie) % 5), user * 10 + movie)
            for movie in range(1, 6)
            for user in range(1, movie + 1)
        ]
    )
    ours = rank_movies_by_rating(ratings, min_ratings=textbook_min + 1)
    theirs = _textbook_ranking(ratings, textbook_min)
    assert sorted(ours.index) == sorted(theirs.index) == list(range(textbook_min + 1, 6))
    pd.testing.assert_frame_equal(ours.sort_index(), theirs.sort_index(), check_like=True)
    if textbook_min >= 1:  # the same number means a different cut: exactly textbook_min raters kept here
        assert textbook_min in rank_movies_by_rating(ratings, min_ratings=textbook_min).index
        assert textbook_min not in theirs.index


def test_ties_sort_by_raters_then_movie_id():
    ratings = frame(
        [
            (1, 30, 4.0, 1),
            (2, 30, 4.0, 2),
            (1, 10, 4.0, 3),
            (2, 10, 4.0, 4),
            (1, 20, 4.0, 5),
            (2, 20, 4.0, 6),
            (3, 20, 4.0, 7),
            (1, 40, 4.5, 8),
            (2, 40, 4.5, 9),
        ]
    )
    ranking = rank_movies_by_rating(ratings, min_ratings=2)
    # 40 has the best average; 20 beats 10 and 30 on raters; 10 before 30 by movieId.
    assert ranking.index.tolist() == [40, 20, 10, 30]
    shuffled = rank_movies_by_rating(ratings.sample(frac=1, random_state=3), min_ratings=2)
    pd.testing.assert_frame_equal(shuffled, ranking)


def test_empty_input_gives_empty_ranking_with_columns():
    for empty in (pd.DataFrame(), frame([])):
        ranking = rank_movies_by_rating(empty)
        assert ranking.empty
        assert ranking.to_csv() == "movieId,avg_rating,num_ratings\n"
        assert ranking.index.dtype == "int64"
        assert ranking.dtypes.to_dict() == {"avg_rating": "float64", "num_ratings": "int64"}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_min_ratings_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="min_ratings"):
        rank_movies_by_rating(frame([(1, 10, 5.0, 1)]), min_ratings=bad)


def test_missing_columns_are_named():
    ratings = pd.DataFrame({"movieId": [1], "score": [5.0]})
    with pytest.raises(
        ValueError, match=r"^ratings lack the column\(s\) userId, rating; expected movieId, userId, rating$"
    ):
        rank_movies_by_rating(ratings)


def test_not_a_dataframe():
    with pytest.raises(TypeError, match=r"^ratings must be a pandas DataFrame, got list$"):
        rank_movies_by_rating([{"movieId": 1}])  # type: ignore[arg-type]


def test_default_min_ratings_is_two():
    ratings = frame([(1, 10, 5.0, 1), (1, 20, 4.0, 2), (2, 20, 4.0, 3)])
    assert rank_movies_by_rating(ratings).index.tolist() == [20]
