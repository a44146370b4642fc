"""The reference server passes every clause; ``python -m movielens_contract.reference`` runs it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from movielens_contract import reference


def _reference_app(**options):
    from movielens_api.app import create_app
    from movielens_api.store import Store

    return create_app(Store.generated(100_000, 1), user="airflow", password="airflow", **options)


@pytest.mark.parametrize(
    ("options", "expected_not_passed"),
    [
        ({}, {}),  # rejects an over-maximum limit with max_limit: PAGE-006 applies and passes
        ({"over_max_limit": "clamp"}, {"PAGE-006": "na"}),  # clamps: the reject-only clause is n/a
    ],
    ids=["reject", "clamp"],
)
def test_reference_app_passes_every_clause(options, expected_not_passed, run_contract):
    from _contract_variants import RunningServer

    with RunningServer(_reference_app(**options)) as server:
        run = run_contract(server.url, "--require", "all")
    outcomes = run.outcomes()
    assert run.code == 0, {k: run.clause(k)["message"] for k, v in outcomes.items() if v != "pass"}
    not_passed = {k: v for k, v in outcomes.items() if v != "pass"}
    assert not_passed == expected_not_passed
    assert run.report is not None
    assert run.report["requests"] <= run.report["request_budget"]


def test_reference_module_with_a_url_only_runs_the_suite(serve, capsys):
    code = reference.main([serve().url, "--clause", "AUTH-001"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "starting the reference server" not in out
    assert "AUTH-001" in out


def test_reference_module_starts_checks_and_stops_the_server():
    pytest.importorskip("movielens_api.cli", reason="the reference server's CLI is not available yet")
    done = subprocess.run(
        [sys.executable, "-m", "movielens_contract.reference", "--clause", "AUTH-001", "HEALTH-001"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "starting the reference server" in done.stdout
    assert "CONFORMS" in done.stdout
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    with socket.socket() as sock:  # stopped: nothing listens on its port any more
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_reference_module_passes_a_password_that_starts_with_a_dash(serve, monkeypatch, capsys):
    # The reference server gets a random one-off password; token_urlsafe starts one in 32 of them
    # with "-", which argparse would take for an option if passed as a separate argument.
    server = serve(user="ref-user", password="-starts-with-a-dash")

    class FakeReference:
        url, user, password = server.url, "ref-user", "-starts-with-a-dash"

        def stop(self) -> None:
            pass

    monkeypatch.setattr(reference, "ReferenceServer", FakeReference)
    code = reference.main(["--clause", "AUTH-003"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "expected one argument" not in err
    assert "AUTH-003" in out


class _MustNotStart:
    def __init__(self) -> None:
        raise AssertionError("the reference server was started for options the runner rejects")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--clause", "NOPE-001"], "unknown clause"),
        (["--level", "sometimes"], "--level"),
        (["--timeout", "0"], "timeout"),
        (["--fuzz-examples", "0"], "fuzz-examples"),
        (["--seed", "abc"], "--seed"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_reference_module_rejects_bad_options_before_starting_the_server(argv, fragment, monkeypatch, capsys):
    monkeypatch.setattr(reference, "ReferenceServer", _MustNotStart)
    code = reference.main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("movielens-contract: error: ")
    assert fragment in lines[0]
    assert "starting the reference server" not in out


def test_reference_module_with_bad_options_exits_2_at_once():
    # The real entry point: it must fail on the options, not after the server's start-up (~15 s).
    done = subprocess.run(
        [sys.executable, "-m", "movielens_contract.reference", "--clause", "NOPE-001"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("movielens-contract: error: unknown clause ID(s): NOPE-001")
    assert "starting the reference server" not in done.stdout
