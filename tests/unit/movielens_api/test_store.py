"""The columnar store: ordering, windows, MovieLens loading, errors naming file and line, cache."""

from __future__ import annotations

import os

import numpy as np
import pytest
from _api_fixtures import RECORDS, build_store, day

from movielens_api import store as store_module
from movielens_api.store import DataError, Store, load_directory

HEADER = "userId,movieId,rating,timestamp\n"
MOVIES_CSV = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '11,"American President, The (1995)",Comedy|Drama|Romance\n'
    '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Fantasy\n'
    '32,"Twelve Monkeys (a.k.a. 12 Monkeys) ""Special"" (1995)",(no genres listed)\n'
)
RATINGS_CSV = HEADER + "1,29,3.5,1112486027\n1,32,3.5,1112484676\n2,1,4.0,1112484676\n2,11,0.5,1094785740\n"


def write(directory, ratings=RATINGS_CSV, movies=MOVIES_CSV):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ratings.csv").write_text(ratings, encoding="utf-8")
    if movies is not None:
        (directory / "movies.csv").write_text(movies, encoding="utf-8")
    return directory


def rows(store):
    return list(
        zip(
            store.timestamp.tolist(),
            store.user.tolist(),
            store.movie.tolist(),
            store.half_stars.tolist(),
            strict=True,
        )
    )


# --- ordering and windows ------------------------------------------------------------------


def test_columns_are_sorted_by_timestamp_user_movie():
    assert rows(build_store()) == sorted((t, u, m, int(r * 2)) for t, u, m, r in RECORDS)


@pytest.mark.parametrize("presorted", [True, False])
def test_random_columns_sort_like_python(presorted):
    rng = np.random.default_rng(0)
    n = 5_000
    ts = rng.integers(0, 50, n) * 86_400 + rng.choice([0, 1, 86_399], n)  # many ties
    user = rng.integers(1, 20, n)
    movie = rng.integers(1, 20, n)
    if presorted:  # MovieLens files come in (userId, movieId) order: the fast path
        order = np.lexsort((movie, user))
        ts, user, movie = ts[order], user[order], movie[order]
    store = Store.from_columns(timestamp=ts, user=user, movie=movie, half_stars=np.ones(n))
    assert rows(store) == sorted(zip(ts.tolist(), user.tolist(), movie.tolist(), [1] * n, strict=True))


@pytest.mark.parametrize(
    "ts",
    [
        [5, 3, 3, 9, 0, 3],
        [0],
        [],
        [-(2**62), 2**62, 0, 1],  # the span overflows the combined key: falls back
        [2**63 - 1, -(2**63), 0],
    ],
)
def test_stable_order_matches_numpy(ts):
    array = np.asarray(ts, dtype=np.int64)
    if len(array):
        assert store_module._stable_order(array).tolist() == np.argsort(array, kind="stable").tolist()


def test_window_is_start_inclusive_end_exclusive():
    store = build_store()
    assert store.window(None, None) == (0, 8)
    assert store.window(day("2019-01-01"), day("2019-01-02")) == (0, 4)
    assert store.window(day("2019-01-02"), day("2019-01-02")) == (4, 4)
    assert store.window(day("2019-01-04"), day("2019-01-05")) == (6, 6)
    assert store.window(day("2030-01-01"), None) == (8, 8)
    assert store.window(None, day("2000-01-01")) == (0, 0)


def test_records_and_movies():
    store = build_store()
    assert store.ratings(3, 5) == [
        {"userId": 4, "movieId": 2, "rating": 2.0, "timestamp": day("2019-01-01", 86_399)},
        {"userId": 3, "movieId": 7, "rating": 5.0, "timestamp": day("2019-01-02")},
    ]
    assert [m["movieId"] for m in store.movies(0, 10)] == [1, 2, 5, 7, 10]
    assert store.ratings(8, 8) == []


def test_unequal_columns_are_rejected():
    with pytest.raises(ValueError, match="equal length"):
        Store.from_columns(timestamp=[1, 2], user=[1], movie=[1, 2], half_stars=[1, 2])
    with pytest.raises(ValueError, match="equal length"):
        Store.from_columns(
            timestamp=[], user=[], movie=[], half_stars=[], movie_ids=[1], titles=[], genres=[]
        )


