"""The runner: exit status 0/1/2, one-line reasons without tracebacks, reports, seeds, selection."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest
from _contract_variants import Behaviour

import movielens_contract
from movielens_contract import cli
from movielens_contract.client import secret_forms

SECRET = "S3cret/Pa55+for redaction&more?>"  # percent-encoding and URL-safe base64 change it
SUITE_DIR = Path(movielens_contract.__file__).resolve().parent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _runner_command() -> list[str]:
    script = Path(sys.executable).with_name("movielens-contract")
    return [str(script)] if script.exists() else [sys.executable, "-m", "movielens_contract.cli"]


def _run(args: list[str], timeout: float = 120, *, autoload: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; ``autoload=False`` spares a subprocess pytest loading every installed plugin."""
    env = dict(os.environ)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, env=env)


def _assert_one_line_reason(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("movielens-contract: error: ")
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unreachable_server_exits_2_with_a_one_line_reason():
    port = _closed_port()
    done = _run([*_runner_command(), f"http://127.0.0.1:{port}"])
    assert done.returncode == 2
    _assert_one_line_reason(done.stderr, f"127.0.0.1:{port}", "cannot reach")
    assert "Traceback" not in done.stdout


def test_rejected_credentials_exit_2_without_showing_the_password(serve):
    server = serve()
    done = _run([*_runner_command(), server.url, "--user", "airflow", "--password", SECRET])
    assert done.returncode == 2
    _assert_one_line_reason(done.stderr, "rejected the credentials")
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["URL", "--clause", "NOPE-001"], "unknown clause"),
        (["URL", "--level", "sometimes"], "--level"),
        ([], "url"),
        (["ftp://127.0.0.1:21"], "http(s)"),
        (["URL", "--timeout", "0"], "timeout"),
        (["URL", "--fuzz-examples", "0"], "fuzz-examples"),
        (["URL", "--seed", "abc"], "--seed"),
        (["URL", "--exclude", "NOPE-002"], "unknown clause"),
        (["URL", "--clause", "AUTH-001", "--exclude", "auth-001"], "leaves none"),
        (["URL", "--require", "teleport"], "unknown capability"),
        (["URL", "--json", "{file}/report.json"], "cannot write"),
        (["URL", "--html", "{dir}"], "is a directory"),
    ],
)
def test_bad_options_exit_2_with_a_one_line_reason(argv, fragment, serve, capsys, tmp_path):
    url = serve().url
    (tmp_path / "file").write_text("not a directory")
    values = {
        "URL": url,
        "{file}/report.json": str(tmp_path / "file" / "report.json"),
        "{dir}": str(tmp_path),
    }
    code = cli.main([values.get(a, a) for a in argv])
    _out, err = capsys.readouterr()
    assert code == 2
    _assert_one_line_reason(err, fragment)


