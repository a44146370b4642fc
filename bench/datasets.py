"""Generated datasets (outside the repository) and date windows found through the API itself.

Datasets come from the reference generator's CLI (``movielens-api generate``) into a work
directory that is a fresh temporary directory by default (removed after the run) or one given with
``--workdir`` (kept and reused, so repeated runs skip the 25M generation). Never inside the repo.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from .processes import PASSWORD, REPO_ROOT, USER


class DatasetError(RuntimeError):
    """Generation failed or the work directory is unusable."""


@dataclass(frozen=True)
class Dataset:
    """A generated ratings directory and what it cost to make (0 when reused)."""

    size: int
    path: Path
    generate_seconds: float


class Datasets:
    """Generates each size at most once per work directory."""

    def __init__(self, workdir: Path, seed: int) -> None:
        workdir = workdir.resolve()
        if workdir == REPO_ROOT or REPO_ROOT in workdir.parents:
            raise DatasetError(f"--workdir {workdir} is inside the repository; use a directory outside it")
        self.workdir = workdir
        self.seed = seed
        self._made: dict[int, Dataset] = {}

    def get(self, size: int, timeout: float = 1800.0) -> Dataset:
        """The dataset of ``size`` ratings, generating it if the work directory lacks it."""
        if size in self._made:
            return self._made[size]
        path = self.workdir / f"ratings-{size}-seed{self.seed}"
        done = path / ".complete"
        seconds = 0.0
        if not done.exists():
            path.mkdir(parents=True, exist_ok=True)
            argv = [
                sys.executable,
                "-c",
                "import sys; from movielens_api.cli import main; sys.exit(main())",
                "generate",
                "--out",
                str(path),
                "--ratings",
                str(size),
                "--seed",
                str(self.seed),
            ]
            started = time.perf_counter()
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
            seconds = time.perf_counter() - started
            if result.returncode != 0:
                raise DatasetError(f"generate {size} failed ({result.returncode}): {result.stderr[-2000:]}")
            done.write_text(f"{seconds:.3f}\n")
        self._made[size] = Dataset(size=size, path=path, generate_seconds=seconds)
        return self._made[size]


def day(ts: int) -> dt.date:
    """The UTC calendar day of an epoch timestamp."""
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).date()


class Api:
    """Tiny authenticated client used to plan the benchmark's queries (not measured)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.auth = (USER, PASSWORD)

    def page(self, start: dt.date | None, end: dt.date | None, offset: int, limit: int) -> dict:
        params: dict[str, object] = {"offset": offset, "limit": limit}
        if start is not None:
            params["start_date"] = start.isoformat()
        if end is not None:
            params["end_date"] = end.isoformat()
        response = self.session.get(self.base_url + "/ratings", params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def read_everything(self, max_seconds: float, limit: int = 10_000) -> int:
        """Page through every rating (largest pages), as a full backfill would; records read.

        Touches every page of the server's data, so memory measured afterwards is the worst case.
        Bounded by ``max_seconds``.
        """
        started, offset = time.perf_counter(), 0
        while time.perf_counter() - started < max_seconds:
            page = self.page(None, None, offset, limit)
            if not page["result"]:
                break
            offset += len(page["result"])
        return offset

    def total(self, start: dt.date | None = None, end: dt.date | None = None) -> int:
        return int(self.page(start, end, 0, 1)["total"])

    def day_range(self) -> tuple[dt.date, dt.date]:
        """First day with data and the day after the last one: a window holding every rating."""
        total = self.total()
        first = self.page(None, None, 0, 1)["result"][0]["timestamp"]
        last = self.page(None, None, total - 1, 1)["result"][0]["timestamp"]
        return day(first), day(last) + dt.timedelta(days=1)

    def window_with(self, records: int) -> tuple[dt.date, dt.date, int]:
        """The shortest window from the first day holding at least ``records`` ratings (or all)."""
        first, stop = self.day_range()
        lo, hi = 1, (stop - first).days  # window lengths in days; hi always holds everything
        while lo < hi:
            mid = (lo + hi) // 2
            if self.total(first, first + dt.timedelta(days=mid)) >= records:
                hi = mid
            else:
                lo = mid + 1
        end = first + dt.timedelta(days=lo)
        return first, end, self.total(first, end)

    def close(self) -> None:
        self.session.close()
