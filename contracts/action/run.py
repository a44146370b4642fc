"""The logic of the ``movielens-contract`` GitHub Action (``contracts/action.yml``).

Reads the action's inputs from ``INPUT_*`` environment variables (set explicitly by the action's
step, since composite actions do not export them), runs ``movielens-contract`` with the
interpreter that runs this script, and turns the result into what GitHub shows: step outputs
(``$GITHUB_OUTPUT``), a Markdown summary (``$GITHUB_STEP_SUMMARY``) and an error annotation.
It returns the runner's exit status (0 conforms, 1 a MUST clause fails or a required capability
is missing, 2 the suite cannot run), so the step fails exactly when the runner does.

The password is never on a command line and never written anywhere: the runner reads it from
``$MOVIELENS_CONTRACT_PASSWORD``, inherited from this process, and everything this script writes
is redacted once more in case a server echoes it in a way the suite's own redaction missed.

Standard library only: it runs beside any version of the suite, installed from PyPI or from the
action's checkout. Run it locally as ``INPUT_URL=http://127.0.0.1:5000 python contracts/action/run.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

PROG = "movielens-contract"
PASSWORD_ENV = "MOVIELENS_CONTRACT_PASSWORD"
JUNIT_NAME, JSON_NAME, HTML_NAME = "junit.xml", "report.json", "report.html"
_SEPARATORS = re.compile(r"[\s,]+")
_MAX_CELL = 300


class InputError(Exception):
    """An input the action cannot use; the message is the one-line reason (exit status 2)."""


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, parsed."""

    url: str
    user: str
    level: str
    require: tuple[str, ...]
    clause: tuple[str, ...]
    exclude: tuple[str, ...]
    report_dir: Path
    seed: str

    @property
    def junit_xml(self) -> Path:
        return self.report_dir / JUNIT_NAME

    @property
    def json(self) -> Path:
        return self.report_dir / JSON_NAME

    @property
    def html(self) -> Path:
        return self.report_dir / HTML_NAME


def _input(env: Mapping[str, str], name: str, default: str = "") -> str:
    """An input as GitHub spells it for JavaScript actions (``INPUT_REPORT-DIR``) or with ``_``."""
    key = f"INPUT_{name.upper()}"
    for candidate in (key.replace("-", "_"), key):
        value = env.get(candidate)
        if value is not None and value.strip():
            return value.strip()
    return default


def split_list(value: str) -> tuple[str, ...]:
    """Split a list input: items separated by commas, spaces or newlines (YAML ``|`` blocks)."""
    return tuple(item for item in _SEPARATORS.split(value) if item)


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Parse the inputs; raise :class:`InputError` for what the runner could not make sense of."""
    url = _input(env, "url")
    if not url:
        raise InputError("the input 'url' is required (the base URL of the server to check)")
    level = _input(env, "level").lower()
    if level not in ("", "must", "should"):
        raise InputError(f"the input 'level' must be 'must' or 'should', not {level!r}")
    seed = _input(env, "seed")
    if seed and not seed.isdigit():
        raise InputError(f"the input 'seed' must be a non-negative integer, not {seed!r}")
    lists = {name: split_list(_input(env, name)) for name in ("require", "clause", "exclude")}
    for name, items in lists.items():
        for item in items:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", item):
                raise InputError(f"the input {name!r} holds {item!r}, which is not a name")
    return Inputs(
        url=url,
        user=_input(env, "user", "airflow"),
        level=level,
        require=lists["require"],
        clause=lists["clause"],
        exclude=lists["exclude"],
        report_dir=Path(_input(env, "report-dir", "contract-reports")),
        seed=seed,
    )


def command(inputs: Inputs, python: str = sys.executable) -> list[str]:
    """The ``movielens-contract`` command line for these inputs; it never holds the password.

    Every user-given value is attached with ``=`` and the URL comes after ``--``, so no value
    can be read as an option.
    """
    argv = [python, "-m", "movielens_contract.cli", f"--user={inputs.user}"]
    if inputs.level:
        argv.append(f"--level={inputs.level}")
    if inputs.seed:
        argv.append(f"--seed={inputs.seed}")
    for option in ("clause", "exclude", "require"):
        argv += [f"--{option}={item}" for item in getattr(inputs, option)]
    argv += [
        f"--junit-xml={inputs.junit_xml}",
        f"--json={inputs.json}",
        f"--html={inputs.html}",
        "--",
        inputs.url,
    ]
    return argv


def display_url(url: str) -> str:
    """The URL without any ``user:password@`` in it (the runner ignores those; nobody sees them)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class Redactor:
    """Replaces the password, and the forms a server may echo it in, by ``***``."""

    def __init__(self, user: str, password: str) -> None:
        forms = {password, quote(password, safe=""), quote(password)} if password else set()
        if password:
            pair = f"{user}:{password}".encode()
            for encoded in (base64.b64encode(pair), base64.urlsafe_b64encode(pair)):
                text = encoded.decode()
                forms |= {text, text.rstrip("=")}
        self._forms = sorted((form for form in forms if form), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, "***")
        return text