def test_generated_store_matches_the_sample():
    store = Store.generated(2_000, seed=9)
    assert store.n_ratings == 2_000
    assert np.all(np.diff(store.timestamp) >= 0)


# --- loading MovieLens files ---------------------------------------------------------------


def test_loads_a_movielens_directory(tmp_path):
    store = load_directory(write(tmp_path))
    assert rows(store) == [
        (1094785740, 2, 11, 1),
        (1112484676, 1, 32, 7),
        (1112484676, 2, 1, 8),
        (1112486027, 1, 29, 7),
    ]
    movies = store.movies(0, 10)
    assert movies[2] == {
        "movieId": 29,
        "title": "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
        "genres": "Adventure|Drama|Fantasy",
    }
    assert movies[3]["title"] == 'Twelve Monkeys (a.k.a. 12 Monkeys) "Special" (1995)'


def test_movies_file_is_optional(tmp_path):
    store = load_directory(write(tmp_path, movies=None))
    assert (store.n_ratings, store.n_movies) == (4, 0)


def test_header_only_ratings_file_is_an_empty_dataset(tmp_path):
    assert load_directory(write(tmp_path, ratings=HEADER)).n_ratings == 0


def test_extra_columns_and_other_column_order_are_accepted(tmp_path):
    ratings = "timestamp,rating,movieId,userId,tag\n5,4.5,3,2,x\n1,1,1,1,y\r\n"
    assert rows(load_directory(write(tmp_path, ratings=ratings, movies=None))) == [(1, 1, 1, 2), (5, 2, 3, 9)]


def test_utf8_bom_is_accepted(tmp_path):
    write(tmp_path, ratings="\ufeff" + RATINGS_CSV)
    assert load_directory(tmp_path).n_ratings == 4


BAD_RATINGS = [
    ("", 1, "missing header"),
    ("\n1,2,3.0,4\n", 1, "missing header"),
    ("userId,movieId,rating\n1,2,3.0\n", 1, "timestamp"),
    ("user,movie,rating,timestamp\n", 1, "userId, movieId"),
    ("userId,movieId,rating,timestamp,rating\n", 1, "repeats"),
    (HEADER + "1,2,3.0,4\nx,2,3.0,4\n", 3, "userId 'x'"),
    (HEADER + "1,2,3.0,4\n1,two,3.0,4\n", 3, "movieId 'two'"),
    (HEADER + "1,2,3.0,4\n0,2,3.0,4\n", 3, "userId '0' is not a positive integer"),
    (HEADER + "1,2,3.0,4\n1,-2,3.0,4\n", 3, "movieId '-2'"),
    (HEADER + "1,2,3.0,4\n1,3000000000,3.0,4\n", 3, "out of range"),
    (HEADER + "1,2,3.0,4\n1,3,3.0,4\n1,4,5.5,4\n", 4, "rating '5.5'"),
    (HEADER + "1,2,4.2,4\n", 2, "rating '4.2'"),
    (HEADER + "1,2,0,4\n", 2, "rating '0'"),
    (HEADER + "1,2,0.0,4\n", 2, "rating '0.0'"),
    (HEADER + "1,2,-1.0,4\n", 2, "rating '-1.0'"),
    (HEADER + "1,2,nan,4\n", 2, "rating 'nan'"),
    (HEADER + "1,2,,4\n", 2, "rating ''"),
    (HEADER + "1,2,3.0,4.5\n", 2, "timestamp '4.5'"),
    (HEADER + "1,2,3.0,\n", 2, "timestamp ''"),
    (HEADER + "1,2,3.0,4,5\n", 2, "expected 4 fields, found 5"),
    (HEADER + "1,2,3.0\n", 2, "expected 4 fields, found 3"),
    (HEADER + "1,2,3.0,4\n\n1,3,3.0,4\n", 3, "empty line"),
    (HEADER + "1,2,3.0,4\n1,3,3.0,4\n\n", 4, "empty line"),
]


