"""The contract-runner image (``contracts/Dockerfile``) against the reference server's container.

What a user of the image does: ``docker run --rm --network host -v DIR:/reports -e
MOVIELENS_CONTRACT_PASSWORD IMAGE URL --user U ...``, here against the ``movielens_api`` container
that the rest of the tier uses. The image is built once per session by the ``contract_image`` fixture
(conftest.py) through the ``movielens-contract`` service of docker-compose.test.yml, on the same
base image and wheelhouse as the server (``MOVIELENS_BASE_IMAGE``, ``MOVIELENS_WHEELS_ONLY``);
``MOVIELENS_CONTRACT_IMAGE`` names its tag (default ``movielens-contract:test``).

These tests need containers: they are skipped when the tier runs in process mode, and in docker
mode (CI) a failed build fails them rather than skipping them.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest

from movielens_contract.clauses import CAPABILITIES, CLAUSES

# A full run against the sample data takes 5-15 s; the bound only keeps a hung run from hanging CI.
RUN_TIMEOUT_S = 300.0
PROG = "movielens-contract"


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def docker_run(
    image: str, args: list[str], *, docker_args: Sequence[str] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``docker run --rm`` with a name of its own, removed even when the run outlives its bound."""
    name = f"movielens-contract-it-{secrets.token_hex(4)}"
    cmd = ["docker", "run", "--rm", "--name", name, *docker_args, image, *args]
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=RUN_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        # Killing the client leaves the container running: remove it by its name.
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60, check=False)
        pytest.fail(f"{shlex.join(cmd)} ran longer than {RUN_TIMEOUT_S:.0f}s", pytrace=False)


def run_against(
    image: str,
    server,  # conftest.ApiServer (conftest is not importable as a module)
    password: str,
    args: list[str],
    reports: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """The runner against ``server`` as the README shows it: host network, password by env name.

    ``-e MOVIELENS_CONTRACT_PASSWORD`` without a value passes the variable from the docker client's
    environment, so the password is on no command line. ``--user`` is the caller's uid:gid, so the
    reports belong to the caller (and it can write into a directory only the caller may write to).
    """
    docker_args = ["--network", "host", "-e", "MOVIELENS_CONTRACT_PASSWORD"]
    if reports is not None:
        docker_args += ["--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{reports}:/reports"]
    return docker_run(
        image,
        [server.url, "--user", server.user, *args],
        docker_args=docker_args,
        env={"MOVIELENS_CONTRACT_PASSWORD": password},
    )


def test_reference_server_conforms_with_every_capability_required(contract_image, movielens_api, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()

    started = time.monotonic()
    done = run_against(
        contract_image,
        movielens_api,
        movielens_api.password,
        # contract.json is relative: it must land in the working directory, the mounted /reports.
        [
            *("--require", "all", "--json", "contract.json"),
            *("--junit-xml", "/reports/contract.xml", "--html", "/reports/contract.html"),
        ],
        reports,
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 0, (
        f"exit {done.returncode} after {elapsed:.1f}s:\n{_tail(done.stdout + done.stderr)}"
    )
    assert "CONFORMS" in done.stdout
    assert sorted(p.name for p in reports.iterdir()) == ["contract.html", "contract.json", "contract.xml"]
    for path in reports.iterdir():
        assert path.stat().st_uid == os.getuid(), f"{path.name} is not owned by the caller"
        assert movielens_api.password not in path.read_text(), f"{path.name} shows the password"
    assert movielens_api.password not in done.stdout + done.stderr

    result = json.loads((reports / "contract.json").read_text())
    assert result["exit_code"] == 0
    assert result["target"] == movielens_api.url
    assert result["user"] == movielens_api.user
    assert result["required"] == sorted(CAPABILITIES)
    # None is "the question does not arise" (max-limit on a server that clamps), never "absent".
    assert all(info["offered"] is not False for info in result["capabilities"].values()), result[
        "capabilities"
    ]
    assert result["summary"]["MUST"]["fail"] == result["summary"]["MUST"]["error"] == 0
    assert result["summary"]["MUST"]["not_implemented"] == 0
    assert {clause["id"] for clause in result["clauses"]} == set(CLAUSES)

    suite = ET.parse(reports / "contract.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None
    assert suite.get("name") == PROG
    assert int(suite.get("tests")) >= len(CLAUSES)
    assert int(suite.get("failures")) == int(suite.get("errors")) == 0


def test_wrong_password_exits_2_with_a_one_line_reason(contract_image, movielens_api):
    wrong = "wrong-" + movielens_api.password

    done = run_against(contract_image, movielens_api, wrong, ["--require", "all"])

    assert done.returncode == 2, _tail(done.stdout + done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{PROG}: error: ")
    assert "rejected the credentials" in lines[0]
    assert repr(movielens_api.user) in lines[0]
    assert "Traceback" not in done.stdout
    for secret in (wrong, movielens_api.password):
        assert secret not in done.stdout + done.stderr


@pytest.mark.parametrize("module", ["airflow", "airflow_movielens", "pandas", "movielens_api"])
def test_image_holds_neither_airflow_nor_pandas_nor_the_server(contract_image, module):
    done = docker_run(
        contract_image,
        ["-c", f"import {module}"],
        docker_args=["--network", "none", "--entrypoint", "python"],
    )

    assert done.returncode != 0, f"{module} is importable in the runner image"
    # Failing for the right reason: the module is missing (not, say, no python in the image).
    assert f"No module named '{module}'" in done.stderr, done.stderr


def test_image_runs_the_suite_as_a_non_root_user_in_reports(contract_image):
    config = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config}}", contract_image],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    # The control for the import test above: the suite itself is importable with the same python.
    done = docker_run(
        contract_image,
        ["-c", "import os, movielens_contract; print(os.getuid(), os.getcwd())"],
        docker_args=["--network", "none", "--entrypoint", "python"],
    )

    assert config["Entrypoint"] == [PROG]
    assert config["WorkingDir"] == "/reports"
    assert "/reports" in (config.get("Volumes") or {})
    assert done.returncode == 0, done.stderr
    uid, cwd = done.stdout.split()
    assert uid != "0"
    assert cwd == "/reports"
