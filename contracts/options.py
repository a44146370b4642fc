"""Validation of the suite's options, shared by the pytest plugin and the runner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .clauses import CLAUSES
from .client import strip_userinfo

DEFAULT_SEED = 0
DEFAULT_TIMEOUT = 10.0
DEFAULT_FUZZ_EXAMPLES = 25
# ``--level`` as both the runner's argparse parser and the pytest plugin define it.
LEVEL_OPTION: dict[str, Any] = {
    "choices": ("must", "should"),
    "default": "should",
    "help": "must: MUST clauses only; should (default): MUST and SHOULD clauses",
}


def split_clauses(values: Iterable[str]) -> set[str] | None:
    """Clause IDs from repeated and/or comma-separated values (``None``: all clauses)."""
    found = {part.strip().upper() for value in values for part in value.split(",")}
    return {c for c in found if c} or None


def problem(url: str | None, clauses: set[str] | None, timeout: float, fuzz_examples: int) -> str | None:
    """Why these options cannot work, or ``None``."""
    if not url:
        return "no server given: pass its URL (e.g. http://127.0.0.1:5000)"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the URL must be http(s)://host[:port], got {strip_userinfo(url)!r}"
    try:
        parts.port  # noqa: B018 - raises for a malformed port
    except ValueError:
        return f"the URL has an invalid port: {strip_userinfo(url)!r}"
    unknown = sorted((clauses or set()) - set(CLAUSES))
    if unknown:
        return f"unknown clause ID(s): {', '.join(unknown)} (the table is in contracts/README.md)"
    if not timeout > 0:
        return "the timeout must be a positive number of seconds"
    if fuzz_examples < 1:
        return "--fuzz-examples must be at least 1"
    return None