def _cell(text: object, limit: int = _MAX_CELL) -> str:
    """One Markdown table cell: a single line, no pipes or raw HTML, bounded."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _breaks_run(clause: Mapping[str, Any]) -> bool:
    """Whether a clause of the JSON report fails the run (the runner's own rule)."""
    return clause.get("outcome") in ("fail", "error") and (
        clause.get("level") == "MUST" or bool(clause.get("required"))
    )


def load_report(path: Path) -> dict[str, Any] | None:
    """The runner's JSON report, or None when it did not write one (exit 2) or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def failing_clauses(report: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The clauses that fail the run, in report order."""
    if not report:
        return []
    return [c for c in report.get("clauses", []) if isinstance(c, dict) and _breaks_run(c)]


def summary(inputs: Inputs, code: int, report: Mapping[str, Any] | None, reason: str) -> str:
    """The Markdown for ``$GITHUB_STEP_SUMMARY``: verdict, counts, what fails the run."""
    verdict = {0: "✅ conforms", 1: "❌ does not conform"}.get(code, "⚠️ could not run")
    lines = [f"### MovieLens API contract: {verdict}", ""]
    target = report.get("target") if report else None
    facts = [f"target `{_cell(target or display_url(inputs.url))}`", f"exit status {code}"]
    if report:
        facts += [f"level {report.get('level')}", f"seed {report.get('seed')}"]
        facts.append(f"{report.get('requests')} requests in {report.get('duration_s')} s")
    lines += [" · ".join(facts), ""]
    if code not in (0, 1):
        lines += [f"**The suite could not run:** {_cell(reason or 'no reason given', 1000)}", ""]
        return "\n".join(lines) + "\n"
    if not report:
        lines += [f"No JSON report was written to `{_cell(inputs.json.as_posix())}`.", ""]
        return "\n".join(lines) + "\n"
    outcomes = ("pass", "fail", "error", "na", "not_implemented")
    lines += ["| Level | Pass | Fail | Error | N/A | Not implemented |", "|---|---|---|---|---|---|"]
    for level, counts in (report.get("summary") or {}).items():
        lines.append(f"| {_cell(level)} | " + " | ".join(str(counts.get(o, 0)) for o in outcomes) + " |")
    lines.append("")
    failing = failing_clauses(report)
    if failing:
        lines += [
            "**Clauses that fail the run**",
            "",
            "| Clause | Level | Rule | What went wrong |",
            "|---|---|---|---|",
        ]
        for c in failing:
            level = f"{c.get('level')}{' (required)' if c.get('required') else ''}"
            row = [c.get("id"), level, c.get("rule", ""), c.get("message") or c.get("label", "")]
            lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
        lines.append("")
    clauses = [c for c in report.get("clauses", []) if isinstance(c, dict)]
    findings = [c["id"] for c in clauses if c.get("outcome") in ("fail", "error") and not _breaks_run(c)]
    if findings:
        lines += [f"SHOULD findings (reported, they do not fail the run): {_cell(', '.join(findings))}", ""]
    absent = sorted(
        name
        for name, capability in (report.get("capabilities") or {}).items()
        if isinstance(capability, dict) and capability.get("offered") is False
    )
    if absent:
        lines += [f"Optional capabilities not implemented: {_cell(', '.join(absent))}", ""]
    reports = [p for p in (inputs.junit_xml, inputs.json, inputs.html) if p.is_file()]
    if reports:
        lines += ["Reports: " + ", ".join(f"`{_cell(p.as_posix())}`" for p in reports), ""]
    return "\n".join(lines) + "\n"


def _append(path_value: str | None, text: str) -> None:
    if path_value:
        with open(path_value, "a", encoding="utf-8") as handle:
            handle.write(text)


def outputs(inputs: Inputs, code: int, report: Mapping[str, Any] | None, reason: str) -> dict[str, str]:
    """The step outputs; report paths only for reports that were written."""

    def existing(path: Path) -> str:
        return path.as_posix() if path.is_file() else ""

    return {
        "exit-code": str(code),
        "conforms": "true" if code == 0 else "false",
        "verdict": {0: "conforms", 1: "fails"}.get(code, "cannot-run"),
        "failing-clauses": ",".join(str(c.get("id")) for c in failing_clauses(report)),
        "reason": " ".join(reason.split()),
        "report-dir": inputs.report_dir.as_posix(),
        "junit-xml": existing(inputs.junit_xml),
        "json": existing(inputs.json),
        "html": existing(inputs.html),
    }


def _escape_command(text: str) -> str:
    """Escape the message of a workflow command (``::error::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _reason(stderr: str) -> str:
    """The runner's one-line reason for exit status 2 (its last ``error:`` line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(f"{PROG}: error: "):
            return line[len(f"{PROG}: error: ") :]
    return lines[-1] if lines else ""


def finish(env: Mapping[str, str], inputs: Inputs | None, code: int, reason: str, redact: Redactor) -> int:
    """Write outputs, summary and annotation for a finished (or impossible) run; return ``code``."""
    report = load_report(inputs.json) if inputs is not None and code in (0, 1) else None
    if inputs is not None:
        values = outputs(inputs, code, report, reason)
        text = "".join(f"{key}={redact(value)}\n" for key, value in values.items())
        _append(env.get("GITHUB_OUTPUT"), text)
        _append(env.get("GITHUB_STEP_SUMMARY"), redact(summary(inputs, code, report, reason)))
    else:
        _append(env.get("GITHUB_OUTPUT"), f"exit-code={code}\nconforms=false\nverdict=cannot-run\n")
        _append(env.get("GITHUB_STEP_SUMMARY"), f"### MovieLens API contract: ⚠️ {_cell(redact(reason))}\n")
    if code == 1:
        ids = ", ".join(str(c.get("id")) for c in failing_clauses(report)) or "see the report"
        message = f"the server does not conform: clauses that fail the run: {ids}"
    elif code != 0:
        message = f"the contract suite could not run: {reason}"
    else:
        return 0
    print(f"::error title={PROG}::{_escape_command(redact(message))}", flush=True)
    return code


def main(env: Mapping[str, str] | None = None, python: str = sys.executable) -> int:
    """Run the suite as the action's inputs say; return its exit status."""
    env = dict(os.environ if env is None else env)
    password = env.get(PASSWORD_ENV, "")
    redact = Redactor(_input(env, "user", "airflow"), password)
    try:
        inputs = read_inputs(env)
    except InputError as exc:
        print(f"{PROG} action: error: {exc}", file=sys.stderr, flush=True)
        return finish(env, None, 2, str(exc), redact)
    child_env = dict(env)
    if not password:
        # An empty secret (a typo in its name, a fork without secrets) would be sent as an empty
        # password; the runner's default is clearer, and the warning says what happened.
        child_env.pop(PASSWORD_ENV, None)
        print(f"::warning title={PROG}::no password given: the runner's default is used", flush=True)
    inputs.report_dir.mkdir(parents=True, exist_ok=True)
    argv = command(inputs, python)
    shown = [*argv[:-1], display_url(argv[-1])]
    print("running: " + " ".join(_shell_word(word) for word in shown), flush=True)
    done = subprocess.run(argv, env=child_env, stderr=subprocess.PIPE, text=True, check=False)
    if done.stderr:
        sys.stderr.write(redact(done.stderr))
        sys.stderr.flush()
    code = done.returncode if done.returncode in (0, 1) else 2
    reason = "" if code in (0, 1) else redact(_reason(done.stderr) or f"exit status {done.returncode}")
    return finish(env, inputs, code, reason, redact)


def _shell_word(word: str) -> str:
    return word if re.fullmatch(r"[\w./:=@+-]+", word) else "'" + word.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    sys.exit(main())
