"""tests/conftest.py refuses a ``TZ`` that is not in effect instead of letting the tests run in UTC."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[2]
ANY_TEST = Path(__file__).with_name("test_junit_compare.py")


def _pytest(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(ANY_TEST), "-q", "-p", "no:cacheprovider", "--collect-only"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=TESTS_DIR.parent,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env},
    )


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"TZ": "Asia/Nowhere"}, "TZ=Asia/Nowhere names no zone of the tz database"),
        # glibc reads zone files from TZDIR: none there is what a machine without tzdata looks like.
        pytest.param(
            {"TZ": "Asia/Seoul", "TZDIR": "/nonexistent"},
            "TZ=Asia/Seoul is not in effect",
            marks=pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="TZDIR is glibc's"),
        ),
    ],
)
def test_a_time_zone_that_is_not_in_effect_stops_the_run(env, fragment):
    done = _pytest(**env)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert fragment in done.stderr


@pytest.mark.parametrize(
    "zone", ["Asia/Seoul", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Auckland", "UTC"]
)
def test_a_time_zone_in_effect_is_accepted(zone):
    done = _pytest(TZ=zone)
    assert done.returncode == 0, done.stdout + done.stderr
