"""Shared fixtures for the provider's unit tests: an env-var connection, mocked HTTP, log capture,
an in-memory object store, Airflow's ExecutorSafeguard switched on."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import responses
from _loopback import LoopbackAPI
from _provider_fakes import LOGIN, PASSWORD, LogCapture, Sleeps, set_connection
from fsspec.implementations.memory import MemoryFileSystem

import airflow_movielens.triggers as triggers_module
from airflow_movielens.compat import AIRFLOW_V3, attach
from airflow_movielens.hooks import MovielensAsyncHook


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch) -> str:
    """The default connection pointing at the mocked loopback API, with a recognisable password."""
    set_connection(monkeypatch, host="127.0.0.1", port=5000, schema="http", login=LOGIN, password=PASSWORD)
    return "movielens_default"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackAPI]:
    """A real loopback HTTP server (for the async hook, which `responses` cannot mock) and the default
    connection pointing at it, with the same recognisable password."""
    with LoopbackAPI() as server:
        set_connection(
            monkeypatch, host="127.0.0.1", port=server.port, schema="http", login=LOGIN, password=PASSWORD
        )
        yield server


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """HTTP mocked with `responses`; any request to an unregistered URL fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def memory_fs() -> Iterator[MemoryFileSystem]:
    """fsspec's in-memory store attached as ``memory://`` for ObjectStoragePath, emptied afterwards."""
    fs = MemoryFileSystem()
    attach("memory", fs=fs)
    yield fs
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[LogCapture]:
    caplog.set_level(logging.DEBUG)
    if AIRFLOW_V3:
        import structlog.testing

        with structlog.testing.capture_logs() as events:
            yield LogCapture(caplog, events)
    else:
        yield LogCapture(caplog, [])


@pytest.fixture
def executor_safeguard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's ExecutorSafeguard as in production: unit-test mode (tests/conftest.py) turns it off.

    It warns when an operator's ``execute`` runs outside a task. On Airflow 2.11 its per-thread record
    of sentinels (which leaks one entry per task run) starts empty, so no earlier test hides a warning.
    """
    if AIRFLOW_V3:
        from airflow.sdk.bases.operator import ExecutorSafeguard
    else:
        from airflow.models.baseoperator import ExecutorSafeguard

        monkeypatch.setattr(ExecutorSafeguard._sentinel, "callers", {})
    monkeypatch.setattr(ExecutorSafeguard, "test_mode", False)


#: More pokes than any unit test needs: a trigger still polling after this many never decides.
MAX_TRIGGER_POKES = 20


@pytest.fixture(autouse=True)
def trigger_pokes(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The trigger's waits between pokes, recorded instead of waited, in every provider unit test.

    No unit test waits for a poke interval (60 s by default): the wait returns at once. A trigger
    that keeps polling past :data:`MAX_TRIGGER_POKES` fails the test at once instead of spinning
    (this also keeps broken code, a mutant for instance, from hanging the run).
    """
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)
        if len(recorded) > MAX_TRIGGER_POKES:
            raise AssertionError(f"the trigger polled {len(recorded)} times without deciding")

    monkeypatch.setattr(triggers_module, "_sleep", record)
    return recorded


@pytest.fixture
def trigger_retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The trigger's hook's waits between attempts, recorded instead of waited."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    class RecordingHook(MovielensAsyncHook):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, sleep=record, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(triggers_module, "MovielensAsyncHook", RecordingHook)
    return recorded
