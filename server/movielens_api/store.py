"""Columnar, sorted, read-only storage of ratings and movies with O(log n) date windows.

Ratings live in four numpy arrays sorted by ``(timestamp, userId, movieId)``: a date window is two
binary searches (``np.searchsorted``), a page is a slice, and ``total`` is ``hi - lo``; no request
ever scans the dataset. 25 million ratings take about 425 MB (int64 timestamps, int32 ids, uint8
half-stars).

``load_directory`` reads a MovieLens directory (``ratings.csv`` and optionally ``movies.csv``),
validates every row at start-up (errors name the file and line), and keeps a columnar copy in a
cache directory keyed by the source files' path, size and mtime. A restart loads that copy with
``mmap`` in well under a second, and forked server workers share its pages. Every store also
carries its newest ratings pre-serialised as JSON, within a memory budget (:mod:`.ratings_json`),
in the cache when there is one.
"""

from __future__ import annotations

import csv
import decimal
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .ratings_json import DEFAULT_BUDGET_MB, RatingsJson, first_within_budget
from .sample import SampleData, generate

log = logging.getLogger(__name__)

RATINGS_FILE = "ratings.csv"
MOVIES_FILE = "movies.csv"
RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_COLUMNS = ("movieId", "title", "genres")
CACHE_VERSION = 2
INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_UINT = re.compile(r"[0-9]+", re.ASCII)
_INT = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?", re.ASCII)
_ARRAYS = ("timestamp", "user", "movie", "half_stars", "movie_ids")


class DataError(ValueError):
    """A data file is missing or malformed. The message names the file and, when known, the line."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, eq=False)
class Store:
    """Ratings sorted by ``(timestamp, userId, movieId)`` and movies sorted by ``movieId``."""

    timestamp: np.ndarray
    user: np.ndarray
    movie: np.ndarray
    half_stars: np.ndarray
    movie_ids: np.ndarray
    titles: Sequence[str]
    genres: Sequence[str]
    #: The ratings as JSON text; ``None`` only while a store is being assembled.
    rendered: RatingsJson | None = None

    @classmethod
    def from_columns(
        cls,
        *,
        timestamp: Any,
        user: Any,
        movie: Any,
        half_stars: Any,
        movie_ids: Any = (),
        titles: Sequence[str] = (),
        genres: Sequence[str] = (),
        json_budget_mb: float = DEFAULT_BUDGET_MB,
    ) -> Store:
        """Build a store from unsorted columns (ratings as half-stars 1..10)."""
        columns: dict[str, np.ndarray] = {
            "timestamp": np.asarray(timestamp, dtype=np.int64),
            "user": np.asarray(user, dtype=np.int32),
            "movie": np.asarray(movie, dtype=np.int32),
            "half_stars": np.asarray(half_stars, dtype=np.uint8),
        }
        shapes = {array.shape for array in columns.values()}
        if len(shapes) != 1 or columns["timestamp"].ndim != 1:
            raise ValueError("rating columns must be one-dimensional and of equal length")
        _sort_ratings(columns)
        return _assemble(cls, columns, movie_ids, titles, genres).with_rendered_json(json_budget_mb)

    @classmethod
    def from_sample(cls, data: SampleData, json_budget_mb: float = DEFAULT_BUDGET_MB) -> Store:
        """Build a store from generated sample data."""
        return cls.from_columns(
            timestamp=data.timestamp,
            user=data.user,
            movie=data.movie,
            half_stars=data.half_stars,
            movie_ids=data.movie_ids,
            titles=data.titles,
            genres=data.genres,
            json_budget_mb=json_budget_mb,
        )

    @classmethod
    def generated(cls, n_ratings: int, seed: int, json_budget_mb: float = DEFAULT_BUDGET_MB) -> Store:
        """The embedded default dataset: ``n_ratings`` generated ratings from ``seed``."""
        return cls.from_sample(generate(n_ratings, seed), json_budget_mb)

    @property
    def n_ratings(self) -> int:
        return int(self.timestamp.shape[0])

    @property
    def n_movies(self) -> int:
        return int(self.movie_ids.shape[0])

    def window(self, start: int | None, end: int | None) -> tuple[int, int]:
        """Positions ``[lo, hi)`` of ratings with ``start <= timestamp < end`` (epoch seconds)."""
        lo = 0 if start is None else int(np.searchsorted(self.timestamp, start, side="left"))
        hi = self.n_ratings if end is None else int(np.searchsorted(self.timestamp, end, side="left"))
        return lo, max(lo, hi)

    def ratings(self, lo: int, hi: int) -> list[dict[str, Any]]:
        """Rating records at positions ``[lo, hi)``, keys in the order the API documents."""
        users = self.user[lo:hi].tolist()
        movies = self.movie[lo:hi].tolist()
        ratings = (self.half_stars[lo:hi] * 0.5).tolist()
        stamps = self.timestamp[lo:hi].tolist()
        return [
            {"userId": u, "movieId": m, "rating": r, "timestamp": t}
            for u, m, r, t in zip(users, movies, ratings, stamps, strict=True)
        ]

    def ratings_json(self, lo: int, hi: int) -> bytes:
        """The JSON array of rating records ``[lo, hi)``: ``orjson.dumps(self.ratings(lo, hi))``.

        Rendered records are sliced; older ones (before ``rendered.first``) are serialised here.
        """
        hi = min(hi, self.n_ratings)
        if self.rendered is None or hi <= self.rendered.first:
            return orjson.dumps(self.ratings(lo, hi))
        split = max(lo, self.rendered.first)  # [lo, split) serialised here, [split, hi) sliced
        tail = self.rendered.records(split, hi)
        if split == lo:
            return tail
        return orjson.dumps(self.ratings(lo, split))[:-1] + b"," + tail[1:]

    @property
    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The sorted rating columns ``(timestamp, user, movie, half_stars)``."""
        return self.timestamp, self.user, self.movie, self.half_stars

    def with_rendered_json(self, budget_mb: float = DEFAULT_BUDGET_MB) -> Store:
        """This store with its newest ratings, up to ``budget_mb``, rendered as JSON in memory."""
        if self.rendered is not None:
            return self
        first = first_within_budget(self.columns, int(budget_mb * 2**20))
        return replace(self, rendered=RatingsJson.render(self.columns, first))

    def movies(self, lo: int, hi: int) -> list[dict[str, Any]]:
        """Movie records at positions ``[lo, hi)`` in ``movieId`` order."""
        ids = self.movie_ids[lo:hi].tolist()
        return [
            {"movieId": i, "title": t, "genres": g}
            for i, t, g in zip(ids, self.titles[lo:hi], self.genres[lo:hi], strict=True)
        ]


