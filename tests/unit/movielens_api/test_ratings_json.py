"""Pre-rendered rating JSON: byte-for-byte what orjson writes, for every range, in memory and cached."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pytest
from _api_fixtures import build_store

from movielens_api import ratings_json as rj
from movielens_api.ratings_json import RatingsJson
from movielens_api.store import Store, load_directory


def random_store(n: int, seed: int = 7) -> Store:
    """Ratings with every half-star, extreme ids and timestamps (negative ones included)."""
    rng = np.random.default_rng(seed)
    ts = rng.integers(-(2**40), 2**40, n)
    ts[: n // 3] = rng.integers(-5, 5, n // 3)  # many ties
    user = rng.integers(1, 2**31, n)
    user[:2] = [1, 2**31 - 1]
    return Store.from_columns(
        timestamp=ts, user=user, movie=rng.integers(1, 2**31, n), half_stars=np.arange(n) % 10 + 1
    )


def test_every_range_equals_orjson():
    store = random_store(300)
    assert store.rendered is not None
    for lo, hi in [(0, 300), (0, 0), (0, 1), (299, 300), (17, 18), (100, 250), (300, 300), (5, 2)]:
        assert store.ratings_json(lo, hi) == orjson.dumps(store.ratings(lo, hi)), (lo, hi)


def test_rendering_in_slices_joins_exactly(monkeypatch):
    monkeypatch.setattr(rj, "SLICE", 7)  # many slice boundaries
    store = random_store(100)
    whole = store.ratings_json(0, 100)
    assert whole == orjson.dumps(store.ratings(0, 100))
    for lo in range(0, 100, 3):
        assert store.ratings_json(lo, lo + 9) == orjson.dumps(store.ratings(lo, lo + 9))


def test_empty_dataset():
    store = Store.from_columns(timestamp=[], user=[], movie=[], half_stars=[])
    assert store.ratings_json(0, 0) == b"[]"


def test_write_then_load_memory_maps_the_same_text(tmp_path):
    store = random_store(50)
    RatingsJson.write(tmp_path, store.columns, first=10)
    loaded = RatingsJson.load(tmp_path, 50)
    assert (loaded.first, loaded.stop) == (10, 50)
    assert loaded.records(13, 40) == store.ratings_json(13, 40)
    with pytest.raises(IndexError, match="before the first rendered"):
        loaded.records(9, 40)
    with pytest.raises(ValueError, match="do not match"):
        RatingsJson.load(tmp_path, 5)


def test_offsets_must_describe_the_data():
    with pytest.raises(ValueError, match="offsets"):
        RatingsJson(np.frombuffer(b"{},", np.uint8), np.array([0, 2]))


def test_store_without_rendering_falls_back_to_orjson():
    store = build_store()
    bare = Store(**{**store.__dict__, "rendered": None})
    assert bare.ratings_json(1, 5) == store.ratings_json(1, 5) == orjson.dumps(store.ratings(1, 5))
    assert bare.with_rendered_json().rendered is not None
    assert store.with_rendered_json() is store


def test_render_to_returns_offsets_of_each_record():
    store = build_store()
    sink = io.BytesIO()
    offsets = rj.render_to(sink, store.columns)
    text = sink.getvalue()
    assert offsets[-1] == len(text)
    assert offsets[0] == 0
    first = orjson.loads(text[offsets[0] : offsets[1] - 1])
    assert first == store.ratings(0, 1)[0]


RATINGS_CSV = "userId,movieId,rating,timestamp\n1,10,4.0,1546300800\n2,5,0.5,1546300800\n1,7,5.0,1546300799\n"


def test_a_directory_load_serves_the_cached_rendering(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ratings.csv").write_text(RATINGS_CSV)
    cache = tmp_path / "cache"
    first = load_directory(data, cache_dir=cache)  # from CSV: written to the cache, then mapped
    again = load_directory(data, cache_dir=cache)  # from the cache
    for store in (first, again):
        assert isinstance(store.rendered._data, np.memmap)
        assert store.ratings_json(0, 3) == orjson.dumps(store.ratings(0, 3))
    assert [r["timestamp"] for r in first.ratings(0, 3)] == [1546300799, 1546300800, 1546300800]
    uncached = load_directory(data)
    assert uncached.ratings_json(0, 3) == first.ratings_json(0, 3)


def test_a_damaged_rendering_in_the_cache_is_rebuilt(tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ratings.csv").write_text(RATINGS_CSV)
    cache = tmp_path / "cache"
    expected = load_directory(data, cache_dir=cache).ratings_json(0, 3)
    (entry,) = cache.iterdir()
    (entry / rj.DATA_FILE).write_bytes(b"truncated")
    assert load_directory(data, cache_dir=cache).ratings_json(0, 3) == expected
    assert "damaged cache" in caplog.text


@pytest.mark.parametrize("budget_records", [0, 1, 37, 299, 300])
def test_a_budget_renders_the_newest_ratings_and_pages_still_equal_orjson(budget_records):
    plain = random_store(300)
    sizes = [len(orjson.dumps(r)) + 1 + 8 for r in plain.ratings(0, 300)]  # text, comma, offset
    budget_mb = sum(sizes[300 - budget_records :]) / 2**20
    store = Store(**{**plain.__dict__, "rendered": None}).with_rendered_json(budget_mb)
    assert store.rendered.first == 300 - budget_records
    for lo, hi in [(0, 300), (0, 263), (262, 264), (263, 300), (250, 251), (299, 300), (120, 500)]:
        assert store.ratings_json(lo, hi) == orjson.dumps(plain.ratings(lo, hi)), (lo, hi)


def test_budget_estimate_counts_signs_and_digits():
    values = np.array([0, 9, 10, 99, 100, -1, -10, 1546300800, 2**31 - 1])
    assert rj._digits(values).tolist() == [len(str(v)) for v in values.tolist()]


def test_the_budget_is_part_of_the_cache_key(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ratings.csv").write_text(RATINGS_CSV)
    cache = tmp_path / "cache"
    assert load_directory(data, cache_dir=cache).rendered.first == 0
    tiny = load_directory(data, cache_dir=cache, json_budget_mb=100 / 2**20)  # room for one record
    assert tiny.rendered.first == 2
    assert isinstance(tiny.rendered._data, np.memmap)
    assert tiny.ratings_json(0, 3) == orjson.dumps(tiny.ratings(0, 3))
