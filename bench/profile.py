"""The two run profiles: the full manual run and the ``--quick`` CI smoke run.

All sizes, repetition counts and time bounds live here so the sections stay free of magic numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """What one benchmark run measures and how hard it tries."""

    name: str
    # Server section.
    server_sizes: tuple[int, ...]
    baseline_sizes: tuple[int, ...]  # sizes where the seed-approach baseline also runs
    limits: tuple[int, ...]
    latency_requests: int  # requests per repetition per (size, limit)
    latency_reps: int
    latency_rep_seconds: float  # bound on one repetition
    startup_reps: int
    # Hook section.
    hook_size: int  # dataset size served for the hook section
    hook_window_records: int  # approximate records in the fetched window
    hook_batch_sizes: tuple[int, ...]
    hook_reps: int
    hook_seconds: float  # bound on the whole hook section's repetitions
    # Operator section.
    operator_source_size: int  # dataset served for the operator section
    operator_counts: tuple[int, ...]
    operator_reps: int
    operator_batch_size: int
    operator_timeout: float  # per child process
    operator_count_seconds: float  # repetitions of one record count stop after this (at least 2 run)
    # Load section.
    load_size: int
    load_clients: tuple[int, ...]
    load_seconds: float
    load_limit: int
    # Everywhere.
    workers: int
    seed: int = 20190101


FULL = Profile(
    name="full",
    server_sizes=(100_000, 1_000_000, 25_000_000),
    baseline_sizes=(100_000, 1_000_000),
    limits=(100, 1_000, 10_000),
    latency_requests=200,
    latency_reps=5,
    latency_rep_seconds=20.0,
    startup_reps=3,
    hook_size=1_000_000,
    hook_window_records=200_000,
    hook_batch_sizes=(100, 1_000, 10_000),
    hook_reps=5,
    hook_seconds=240.0,
    operator_source_size=25_000_000,
    operator_counts=(100_000, 1_000_000, 5_000_000),
    operator_reps=3,
    operator_batch_size=10_000,
    operator_timeout=600.0,
    operator_count_seconds=240.0,
    load_size=1_000_000,
    load_clients=(10, 50, 100),
    load_seconds=30.0,
    load_limit=1_000,
    workers=2,
)

QUICK = Profile(
    name="quick",
    server_sizes=(20_000,),
    baseline_sizes=(20_000,),
    limits=(100, 1_000, 10_000),
    latency_requests=20,
    latency_reps=2,
    latency_rep_seconds=3.0,
    startup_reps=1,
    hook_size=20_000,
    hook_window_records=10_000,
    hook_batch_sizes=(100, 1_000, 10_000),
    hook_reps=2,
    hook_seconds=10.0,
    operator_source_size=20_000,
    operator_counts=(10_000,),
    operator_reps=1,
    operator_batch_size=1_000,
    operator_timeout=120.0,
    operator_count_seconds=60.0,
    load_size=20_000,
    load_clients=(10, 50, 100),
    load_seconds=2.0,
    load_limit=1_000,
    workers=2,
)