def _sort_ratings(columns: dict[str, np.ndarray]) -> None:
    """Sort rating columns in place (in the dict) by ``(timestamp, userId, movieId)``.

    Columns are replaced one at a time so that peak memory is the data plus one permutation and
    one column. MovieLens files are sorted by ``(userId, movieId)``; then one stable sort by
    timestamp gives the full order and is several times faster than a three-key ``np.lexsort``.
    """
    ts, user, movie = columns["timestamp"], columns["user"], columns["movie"]
    if ts.shape[0] < 2:
        return
    if (ts[1:] >= ts[:-1]).all():
        tie = ts[1:] == ts[:-1]
        u0, u1, m0, m1 = user[:-1], user[1:], movie[:-1], movie[1:]
        if not (tie & ((u1 < u0) | ((u1 == u0) & (m1 < m0)))).any():
            return
        del tie, u0, u1, m0, m1
    by_user_movie = (user[1:] > user[:-1]) | ((user[1:] == user[:-1]) & (movie[1:] >= movie[:-1]))
    order = _stable_order(ts) if by_user_movie.all() else np.lexsort((movie, user, ts))
    del ts, user, movie, by_user_movie
    for name in list(columns):
        columns[name] = columns.pop(name)[order]


def _stable_order(ts: np.ndarray) -> np.ndarray:
    """``np.argsort(ts, kind="stable")``, computed by sorting ``(ts - min) * n + position``.

    A plain ``np.sort`` of int64 keys uses vectorised quicksort and is 10-20x faster than a
    stable argsort on tens of millions of values. Falls back when the keys would overflow.
    """
    n = ts.shape[0]
    low = int(ts.min())
    if int(ts.max()) - low >= (INT64_MAX - n) // n:
        return np.argsort(ts, kind="stable")
    key = ts - low
    key *= n
    step = 1 << 22
    for start in range(0, n, step):  # in slices, to avoid a second n-sized temporary
        key[start : start + step] += np.arange(start, min(start + step, n), dtype=np.int64)
    key.sort()
    np.remainder(key, n, out=key)
    return key


