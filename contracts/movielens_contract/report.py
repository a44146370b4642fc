"""Results per clause, and the terminal (rich), JSON and HTML reports.

The conftest attaches to every test report a plain ``contract`` dict (clause, level, outcome,
message, exchanges), already redacted. :class:`ResultCollector` gathers them per clause; the
renderers only read that data, so the same reports come out of ``pytest contracts`` and of the
``movielens-contract`` runner.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .clauses import CAPABILITIES, CLAUSES
from .client import UNKNOWN_USER, WRONG_PASSWORD

#: Outcomes of a clause, mildest first. "na": the check found nothing to check; "not_implemented":
#: the clause belongs to an optional capability the server does not offer.
SEVERITY = {"pass": 0, "not_implemented": 1, "na": 2, "fail": 3, "error": 4}
LABELS = {
    "pass": "PASS",
    "not_implemented": "NOT IMPLEMENTED",
    "na": "N/A",
    "fail": "FAIL",
    "error": "ERROR",
}
#: The variable a reproduction command reads the password from (it is never printed).
PASSWORD_VARIABLE = "MOVIELENS_CONTRACT_PASSWORD"


def curl_command(exchange: dict[str, Any], user: str) -> str:
    """A copy-pasteable ``curl`` for an exchange; the password comes from $MOVIELENS_CONTRACT_PASSWORD."""
    parts = ["curl", "-sS", "-i"]
    mode = exchange.get("credentials", "valid")
    if mode == "wrong-password":
        parts += ["-u", shlex.quote(f"{user}:{WRONG_PASSWORD}")]
    elif mode in ("valid", "wrong-user"):
        name = user if mode == "valid" else UNKNOWN_USER
        parts += ["-u", shlex.quote(f"{name}:") + f'"${PASSWORD_VARIABLE}"']
    parts.append(shlex.quote(str(exchange.get("url", ""))))
    return " ".join(parts)


@dataclass
class ClauseResult:
    """The outcome of one clause over the tests that check it."""

    id: str
    level: str
    rule: str
    capability: str | None = None
    outcome: str = "pass"
    message: str = ""
    required: bool = False  # failed because a required (--require) capability is not implemented
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)

    @property
    def breaks_run(self) -> bool:
        return self.outcome in ("fail", "error") and (self.level == "MUST" or self.required)

    @property
    def label(self) -> str:
        return LABELS[self.outcome]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level,
            "capability": self.capability,
            "rule": self.rule,
            "outcome": self.outcome,
            "label": self.label,
            "message": self.message,
            "required": self.required,
            "exchanges": self.exchanges,
            "tests": self.tests,
        }


class ResultCollector:
    """A pytest plugin collecting clause results (the runner passes its own instance)."""

    movielens_contract_collector = True

    def __init__(self) -> None:
        self.per_test: dict[str, dict[str, Any]] = {}
        self.collection_errors: list[str] = []
        self.meta: dict[str, Any] = {}
        self.exitstatus: int | None = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        info = getattr(report, "contract", None)
        if not info:
            return
        previous = self.per_test.get(report.nodeid)
        # setup, call and teardown each report; keep the worst (a skip in setup beats nothing)
        if previous is None or SEVERITY[info["outcome"]] > SEVERITY[previous["outcome"]]:
            self.per_test[report.nodeid] = dict(info, test=report.nodeid)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.collection_errors.append(f"{report.nodeid or 'collection'}: {text[-1] if text else 'error'}")

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        self.exitstatus = int(exitstatus)

    def results(self) -> list[ClauseResult]:
        """One result per clause that ran, in the order of the clause table."""
        # A clause failed if any of its tests failed; it passed if none failed and one passed; else it
        # is n/a (or not implemented).
        rank = {"na": 0, "not_implemented": 1, "pass": 2, "fail": 3, "error": 4}
        by_clause: dict[str, ClauseResult] = {}
        for info in self.per_test.values():
            clause = CLAUSES[info["clause"]]
            result = by_clause.get(clause.id)
            if result is None:
                result = by_clause[clause.id] = ClauseResult(
                    clause.id, clause.level, clause.rule, clause.capability, outcome="na"
                )
                result.message = info["message"]
            result.tests.append(info["test"])
            if rank[info["outcome"]] > rank[result.outcome]:
                result.outcome = info["outcome"]
                result.message = info["message"]
                result.required = bool(info.get("required"))
                result.exchanges = info["exchanges"]
        order = list(CLAUSES)
        return sorted(by_clause.values(), key=lambda r: order.index(r.id))


def summary(results: list[ClauseResult]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for level in ("MUST", "SHOULD"):
        row = dict.fromkeys(SEVERITY, 0)
        for r in results:
            if r.level == level:
                row[r.outcome] += 1
        counts[level] = row
    return counts


def exit_code(results: list[ClauseResult]) -> int:
    return 1 if any(r.breaks_run for r in results) else 0


def _label(result: ClauseResult) -> Text:
    styles = {
        "pass": "bold green",
        "not_implemented": "cyan",
        "na": "yellow",
        "fail": "bold red",
        "error": "bold magenta",
    }
    style = styles[result.outcome]
    if result.outcome in ("fail", "error") and not result.breaks_run:
        style = "bold yellow"
    return Text(result.label, style=style)


def exchange_text(exchange: dict[str, Any]) -> str:
    """An exchange in two lines: ``-> request`` and ``<- answer``."""
    credentials = "" if exchange["credentials"] == "valid" else f" [credentials: {exchange['credentials']}]"
    line = f"-> {exchange['method']} {exchange['url']}{credentials}"
    if exchange.get("error"):
        return f"{line}\n<- {exchange['error']}"
    body = " ".join(str(exchange.get("body", "")).split())
    if len(body) > 160:
        body = body[:157] + "..."
    return f"{line}\n<- {exchange['status']} {body}".rstrip()


def render_terminal(
    results: list[ClauseResult], meta: dict[str, Any], console: Console | None = None
) -> None:
    """The terminal report: one row per clause; a failure shows its request and the answer."""
    if console is None:
        probe = Console()
        console = Console(highlight=False, width=None if probe.is_terminal else 120)
    table = Table(
        title=f"MovieLens API contract: {meta.get('target', '?')}",
        title_justify="left",
        show_lines=True,
        expand=False,
    )
    table.add_column("Clause", no_wrap=True)
    table.add_column("Level", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Rule / what happened", overflow="fold")
    for r in results:
        detail = Text(r.rule)
        if r.outcome != "pass" and r.message:
            detail.append("\n" + r.message, style="red" if r.breaks_run else "yellow")
            for exchange in r.exchanges[:2]:
                detail.append("\n" + exchange_text(exchange), style="dim")
                if "curl" in exchange:
                    detail.append("\n$ " + exchange["curl"], style="dim")
        table.add_row(r.id, r.level, _label(r), detail)
    console.print(table)
    missing = capability_line(meta)
    if missing:
        console.print(missing)
    console.print(summary_line(results, meta))


def capability_line(meta: dict[str, Any]) -> str:
    """Which optional capabilities the server does not offer, or an empty string."""
    found = meta.get("capabilities") or {}
    absent = [name for name in CAPABILITIES if found.get(name, {}).get("offered") is False]
    if not absent:
        return ""
    required = set(meta.get("required") or ())
    names = ", ".join(f"{n} (required)" if n in required else n for n in absent)
    return f"Not implemented (optional capabilities): {names}"


def summary_line(results: list[ClauseResult], meta: dict[str, Any]) -> str:
    counts = summary(results)
    parts = []
    for level in ("MUST", "SHOULD"):
        c = counts[level]
        parts.append(
            f"{level}: {c['pass']} passed, {c['fail'] + c['error']} failed, {c['na']} n/a, "
            f"{c['not_implemented']} not implemented"
        )
    verdict = "CONFORMS" if exit_code(results) == 0 else "DOES NOT CONFORM"
    return (
        f"{verdict} -- {'; '.join(parts)} -- {meta.get('requests', '?')} requests in "
        f"{meta.get('duration_s', '?')} s -- seed {meta.get('seed', '?')}"
    )


def to_json(results: list[ClauseResult], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "suite": "movielens-contract",
        **meta,
        "exit_code": exit_code(results),
        "summary": summary(results),
        "clauses": [r.to_dict() for r in results],
    }


def write_json(path: Path, results: list[ClauseResult], meta: dict[str, Any]) -> None:
    path.write_text(json.dumps(to_json(results, meta), indent=2) + "\n", encoding="utf-8")


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}
th{background:#f0f0f0}
.pass{color:#176f2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.warn{color:#a36b00;font-weight:bold}.skip{color:#777}
pre{background:#f7f7f7;padding:.5em;white-space:pre-wrap;word-break:break-all;margin:.3em 0}
.meta td{border:none;padding:.1em .6em .1em 0}
"""


