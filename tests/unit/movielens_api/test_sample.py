"""The sample generator: deterministic bytes and a MovieLens-like shape."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from movielens_api import sample


def digest(directory):
    return {
        name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
        for name in ("ratings.csv", "movies.csv")
    }


def test_same_seed_same_bytes(tmp_path):
    sample.write_csv(sample.generate(20_000, seed=7), tmp_path / "a")
    sample.write_csv(sample.generate(20_000, seed=7), tmp_path / "b")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_other_seed_other_data():
    a, b = sample.generate(5_000, seed=1), sample.generate(5_000, seed=2)
    assert not np.array_equal(a.timestamp, b.timestamp)


@pytest.mark.parametrize("n", [0, 1, 2, 17, 5_000])
def test_exact_size_and_unique_pairs(n):
    data = sample.generate(n, seed=3)
    assert len(data) == n
    pairs = data.user.astype(np.int64) * 2**32 + data.movie
    assert len(np.unique(pairs)) == n  # MovieLens has one rating per (user, movie)
    assert np.all(np.diff(pairs) > 0)  # files are in (userId, movieId) order, like MovieLens
    assert set(data.movie.tolist()) <= set(data.movie_ids.tolist())


def test_negative_size_is_rejected():
    with pytest.raises(ValueError, match="n_ratings"):
        sample.generate(-1)


@pytest.fixture(scope="module")
def default():
    return sample.generate()


def test_default_is_about_100k_ratings_over_2019(default):
    assert len(default) == sample.DEFAULT_RATINGS == 100_000
    assert default.timestamp.min() >= 1_546_300_800  # 2019-01-01T00:00:00Z
    assert default.timestamp.max() < 1_577_836_800  # 2020-01-01T00:00:00Z


def test_ratings_are_half_stars_with_movielens_shares(default):
    assert default.half_stars.min() >= 1
    assert default.half_stars.max() <= 10
    shares = np.bincount(default.half_stars, minlength=11)[1:] / len(default)
    assert np.abs(shares - sample.RATING_SHARES).max() < 0.02
    assert np.argmax(shares) == 7  # 4.0 is the most common rating, as in MovieLens
    assert shares[1::2].sum() > 0.6  # whole stars dominate half stars


def test_movie_popularity_and_user_activity_are_long_tailed(default):
    per_movie = np.sort(np.bincount(default.movie))[::-1]
    per_movie = per_movie[per_movie > 0]
    top_share = per_movie[: len(per_movie) // 100].sum() / len(default)
    assert top_share > 0.08  # the top 1% of movies get a large share of ratings
    assert np.median(per_movie) < 10  # while the typical movie has few
    per_user = np.bincount(default.user)[1:]
    assert per_user.max() > 5 * np.median(per_user)


def test_movie_quality_varies(default):
    mean = np.bincount(default.movie, weights=default.half_stars / 2) / np.maximum(
        np.bincount(default.movie), 1
    )
    popular = np.bincount(default.movie) >= 50
    assert mean[popular].max() - mean[popular].min() > 1.0  # some films rank clearly above others


def test_timestamps_have_empty_days_midnights_and_a_daily_rhythm(default):
    seconds = default.timestamp - 1_546_300_800
    per_day = np.bincount(seconds // 86_400, minlength=365)
    assert 1 <= (per_day == 0).sum() <= 30
    assert (seconds % 86_400 == 0).sum() >= 3
    per_hour = np.bincount((seconds % 86_400) // 3_600, minlength=24)
    assert per_hour.max() > 3 * per_hour.min()


def test_csv_files_are_movielens_format(tmp_path):
    data = sample.generate(3_000, seed=5)
    ratings_path, movies_path = sample.write_csv(data, tmp_path)
    lines = ratings_path.read_text().splitlines()
    assert lines[0] == "userId,movieId,rating,timestamp"
    assert len(lines) == 3_001
    first = lines[1].split(",")
    assert first == [
        str(data.user[0]),
        str(data.movie[0]),
        f"{data.half_stars[0] / 2:.1f}",
        str(data.timestamp[0]),
    ]
    with open(movies_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["movieId", "title", "genres"]
    assert [int(r[0]) for r in rows[1:]] == data.movie_ids.tolist()
    assert any("," in r[1] for r in rows[1:])  # titles like "Matrix, The (1999)" need quoting
    assert all(r[2] == sample.NO_GENRES or set(r[2].split("|")) <= set(sample.GENRES) for r in rows[1:])
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind
