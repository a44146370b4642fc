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


def test_cache_is_everything_but_the_inputs(tmp_path):
    for name in ("ratings.csv", "movies.csv", ".complete"):
        (tmp_path / name).write_text("x")
    assert not columnar_cache.exists(tmp_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "ratings.parquet").write_text("x")
    (tmp_path / "ratings.npz").write_text("x")
    assert columnar_cache.exists(tmp_path)
    columnar_cache.clear(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".complete", "movies.csv", "ratings.csv"]
