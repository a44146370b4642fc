"""Facts about the machine and software a run used, for the results table."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

PACKAGES = (
    "airflow-movielens",
    "apache-airflow",
    "requests",
    "orjson",
    "pandas",
    "numpy",
    "pyarrow",
    "flask",
    "gunicorn",
    "httpx",
    "psutil",
    "matplotlib",
)


MEASURED_PATHS = ("airflow_movielens", "movielens_api", "bench")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(repo: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(  # only the measured code: other uncommitted work is irrelevant here
            ["git", "-C", str(repo), "status", "--porcelain", "--", *MEASURED_PATHS],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    note = f" (uncommitted changes in {', '.join(MEASURED_PATHS)})" if dirty else ""
    return f"{head}{note}" if head else "unknown"


def load_average() -> str:
    """1/5/15-minute load averages: other work on the machine skews every figure."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def facts(repo: Path) -> dict[str, Any]:
    """CPU, cores, RAM, OS, Python, package versions, date and commit."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PACKAGES},
        "commit": _git(repo),
        "load_average": load_average(),
    }


@dataclass(frozen=True)
class CpuSnapshot:
    """Machine-wide busy CPU time, this process tree's CPU time and the wall clock, in seconds."""

    busy: float
    steal: float
    mine: float
    wall: float


def cpu_snapshot() -> CpuSnapshot:
    """Take a snapshot; children count once reaped, which every section does for its servers."""
    t = psutil.cpu_times()
    busy = sum(getattr(t, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))
    me = os.times()
    mine = me.user + me.system + me.children_user + me.children_system
    return CpuSnapshot(busy=busy, steal=getattr(t, "steal", 0.0), mine=mine, wall=time.perf_counter())


def other_cpu(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """Share of the machine's CPUs used by other processes (and stolen by the hypervisor) meanwhile.

    Anything well above zero means the figures of that stretch were measured under contention.
    """
    capacity = max(after.wall - before.wall, 1e-9) * (os.cpu_count() or 1)
    other = (after.busy - before.busy) - (after.mine - before.mine)
    return {
        "other_share": max(other, 0.0) / capacity,
        "steal_share": max(after.steal - before.steal, 0.0) / capacity,
    }
