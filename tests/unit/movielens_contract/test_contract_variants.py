"""The suite judges servers it was not written against: every clause is failed by a broken server
(of several independent styles), at its declared level, and correct servers conform.

The catalogue pins each clause's level: a broken MUST variant must make the run exit 1 and a broken
SHOULD variant must leave it at 0, so moving a clause to the other level fails a test here.
"""

from __future__ import annotations

from typing import Any

import pytest
from _catalogue import CATALOGUE
from _contract_variants import FAULTS, Dataset, make_multi_year_dataset, tiny_dataset

from movielens_contract.clauses import CAPABILITIES, CLAUSES


def _expected_exit(clause_id: str) -> int:
    return 1 if CLAUSES[clause_id].level == "MUST" else 0


def test_every_clause_is_failed_by_some_variant_and_styles_differ():
    caught = {v.clause for v in CATALOGUE}
    assert caught == set(CLAUSES), f"clauses no broken server fails: {sorted(set(CLAUSES) - caught)}"
    must_styles = {v.style for v in CATALOGUE if CLAUSES[v.clause].level == "MUST"}
    assert {"wsgi", "sqlite", "aiohttp", "reference"} <= must_styles


def test_every_wsgi_fault_is_in_a_catalogue():
    used = {v.fault for v in CATALOGUE if v.style == "wsgi"} | {"reject_without_max_limit"}
    assert used == set(FAULTS)


@pytest.mark.parametrize("variant", CATALOGUE, ids=lambda v: v.id)
def test_broken_variant_fails_its_clause_at_its_level(variant, serve_style, run_contract, process_tz):
    if variant.tz:
        process_tz(variant.tz)
    server = serve_style(variant.style, faults=[variant.fault], **variant.options)
    run = run_contract(server.url, "--clause", variant.clause)
    clause = run.clause(variant.clause)
    assert clause["outcome"] == "fail", clause
    assert run.code == _expected_exit(variant.clause), (CLAUSES[variant.clause].level, clause)
    assert clause["exchanges"], "a failure shows the exchange that revealed it"
    assert all(e["curl"].startswith("curl ") for e in clause["exchanges"])
    assert variant.clause in run.stdout
    assert "FAIL" in run.stdout


@pytest.mark.parametrize(
    ("style", "fault", "clause"),
    [
        ("wsgi", "local_time", "WIN-003"),
        ("wsgi", "limit_ignored", "PAGE-002"),
        ("sqlite", "epoch_falsy", "WIN-009"),
        ("aiohttp", "movies_open", "AUTH-005"),
    ],
)
def test_full_run_against_broken_variant_fails_cleanly(style, fault, clause, serve_style, run_contract):
    """The whole suite against a broken server: its clause fails, and no clause errors out."""
    run = run_contract(serve_style(style, faults=[fault]).url, "--fuzz-examples", "5")
    outcomes = run.outcomes()
    assert run.code == 1
    assert outcomes[clause] == "fail"
    assert "error" not in outcomes.values(), {
        k: run.clause(k)["message"] for k, v in outcomes.items() if v == "error"
    }
    assert sum(v == "pass" for v in outcomes.values()) >= 20  # one fault does not take everything down


def _failed(run: Any) -> dict[str, str]:
    return {k: run.clause(k)["message"] for k, v in run.outcomes().items() if v in ("fail", "error")}


CONFORMING = {
    "wsgi-clamps-to-7": ("wsgi", {"max_limit": 7}, None),
    "wsgi-rejects-over-maximum": ("wsgi", {"over_max": "reject", "max_limit": 50}, None),
    "wsgi-extra-fields": ("wsgi", {"extra_fields": True}, None),
    "wsgi-default-page-25": ("wsgi", {"default_limit": 25}, None),
    "wsgi-tiny-dataset": ("wsgi", {}, tiny_dataset()),
    "wsgi-several-years": ("wsgi", {}, make_multi_year_dataset()),
    "wsgi-no-ratings": ("wsgi", {}, Dataset((), tiny_dataset().movies)),
    "aiohttp-full-api": ("aiohttp", {}, None),
    "aiohttp-rejects-over-maximum": ("aiohttp", {"over_max": "reject", "max_limit": 40}, None),
    "reference-flask": ("reference", {}, None),
}


@pytest.mark.parametrize("name", sorted(CONFORMING))
def test_conforming_variant_conforms(name, serve_style, run_contract):
    style, options, dataset = CONFORMING[name]
    run = run_contract(serve_style(style, dataset=dataset, **options).url, "--fuzz-examples", "5")
    assert _failed(run) == {}
    assert run.code == 0
    assert run.report is not None
    assert run.report["requests"] <= run.report["request_budget"]


def test_correct_full_variant_passes_every_clause_even_with_all_capabilities_required(serve, run_contract):
    run = run_contract(serve().url, "--require", "all")
    outcomes = run.outcomes()
    assert run.code == 0, _failed(run)
    assert set(outcomes) == set(CLAUSES)
    not_passed = {k: v for k, v in outcomes.items() if v != "pass"}
    assert not_passed == {"PAGE-006": "na"}  # the variant clamps, so the reject-only clause is n/a


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_correct_core_only_server_conforms_and_lists_what_it_lacks(lenient, serve_style, run_contract):
    """A server with only /ratings, written independently, passes by default; its gaps are listed."""
    run = run_contract(serve_style("sqlite", lenient=lenient).url, "--fuzz-examples", "5")
    outcomes = run.outcomes()
    assert run.code == 0, _failed(run)
    capability_clauses = {c.id for c in CLAUSES.values() if c.capability not in (None, "max-limit")}
    assert {k for k, v in outcomes.items() if v == "not_implemented"} == capability_clauses
    assert run.report is not None
    offered = {name: found["offered"] for name, found in run.report["capabilities"].items()}
    assert offered == {"movies": False, "health": False, "root": False, "openapi": False, "max-limit": None}
    assert "Not implemented (optional capabilities): movies, health, root, openapi" in run.stdout
    assert "NOT IMPLEMENTED" in run.stdout
    should_failures = set(_failed(run))
    # leniency is hygiene: reported against ERR-004 (SHOULD), never against a MUST clause
    assert should_failures == ({"ERR-004"} if lenient else set())