def _assemble(
    cls: type[Store],
    columns: dict[str, np.ndarray],
    movie_ids: Any,
    titles: Sequence[str],
    genres: Sequence[str],
) -> Store:
    """A store from sorted rating columns and (unsorted) movie columns, sorted by ``movieId``."""
    ids = np.asarray(movie_ids, dtype=np.int32)
    if not len(ids) == len(titles) == len(genres) or ids.ndim != 1:
        raise ValueError("movie columns must be one-dimensional and of equal length")
    order = np.argsort(ids, kind="stable")
    positions = order.tolist()
    return cls(
        timestamp=columns["timestamp"],
        user=columns["user"],
        movie=columns["movie"],
        half_stars=columns["half_stars"],
        movie_ids=ids[order],
        titles=[titles[i] for i in positions],
        genres=[genres[i] for i in positions],
    )


# --------------------------------------------------------------------------------------------
# Reading MovieLens CSV files


def _read_header(path: Path, required: Sequence[str]) -> list[str]:
    """The column names of ``path``'s first line; all of ``required`` must be present."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline()
    except OSError as exc:
        raise DataError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    if not first.strip():
        raise DataError(path, 1, f"missing header line; expected {','.join(required)}")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, 1, "header is not valid UTF-8") from None
    names = [name.strip() for name in next(csv.reader([text.rstrip("\r\n")]))]
    missing = [name for name in required if name not in names]
    if missing:
        raise DataError(
            path,
            1,
            f"header lacks column(s) {', '.join(missing)}; expected {','.join(required)}, "
            f"found {','.join(names)!r}",
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataError(path, 1, f"header repeats column(s) {', '.join(duplicates)}")
    return names


def _half_stars(text: str) -> int | None:
    """Half-stars 1..10 for a rating such as ``4.5``; ``None`` if it is not a valid rating."""
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    doubled = decimal.Decimal(text) * 2
    if doubled != doubled.to_integral_value() or not 1 <= doubled <= 10:
        return None
    return int(doubled)


def _check_id(name: str, text: str) -> str | None:
    text = text.strip()
    if not _UINT.fullmatch(text):
        return f"{name} {text!r} is not a positive integer"
    if not 1 <= int(text) <= INT32_MAX:
        return f"{name} {text} is out of range 1..{INT32_MAX}"
    return None


def _check_rating_row(row: list[str], index: dict[str, int]) -> str | None:
    """What is wrong with one data row of ratings.csv, or ``None``."""
    if len(row) != len(index):
        return f"expected {len(index)} fields, found {len(row)}"
    for name in ("userId", "movieId"):
        problem = _check_id(name, row[index[name]])
        if problem:
            return problem
    rating = row[index["rating"]]
    if _half_stars(rating) is None:
        return f"rating {rating.strip()!r} is not a multiple of 0.5 between 0.5 and 5.0"
    stamp = row[index["timestamp"]].strip()
    if not _INT.fullmatch(stamp) or not INT64_MIN <= int(stamp) <= INT64_MAX:
        return f"timestamp {stamp!r} is not an integer number of seconds"
    return None


def _locate_ratings_error(path: Path, names: list[str]) -> DataError | None:
    """Scan ``path`` line by line for the first malformed row (slow; only after a failure)."""
    index = {name: i for i, name in enumerate(names)}
    with open(path, "rb") as fh:
        fh.readline()
        for line_no, raw in enumerate(fh, start=2):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                return DataError(path, line_no, "is not valid UTF-8")
            if not text.strip():
                return DataError(path, line_no, "empty line")
            problem = _check_rating_row(next(csv.reader([text])), index)
            if problem:
                return DataError(path, line_no, problem)
    return None


def read_ratings_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read and validate a MovieLens ``ratings.csv``; unsorted columns keyed like ``Store``.

    pyarrow parses the file in parallel with explicit types (about 2 s for 25M rows). If it
    rejects the file, a line-by-line scan finds the exact line to report.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    names = _read_header(path, RATINGS_COLUMNS)
    read_options = pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=16 << 20)
    # Empty lines are errors, not skipped, so that row i is always line i + 2.
    parse_options = pacsv.ParseOptions(ignore_empty_lines=False)
    convert_options = pacsv.ConvertOptions(
        column_types={
            "userId": pa.int32(),
            "movieId": pa.int32(),
            "rating": pa.dictionary(pa.int32(), pa.utf8()),
            "timestamp": pa.int64(),
        },
        include_columns=list(RATINGS_COLUMNS),
        null_values=[],
        strings_can_be_null=False,
    )
    try:
        table = pacsv.read_csv(path, read_options, parse_options, convert_options)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        located = _locate_ratings_error(path, names)
        raise located or DataError(path, None, f"cannot be parsed: {exc}") from None
    except OSError as exc:
        raise DataError(path, None, f"cannot be read: {exc}") from None

    columns = {name: table.column(name) for name in RATINGS_COLUMNS}
    del table
    rating = columns.pop("rating")
    half_chunks = []
    row = 0
    for chunk in rating.chunks:
        lookup = np.zeros(len(chunk.dictionary), dtype=np.uint8)
        for i, text in enumerate(chunk.dictionary.to_pylist()):
            lookup[i] = _half_stars(text) or 0
        half = lookup[chunk.indices.to_numpy()]
        if not half.all():
            bad = int(np.argmin(half))
            text = chunk.dictionary[chunk.indices[bad].as_py()].as_py()
            raise DataError(
                path,
                row + bad + 2,
                f"rating {text.strip()!r} is not a multiple of 0.5 between 0.5 and 5.0",
            )
        half_chunks.append(half)
        row += len(chunk)
    del rating
    out = {"half_stars": np.concatenate(half_chunks) if half_chunks else np.empty(0, np.uint8)}
    del half_chunks
    for name, key in (("userId", "user"), ("movieId", "movie"), ("timestamp", "timestamp")):
        column = columns.pop(name)
        values = column.to_numpy() if column.num_chunks else np.empty(0, column.type.to_pandas_dtype())
        del column
        if key != "timestamp":
            nonpositive = values < 1
            if nonpositive.any():
                bad = int(np.argmax(nonpositive))
                raise DataError(path, bad + 2, f"{name} '{values[bad]}' is not a positive integer")
        out[key] = values
    _release_arrow_memory()
    return out


def read_movies_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, list[str], list[str]]:
    """Read and validate a MovieLens ``movies.csv`` (titles may contain quoted commas)."""
    path = Path(path)
    names = _read_header(path, MOVIES_COLUMNS)
    index = {name: i for i, name in enumerate(names)}
    ids: list[int] = []
    titles: list[str] = []
    genres: list[str] = []
    seen: dict[int, int] = {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            next(reader)
            for row in reader:
                line = reader.line_num
                if not row:
                    raise DataError(path, line, "empty line")
                if len(row) != len(names):
                    raise DataError(path, line, f"expected {len(names)} fields, found {len(row)}")
                problem = _check_id("movieId", row[index["movieId"]])
                if problem:
                    raise DataError(path, line, problem)
                movie_id = int(row[index["movieId"]])
                if movie_id in seen:
                    raise DataError(path, line, f"movieId {movie_id} repeats line {seen[movie_id]}")
                seen[movie_id] = line
                ids.append(movie_id)
                titles.append(row[index["title"]])
                genres.append(row[index["genres"]])
    except UnicodeDecodeError:
        raise DataError(path, None, "is not valid UTF-8") from None
    except csv.Error as exc:
        raise DataError(path, reader.line_num, f"malformed CSV: {exc}") from None
    return np.asarray(ids, dtype=np.int32), titles, genres


# --------------------------------------------------------------------------------------------
# Columnar cache


def default_cache_dir() -> Path:
    """``$MOVIELENS_CACHE_DIR``, else ``$XDG_CACHE_HOME/movielens-api``, else ``~/.cache/...``."""
    explicit = os.environ.get("MOVIELENS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "movielens-api"


def _fingerprint(sources: Sequence[Path], json_budget_mb: float) -> dict[str, Any]:
    files = []
    for source in sources:
        st = source.stat()
        files.append({"path": str(source.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return {"version": CACHE_VERSION, "files": files, "json_budget_mb": json_budget_mb}


def _cache_key(fingerprint: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _load_cache(entry: Path, fingerprint: dict[str, Any]) -> Store | None:
    """The store cached in ``entry``, memory-mapped; ``None`` if absent, stale or damaged."""
    meta_path = entry / "meta.json"
    if not meta_path.exists():
        return None
    try:
        meta = orjson.loads(meta_path.read_bytes())
        if meta.get("fingerprint") != fingerprint:
            return None
        arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        movies = orjson.loads((entry / "movies.json").read_bytes())
        n = meta["ratings"]
        shapes_ok = all(arrays[name].shape == (n,) for name in ("timestamp", "user", "movie", "half_stars"))
        if not shapes_ok or not len(arrays["movie_ids"]) == len(movies["titles"]) == len(movies["genres"]):
            raise ValueError("inconsistent array lengths")
        rendered = RatingsJson.load(entry, n)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring damaged cache %s: %s", entry, exc)
        return None
    return Store(**arrays, titles=movies["titles"], genres=movies["genres"], rendered=rendered)


def _write_cache(
    root: Path, key: str, fingerprint: dict[str, Any], store: Store, json_budget_mb: float
) -> None:
    """Write ``store``, with its newest ratings rendered within ``json_budget_mb``, to ``root/key``
    atomically (temporary directory, then rename)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{key}-{uuid.uuid4().hex}"
    entry = root / key
    try:
        tmp.mkdir()
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(getattr(store, name)))
        first = first_within_budget(store.columns, int(json_budget_mb * 2**20))
        RatingsJson.write(tmp, store.columns, first)
        (tmp / "movies.json").write_bytes(
            orjson.dumps({"titles": list(store.titles), "genres": list(store.genres)})
        )
        meta = {"fingerprint": fingerprint, "ratings": store.n_ratings, "movies": store.n_movies}
        (tmp / "meta.json").write_bytes(orjson.dumps(meta))
        if entry.exists():
            shutil.rmtree(entry)  # stale or damaged: this key's sources are the ones just read
        os.rename(tmp, entry)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _prune_cache(root, keep=key, fingerprint=fingerprint)


