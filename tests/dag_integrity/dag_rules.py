"""The house rules for DAG files, as small named checks that return the violations they find.

Each rule is a function taking what Airflow parsed (:class:`ParsedDags`) and returning
:class:`Violation` records; an empty list means the rule holds. The DAG files are parsed the way the
installed Airflow line parses them itself:

* Airflow 3: ``BundleDagBag`` with the folder as the bundle root (what the DAG processor and the
  worker use; it puts the bundle root on ``sys.path`` so DAG files can import helper modules). It
  lives in ``airflow.dag_processing.dagbag`` from 3.2 and in ``airflow.models.dagbag`` on 3.1; on 3.0
  the DAG processor puts the bundle root on ``sys.path`` itself and parses with a plain ``DagBag``.
* Airflow 2.11: ``DagBag(include_examples=False)``, with the folder on ``sys.path`` as Airflow 2 puts
  its DAGS_FOLDER there.

Airflow refuses to load a DAG with a cycle or a dag_id already taken by another file and records
the refusal as the file's import error; those errors are reported by the cycle and unique-id rules,
not as plain import errors, so each broken file is reported once, by the rule written for it.

Data intervals are computed by the DAG's timetable as the scheduler sees it (on Airflow 3 the
serialized DAG's timetable: the SDK's timetable classes carry no scheduling logic).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from airflow.configuration import conf
from airflow.timetables.base import DataInterval, TimeRestriction
from sqlalchemy.engine import Engine

from airflow_movielens.compat import AIRFLOW_LINE, AIRFLOW_V3

#: How many scheduled runs from a DAG's start_date the data-interval rule inspects.
FIRST_RUNS = 3

# DagBag records these refusals as "<ExceptionName>: <message>" import errors (both lines).
_CYCLE_ERROR = "AirflowDagCycleException"
_DUPLICATE_ERROR = "AirflowDagDuplicatedIdException"


class ParseTimeIOError(RuntimeError):
    """A DAG file reached for the network or the metastore while it was being parsed."""


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule: which rule, what breaks it (a file, a DAG or ``dag_id.task_id``), and why."""

    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.detail}"


@dataclass
class ParsedDags:
    """What Airflow made of a set of DAG files."""

    #: dag_id -> DAG, from parsing all files together (as the DAG processor does).
    dags: dict[str, Any] = field(default_factory=dict)
    #: absolute file path -> Airflow's import error text.
    import_errors: dict[str, str] = field(default_factory=dict)
    #: absolute file path -> the dag_ids that file defines when parsed on its own.
    dag_ids_by_file: dict[str, list[str]] = field(default_factory=dict)
    #: absolute file path -> network / metastore accesses attempted while that file was parsed.
    io_attempts: dict[str, list[str]] = field(default_factory=dict)


@contextlib.contextmanager
def refuse_io(attempts: list[str]) -> Iterator[None]:
    """Refuse (and record) network connections, name lookups and metastore connections meanwhile.

    Recorded as well as refused, so a DAG file that swallows the exception is still reported.
    """

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            shown = ", ".join(repr(a) for a in args[1:3] if not isinstance(a, socket.socket))
            attempts.append(f"{what}({shown})" if what != "metastore connection" else what)
            raise ParseTimeIOError(f"{what} while the DAG file was parsed")

        return refused

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse("socket connect"))
        patch.setattr(socket.socket, "connect_ex", refuse("socket connect"))
        patch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse("name lookup")(None, *a, **k))
        patch.setattr(Engine, "connect", refuse("metastore connection"))
        yield


def dagbag(path: Path, root: Path) -> Any:
    """Parse ``path`` (a file or folder) the way the installed Airflow line does."""
    if AIRFLOW_LINE >= (3, 2):
        from airflow.dag_processing.dagbag import BundleDagBag

        return BundleDagBag(dag_folder=str(path), bundle_path=root, bundle_name="movielens-dags")
    if AIRFLOW_LINE >= (3, 1):
        from airflow.models.dagbag import BundleDagBag

        return BundleDagBag(dag_folder=str(path), bundle_path=root)

    from airflow.models.dagbag import DagBag

    if str(root) not in sys.path:
        sys.path.append(str(root))
    if AIRFLOW_V3:  # 3.0
        return DagBag(dag_folder=str(path), bundle_path=root, include_examples=False)
    return DagBag(dag_folder=str(path), include_examples=False, safe_mode=True)


def _absolute_errors(bag: Any, root: Path) -> dict[str, str]:
    # Airflow 3 keys import errors by path relative to the bundle root, Airflow 2 by absolute path.
    return {str((root / name).resolve()): text for name, text in bag.import_errors.items()}


