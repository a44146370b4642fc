"""Build the distributions and prove the wheel works as an Airflow provider (tox -e build).

1. ``python -m build``: sdist, then the wheel built *from the sdist* (so the sdist is complete).
2. ``twine check --strict``: the metadata and README render on PyPI.
3. The wheel's contents: the three packages, their data files (OpenAPI document, py.typed), the
   provider entry point and console scripts; no tests, DAGs or benchmarks.
4. A clean virtualenv with only the wheel (and its dependencies, Airflow pinned by the
   constraint): ProvidersManager lists the provider and resolves the ``movielens`` connection type
   to ``MovielensHook``, and ``airflow providers list`` shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parents[1]
DIST_NAME = "airflow-movielens"

REQUIRED_IN_WHEEL = [
    "airflow_movielens/__init__.py",
    "airflow_movielens/hooks.py",
    "airflow_movielens/operators.py",
    "airflow_movielens/sensors.py",
    "airflow_movielens/triggers.py",
    "airflow_movielens/ranking.py",
    "airflow_movielens/py.typed",
    "movielens_api/__init__.py",
    "movielens_api/cli.py",
    "movielens_api/py.typed",
    "movielens_contract/__init__.py",
    "movielens_contract/openapi.yaml",
]
FORBIDDEN_TOP_LEVEL = {"tests", "dags", "bench", "contracts", "docker"}

PROVIDER_PROBE = """
import json
from airflow.providers_manager import ProvidersManager

try:  # Airflow 3: hooks resolve through the task runtime's manager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as HookManager
except ImportError:  # Airflow 2.11
    HookManager = ProvidersManager

info = ProvidersManager().providers.get("airflow-movielens")
assert info is not None, "airflow-movielens not among the providers"
hook = HookManager().hooks.get("movielens")
assert hook is not None, "connection type 'movielens' not registered"
assert hook.hook_class_name == "airflow_movielens.hooks.MovielensHook", hook.hook_class_name
from airflow_movielens.hooks import MovielensHook
from airflow_movielens.operators import MovielensFetchRatingsOperator, MovielensRankMoviesOperator
from airflow_movielens.sensors import MovielensRatingsSensor
from airflow_movielens.triggers import MovielensRatingsTrigger
print(json.dumps({"version": info.version, "hook": hook.hook_class_name, "conn_type": hook.connection_type}))
"""


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def fail(message: str) -> NoReturn:
    print(f"check_dist: FAIL: {message}", file=sys.stderr)
    raise SystemExit(1)


def check_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
        metadata = zf.read(f"{dist_info}/METADATA").decode()
    missing = [n for n in REQUIRED_IN_WHEEL if n not in names]
    if missing:
        fail(f"{wheel.name} lacks {missing}")
    stray = sorted({n.split("/")[0] for n in names} & FORBIDDEN_TOP_LEVEL)
    if stray:
        fail(f"{wheel.name} ships {stray}")
    for needle in (
        "[apache_airflow_provider]",
        "provider_info = airflow_movielens:get_provider_info",
        "movielens-api = movielens_api.cli:main",
        "movielens-contract = movielens_contract.cli:main",
    ):
        if needle not in entry_points:
            fail(f"entry_points.txt lacks {needle!r}")
    for needle in ("Name: airflow-movielens", "Requires-Dist: apache-airflow", "Provides-Extra: server"):
        if needle not in metadata:
            fail(f"METADATA lacks {needle!r}")
    print(f"check_dist: {wheel.name}: {len(names)} files, entry points and metadata OK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the built distributions")
    parser.add_argument("--constraint", type=Path, required=True, help="constraints for the clean env")
    args = parser.parse_args()

    shutil.rmtree(args.out, ignore_errors=True)
    run([sys.executable, "-m", "build", "--outdir", str(args.out), str(REPO_ROOT)], stdout=subprocess.DEVNULL)
    wheels = sorted(args.out.glob("*.whl"))
    sdists = sorted(args.out.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {args.out}, got {wheels + sdists}")
    run([sys.executable, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])])
    check_wheel(wheels[0])

    uv = shutil.which("uv") or fail("uv not found")
    clean = args.out / "clean-env"
    run([str(uv), "venv", "--quiet", "--python", sys.executable, str(clean)])
    python = clean / "bin" / "python"
    run(
        [
            str(uv),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-c",
            str(args.constraint),
            str(wheels[0]),
        ]
    )

    with tempfile.TemporaryDirectory(prefix="airflow-home-") as home:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "PYTHONPATH"))
        }
        env.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
        probe = run([str(python), "-c", PROVIDER_PROBE], env=env, cwd=home, capture_output=True)
        print(f"check_dist: ProvidersManager: {probe.stdout.strip()}")
        listed = run(
            [str(clean / "bin" / "airflow"), "providers", "list", "--output", "json"],
            env=env,
            cwd=home,
            capture_output=True,
        )
        providers = {p["package_name"]: p for p in json.loads(listed.stdout)}
        if DIST_NAME not in providers:
            fail(f"`airflow providers list` does not show {DIST_NAME}: {sorted(providers)}")
        print(f"check_dist: airflow providers list: {DIST_NAME} {providers[DIST_NAME]['version']}")
    print("check_dist: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
