"""The GitHub workflows agree with tox.ini and the distributions (what actionlint cannot know).

actionlint (``tox -e actionlint``) checks that the workflows are valid; these tests check that
they are the right ones: CI runs every env of ``tox``, the release workflow fires on each
distribution's tags and publishes only after the gate, the CI workflow and the build.
"""

from __future__ import annotations

import configparser
import itertools
import re
from pathlib import Path
from typing import Any

import tomllib
import yaml

REPO = Path(__file__).resolve().parents[3]
WORKFLOWS = REPO / ".github" / "workflows"


def _workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _expand(entry: str) -> list[str]:
    """tox's ``name{a,b}`` brace expansion, for the names of env_list."""
    parts = re.split(r"\{([^}]*)\}", entry)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


def _tox_env_list() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "tox.ini", encoding="utf-8")
    return [env for line in parser["tox"]["env_list"].split() for env in _expand(line)]


def _distribution_names() -> list[str]:
    return [
        tomllib.loads((REPO / d / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
        for d in (".", "server", "contracts")
    ]


def test_ci_matrix_runs_every_tox_env():
    matrix = _workflow("ci.yml")["jobs"]["tox"]["strategy"]["matrix"]["env"]
    assert sorted(matrix) == sorted(_tox_env_list())
    assert {"release-check", "actionlint"} <= set(matrix)


def test_release_check_job_gets_the_full_history():
    checkout = _workflow("ci.yml")["jobs"]["tox"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == "${{ matrix.env == 'release-check' && '0' || '1' }}"


def test_ci_is_callable_and_runs_the_action_from_the_checkout():
    ci = _workflow("ci.yml")
    assert "workflow_call" in ci["on"]
    steps = ci["jobs"]["action"]["steps"]
    assert sum(step.get("uses") == "./contracts" for step in steps) == 2


def test_release_fires_on_each_distributions_tags():
    tags = _workflow("release.yml")["on"]["push"]["tags"]
    assert sorted(tags) == sorted(f"{name}-v[0-9]+.[0-9]+.[0-9]+" for name in _distribution_names())


def test_release_publishes_only_after_gate_ci_and_build():
    jobs = _workflow("release.yml")["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    gate = next(s for s in jobs["resolve"]["steps"] if s.get("id") == "gate")
    assert "tox -e release-check -- --tag" in gate["run"]
    assert jobs["resolve"]["steps"][0]["with"]["fetch-depth"] == 0
    publish = jobs["publish"]
    assert set(publish["needs"]) == {"resolve", "ci", "build"}
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert any(str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@") for s in publish["steps"])
    assert _workflow("release.yml")["permissions"] == {"contents": "read"}


def _tox_time_zones() -> dict[str, str]:
    """env -> TZ of every env of env_list that tox.ini's [testenv] set_env gives its own zone."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "tox.ini", encoding="utf-8")
    envs = set(_tox_env_list())
    zones = {}
    for line in parser["testenv"]["set_env"].splitlines():
        match = re.fullmatch(r"\s*([\w-]+): TZ = (\S+)\s*", line)
        if match and match[1] in envs:
            zones[match[1]] = match[2]
    return zones


def test_ci_run_checks_the_zone_of_every_env_tox_runs_outside_utc():
    """.ci/run's ZONES (tzdata check, JUnit time-zone check) names exactly tox.ini's per-env zones."""
    text = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^ZONES=\(([^)]*)\)", text, re.MULTILINE)
    assert match, "no ZONES=(...) in .ci/run"
    ci_zones = dict(item.split("=", 1) for item in match[1].split())
    tox_zones = _tox_time_zones()
    assert {"unit-af33", "unit-af211", "unit-af30", "unit-af31", "unit-af32"} <= set(tox_zones)
    assert ci_zones == tox_zones
