"""The suite rejects each deliberately broken server by the clause written for it, and accepts
servers that differ from the reference only in ways the contract allows."""

from __future__ import annotations

import pytest
from _contract_variants import FAULTS, Behaviour, Dataset, make_multi_year_dataset, tiny_dataset

# fault -> (the clause that must catch it, options the fault needs to be visible)
CATALOGUE: dict[str, tuple[str, dict]] = {
    "paging_off_by_one": ("PAGE-001", {}),
    "limit_ignored": ("PAGE-002", {}),
    "total_is_page_length": ("PAGE-003", {}),
    "past_end_404": ("PAGE-004", {}),
    "clamp_not_echoed": ("PAGE-005", {"max_limit": 50}),
    "inclusive_end": ("WIN-001", {}),
    "local_time": ("WIN-003", {}),
    "local_time_west": ("WIN-003", {}),
    "end_inclusive_instant": ("WIN-004", {}),
    "exclusive_start": ("WIN-004", {}),
    "start_eq_end_not_empty": ("WIN-006", {}),
    "start_after_end_ok": ("WIN-007", {}),
    "ties_by_movie": ("ORDER-001", {}),
    "unstable_order": ("ORDER-002", {}),
    "auth_ignored": ("AUTH-001", {}),
    "no_www_authenticate": ("AUTH-004", {}),
    "health_requires_auth": ("HEALTH-001", {}),
    "missing_total": ("ENV-001", {}),
    "offset_not_echoed": ("ENV-002", {}),
    "rating_as_string": ("REC-001", {}),
    "error_500_on_bad_input": ("ERR-001", {}),
    "html_errors": ("ERR-002", {}),
    "unknown_path_500": ("ERR-005", {}),
    "movies_unsorted": ("MOVIES-001", {}),
    "pre_epoch_500": ("FUZZ-001", {}),
    "crash_echoing_credentials": ("ERR-001", {}),
}
# Faults against a SHOULD clause: reported as failed, but the server still conforms (exit 0).
SHOULD_CATALOGUE: dict[str, tuple[str, dict]] = {
    "reject_without_max_limit": ("PAGE-006", {"over_max": "reject", "max_limit": 50}),
    "no_content_type": ("ENV-004", {}),
}


def test_catalogue_covers_every_fault():
    assert set(CATALOGUE) | set(SHOULD_CATALOGUE) == set(FAULTS)
    assert len({clause for clause, _ in CATALOGUE.values()}) >= 12


@pytest.mark.parametrize("fault", sorted(CATALOGUE))
def test_broken_variant_fails_its_clause(fault, serve, run_contract):
    clause, options = CATALOGUE[fault]
    server = serve(Behaviour(faults=frozenset({fault}), **options))
    run = run_contract(server.url, "--clause", clause)
    assert run.outcome(clause) == "fail", run.clause(clause)
    assert run.code == 1
    assert run.clause(clause)["exchanges"], "a failure shows the exchange that revealed it"
    assert clause in run.stdout
    assert "FAIL" in run.stdout


@pytest.mark.parametrize("fault", sorted(SHOULD_CATALOGUE))
def test_should_fault_is_reported_but_does_not_fail_the_run(fault, serve, run_contract):
    clause, options = SHOULD_CATALOGUE[fault]
    server = serve(Behaviour(faults=frozenset({fault}), **options))
    run = run_contract(server.url, "--clause", clause)
    assert run.outcome(clause) == "fail"
    assert run.code == 0


def test_correct_variant_passes_every_clause(serve, run_contract):
    run = run_contract(serve().url)
    outcomes = run.outcomes()
    assert run.code == 0, outcomes
    assert set(outcomes) == set(__import__("movielens_contract.clauses").clauses.CLAUSES)
    not_passed = {k: v for k, v in outcomes.items() if v != "pass"}
    assert not_passed == {"PAGE-006": "skip"}  # the variant clamps, so the reject-only clause is n/a
    assert run.report is not None
    assert run.report["requests"] <= run.report["request_budget"]


@pytest.mark.parametrize("fault", ["local_time", "limit_ignored", "auth_ignored", "inclusive_end"])
def test_full_run_against_broken_variant_fails_cleanly(fault, serve, run_contract):
    """The whole suite against a broken server: its clause fails, and no clause errors out."""
    clause, options = CATALOGUE[fault]
    run = run_contract(serve(Behaviour(faults=frozenset({fault}), **options)).url, "--fuzz-examples", "5")
    outcomes = run.outcomes()
    assert run.code == 1
    assert outcomes[clause] == "fail"
    assert "error" not in outcomes.values(), {
        k: run.clause(k)["message"] for k, v in outcomes.items() if v == "error"
    }
    assert sum(v == "pass" for v in outcomes.values()) >= 20  # one fault does not take everything down


ALLOWED = {
    "clamps_to_a_small_maximum": ({"max_limit": 7}, None),
    "rejects_over_maximum_with_400": ({"over_max": "reject", "max_limit": 50}, None),
    "extra_fields": ({"extra_fields": True}, None),
    "default_page_size_25": ({"default_limit": 25}, None),
    "tiny_dataset": ({}, tiny_dataset()),
    "several_years": ({}, make_multi_year_dataset()),
    "no_ratings": ({}, Dataset((), tiny_dataset().movies)),
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_allowed_variant_conforms(name, serve, run_contract):
    options, dataset = ALLOWED[name]
    run = run_contract(serve(Behaviour(**options), dataset).url, "--fuzz-examples", "5")
    failed = {k: run.clause(k)["message"] for k, v in run.outcomes().items() if v in ("fail", "error")}
    assert failed == {}
    assert run.code == 0
