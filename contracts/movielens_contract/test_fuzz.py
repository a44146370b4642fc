"""Fuzzing (FUZZ-*): schemathesis-generated requests never get a 5xx; valid ones get documented answers."""

from __future__ import annotations

import pytest

from . import fuzz
from .checks import Findings
from .client import ApiClient
from .discovery import Discovery
from .pages import MOVIES


@pytest.fixture(scope="session")
def fuzz_cases(client: ApiClient, discovery: Discovery, seed: int, fuzz_examples: int) -> list[fuzz.FuzzCase]:
    paths = [p for p in fuzz.PATHS if p != MOVIES or discovery.offers("movies")]
    return fuzz.run(client, seed, fuzz_examples, paths)


@pytest.mark.clause("FUZZ-001")
def test_fuzz_001_no_server_errors(fuzz_cases):
    findings = Findings()
    for case in fuzz_cases:
        if case.status is None:
            findings.add(
                f"a generated {case.mode} request got no answer: {case.exchange.error}", case.exchange
            )
        else:
            findings.check(
                case.status < 500, f"a generated {case.mode} request answered {case.status}", case.exchange
            )
    findings.raise_any()


@pytest.mark.clause("FUZZ-002")
def test_fuzz_002_valid_requests_get_documented_answers(fuzz_cases):
    findings = Findings()
    for case in fuzz_cases:
        if case.mode == "positive" and case.status is not None and case.status < 500:
            problems = fuzz.conformance_problems(case)
            findings.check(not problems, f"a generated valid request: {'; '.join(problems)}", case.exchange)
    findings.raise_any()
