"""The operator-memory figure rests on resetting and reading the resident high-water mark."""

from __future__ import annotations

import sys

import pytest

from bench import operator_child

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")


def test_peak_reset_then_growth_is_seen():
    assert operator_child._reset_peak()
    baseline = operator_child._status_bytes("VmRSS")
    assert baseline is not None
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"\1" * len(block[::4096])  # touch every page so it is resident
    del block
    peak = operator_child._status_bytes("VmHWM")
    assert peak is not None
    assert peak - baseline >= 60 * 1024 * 1024
    # A new reset forgets the freed block: the mark drops back near the current size.
    assert operator_child._reset_peak()
    assert operator_child._status_bytes("VmHWM") < peak - 32 * 1024 * 1024
