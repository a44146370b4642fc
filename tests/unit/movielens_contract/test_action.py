"""The GitHub Action (``contracts/action.yml``) and its script (``contracts/action/run.py``).

No GitHub runner here, so the script is run as the action's step runs it: a subprocess with the
inputs as ``INPUT_*`` variables, the password in ``$MOVIELENS_CONTRACT_PASSWORD`` and
``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files, against variant servers on loopback. The
metadata file is checked for the structure the script relies on (actionlint lints workflows
only; ``tox -e actionlint`` also validates it against the action schema).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import pytest
import yaml
from _contract_variants import Behaviour, RunningServer, VariantApp, make_dataset

REPO = Path(__file__).resolve().parents[3]
ACTION_YML = REPO / "contracts" / "action.yml"
SCRIPT = REPO / "contracts" / "action" / "run.py"
SECRET = "Act10n/Secret+pw&?"  # percent-encoding and URL-safe base64 change it
USER = "teamuser"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("movielens_contract_action", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


action = _script()


@dataclass
class ActionRun:
    """One run of the script, with everything it wrote."""

    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path

    def files_text(self) -> str:
        """Every file the run left in its workspace, as text."""
        return "\n".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(self.workspace.rglob("*"))
            if path.is_file()
        )


def _run_action(workspace: Path, password: str | None = SECRET, **inputs: str) -> ActionRun:
    workspace.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "MOVIELENS_CONTRACT_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["GITHUB_OUTPUT"] = str(workspace / "github_output")
    env["GITHUB_STEP_SUMMARY"] = str(workspace / "step_summary.md")
    if password is not None:
        env["MOVIELENS_CONTRACT_PASSWORD"] = password
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output_file = workspace / "github_output"
    lines = output_file.read_text(encoding="utf-8").splitlines() if output_file.exists() else []
    outputs = dict(line.split("=", 1) for line in lines)
    summary_file = workspace / "step_summary.md"
    summary = summary_file.read_text(encoding="utf-8") if summary_file.exists() else ""
    return ActionRun(done.returncode, done.stdout, done.stderr, outputs, summary, workspace)


def _secret_forms(secret: str = SECRET, user: str = USER) -> list[str]:
    pair = f"{user}:{secret}".encode()
    encoded = [base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()]
    return [secret, quote(secret, safe=""), *encoded, *(e.rstrip("=") for e in encoded)]


def _assert_no_secret(run: ActionRun) -> None:
    everything = run.stdout + run.stderr + run.files_text() + json.dumps(run.outputs)
    for form in _secret_forms():
        assert form not in everything


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def conforming(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionRun]:
    """One full run against a correct server with its own credentials, every capability required."""
    with RunningServer(VariantApp(make_dataset(), Behaviour(user=USER, password=SECRET))) as server:
        yield _run_action(
            tmp_path_factory.mktemp("conforming") / "ws",
            url=server.url,
            user=USER,
            require="movies,health\nroot openapi",
            report_dir="out/contract",
        )


def test_conforming_server_exits_0_with_outputs_and_summary(conforming):
    assert conforming.code == 0, conforming.stderr
    out = conforming.outputs
    assert out["exit-code"] == "0"
    assert out["conforms"] == "true"
    assert out["verdict"] == "conforms"
    assert out["failing-clauses"] == ""
    assert out["report-dir"] == "out/contract"
    for key, name in (("junit-xml", "junit.xml"), ("json", "report.json"), ("html", "report.html")):
        assert out[key] == f"out/contract/{name}"
        assert (conforming.workspace / out[key]).is_file()
    report = json.loads((conforming.workspace / out["json"]).read_text(encoding="utf-8"))
    assert report["exit_code"] == 0
    assert sorted(report["required"]) == ["health", "movies", "openapi", "root"]
    assert "MovieLens API contract: ✅ conforms" in conforming.summary
    must = report["summary"]["MUST"]
    assert f"| MUST | {must['pass']} | 0 | 0 |" in conforming.summary
    assert "Clauses that fail the run" not in conforming.summary
    assert "::error" not in conforming.stdout


def test_conforming_run_never_shows_the_password(conforming):
    assert "--password" not in conforming.stdout
    assert "running: " in conforming.stdout
    _assert_no_secret(conforming)


def test_broken_server_exits_1_and_names_the_failing_must_clause(tmp_path):
    with RunningServer(
        VariantApp(make_dataset(), Behaviour(user=USER, password=SECRET).with_faults("auth_ignored"))
    ) as server:
        run = _run_action(tmp_path / "ws", url=server.url, user=USER, level="must")
    assert run.code == 1, run.stderr
    assert run.outputs["exit-code"] == "1"
    assert run.outputs["conforms"] == "false"
    assert run.outputs["verdict"] == "fails"
    assert "AUTH-001" in run.outputs["failing-clauses"].split(",")
    assert "does not conform" in run.summary
    assert re.search(r"^\| AUTH-001 \| MUST \| .*answered 200, not 401", run.summary, re.MULTILINE)
    assert re.search(r"^::error title=movielens-contract::.*AUTH-001", run.stdout, re.MULTILINE)
    assert (tmp_path / "ws" / run.outputs["junit-xml"]).is_file()
    _assert_no_secret(run)


def test_missing_required_capability_exits_1(tmp_path):
    behaviour = Behaviour(user=USER, password=SECRET, over_max="reject").with_faults(
        "reject_without_max_limit"
    )
    with RunningServer(VariantApp(make_dataset(), behaviour)) as server:
        run = _run_action(tmp_path / "ws", url=server.url, user=USER, require="max-limit", clause="PAGE-006")
    assert run.code == 1, run.stderr
    assert run.outputs["failing-clauses"] == "PAGE-006"
    assert re.search(r"^\| PAGE-006 \| SHOULD \(required\) \|", run.summary, re.MULTILINE)
    assert "not implemented: max-limit" in run.summary


def test_unreachable_server_exits_2_with_the_reason(tmp_path):
    port = _closed_port()
    run = _run_action(tmp_path / "ws", url=f"http://127.0.0.1:{port}", user=USER)
    assert run.code == 2
    assert run.outputs["exit-code"] == "2"
    assert run.outputs["conforms"] == "false"
    assert run.outputs["verdict"] == "cannot-run"
    assert "cannot reach" in run.outputs["reason"]
    assert run.outputs["json"] == ""
    assert "could not run" in run.summary
    assert f"127.0.0.1:{port}" in run.summary
    assert "Traceback" not in run.stderr
    _assert_no_secret(run)


def test_credentials_in_the_url_are_never_shown(tmp_path):
    port = _closed_port()
    url = f"http://someone:{quote(SECRET, safe='')}@127.0.0.1:{port}/api"
    run = _run_action(tmp_path / "ws", url=url, user=USER)
    assert run.code == 2
    assert f"http://127.0.0.1:{port}/api" in run.stdout
    _assert_no_secret(run)
    assert "someone" not in run.stdout + run.summary


def test_rejected_credentials_exit_2_without_the_password(tmp_path):
    with RunningServer(VariantApp(make_dataset(), Behaviour(user=USER, password="another"))) as server:
        run = _run_action(tmp_path / "ws", url=server.url, user=USER)
    assert run.code == 2
    assert "rejected the credentials" in run.outputs["reason"]
    _assert_no_secret(run)


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({}, "'url' is required"),
        ({"url": "http://127.0.0.1:1", "level": "sometimes"}, "'level'"),
        ({"url": "http://127.0.0.1:1", "clause": "--password=x"}, "not a name"),
        ({"url": "http://127.0.0.1:1", "seed": "-3"}, "'seed'"),
    ],
)
def test_unusable_inputs_exit_2_before_running(tmp_path, inputs, fragment):
    run = _run_action(tmp_path / "ws", **inputs)
    assert run.code == 2
    assert run.outputs["exit-code"] == "2"
    assert fragment in run.stderr
    assert "running: " not in run.stdout
    assert "::error title=movielens-contract::" in run.stdout


def test_options_the_runner_rejects_exit_2(tmp_path):
    run = _run_action(tmp_path / "ws", url="http://127.0.0.1:1", clause="NOPE-001")
    assert run.code == 2
    assert "unknown clause" in run.outputs["reason"]


def test_command_line_from_inputs():
    inputs = action.read_inputs(
        {
            "INPUT_URL": " http://h:1/api ",
            "INPUT_USER": "u",
            "INPUT_LEVEL": "MUST",
            "INPUT_REQUIRE": "movies, health",
            "INPUT_CLAUSE": "PAGE-001\nWIN-003",
            "INPUT_EXCLUDE": "FUZZ-001",
            "INPUT_SEED": "7",
            "INPUT_REPORT-DIR": "r",
            "MOVIELENS_CONTRACT_PASSWORD": SECRET,
        }
    )
    argv = action.command(inputs, "py")
    assert argv == [
        "py",
        "-m",
        "movielens_contract.cli",
        "--user=u",
        "--level=must",
        "--seed=7",
        "--clause=PAGE-001",
        "--clause=WIN-003",
        "--exclude=FUZZ-001",
        "--require=movies",
        "--require=health",
        "--junit-xml=r/junit.xml",
        "--json=r/report.json",
        "--html=r/report.html",
        "--",
        "http://h:1/api",
    ]
    assert not any(SECRET in word or "password" in word for word in argv)


def test_defaults():
    inputs = action.read_inputs({"INPUT_URL": "http://h", "INPUT_USER": "", "INPUT_REPORT_DIR": " "})
    assert inputs.user == "airflow"
    assert inputs.report_dir == Path("contract-reports")
    assert action.command(inputs, "py")[3:5] == ["--user=airflow", "--junit-xml=contract-reports/junit.xml"]


def test_redactor_covers_the_echoed_forms():
    redact = action.Redactor(USER, SECRET)
    for form in _secret_forms():
        assert redact(f"x{form}y") == "x***y"
    assert action.Redactor(USER, "")("text") == "text"


def test_summary_cells_cannot_break_the_table():
    assert action._cell("a|b\n<script>") == "a\\|b &lt;script&gt;"
    assert len(action._cell("x" * 1000)) == action._MAX_CELL


def _action() -> dict:
    return yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))


def test_action_metadata_structure():
    meta = _action()
    assert meta["runs"]["using"] == "composite"
    inputs, outputs = meta["inputs"], meta["outputs"]
    assert inputs["url"]["required"] is True
    assert inputs["user"]["default"] == "airflow"
    assert inputs["report-dir"]["default"] == "contract-reports"
    for name in ("password", "level", "require", "clause", "exclude", "python-version", "suite-version"):
        assert name in inputs
    steps = {step.get("id", step.get("name")): step for step in meta["runs"]["steps"]}
    run = steps["run"]
    # Every input but the password (and the two install-time ones) reaches the script as INPUT_*.
    passed = {
        key[len("INPUT_") :].lower().replace("_", "-") for key in run["env"] if key.startswith("INPUT_")
    }
    assert passed == set(inputs) - {"password", "python-version", "suite-version", "artifact-name"}
    for key, value in run["env"].items():
        if key.startswith("INPUT_"):
            name = key[len("INPUT_") :].lower().replace("_", "-")
            assert value == f"${{{{ inputs.{name} }}}}"
    assert run["env"]["MOVIELENS_CONTRACT_PASSWORD"] == "${{ inputs.password }}"
    for name in ("exit-code", "conforms", "junit-xml", "json", "html", "report-dir"):
        assert outputs[name]["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    upload = next(
        s for s in meta["runs"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    )
    assert "!cancelled()" in upload["if"]
    assert upload["with"]["path"] == "${{ inputs.report-dir }}"
    assert any(str(s.get("uses", "")).startswith("actions/setup-python@") for s in meta["runs"]["steps"])


def test_no_expression_is_spliced_into_a_script():
    """Inputs reach shells through env only: no script injection, no password on a command line."""
    for step in _action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"
    assert "inputs.password" not in yaml.safe_dump([s.get("with", {}) for s in _action()["runs"]["steps"]])


def test_outputs_the_script_writes_are_the_ones_declared(conforming):
    assert set(conforming.outputs) == {
        value["value"].removeprefix("${{ steps.run.outputs.").removesuffix(" }}")
        for value in _action()["outputs"].values()
    }


def _documented_workflow(path: Path) -> str:
    match = re.search(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"no workflow in {path}"
    return match.group(1)


def test_documented_workflow_uses_the_action_as_declared():
    """The copy-paste workflow is the same in contracts/README.md and the docs, and fits action.yml."""
    readme = _documented_workflow(REPO / "contracts" / "README.md")
    assert readme == _documented_workflow(REPO / "docs" / "contract" / "github-action.md")
    workflow = yaml.safe_load(readme)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    uses = [s for s in steps if "/contracts@" in str(s.get("uses", ""))]
    assert len(uses) == 1
    assert uses[0]["uses"].startswith("airflow-movielens/airflow-movielens/contracts@movielens-contract-v")
    declared = _action()["inputs"]
    assert set(uses[0]["with"]) <= set(declared)
    assert {name for name, spec in declared.items() if spec.get("required")} <= set(uses[0]["with"])
    assert uses[0]["with"]["password"].startswith("${{ secrets.")
    outputs = set(re.findall(r"steps\.contract\.outputs\.([\w-]+)", readme))
    assert outputs
    assert outputs <= set(_action()["outputs"])
