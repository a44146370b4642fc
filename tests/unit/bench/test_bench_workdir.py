"""Datasets never go into the repository, and the server's cache is found and removed."""

from __future__ import annotations

import pytest

from bench import columnar_cache
from bench.datasets import DatasetError, Datasets
from bench.processes import REPO_ROOT


def test_workdir_inside_the_repository_is_refused():
    with pytest.raises(DatasetError, match="inside the repository"):
        Datasets(REPO_ROOT / "bench" / "data", seed=1)
    with pytest.raises(DatasetError, match="inside the repository"):
        Datasets(REPO_ROOT, seed=1)


def test_cache_lives_in_the_workdir_and_clears(tmp_path):
    data = tmp_path / "ratings-1000-seed1"
    data.mkdir()
    (data / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    root = columnar_cache.cache_dir(data)
    assert tmp_path in root.parents
    assert not columnar_cache.exists(data)
    (root / "entry").mkdir(parents=True)
    (root / "entry" / "timestamp.npy").write_bytes(b"x")
    assert columnar_cache.exists(data)
    columnar_cache.clear(data)
    assert not columnar_cache.exists(data)
    assert (data / "ratings.csv").exists()
