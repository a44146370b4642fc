"""The catalogue of broken servers: for every clause, servers of independent styles that break it.

Each entry names a server style (:data:`STYLES`), one of its faults, and the clause
that must catch it; ``test_contract_variants.py`` runs them, and ``contracts/README.md`` shows the
table :func:`markdown_table` builds.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

#: Independent server styles: style -> module with ``start(dataset, *, faults, **options)`` and
#: ``FAULTS`` ("wsgi" is ``_contract_variants``' VariantApp, started differently).
STYLE_MODULES = {
    "sqlite": "_sqlite_server",
    "aiohttp": "_aiohttp_server",
    "textbook": "_textbook_server",
    "reference": "_reference_faults",
}
STYLES = ("wsgi", *STYLE_MODULES)
#: How the README names each style of the catalogue.
STYLE_NAMES = {
    "wsgi": "stdlib WSGI (`_contract_variants.py`)",
    "sqlite": "`http.server` over SQLite, core only (`_sqlite_server.py`)",
    "aiohttp": "aiohttp, async (`_aiohttp_server.py`)",
    "reference": "the reference Flask app, fault in WSGI middleware (`_reference_faults.py`)",
}


@dataclass(frozen=True)
class Variant:
    """A broken server: its style, its fault, the clause that must catch it."""

    style: str
    fault: str
    clause: str
    options: dict[str, Any] = field(default_factory=dict)
    tz: str | None = None  # the process time zone the fault needs to be visible

    @property
    def id(self) -> str:
        return f"{self.style}-{self.fault}" + (f"-{self.tz}" if self.tz else "")


CATALOGUE: tuple[Variant, ...] = (
    # the stdlib WSGI variant (_contract_variants.py)
    Variant("wsgi", "auth_ignored", "AUTH-001"),
    Variant("wsgi", "no_www_authenticate", "AUTH-004"),
    Variant("wsgi", "health_requires_auth", "HEALTH-001"),
    Variant("wsgi", "missing_total", "ENV-001"),
    Variant("wsgi", "offset_not_echoed", "ENV-002"),
    Variant("wsgi", "no_content_type", "ENV-004"),
    Variant("wsgi", "rating_as_string", "REC-001"),
    Variant("wsgi", "paging_off_by_one", "PAGE-001"),
    Variant("wsgi", "limit_ignored", "PAGE-002"),
    Variant("wsgi", "total_is_page_length", "PAGE-003"),
    Variant("wsgi", "past_end_404", "PAGE-004"),
    Variant("wsgi", "clamp_not_echoed", "PAGE-005", {"max_limit": 50}),
    Variant("wsgi", "ties_by_movie", "ORDER-001"),
    Variant("wsgi", "unstable_order", "ORDER-002"),
    Variant("wsgi", "inclusive_end", "WIN-001"),
    Variant("wsgi", "local_time", "WIN-003"),
    Variant("wsgi", "local_time_west", "WIN-003"),
    Variant("wsgi", "local_time", "WIN-003", tz="America/New_York"),
    Variant("wsgi", "end_inclusive_instant", "WIN-004"),
    Variant("wsgi", "exclusive_start", "WIN-004"),
    Variant("wsgi", "start_eq_end_not_empty", "WIN-006"),
    Variant("wsgi", "start_after_end_ok", "WIN-007"),
    Variant("wsgi", "error_500_on_bad_input", "ERR-001"),
    Variant("wsgi", "crash_echoing_credentials", "ERR-001"),
    Variant("wsgi", "crash_echoing_encoded_credentials", "ERR-001"),
    Variant("wsgi", "html_errors", "ERR-002"),
    Variant("wsgi", "unknown_path_500", "ERR-005"),
    Variant("wsgi", "movies_unsorted", "MOVIES-001"),
    Variant("wsgi", "pre_epoch_500", "FUZZ-001"),
    # stdlib http.server over SQLite, core only (_sqlite_server.py)
    Variant("sqlite", "any_password", "AUTH-002"),
    Variant("sqlite", "default_limit_not_echoed", "ENV-003"),
    Variant("sqlite", "ms_timestamps", "REC-001"),
    Variant("sqlite", "unbounded", "PAGE-007", {"max_limit": 10}),
    Variant("sqlite", "start_one_early", "WIN-002"),
    Variant("sqlite", "mktime_dates", "WIN-003", tz="Asia/Seoul"),
    Variant("sqlite", "mktime_dates", "WIN-003", tz="America/New_York"),
    Variant("sqlite", "both_dates_end_shift", "WIN-005"),
    Variant("sqlite", "empty_window_everything", "WIN-008"),
    Variant("sqlite", "epoch_falsy", "WIN-009"),
    Variant("sqlite", "negative_offset_slice", "ERR-001"),
    Variant("sqlite", "limit_zero_accepted", "ERR-001"),
    Variant("sqlite", "typo_date_ignored", "ERR-001"),
    # aiohttp, full API (_aiohttp_server.py)
    Variant("aiohttp", "movies_rejects_valid", "AUTH-003"),
    Variant("aiohttp", "movies_open", "AUTH-005"),
    Variant("aiohttp", "html_401", "AUTH-006"),
    Variant("aiohttp", "health_counts_wrong", "HEALTH-002"),
    Variant("aiohttp", "root_text", "ROOT-001"),
    Variant("aiohttp", "doc_not_openapi", "DOC-001"),
    Variant("aiohttp", "movie_genres_list", "REC-002"),
    Variant("aiohttp", "max_limit_off_by_one", "PAGE-006", {"over_max": "reject", "max_limit": 10}),
    Variant("aiohttp", "error_without_parameter_name", "ERR-003"),
    Variant("aiohttp", "bad_input_422", "ERR-004"),
    Variant("aiohttp", "unknown_path_html_404", "ERR-006"),
    Variant("aiohttp", "movies_total_wrong", "MOVIES-002"),
    Variant("aiohttp", "past_end_limit_zero", "SCHEMA-001"),
    Variant("aiohttp", "old_dates_422", "FUZZ-002"),
    # the reference server (Flask) with a fault in WSGI middleware (_reference_faults.py)
    Variant("reference", "inclusive_end", "WIN-001"),
    Variant("reference", "drop_www_authenticate", "AUTH-004"),
    Variant("reference", "total_off_by_one", "PAGE-001"),
)


def markdown_table() -> str:
    """The catalogue as it appears in contracts/README.md."""
    from movielens_contract.clauses import CLAUSES

    lines = ["| Clause | Level | Server | Fault |", "|---|---|---|---|"]
    for v in sorted(CATALOGUE, key=lambda v: (list(CLAUSES).index(v.clause), v.style)):
        module, name = STYLE_MODULES.get(v.style, "_contract_variants"), STYLE_NAMES[v.style]
        what = importlib.import_module(module).FAULTS[v.fault]
        where = f" (process TZ {v.tz})" if v.tz else ""
        lines.append(f"| {v.clause} | {CLAUSES[v.clause].level} | {name} | `{v.fault}`: {what}{where} |")
    return "\n".join(lines)
