"""pytest wiring of the suite: options, clause markers and selection, fixtures, and per-clause results.

``pytest contracts --url URL --user U --password P [--level must|should] [--clause ID ...] [--seed N]``
runs the suite directly; ``movielens-contract`` runs the same tests through ``pytest.main``.
A failed SHOULD clause is turned into an expected failure (reported, never failing the run), so
both ways exit 0 when every MUST clause holds, 1 when one does not, and 2 when the suite cannot run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import checks, options, report
from .clauses import CLAUSES, Clause
from .client import ApiClient, ContractViolation
from .discovery import Discovery
from .options import DEFAULT_FUZZ_EXAMPLES, DEFAULT_SEED, DEFAULT_TIMEOUT

SUITE_DIR = Path(__file__).resolve().parent
# The documented bound (README.md, "Request budget"): the client refuses to send more.
BASE_BUDGET = 480


def request_budget(fuzz_examples: int) -> int:
    """At most this many requests per run: the clauses' fixed share plus the fuzzing examples."""
    return BASE_BUDGET + 4 * fuzz_examples  # 2 endpoints x 2 generation modes


CLIENT_KEY = pytest.StashKey[ApiClient]()
COLLECTOR_KEY = pytest.StashKey[Any]()
STARTED_KEY = pytest.StashKey[float]()
CLAUSE_KEY = pytest.StashKey[Clause]()
MARK_KEY = pytest.StashKey[int]()
DISCOVERY_KEY = pytest.StashKey[Discovery]()
REQUIRED_KEY = pytest.StashKey[bool]()
ABSENT_KEY = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("movielens-contract", "MovieLens API contract suite")
    group.addoption(
        "--url",
        dest="contract_url",
        default=os.environ.get("MOVIELENS_CONTRACT_URL"),
        help="base URL of the server to check, e.g. http://127.0.0.1:5000",
    )
    group.addoption(
        "--user",
        dest="contract_user",
        default=os.environ.get("MOVIELENS_CONTRACT_USER", "airflow"),
        help="user for HTTP basic auth (default: airflow)",
    )
    group.addoption(
        "--password",
        dest="contract_password",
        default=os.environ.get("MOVIELENS_CONTRACT_PASSWORD", "airflow"),
        help="password for HTTP basic auth (default: airflow)",
    )
    group.addoption("--level", dest="contract_level", **options.LEVEL_OPTION)
    group.addoption(
        "--clause",
        dest="contract_clauses",
        action="append",
        default=[],
        help="run only this clause ID (repeat, or separate with commas)",
    )
    group.addoption(
        "--exclude",
        dest="contract_excluded",
        action="append",
        default=[],
        help="do not run this clause ID (repeat, or separate with commas)",
    )
    group.addoption(
        "--require",
        dest="contract_required",
        action="append",
        default=[],
        help=options.REQUIRE_HELP,
    )
    group.addoption(
        "--seed",
        dest="contract_seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed for sampling and fuzzing (default {DEFAULT_SEED})",
    )
    group.addoption(
        "--request-timeout",
        dest="contract_timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per request, connect and read (default {DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--fuzz-examples",
        dest="contract_fuzz_examples",
        type=int,
        default=DEFAULT_FUZZ_EXAMPLES,
        help=f"generated requests per endpoint and mode for FUZZ-* (default {DEFAULT_FUZZ_EXAMPLES})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the contract clause a test checks (see clauses.py)")
    collector = next(
        (p for p in config.pluginmanager.get_plugins() if getattr(p, "movielens_contract_collector", False)),
        None,
    )
    if collector is None:
        collector = report.ResultCollector()
        config.pluginmanager.register(collector, "movielens-contract-collector")
    config.stash[COLLECTOR_KEY] = collector
    if not config.pluginmanager.has_plugin("terminal"):
        # the runner shows no tracebacks (a failure's report is its own text): don't pay for them
        config.option.tbstyle = "native"


def selected_clauses(config: pytest.Config) -> set[str] | None:
    return options.split_clauses(config.option.contract_clauses)


def excluded_clauses(config: pytest.Config) -> set[str]:
    return options.split_clauses(config.option.contract_excluded) or set()


def required_capabilities(config: pytest.Config) -> set[str]:
    return options.split_capabilities(config.option.contract_required)


