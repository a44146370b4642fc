"""Facts about the machine and software a run used, for the results table."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
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
