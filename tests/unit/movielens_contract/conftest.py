"""Fixtures for testing the contract suite: variant servers on loopback and in-process runner calls."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _catalogue import STYLE_MODULES, STYLES
from _contract_variants import Behaviour, Dataset, RunningServer, VariantApp, make_dataset

from movielens_contract import cli

USER = "airflow"
PASSWORD = "airflow"
_DATASET = make_dataset()


@dataclass
class Run:
    """One in-process run of ``movielens-contract``."""

    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def clause(self, clause_id: str) -> dict[str, Any]:
        assert self.report is not None, f"no JSON report; stderr: {self.stderr}"
        found = [c for c in self.report["clauses"] if c["id"] == clause_id]
        assert found, f"{clause_id} did not run: {[c['id'] for c in self.report['clauses']]}"
        return found[0]

    def outcome(self, clause_id: str) -> str:
        return str(self.clause(clause_id)["outcome"])

    def outcomes(self) -> dict[str, str]:
        assert self.report is not None, f"no JSON report; stderr: {self.stderr}"
        return {c["id"]: c["outcome"] for c in self.report["clauses"]}


@pytest.fixture
def serve() -> Iterator[Callable[..., RunningServer]]:
    """Start variant servers (correct unless told otherwise); all are stopped after the test."""
    servers: list[RunningServer] = []

    def start(
        behaviour: Behaviour | None = None, dataset: Dataset | None = None, **options: Any
    ) -> RunningServer:
        if behaviour is None:
            behaviour = Behaviour(**options)
        server = RunningServer(VariantApp(_DATASET if dataset is None else dataset, behaviour))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def process_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set the process time zone (``TZ`` + ``time.tzset``), for in-process servers and the suite alike.

    Restored after the test.
    """

    def apply(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield apply
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def serve_style() -> Iterator[Callable[..., Any]]:
    """Start servers of any style with faults; all are stopped after the test.

    ``serve_style(style, *, faults=(), dataset=None, **options)``: ``"wsgi"`` is the
    ``_contract_variants`` server (``options`` are :class:`Behaviour` fields); the others are the
    modules of :data:`STYLE_MODULES`. ``dataset=None`` means the shared ``make_dataset()`` data,
    except for ``"reference"``, which then serves the reference test's generated store.
    """
    servers: list[Any] = []

    def start(
        style: str, *, faults: Iterable[str] = (), dataset: Dataset | None = None, **options: Any
    ) -> Any:
        if style == "wsgi":
            behaviour = Behaviour(faults=frozenset(faults), **options)
            server: Any = RunningServer(VariantApp(_DATASET if dataset is None else dataset, behaviour))
        elif style in STYLE_MODULES:
            module = importlib.import_module(STYLE_MODULES[style])
            if dataset is None and style != "reference":
                dataset = _DATASET
            server = module.start(dataset, faults=faults, **options)
        else:
            raise ValueError(f"unknown server style {style!r}; one of {STYLES}")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def run_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run the runner in-process against ``url`` with a JSON report, capturing its output."""
    counter = iter(range(1000))

    def run(url: str, *args: str, user: str = USER, password: str = PASSWORD) -> Run:
        report_path = tmp_path / f"report-{next(counter)}.json"
        code = cli.main([url, "--user", user, "--password", password, "--json", str(report_path), *args])
        out, err = capsys.readouterr()
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
        return Run(code, out, err, report)

    return run