def preflight(client: ApiClient) -> str | None:
    """Why the suite cannot run against this server at all, or ``None``."""
    target = client.redact(client.base_url)
    try:
        reply = client.get("/ratings", [("limit", "1")], cache=False)
    except ContractViolation as exc:
        error = exc.exchanges[0].error if exc.exchanges else exc.message
        return f"cannot reach {target}: {error}"
    if reply.status in (401, 403):
        return (
            f"the server at {target} rejected the credentials of user {client.user!r} "
            f"(GET /ratings answered {reply.status})"
        )
    return None


def _fatal(config: pytest.Config, reason: str) -> None:
    config.stash[COLLECTOR_KEY].meta["fatal"] = reason
    pytest.exit(reason, returncode=2)


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    config.stash[STARTED_KEY] = time.perf_counter()
    collector = config.stash[COLLECTOR_KEY]
    collector.meta.update(
        {
            "started": report.now_iso(),
            "seed": config.option.contract_seed,
            "level": config.option.contract_level,
        }
    )
    if config.option.collectonly:
        return
    problem = options.problem(
        config.option.contract_url,
        selected_clauses(config),
        config.option.contract_timeout,
        config.option.contract_fuzz_examples,
        excluded_clauses(config),
        required_capabilities(config),
    )
    if problem:
        _fatal(config, problem)
    client = ApiClient(
        config.option.contract_url,
        config.option.contract_user,
        config.option.contract_password,
        timeout=config.option.contract_timeout,
        max_requests=request_budget(config.option.contract_fuzz_examples),
    )
    config.stash[CLIENT_KEY] = client
    config.stash[DISCOVERY_KEY] = Discovery(client, config.option.contract_seed)
    collector.meta["target"] = client.redact(client.base_url)
    collector.meta["user"] = client.user
    collector.meta["required"] = sorted(required_capabilities(config))
    reason = preflight(client)
    if reason:
        _fatal(config, reason)