def parse_dags(folder: Path, files: Iterable[Path] | None = None) -> ParsedDags:
    """Parse ``files`` (default: every DAG file Airflow finds in ``folder``) together and one by one.

    ``folder`` is the DAGs folder / bundle root the files belong to (their imports resolve from it).
    """
    folder = folder.resolve()
    targets = sorted(p.resolve() for p in files) if files is not None else [folder]
    parsed = ParsedDags()
    for target in targets:
        with refuse_io([]):
            bag = dagbag(target, folder)
        parsed.dags.update(bag.dags)
        parsed.import_errors.update(_absolute_errors(bag, folder))
    # One bag per file: a dag_id claimed by two files is only visible when each is parsed alone, and
    # I/O attempts are attributed to the file being parsed.
    dag_files = {str(Path(dag.fileloc).resolve()) for dag in parsed.dags.values()}
    dag_files |= set(parsed.import_errors) | {str(t) for t in targets if t.is_file()}
    for path in sorted(dag_files):
        attempts: list[str] = []
        with refuse_io(attempts):
            parsed.dag_ids_by_file[path] = sorted(dagbag(Path(path), folder).dag_ids)
        if attempts:
            parsed.io_attempts[path] = attempts
    return parsed


def _error_kind(text: str) -> str:
    head = text.strip().splitlines()[-1] if text.strip() else ""
    if text.startswith(_CYCLE_ERROR) or head.startswith(_CYCLE_ERROR):
        return "cycle"
    if text.startswith(_DUPLICATE_ERROR) or head.startswith(_DUPLICATE_ERROR):
        return "duplicate"
    if ParseTimeIOError.__name__ in head:
        return "io"
    return "import"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no message)"


# ------------------------------------------------------------------------------------------------
# The rules
# ------------------------------------------------------------------------------------------------


def check_imports(parsed: ParsedDags) -> list[Violation]:
    """Every DAG file imports without errors (cycles, taken ids, parse-time I/O: their own rules)."""
    return [
        Violation("imports", path, _last_line(text))
        for path, text in sorted(parsed.import_errors.items())
        if _error_kind(text) == "import"
    ]


def check_no_parse_time_io(parsed: ParsedDags) -> list[Violation]:
    """Parsing a DAG file touches neither the network nor the metastore.

    DAG files are parsed every few seconds by the DAG processor (and again by every worker);
    top-level API calls or Variable/Connection lookups there slow or break parsing everywhere.
    """
    return [
        Violation("no_parse_time_io", path, "; ".join(sorted(set(attempts))))
        for path, attempts in sorted(parsed.io_attempts.items())
    ]


def check_unique_dag_ids(parsed: ParsedDags) -> list[Violation]:
    """No dag_id is defined by more than one file."""
    files_by_id: dict[str, list[str]] = defaultdict(list)
    for path, dag_ids in parsed.dag_ids_by_file.items():
        for dag_id in dag_ids:
            files_by_id[dag_id].append(path)
    return [
        Violation("unique_dag_ids", dag_id, "defined in " + ", ".join(sorted(paths)))
        for dag_id, paths in sorted(files_by_id.items())
        if len(paths) > 1
    ]


def _find_cycle(dag: Any) -> list[str] | None:
    """A cycle of task ids in ``dag`` (first task repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(task_id: str) -> list[str] | None:
        state[task_id] = 1
        path.append(task_id)
        for child in sorted(dag.task_dict[task_id].downstream_task_ids):
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if child not in state and (found := visit(child)):
                return found
        path.pop()
        state[task_id] = 2
        return None

    for task_id in sorted(dag.task_dict):
        if task_id not in state and (found := visit(task_id)):
            return found
    return None


def check_no_cycles(parsed: ParsedDags) -> list[Violation]:
    """No DAG has a cycle: those Airflow refused to load, and any in the DAGs that did load."""
    found = [
        Violation("no_cycles", path, _last_line(text))
        for path, text in sorted(parsed.import_errors.items())
        if _error_kind(text) == "cycle"
    ]
    for dag_id, dag in sorted(parsed.dags.items()):
        if cycle := _find_cycle(dag):
            found.append(Violation("no_cycles", dag_id, "cycle " + " >> ".join(cycle)))
    return found


def _tasks(parsed: ParsedDags) -> Iterable[tuple[str, Any]]:
    for dag_id, dag in sorted(parsed.dags.items()):
        for task in sorted(dag.tasks, key=lambda t: t.task_id):
            yield f"{dag_id}.{task.task_id}", task


def check_retries(parsed: ParsedDags) -> list[Violation]:
    """Every task retries at least once (transient API or storage failures must not fail a run)."""
    return [
        Violation("retries", name, f"retries={task.retries!r}, expected >= 1")
        for name, task in _tasks(parsed)
        if not isinstance(task.retries, int) or task.retries < 1
    ]


def check_owners(parsed: ParsedDags) -> list[Violation]:
    """Every task names an owner other than Airflow's ``[operators] default_owner``."""
    default_owner = conf.get("operators", "default_owner", fallback="airflow")
    return [
        Violation("owner", name, f"owner={task.owner!r} is Airflow's default; set a real owner")
        for name, task in _tasks(parsed)
        if not str(task.owner or "").strip() or task.owner == default_owner
    ]


