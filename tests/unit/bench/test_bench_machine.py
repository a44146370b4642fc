"""Contention: the share of the CPUs other processes used while a section ran."""

from __future__ import annotations

import pytest

from bench import machine
from bench.machine import CpuSnapshot


def test_other_cpu_is_busy_time_not_ours_over_capacity(monkeypatch):
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 4)
    before = CpuSnapshot(busy=100.0, steal=1.0, mine=10.0, wall=50.0)
    after = CpuSnapshot(busy=130.0, steal=5.0, mine=20.0, wall=60.0)  # 10 s on 4 CPUs: 40 CPU-s
    shares = machine.other_cpu(before, after)
    assert shares["other_share"] == pytest.approx(0.5)  # (30 - 10) / 40
    assert shares["steal_share"] == pytest.approx(0.1)  # 4 / 40


def test_other_cpu_never_goes_negative(monkeypatch):
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 2)
    before = CpuSnapshot(busy=0.0, steal=0.0, mine=0.0, wall=0.0)
    after = CpuSnapshot(busy=1.0, steal=0.0, mine=3.0, wall=1.0)  # children reaped: ours exceeds busy
    assert machine.other_cpu(before, after) == {"other_share": 0.0, "steal_share": 0.0}