def _in_suite(item: pytest.Item) -> bool:
    return Path(str(item.path)).resolve().is_relative_to(SUITE_DIR)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    wanted = selected_clauses(config)
    excluded = excluded_clauses(config)
    keep, drop = [], []
    for item in items:
        if not _in_suite(item):
            keep.append(item)
            continue
        marks = list(item.iter_markers("clause"))
        if len(marks) != 1 or not marks[0].args:
            raise pytest.UsageError(f"{item.nodeid}: a suite test needs exactly one @pytest.mark.clause(ID)")
        clause = CLAUSES.get(marks[0].args[0])
        if clause is None:
            raise pytest.UsageError(f"{item.nodeid}: unknown clause {marks[0].args[0]!r}")
        if marks[0].kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: a clause's level and capability are declared in clauses.py only"
            )
        item.stash[CLAUSE_KEY] = clause
        item.user_properties += [("clause", clause.id), ("level", clause.level)]
        if (
            (wanted is not None and clause.id not in wanted)
            or clause.id in excluded
            or (config.option.contract_level == "must" and clause.level != "MUST")
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture: reset the check counter, and gate clauses of absent capabilities."""
    client = item.config.stash.get(CLIENT_KEY, None)
    item.stash[MARK_KEY] = len(client.log) if client else 0
    checks.made.reset()
    clause = item.stash.get(CLAUSE_KEY, None)
    discovered = item.config.stash.get(DISCOVERY_KEY, None)
    if clause is None or clause.capability is None or discovered is None:
        return
    capability = discovered.capability(clause.capability)
    if capability.offered is not False:
        return
    if clause.capability in required_capabilities(item.config):
        item.stash[REQUIRED_KEY] = True
        raise ContractViolation(
            f"the {clause.capability} capability is required (--require) but not implemented: "
            f"{capability.reason}",
            capability.exchange,
        )
    item.stash[ABSENT_KEY] = True
    pytest.skip(f"the {clause.capability} capability is not implemented ({capability.reason})")


def _classify(
    report_: pytest.TestReport, call: pytest.CallInfo[None], item: pytest.Item
) -> tuple[str, str, list]:
    """(outcome, message, exchanges) of one phase of a clause's test."""
    client = item.config.stash.get(CLIENT_KEY, None)
    tail = client.log[item.stash.get(MARK_KEY, 0) :] if client else []
    if report_.passed:
        if report_.when == "call" and checks.made.count == 0:
            return "na", "found nothing to check", []
        return "pass", "", []
    if report_.skipped:
        reason = report_.longrepr[2] if isinstance(report_.longrepr, tuple) else str(report_.longrepr)
        reason = reason.removeprefix("Skipped: ")
        return ("not_implemented" if item.stash.get(ABSENT_KEY, False) else "na"), reason, []
    exc = call.excinfo.value if call.excinfo else None
    if exc is not None and hasattr(exc, "exchanges") and hasattr(exc, "message"):
        where = "" if report_.when == "call" else "while preparing: "
        return "fail", where + exc.message, list(exc.exchanges) or tail[-1:]
    if isinstance(exc, AssertionError):
        text = str(exc).strip().splitlines()
        return "fail", text[0] if text else "assertion failed", tail[-1:]
    name = type(exc).__name__ if exc is not None else "error"
    return "error", f"{name}: {exc}", tail[-1:]


def _failure_text(info: dict[str, Any]) -> str:
    """The failure as JUnit XML and pytest show it: the message, each exchange and how to replay it."""
    lines = [f"{info['clause']} ({info['level']}): {info['message']}"]
    for exchange in info["exchanges"]:
        lines += ["", report.exchange_text(exchange), f"reproduce: {exchange['curl']}"]
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    rep = yield
    clause = item.stash.get(CLAUSE_KEY, None)
    if clause is None or (rep.when != "call" and rep.passed):
        return rep
    outcome, message, exchanges = _classify(rep, call, item)
    client = item.config.stash.get(CLIENT_KEY, None)
    redact = client.redact if client else (lambda s: s)
    user = client.user if client else ""
    required = item.stash.get(REQUIRED_KEY, False)
    rep.contract = info = {
        "clause": clause.id,
        "level": clause.level,
        "capability": clause.capability,
        "outcome": outcome,
        "message": redact(message)[:1000],
        "required": required,
        "exchanges": [dict(e.to_dict(), curl=report.curl_command(e.to_dict(), user)) for e in exchanges[:3]],
    }
    if outcome == "na" and rep.passed:  # passed without checking anything: not a pass
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), item.location[1] or 0, f"N/A: {message}")
    elif outcome in ("fail", "error"):
        text = _failure_text(info)
        if clause.level == "SHOULD" and not required:
            rep.outcome = "skipped"
            rep.wasxfail = f"SHOULD clause {clause.id} not met: {text}"
        else:
            rep.longrepr = text
    return rep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    collector = config.stash.get(COLLECTOR_KEY, None)
    client = config.stash.get(CLIENT_KEY, None)
    if collector is None:
        return
    started = config.stash.get(STARTED_KEY, time.perf_counter())
    collector.meta["duration_s"] = round(time.perf_counter() - started, 2)
    discovered = config.stash.get(DISCOVERY_KEY, None)
    if discovered is not None:
        collector.meta["server"] = discovered.facts()
        collector.meta["capabilities"] = {
            name: {"offered": found.offered, "reason": found.reason}
            for name, found in sorted(discovered.known_capabilities().items())
        }
    if client is not None:
        collector.meta["requests"] = client.requests_sent
        collector.meta["request_budget"] = client.max_requests
        client.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    collector = config.stash.get(COLLECTOR_KEY, None)
    if collector is None or not collector.per_test:
        return
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    console = Console(
        file=buffer,
        width=max(terminalreporter._tw.fullwidth, 100),
        force_terminal=terminalreporter._tw.hasmarkup,
        highlight=False,
    )
    report.render_terminal(collector.results(), collector.meta, console)
    terminalreporter.write_sep("=", "movielens contract")
    terminalreporter.write(buffer.getvalue())


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def client(request: pytest.FixtureRequest) -> ApiClient:
    """The suite's HTTP client (one session, timeouts, request budget, exchange log)."""
    found = request.config.stash.get(CLIENT_KEY, None)
    if found is None:
        pytest.exit("the suite was not started with a server (--url)", returncode=2)
    return found


@pytest.fixture(scope="session")
def seed(request: pytest.FixtureRequest) -> int:
    return int(request.config.option.contract_seed)


@pytest.fixture(scope="session")
def fuzz_examples(request: pytest.FixtureRequest) -> int:
    return int(request.config.option.contract_fuzz_examples)


@pytest.fixture(scope="session")
def discovery(request: pytest.FixtureRequest, client: ApiClient) -> Discovery:
    """What the server holds and offers, discovered lazily (see discovery.py)."""
    return request.config.stash[DISCOVERY_KEY]


@pytest.fixture
def data(discovery: Discovery) -> Discovery:
    """The discovery, for clauses that need ratings: n/a on a server that holds none."""
    if not discovery.has_data:
        pytest.skip("the server holds no ratings")
    return discovery