@pytest.mark.parametrize("fault", ["crash_echoing_credentials", "crash_echoing_encoded_credentials"])
def test_reports_are_written_and_redacted(fault, serve, tmp_path, capsys):
    """A server echoing the credentials, as sent or re-encoded, leaks no form of them into a report."""
    server = serve(Behaviour(password=SECRET, faults=frozenset({fault})))
    url_with_userinfo = server.url.replace("http://", f"http://airflow:{quote(SECRET, safe='')}@")
    json_path, xml_path, html_path = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"
    code = cli.main(
        [
            url_with_userinfo,
            "--password",
            SECRET,
            "--clause",
            "ERR-001",
            "AUTH-001",
            "--json",
            str(json_path),
            "--junit-xml",
            str(xml_path),
            "--html",
            str(html_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    texts = {
        "stdout": out,
        "stderr": err,
        "json": json_path.read_text(),
        "xml": xml_path.read_text(),
        "html": html_path.read_text(),
    }
    forms = secret_forms("airflow", SECRET)
    assert len(forms) == 7  # every form differs for this secret
    for name, text in texts.items():
        leaked = [form for form in forms if form in text]
        assert leaked == [], f"the password leaked into {name} as {leaked}"

    report = json.loads(texts["json"])
    assert report["exit_code"] == 1
    assert report["seed"] == 0
    assert report["target"] == server.url
    by_id = {c["id"]: c for c in report["clauses"]}
    assert by_id["AUTH-001"]["outcome"] == "pass"
    failure = by_id["ERR-001"]
    assert failure["outcome"] == "fail"
    assert failure["level"] == "MUST"
    exchange = failure["exchanges"][0]
    assert exchange["status"] == 500
    assert exchange["url"].startswith(server.url + "/")
    assert exchange["curl"] == f"curl -sS -i -u airflow:\"$MOVIELENS_CONTRACT_PASSWORD\" '{exchange['url']}'"
    assert "***" in exchange["body"]  # the echoed password and Authorization header are redacted

    suite = ET.fromstring(texts["xml"])
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failed = cases["test_err_001_bad_input_is_refused_or_read_as_meant"]
    assert failed.find("failure") is not None
    assert 'reproduce: curl -sS -i -u airflow:"$MOVIELENS_CONTRACT_PASSWORD"' in failed.find("failure").text
    assert {p.get("name"): p.get("value") for p in failed.iter("property")} == {
        "clause": "ERR-001",
        "level": "MUST",
    }

    html = texts["html"]
    assert "ERR-001" in html
    assert exchange["url"].split("?")[0] in html
    assert "500" in html
    assert "***" in html
    assert "<script" not in html
    assert "src=" not in html
    assert "<link" not in html
    assert "$MOVIELENS_CONTRACT_PASSWORD" in html
    assert "ERR-001" in out
    assert "FAIL" in out
    assert "GET /ratings?" in out.replace(server.url, "")


def test_terminal_report_shows_the_failing_request_and_answer(serve, run_contract):
    run = run_contract(serve(Behaviour(faults=frozenset({"past_end_404"}))).url, "--clause", "PAGE-004")
    assert run.code == 1
    assert "PAGE-004" in run.stdout
    assert "FAIL" in run.stdout
    assert "GET " in run.stdout
    assert "/ratings?offset=" in run.stdout
    assert "<- 404" in run.stdout
    assert "DOES NOT CONFORM" in run.stdout


def test_seed_is_printed_and_runs_are_deterministic(serve, run_contract):
    url = serve().url
    # the clauses whose requests depend on the seed
    seeded = ["--clause", "PAGE-001,WIN-002,WIN-004,ORDER-002,FUZZ-001", "--fuzz-examples", "5"]
    first = run_contract(url, "--seed", "3", *seeded)
    second = run_contract(url, "--seed", "3", *seeded)
    assert "seed 3" in first.stdout
    assert first.report is not None
    assert second.report is not None
    assert first.report["seed"] == 3
    assert first.outcomes() == second.outcomes()
    assert first.report["requests"] == second.report["requests"]
    assert first.report["server"] == second.report["server"]


def test_level_must_runs_only_must_clauses(serve, run_contract):
    run = run_contract(
        serve(Behaviour(faults=frozenset({"no_content_type"}))).url, "--level", "must", "--fuzz-examples", "3"
    )
    assert run.code == 0
    assert run.report is not None
    assert {c["level"] for c in run.report["clauses"]} == {"MUST"}


def test_clauses_selected_by_id_case_insensitively(serve, run_contract):
    run = run_contract(serve().url, "--clause", "page-001,win-003", "--clause", "AUTH-001")
    assert set(run.outcomes()) == {"PAGE-001", "WIN-003", "AUTH-001"}
    assert run.code == 0


def test_clauses_excluded_by_id(serve, run_contract):
    run = run_contract(serve().url, "--clause", "AUTH-001,AUTH-002,PAGE-004", "--exclude", "auth-002")
    assert set(run.outcomes()) == {"AUTH-001", "PAGE-004"}
    everything_but = run_contract(serve().url, "--level", "must", "--exclude", "FUZZ-001", "WIN-003")
    assert "FUZZ-001" not in everything_but.outcomes()
    assert "WIN-003" not in everything_but.outcomes()
    assert "WIN-002" in everything_but.outcomes()


def test_missing_www_authenticate_is_a_should_failure(serve, run_contract):
    run = run_contract(
        serve(Behaviour(faults=frozenset({"no_www_authenticate"}))).url, "--clause", "AUTH-001", "AUTH-004"
    )
    assert run.outcomes() == {"AUTH-001": "pass", "AUTH-004": "fail"}
    assert run.code == 0


def test_report_directories_are_created(serve, tmp_path):
    target = tmp_path / "reports" / "junit"
    code = cli.main(
        [
            serve().url,
            "--clause",
            "AUTH-001",
            "--junit-xml",
            str(target / "contract.xml"),
            "--json",
            str(tmp_path / "a" / "b" / "r.json"),
        ]
    )
    assert code == 0
    assert ET.parse(target / "contract.xml").getroot().iter("testcase")
    assert json.loads((tmp_path / "a" / "b" / "r.json").read_text())["exit_code"] == 0


def test_runner_leaves_no_files_in_the_working_directory(serve, tmp_path):
    """The fuzzing clauses use hypothesis; its .hypothesis/ folder must not land where the user stands."""
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [*_runner_command(), serve().url, "--clause", "FUZZ-001", "--fuzz-examples", "3"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert sorted(p.name for p in work.iterdir()) == []


@pytest.mark.parametrize(
    ("behaviour", "clauses", "expected"),
    [
        (Behaviour(), ["AUTH-001", "PAGE-004"], 0),
        (Behaviour(faults=frozenset({"auth_ignored"})), ["AUTH-001"], 1),
        (Behaviour(faults=frozenset({"no_content_type"})), ["ENV-004"], 0),  # SHOULD: an expected failure
    ],
    ids=["conforming", "must-failure", "should-failure"],
)
def test_plain_pytest_entry_point(behaviour, clauses, expected, serve):
    server = serve(behaviour)
    args = [sys.executable, "-m", "pytest", str(SUITE_DIR), "-p", "no:cacheprovider", "--url", server.url]
    for clause in clauses:
        args += ["--clause", clause]
    done = _run(args, autoload=expected == 0 and "AUTH-001" in clauses)  # one run as users run it: plugins on
    assert done.returncode == expected, done.stdout[-3000:]
    assert "movielens contract" in done.stdout  # the clause table in the terminal summary
    if expected == 0 and "ENV-004" in clauses:
        assert "xfailed" in done.stdout


def test_plain_pytest_unreachable_server_exits_2():
    done = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITE_DIR),
            "-p",
            "no:cacheprovider",
            "--url",
            f"http://127.0.0.1:{_closed_port()}",
        ],
        autoload=False,
    )
    assert done.returncode == 2
    assert "cannot reach" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