@pytest.mark.parametrize(("content", "line", "problem"), BAD_RATINGS)
def test_malformed_ratings_name_file_and_line(tmp_path, content, line, problem):
    write(tmp_path, ratings=content, movies=None)
    with pytest.raises(DataError) as info:
        load_directory(tmp_path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{tmp_path / 'ratings.csv'}, line {line}: ")
    assert problem in str(info.value)


def test_a_bad_row_far_into_a_large_file_is_located(tmp_path):
    good = "".join(f"{i % 97 + 1},{i % 89 + 1},3.5,{i}\n" for i in range(300_000))
    write(tmp_path, ratings=HEADER + good + "5,5,3.5,1x\n" + good, movies=None)
    with pytest.raises(DataError, match=r"line 300002: timestamp '1x'"):
        load_directory(tmp_path)
    write(tmp_path, ratings=HEADER + good + "5,5,7.5,1\n" + good, movies=None)
    with pytest.raises(DataError, match=r"line 300002: rating '7.5'"):
        load_directory(tmp_path)


def test_non_utf8_ratings_name_the_line(tmp_path):
    (tmp_path / "ratings.csv").write_bytes(HEADER.encode() + b"1,2,3.0,4\n1,2\xff,3.0,4\n")
    with pytest.raises(DataError, match="line 3: is not valid UTF-8"):
        load_directory(tmp_path)


BAD_MOVIES = [
    ("movieId,title\n", 1, "genres"),
    ("movieId,title,genres\n1,A,Drama\nx,B,Drama\n", 3, "movieId 'x'"),
    ("movieId,title,genres\n1,A,Drama\n1,B,Drama\n", 3, "movieId 1 repeats line 2"),
    ("movieId,title,genres\n1,A,B,Drama\n", 2, "expected 3 fields, found 4"),
    ("movieId,title,genres\n1,A,Drama\n\n", 3, "empty line"),
    ('movieId,title,genres\n1,"A,Drama\n', 2, "malformed CSV"),
]


@pytest.mark.parametrize(("content", "line", "problem"), BAD_MOVIES)
def test_malformed_movies_name_file_and_line(tmp_path, content, line, problem):
    write(tmp_path, movies=content)
    with pytest.raises(DataError) as info:
        load_directory(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'movies.csv'}, line {line}: ")
    assert problem in str(info.value)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DataError, match="is not a directory"):
        load_directory(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"ratings\.csv: not found"):
        load_directory(tmp_path)


# --- columnar cache ------------------------------------------------------------------------


def test_cache_miss_then_hit(tmp_path, monkeypatch):
    data = write(tmp_path / "data")
    cache = tmp_path / "cache"
    first = load_directory(data, cache_dir=cache)
    assert len(list(cache.iterdir())) == 1

    def no_csv(path):
        raise AssertionError("CSV read despite a valid cache")

    monkeypatch.setattr(store_module, "read_ratings_csv", no_csv)
    monkeypatch.setattr(store_module, "read_movies_csv", no_csv)
    second = load_directory(data, cache_dir=cache)
    assert isinstance(second.timestamp, np.memmap)  # shared by forked workers through the page cache
    assert rows(second) == rows(first)
    assert second.movies(0, 10) == first.movies(0, 10)


def test_changed_source_invalidates_the_cache(tmp_path):
    data = write(tmp_path / "data")
    cache = tmp_path / "cache"
    load_directory(data, cache_dir=cache)
    ratings = data / "ratings.csv"
    stat = ratings.stat()
    ratings.write_text(RATINGS_CSV.replace("3.5", "5.0"))
    os.utime(ratings, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime ...
    assert load_directory(data, cache_dir=cache).half_stars.max() == 8  # ... is the same cache key
    os.utime(ratings, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_directory(data, cache_dir=cache).half_stars.max() == 10
    assert len(list(cache.iterdir())) == 1  # the stale entry was pruned


def test_damaged_cache_is_rebuilt(tmp_path, caplog):
    data = write(tmp_path / "data")
    cache = tmp_path / "cache"
    expected = rows(load_directory(data, cache_dir=cache))
    (entry,) = cache.iterdir()
    (entry / "user.npy").write_bytes(b"garbage")
    assert rows(load_directory(data, cache_dir=cache)) == expected
    assert "damaged cache" in caplog.text
    assert isinstance(load_directory(data, cache_dir=cache).user, np.memmap)


def test_unwritable_cache_only_costs_speed(tmp_path, caplog):
    data = write(tmp_path / "data")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    assert load_directory(data, cache_dir=blocker).n_ratings == 4
    assert "could not write the cache" in caplog.text


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MOVIELENS_CACHE_DIR", str(tmp_path / "explicit"))
    assert store_module.default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("MOVIELENS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert store_module.default_cache_dir() == tmp_path / "movielens-api"
