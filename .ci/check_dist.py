"""Build each distribution and prove it installs and runs on its own (tox -e build).

For each of the three distributions of this repository (the provider at the root, the reference
server in ``server/``, the contract suite in ``contracts/``), or those named with ``--dist``:

1. ``python -m build``: sdist, then the wheel built *from the sdist* (so the sdist is complete).
2. ``twine check --strict``: the metadata and README render on PyPI.
3. The wheel's contents: its one package with its data files, its entry points; no other
   distribution's package, no tests, DAGs or benchmarks; the LICENSE.
4. A clean virtualenv with only that wheel and its dependencies (pinned by the constraint):
   - provider: ProvidersManager lists it and resolves the ``movielens`` connection type to
     ``MovielensHook``, and ``airflow providers list`` shows it;
   - server: ``movielens-api --help`` runs and the app serves ``/health`` and its ``/openapi.yaml``;
   - contract suite: ``movielens-contract --help`` runs and neither ``airflow`` nor ``pandas`` can
     be imported there.
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
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parents[1]
OTHER_TOP_LEVEL = {"tests", "dags", "bench", "contracts", "docker", "server", "docs"}


@dataclass(frozen=True)
class Dist:
    """One distribution of the repository."""

    name: str
    directory: Path
    package: str
    files: tuple[str, ...]  # paths its wheel must hold, besides the package's __init__.py
    entry_points: tuple[str, ...]
    metadata: tuple[str, ...]


DISTS = {
    "airflow-movielens": Dist(
        "airflow-movielens",
        REPO_ROOT,
        "airflow_movielens",
        (
            "airflow_movielens/hooks.py",
            "airflow_movielens/operators.py",
            "airflow_movielens/sensors.py",
            "airflow_movielens/triggers.py",
            "airflow_movielens/ranking.py",
            "airflow_movielens/py.typed",
        ),
        ("[apache_airflow_provider]", "provider_info = airflow_movielens:get_provider_info"),
        ("Name: airflow-movielens", "Requires-Dist: apache-airflow"),
    ),
    "movielens-api": Dist(
        "movielens-api",
        REPO_ROOT / "server",
        "movielens_api",
        ("movielens_api/cli.py", "movielens_api/openapi.yaml", "movielens_api/py.typed"),
        ("movielens-api = movielens_api.cli:main",),
        ("Name: movielens-api", "Requires-Dist: flask"),
    ),
    "movielens-contract": Dist(
        "movielens-contract",
        REPO_ROOT / "contracts",
        "movielens_contract",
        ("movielens_contract/cli.py", "movielens_contract/conftest.py", "movielens_contract/openapi.yaml"),
        ("movielens-contract = movielens_contract.cli:main",),
        ("Name: movielens-contract", "Requires-Dist: schemathesis"),
    ),
}
PACKAGES = {d.package for d in DISTS.values()}

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

SERVER_PROBE = """
from importlib import resources
import movielens_api.gevent_worker  # what gunicorn loads for `serve`: its imports must be installed
from movielens_api.app import create_app
from movielens_api.store import Store

client = create_app(Store.generated(1_000, 1), user="u", password="p").test_client()
assert client.get("/health").status_code == 200
served = client.get("/openapi.yaml").data
assert served == (resources.files("movielens_api") / "openapi.yaml").read_bytes(), "/openapi.yaml"
assert b"/ratings" in served
print("server: /health and /openapi.yaml answer")
"""

CONTRACT_PROBE = """
import importlib.util
absent = ("airflow", "pandas", "movielens_api", "airflow_movielens")
present = [m for m in absent if importlib.util.find_spec(m)]
assert not present, f"the contract suite's environment holds {present}"
import movielens_contract.cli, movielens_contract.clauses
print(f"contract: {len(movielens_contract.clauses.CLAUSES)} clauses; no airflow, pandas, server or provider")
"""


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def fail(message: str) -> NoReturn:
    print(f"check_dist: FAIL: {message}", file=sys.stderr)
    raise SystemExit(1)


def check_wheel(dist: Dist, wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
        metadata = zf.read(f"{dist_info}/METADATA").decode()
    missing = [n for n in (f"{dist.package}/__init__.py", *dist.files) if n not in names]
    if not any(n.startswith(f"{dist_info}/") and "LICENSE" in n for n in names):
        missing.append(f"{dist_info}/.../LICENSE")
    if missing:
        fail(f"{wheel.name} lacks {missing}")
    stray = sorted({n.split("/")[0] for n in names} & (OTHER_TOP_LEVEL | (PACKAGES - {dist.package})))
    if stray:
        fail(f"{wheel.name} ships {stray}")
    for needle in dist.entry_points:
        if needle not in entry_points:
            fail(f"{wheel.name}: entry_points.txt lacks {needle!r}")
    for needle in dist.metadata:
        if needle not in metadata:
            fail(f"{wheel.name}: METADATA lacks {needle!r}")
    print(f"check_dist: {wheel.name}: {len(names)} files, entry points and metadata OK")


def clean_env(out: Path, wheel: Path, constraint: Path) -> Path:
    """A new virtualenv holding only ``wheel`` and its dependencies; returns its bin directory."""
    uv = shutil.which("uv") or fail("uv not found")
    venv = out / "clean-env"
    run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)])
    bindir = venv / "bin"
    run(
        [
            str(uv),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(bindir / "python"),
            "-c",
            str(constraint),
            str(wheel),
        ]
    )
    return bindir


def clean_environ(home: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "PYTHONPATH"))
    }
    env.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    return env


def probe(dist: Dist, bindir: Path) -> None:
    """Run the installed distribution the way its users do."""
    with tempfile.TemporaryDirectory(prefix="check-dist-") as home:
        env = clean_environ(home)
        python = str(bindir / "python")
        if dist.name == "airflow-movielens":
            found = run([python, "-c", PROVIDER_PROBE], env=env, cwd=home, capture_output=True)
            print(f"check_dist: ProvidersManager: {found.stdout.strip()}")
            listed = run(
                [str(bindir / "airflow"), "providers", "list", "--output", "json"],
                env=env,
                cwd=home,
                capture_output=True,
            )
            providers = {p["package_name"]: p for p in json.loads(listed.stdout)}
            if dist.name not in providers:
                fail(f"`airflow providers list` does not show {dist.name}: {sorted(providers)}")
            print(f"check_dist: airflow providers list: {dist.name} {providers[dist.name]['version']}")
            return
        command = "movielens-api" if dist.name == "movielens-api" else "movielens-contract"
        run([str(bindir / command), "--help"], env=env, cwd=home, stdout=subprocess.DEVNULL)
        script = SERVER_PROBE if dist.name == "movielens-api" else CONTRACT_PROBE
        said = run([python, "-c", script], env=env, cwd=home, capture_output=True).stdout.strip()
        print(f"check_dist: {said}")


def check(dist: Dist, out: Path, constraint: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, "-m", "build", "--outdir", str(out), str(dist.directory)], stdout=subprocess.DEVNULL)
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {out}, got {wheels + sdists}")
    run([sys.executable, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])])
    check_wheel(dist, wheels[0])
    probe(dist, clean_env(out, wheels[0], constraint))
    print(f"check_dist: {dist.name}: OK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the built distributions")
    parser.add_argument("--constraint", type=Path, required=True, help="constraints for the clean envs")
    parser.add_argument("--dist", action="append", choices=sorted(DISTS), help="only these (repeatable)")
    args = parser.parse_args()
    for name in args.dist or list(DISTS):
        check(DISTS[name], args.out / name, args.constraint)
    print("check_dist: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