def test_required_capability_that_is_missing_fails_the_run(serve_style, run_contract):
    url = serve_style("sqlite").url
    run = run_contract(url, "--require", "movies,health", "--clause", "MOVIES-001,ROOT-001,HEALTH-002")
    assert run.code == 1
    assert run.outcome("MOVIES-001") == "fail"
    assert run.outcome("HEALTH-002") == "fail"  # a SHOULD clause, but its capability is required
    assert run.clause("HEALTH-002")["required"] is True
    assert "required" in run.clause("MOVIES-001")["message"]
    assert run.outcome("ROOT-001") == "not_implemented"  # not required


def test_required_max_limit_fails_a_server_that_rejects_without_it(serve, run_contract):
    server = serve(faults=frozenset({"reject_without_max_limit"}), max_limit=50)
    assert run_contract(server.url, "--clause", "PAGE-006").outcome("PAGE-006") == "not_implemented"
    required = run_contract(server.url, "--clause", "PAGE-006", "--require", "max-limit")
    assert (required.outcome("PAGE-006"), required.code) == ("fail", 1)
    assert set(CAPABILITIES) == {"movies", "health", "root", "openapi", "max-limit"}


@pytest.mark.parametrize("tz", ["UTC", "Asia/Seoul"])
def test_textbook_server_defects_are_caught_at_the_right_level(tz, serve_style, run_contract, process_tz):
    """The API the project descends from: each of its known defects is named by its clause."""
    process_tz(tz)
    run = run_contract(serve_style("textbook").url, "--fuzz-examples", "10")
    outcomes = run.outcomes()
    failed = {k for k, v in outcomes.items() if v == "fail"}
    assert "error" not in outcomes.values(), _failed(run)
    assert run.code == 1
    # offset=-1 served as a slice, limit=0 accepted, 500s on bad input; swapped dates an empty 200
    must = {"ERR-001", "FUZZ-001", "WIN-007"}
    # dates are local midnights (time.mktime): in UTC timestamp 0 is falsy, so end_date=1970-01-01 is
    # no bound at all; elsewhere every window is shifted by the zone's offset
    must |= {"WIN-009"} if tz == "UTC" else {"WIN-001", "WIN-002", "WIN-003", "WIN-004", "WIN-005"}
    # no page-size cap, int() leniency, HTML 401/404 bodies and a text greeting
    should = {"PAGE-007", "ERR-004", "AUTH-006", "ERR-006", "ROOT-001"}
    assert failed == must | should, {k: run.clause(k)["message"] for k in failed ^ (must | should)}
    assert {k for k in failed if CLAUSES[k].level == "MUST"} == must
    # it never answers bad input with a 4xx, so there is no error body to judge
    assert {k for k, v in outcomes.items() if v == "na"} == {"ERR-002", "ERR-003", "PAGE-006"}
    assert {k for k, v in outcomes.items() if v == "not_implemented"} == {
        c.id for c in CLAUSES.values() if c.capability in ("movies", "health", "openapi")
    }


def _without_midnight_ratings(dataset: Dataset) -> Dataset:
    """The same ratings, each one at exactly 00:00:00 UTC moved one second later."""
    moved = sorted(
        ((u, m, r, ts + 1 if ts % 86_400 == 0 else ts) for u, m, r, ts in dataset.ratings),
        key=lambda row: (row[3], row[0], row[1]),
    )
    return Dataset(tuple(moved), dataset.movies)


def test_nothing_to_check_and_not_implemented_are_reported_as_such_in_every_format(
    serve_style, tmp_path, capsys
):
    """WIN-004 with no rating at midnight is N/A, /movies clauses on a core-only server NOT IMPLEMENTED."""
    import json
    import xml.etree.ElementTree as ET

    from _contract_variants import make_dataset

    from movielens_contract import cli

    server = serve_style("sqlite", dataset=_without_midnight_ratings(make_dataset()))
    paths = {kind: tmp_path / f"r.{kind}" for kind in ("json", "html", "xml")}
    reports = ["--json", str(paths["json"]), "--html", str(paths["html"]), "--junit-xml", str(paths["xml"])]
    code = cli.main([server.url, "--clause", "WIN-004,MOVIES-001,AUTH-001", *reports])
    out = capsys.readouterr().out
    assert code == 0
    clauses = {c["id"]: c for c in json.loads(paths["json"].read_text())["clauses"]}
    assert (clauses["WIN-004"]["outcome"], clauses["WIN-004"]["label"]) == ("na", "N/A")
    assert "00:00:00 UTC" in clauses["WIN-004"]["message"]
    assert clauses["MOVIES-001"]["outcome"] == "not_implemented"
    assert clauses["AUTH-001"]["outcome"] == "pass"
    html = paths["html"].read_text()
    assert "N/A" in html
    assert "NOT IMPLEMENTED" in html
    cases = {c.get("name"): c for c in ET.parse(paths["xml"]).getroot().iter("testcase")}
    for name, case in cases.items():
        if "win_004" in name or "movies_001" in name:
            assert case.find("skipped") is not None, name
    assert "N/A" in out
    assert "NOT IMPLEMENTED" in out