def _prune_cache(root: Path, *, keep: str, fingerprint: dict[str, Any]) -> None:
    """Remove cache entries built from older versions of the same source files."""
    ours = fingerprint["files"][0]["path"]
    for entry in root.iterdir():
        if entry.name == keep or entry.name.startswith("."):
            continue
        try:
            meta = orjson.loads((entry / "meta.json").read_bytes())
            if meta["fingerprint"]["files"][0]["path"] == ours:
                shutil.rmtree(entry)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue


def _release_arrow_memory() -> None:
    """Return memory pyarrow's allocator keeps after parsing (hundreds of MB at 25M rows)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def load_directory(
    data_dir: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    json_budget_mb: float = DEFAULT_BUDGET_MB,
) -> Store:
    """Load a MovieLens directory, through the columnar cache in ``cache_dir`` if given.

    ``json_budget_mb`` bounds the pre-rendered JSON of the newest ratings (:mod:`.ratings_json`).

    Raises :class:`DataError` naming the file and line for missing or malformed files. A cache
    that cannot be written (read-only disk) only costs speed on the next start: it is logged.
    """
    directory = Path(data_dir)
    if not directory.is_dir():
        raise DataError(directory, None, "is not a directory (expected a MovieLens data directory)")
    ratings_path = directory / RATINGS_FILE
    if not ratings_path.is_file():
        raise DataError(
            ratings_path, None, f"not found; a MovieLens {RATINGS_FILE} with header "
            f"{','.join(RATINGS_COLUMNS)} is required"
        )  # fmt: skip
    movies_path = directory / MOVIES_FILE
    sources = [ratings_path] + ([movies_path] if movies_path.is_file() else [])

    root = Path(cache_dir) if cache_dir is not None else None
    fingerprint = _fingerprint(sources, json_budget_mb)
    key = _cache_key(fingerprint)
    if root is not None:
        cached = _load_cache(root / key, fingerprint)
        if cached is not None:
            log.info("loaded %d ratings from cache %s", cached.n_ratings, root / key)
            return cached

    movie_ids, titles, genres = (
        read_movies_csv(movies_path) if movies_path.is_file() else (np.empty(0, np.int32), [], [])
    )
    columns = read_ratings_csv(ratings_path)
    _sort_ratings(columns)
    store = _assemble(Store, columns, movie_ids, titles, genres)
    del columns
    _release_arrow_memory()
    if root is not None:
        try:
            _write_cache(root, key, fingerprint, store, json_budget_mb)
        except OSError as exc:
            log.warning("could not write the cache in %s (%s); the next start reads CSV again", root, exc)
        else:
            # Serve from the memory-mapped copy just written: its pages (the rendered JSON above all)
            # live in the page cache, shared by workers, instead of in this process's heap.
            cached = _load_cache(root / key, fingerprint)
            if cached is not None:
                return cached
    return store.with_rendered_json(json_budget_mb)
