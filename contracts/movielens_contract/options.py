"""Validation of the suite's options, shared by the pytest plugin and the runner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .clauses import CAPABILITIES, CLAUSES
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


REQUIRE_HELP = (
    f"optional capabilities the server must offer ({', '.join(CAPABILITIES)}, or all); "
    "an absent one then fails the run instead of being reported as not implemented"
)


def _split(values: Iterable[str]) -> set[str]:
    return {part.strip() for value in values for part in value.split(",") if part.strip()}


def split_clauses(values: Iterable[str]) -> set[str] | None:
    """Clause IDs from repeated and/or comma-separated values (``None``: all clauses)."""
    return {c.upper() for c in _split(values)} or None


def split_capabilities(values: Iterable[str]) -> set[str]:
    """Capability names from repeated and/or comma-separated values; ``all`` means every one."""
    found = {c.lower() for c in _split(values)}
    return set(CAPABILITIES) | (found - {"all"}) if "all" in found else found


def problem(
    url: str | None,
    clauses: set[str] | None,
    timeout: float,
    fuzz_examples: int,
    excluded: set[str] | None = None,
    required: set[str] | None = None,
) -> str | None:
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
    unknown = sorted(((clauses or set()) | (excluded or set())) - set(CLAUSES))
    if unknown:
        return f"unknown clause ID(s): {', '.join(unknown)} (the table is in contracts/README.md)"
    if clauses is not None and not clauses - (excluded or set()):
        return "--exclude leaves none of the --clause IDs to run"
    unknown = sorted((required or set()) - set(CAPABILITIES))
    if unknown:
        return f"unknown capability: {', '.join(unknown)} (known: {', '.join(CAPABILITIES)}, all)"
    if not timeout > 0:
        return "the timeout must be a positive number of seconds"
    if fuzz_examples < 1:
        return "--fuzz-examples must be at least 1"
    return None
