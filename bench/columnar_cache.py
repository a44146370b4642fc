"""Find and remove the reference server's cached columnar copy of a dataset directory.

The benchmark times start-up from CSV (no cache) and from the cache, so it must be able to
remove the cache. Anything in the dataset directory other than the generated CSVs and the
benchmark's own marker is taken to be the server's cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

KEEP = {"ratings.csv", "movies.csv", ".complete"}


def entries(data_dir: Path) -> list[Path]:
    """The cache files/directories the server wrote into ``data_dir``."""
    return sorted(p for p in data_dir.iterdir() if p.name not in KEEP)


def exists(data_dir: Path) -> bool:
    return bool(entries(data_dir))


def clear(data_dir: Path) -> None:
    """Remove the cache so the next start reads the CSV."""
    for path in entries(data_dir):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
