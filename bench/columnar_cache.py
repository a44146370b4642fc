"""The reference server's cached columnar copy of a dataset, kept in the benchmark's work directory.

The benchmark times start-up from CSV (no cache) and from the cache, so it gives every dataset
its own ``--cache-dir`` under the work directory (never the user's ``~/.cache``) and empties it to
force a start from CSV.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def cache_dir(data_dir: Path) -> Path:
    """The cache directory the benchmark passes to ``movielens-api serve --cache-dir``."""
    return data_dir.parent / "cache" / data_dir.name


def exists(data_dir: Path) -> bool:
    """Whether the server has written a cache for ``data_dir``."""
    root = cache_dir(data_dir)
    return root.is_dir() and any(root.iterdir())


def clear(data_dir: Path) -> None:
    """Remove the cache so the next start reads the CSV."""
    shutil.rmtree(cache_dir(data_dir), ignore_errors=True)