def check_catchup_bounded(parsed: ParsedDags) -> list[Violation]:
    """Catch-up is off, or bounded by an end_date (enabling the DAG must not start years of runs)."""
    return [
        Violation("catchup", dag_id, f"catchup=True without end_date (start_date {dag.start_date})")
        for dag_id, dag in sorted(parsed.dags.items())
        if dag.catchup and dag.end_date is None
    ]


def check_tags(parsed: ParsedDags) -> list[Violation]:
    """Every DAG has at least one tag (the UI filters by tag)."""
    return [
        Violation("tags", dag_id, "no tags") for dag_id, dag in sorted(parsed.dags.items()) if not dag.tags
    ]


def scheduler_timetable(dag: Any) -> Any:
    """The timetable the scheduler uses for ``dag`` (Airflow 3: the serialized DAG's)."""
    if AIRFLOW_LINE >= (3, 2):
        from airflow.serialization.serialized_objects import DagSerialization

        return DagSerialization.from_dict(DagSerialization.to_dict(dag)).timetable
    if AIRFLOW_V3:  # 3.0 and 3.1 name the serializer SerializedDAG
        from airflow.serialization.serialized_objects import SerializedDAG

        return SerializedDAG.from_dict(SerializedDAG.to_dict(dag)).timetable
    return dag.timetable


def first_scheduled_runs(dag: Any, count: int = FIRST_RUNS) -> list[tuple[dt.datetime, DataInterval]]:
    """``(logical_date, data_interval)`` of the DAG's first ``count`` scheduled runs from its start_date.

    Asked of the timetable exactly as the scheduler asks it (``next_dagrun_info`` with the previous
    run's interval), with catch-up on so the runs start at ``start_date`` whatever ``catchup`` says.
    """
    timetable = scheduler_timetable(dag)
    restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
    runs: list[tuple[dt.datetime, DataInterval]] = []
    last: DataInterval | None = None
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        runs.append((info.logical_date, info.data_interval))
        last = info.data_interval
    return runs


def check_data_intervals(parsed: ParsedDags) -> list[Violation]:
    """Every periodically scheduled DAG's first runs cover a non-empty data interval.

    Catches Airflow 3's ``schedule="@daily"`` (a CronTriggerTimetable: start == end), under which
    ``data_interval_start``/``data_interval_end`` templates render the same day: an empty window.
    """
    found = []
    for dag_id, dag in sorted(parsed.dags.items()):
        timetable = scheduler_timetable(dag)
        if not getattr(timetable, "periodic", False):
            continue  # manual-only, once or asset-triggered: no schedule to get wrong
        runs = first_scheduled_runs(dag)
        if not runs:
            found.append(Violation("data_interval", dag_id, f"{type(timetable).__name__} schedules no run"))
        for logical_date, interval in runs:
            if interval.end <= interval.start:
                found.append(
                    Violation(
                        "data_interval",
                        dag_id,
                        f"{type(timetable).__name__}: run {logical_date.isoformat()} has an empty data "
                        f"interval [{interval.start.isoformat()}, {interval.end.isoformat()})",
                    )
                )
                break
    return found


#: Every rule by name, in the order they are reported.
RULES: Mapping[str, Callable[[ParsedDags], list[Violation]]] = {
    "imports": check_imports,
    "no_parse_time_io": check_no_parse_time_io,
    "unique_dag_ids": check_unique_dag_ids,
    "no_cycles": check_no_cycles,
    "retries": check_retries,
    "owner": check_owners,
    "data_interval": check_data_intervals,
    "catchup": check_catchup_bounded,
    "tags": check_tags,
}


def check_all(parsed: ParsedDags) -> list[Violation]:
    """All rules' violations."""
    return [violation for rule in RULES.values() for violation in rule(parsed)]
