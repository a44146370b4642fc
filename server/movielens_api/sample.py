"""Deterministic generator of MovieLens-shaped sample data.

The reference server needs realistic data without a network download, and the benchmarks need
25 million ratings in seconds, so everything here is vectorised numpy driven by one
``numpy.random.Generator`` seeded from ``seed``: the same ``(n_ratings, seed)`` always gives the
same arrays and therefore the same CSV bytes.

Shape, loosely modelled on MovieLens: half-star ratings with MovieLens' marginal distribution and a
per-movie / per-user bias, long-tailed movie popularity (Zipf-like) and user activity (log-normal),
unique ``(userId, movieId)`` pairs, sparse movie ids, timestamps over 2019 UTC with a weekly and a
daily rhythm, a few empty days and some records exactly at midnight UTC.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_RATINGS = 100_000
DEFAULT_SEED = 42

#: 2019-01-01T00:00:00Z
YEAR_START = 1_546_300_800
DAYS = 365
DAY = 86_400

#: Share of each half-star rating 0.5, 1.0, ..., 5.0 in MovieLens 25M (rounded).
RATING_SHARES = np.array([0.016, 0.031, 0.016, 0.066, 0.050, 0.196, 0.127, 0.266, 0.085, 0.147])
RATING_TEXT = ["0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"]

GENRES = [
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
]  # fmt: skip
NO_GENRES = "(no genres listed)"
_ADJECTIVES = [
    "Silent", "Last", "Red", "Lost", "Golden", "Broken", "Hidden", "Wild", "Dark", "Little",
    "Endless", "Electric", "Frozen", "Secret", "Crimson", "Quiet", "Burning", "Distant",
]  # fmt: skip
_NOUNS = [
    "River", "City", "Summer", "Garden", "Road", "Machine", "Island", "Promise", "Letter",
    "Stranger", "Harbor", "Kingdom", "Voyage", "Shadow", "Dream", "Station", "Winter", "Heart",
]  # fmt: skip

RATINGS_HEADER = "userId,movieId,rating,timestamp\n"
CHUNK = 1 << 21  # rows per vectorised step where temporaries would otherwise cost GBs
MOVIES_HEADER = ["movieId", "title", "genres"]


@dataclass(frozen=True)
class SampleData:
    """Generated ratings (in ``(userId, movieId)`` order, like MovieLens files) and movies."""

    user: np.ndarray  # int32
    movie: np.ndarray  # int32
    half_stars: np.ndarray  # uint8, rating * 2 (1..10)
    timestamp: np.ndarray  # int64, epoch seconds
    movie_ids: np.ndarray  # int32, ascending
    titles: list[str]
    genres: list[str]

    def __len__(self) -> int:
        return int(self.user.shape[0])


def _sizes(n_ratings: int) -> tuple[int, int]:
    """Users and movies for a dataset of ``n_ratings`` (ml-latest-small and ml-25m like)."""
    n_movies = max(20, round(9_700 * (max(n_ratings, 1) / 100_000) ** 0.34))
    n_users = max(5, round(n_ratings / 160))
    return n_users, n_movies


def _sample_index(rng: np.random.Generator, cumulative: np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with probabilities given by a normalised cumulative sum."""
    idx = np.searchsorted(cumulative, rng.random(size), side="right")
    capped: np.ndarray = np.minimum(idx, cumulative.shape[0] - 1)
    return capped