def render_html(results: list[ClauseResult], meta: dict[str, Any]) -> str:
    """A self-contained page (no external assets); exchanges are already redacted."""
    e = html.escape
    rows = []
    for r in results:
        if r.outcome == "pass":
            css = "pass"
        elif r.outcome in ("na", "not_implemented"):
            css = "skip"
        else:
            css = "fail" if r.breaks_run else "warn"
        label = r.label
        detail = f"<div>{e(r.rule)}</div>"
        if r.outcome != "pass" and r.message:
            detail += f"<p><strong>{e(r.message)}</strong></p>"
        for ex in r.exchanges if r.outcome in ("fail", "error") else []:
            headers = "\n".join(f"{k}: {v}" for k, v in ex.get("headers", {}).items())
            answer = ex["error"] if ex.get("error") else f"{ex['status']}\n{headers}\n\n{ex.get('body', '')}"
            detail += (
                f"<details open><summary>{e(ex['method'])} {e(ex['url'])} "
                f"(credentials: {e(ex['credentials'])})</summary>"
                f"<pre>{e(ex['method'])} {e(ex['url'])}</pre><pre>{e(str(answer))}</pre>"
                f"<p>Reproduce:</p><pre>{e(ex.get('curl', ''))}</pre></details>"
            )
        rows.append(
            f"<tr><td>{e(r.id)}</td><td>{e(r.level)}</td><td class='{css}'>{label}</td><td>{detail}</td></tr>"
        )
    meta_rows = "".join(
        f"<tr><td>{e(str(k))}</td><td>{e(json.dumps(v) if isinstance(v, (dict, list)) else str(v))}</td></tr>"
        for k, v in meta.items()
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>MovieLens API contract report</title><style>{_CSS}</style></head><body>"
        f"<h1>MovieLens API contract report</h1><table class='meta'>{meta_rows}</table>"
        f"<p>{e(capability_line(meta))}</p><p>{e(summary_line(results, meta))}</p>"
        "<table><tr><th>Clause</th><th>Level</th><th>Result</th>"
        "<th>Rule, and what the server answered</th></tr>"
        f"{''.join(rows)}</table></body></html>\n"
    )


def write_html(path: Path, results: list[ClauseResult], meta: dict[str, Any]) -> None:
    path.write_text(render_html(results, meta), encoding="utf-8")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