def _pairs(rng: np.random.Generator, n_ratings: int, n_users: int, n_movies: int) -> np.ndarray:
    """Unique ``user_index * n_movies + movie_index`` keys, ascending, exactly ``n_ratings``."""
    # Long-tailed movie popularity: Zipf-like over a random popularity rank.
    rank = rng.permutation(n_movies)
    movie_weight = 1.0 / (rank + 8.0) ** 1.05
    movie_p = movie_weight / movie_weight.sum()
    # Long-tailed user activity, capped so that no user needs more than a third of all movies.
    user_weight = rng.lognormal(mean=0.0, sigma=1.1, size=n_users)
    user_weight /= user_weight.sum()
    cap = min(1.0, n_movies / 3 / max(n_ratings, 1))
    for _ in range(8):
        user_weight = np.minimum(user_weight, cap)
        user_weight /= user_weight.sum()
    user_p = user_weight

    def draw(size: int) -> np.ndarray:
        """Sorted unique keys from ``size`` independent draws.

        Counts per user and per movie come from multinomials and the movie list is shuffled:
        exact, and several times faster than inverse-CDF look-ups for tens of millions of draws.
        """
        users = np.repeat(np.arange(n_users, dtype=np.int32), rng.multinomial(size, user_p))
        movies = np.repeat(np.arange(n_movies, dtype=np.int32), rng.multinomial(size, movie_p))
        rng.shuffle(movies)
        keys = users.astype(np.int64)
        del users
        keys *= n_movies
        keys += movies
        del movies
        keys.sort()
        if size == 0:
            return keys
        return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]

    kept = draw(n_ratings)
    for _ in range(64):
        missing = n_ratings - kept.shape[0]
        if missing <= 0:
            break
        fresh = draw(int(missing * 1.5) + 16)
        pos = np.minimum(np.searchsorted(kept, fresh), kept.shape[0] - 1)
        fresh = fresh[kept[pos] != fresh] if kept.shape[0] else fresh
        # An unbiased choice among the new pairs, so that low keys are not favoured.
        if fresh.shape[0] > missing:
            fresh = fresh[np.sort(rng.permutation(fresh.shape[0])[:missing])]
        kept = np.sort(np.concatenate([kept, fresh]), kind="stable")  # merge of two sorted runs
    if kept.shape[0] != n_ratings:  # pragma: no cover - capacity is at least 3x n_ratings
        raise RuntimeError("could not draw enough unique (user, movie) pairs")
    return kept


def _ratings(
    rng: np.random.Generator, user_idx: np.ndarray, movie_idx: np.ndarray, n_users: int, n_movies: int
) -> np.ndarray:
    """Half stars (1..10) with MovieLens' marginal shares and per-movie/per-user bias."""
    quality = rng.normal(0.0, 0.7, n_movies)
    leniency = rng.normal(0.0, 0.5, n_users)
    # A logistic CDF of matching spread maps the latent score to (0, 1), then onto the shares.
    spread = float(np.sqrt(0.7**2 + 0.5**2 + (np.pi * 0.6) ** 2 / 3) * np.sqrt(3) / np.pi)
    cut = np.cumsum(RATING_SHARES) / RATING_SHARES.sum()
    n = user_idx.shape[0]
    stars = np.empty(n, dtype=np.uint8)
    for start in range(0, n, CHUNK):  # in chunks: float temporaries stay small at 25M ratings
        stop = min(n, start + CHUNK)
        latent = rng.logistic(0.0, 0.6, stop - start)
        latent += quality[movie_idx[start:stop]]
        latent += leniency[user_idx[start:stop]]
        latent *= -1.0 / spread
        np.exp(latent, out=latent)
        latent += 1.0
        np.reciprocal(latent, out=latent)
        stars[start:stop] = np.minimum(np.searchsorted(cut, latent, side="right") + 1, 10)
    return stars


def _timestamps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Epoch seconds over 2019 UTC: weekly and daily rhythm, empty days, some exact midnights."""
    day = np.arange(DAYS)
    weekday = (day + 1) % 7  # 2019-01-01 was a Tuesday; 5 and 6 are Saturday and Sunday
    day_weight = (1.0 + 0.35 * (weekday >= 5)) * rng.lognormal(0.0, 0.25, DAYS) * (1 + day / DAYS)
    empty = rng.choice(DAYS, size=9, replace=False)
    day_weight[empty] = 0.0
    day_cum = np.cumsum(day_weight / day_weight.sum())
    hour = np.arange(24)
    hour_weight = 1.0 + 0.8 * np.cos(2 * np.pi * (hour - 20) / 24)  # evening peak, morning trough
    hour_cum = np.cumsum(hour_weight / hour_weight.sum())

    ts = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):
        size = min(n, start + CHUNK) - start
        days = _sample_index(rng, day_cum, size).astype(np.int64)
        chunk = YEAR_START + days * DAY
        # Boundary cases for date windows: some records exactly at 00:00:00 UTC of their day.
        at_midnight = rng.random(size) < 0.002
        seconds = _sample_index(rng, hour_cum, size) * 3600 + rng.integers(0, 3600, size)
        chunk[~at_midnight] += seconds[~at_midnight]
        ts[start : start + size] = chunk
    if n:
        pick = rng.integers(0, n, min(n, 3))  # at least a few midnights even in tiny samples
        ts[pick] -= (ts[pick] - YEAR_START) % DAY
    return ts


def _movies(rng: np.random.Generator, n_movies: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Sparse ascending movie ids with MovieLens-style titles and pipe-separated genres."""
    ids = np.sort(rng.choice(n_movies * 3, size=n_movies, replace=False) + 1).astype(np.int32)
    adjective = rng.integers(0, len(_ADJECTIVES), n_movies)
    noun = rng.integers(0, len(_NOUNS), n_movies)
    year = rng.integers(1920, 2020, n_movies)
    style = rng.random(n_movies)
    genre_count = rng.integers(1, 4, n_movies)
    genre_pick = rng.random((n_movies, len(GENRES))).argsort(axis=1)
    titles: list[str] = []
    genres: list[str] = []
    for i in range(n_movies):
        name = f"{_ADJECTIVES[adjective[i]]} {_NOUNS[noun[i]]}"
        if style[i] < 0.10:  # MovieLens moves leading articles to the end: "Matrix, The (1999)"
            name = f"{name}, The"
        elif style[i] < 0.13:
            name = f'"{name}" Part {2 + i % 3}'
        titles.append(f"{name} ({year[i]})")
        if style[i] > 0.99:
            genres.append(NO_GENRES)
        else:
            genres.append("|".join(sorted(GENRES[g] for g in genre_pick[i, : genre_count[i]])))
    return ids, titles, genres


def generate(n_ratings: int = DEFAULT_RATINGS, seed: int = DEFAULT_SEED) -> SampleData:
    """Generate ``n_ratings`` ratings deterministically from ``seed``."""
    if n_ratings < 0:
        raise ValueError(f"n_ratings must be >= 0, got {n_ratings}")
    rng = np.random.default_rng(seed)
    n_users, n_movies = _sizes(n_ratings)
    movie_ids, titles, genres = _movies(rng, n_movies)
    keys = _pairs(rng, n_ratings, n_users, n_movies)
    user_idx = (keys // n_movies).astype(np.int32)
    movie_idx = (keys % n_movies).astype(np.int32)
    del keys
    half = _ratings(rng, user_idx, movie_idx, n_users, n_movies)
    ts = _timestamps(rng, n_ratings)
    return SampleData(
        user=(user_idx + 1).astype(np.int32),
        movie=movie_ids[movie_idx],
        half_stars=half,
        timestamp=ts,
        movie_ids=movie_ids,
        titles=titles,
        genres=genres,
    )


def write_csv(data: SampleData, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``ratings.csv`` and ``movies.csv`` in MovieLens format; return their paths.

    Each file is written to a temporary name and renamed into place, so an interrupted run never
    leaves a partial file under the final name.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ratings_path = out / "ratings.csv"
    movies_path = out / "movies.csv"

    rating_text = pa.DictionaryArray.from_arrays(
        pa.array(data.half_stars.astype(np.int8) - 1), pa.array(RATING_TEXT)
    )
    table = pa.table(
        {
            "userId": pa.array(data.user),
            "movieId": pa.array(data.movie),
            "rating": rating_text,
            "timestamp": pa.array(data.timestamp),
        }
    )
    tmp = ratings_path.with_name(f".{ratings_path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(RATINGS_HEADER.encode())
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        os.replace(tmp, ratings_path)
    finally:
        tmp.unlink(missing_ok=True)

    tmp = movies_path.with_name(f".{movies_path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(MOVIES_HEADER)
            writer.writerows(zip(data.movie_ids.tolist(), data.titles, data.genres, strict=True))
        os.replace(tmp, movies_path)
    finally:
        tmp.unlink(missing_ok=True)
    return ratings_path, movies_path
