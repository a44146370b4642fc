"""An Airflow 3 deployment of local processes: scheduler, dag-processor, triggerer, api-server, workers.

Every component is its own process with its own ``AIRFLOW_HOME`` and its own copy of the DAGs folder
(as on separate machines: they share no disk); they meet only over loopback TCP: the PostgreSQL
metadata database, the Redis broker, the api-server's execution API (workers and triggerer) and the
S3 API the tasks write to. All configuration is environment variables (:func:`airflow_env`), the
same ``AIRFLOW__SECTION__KEY`` settings a user puts in ``airflow.cfg`` (docs/deployment.md).

:class:`RestApi` is a small client of the public REST API (``/api/v2``), authenticated as the simple
auth manager's ``admin`` with a password the tier chooses (written to the api-server's passwords file).
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from deployment_processes import DeploymentError, Service, free_port, tail, wait_until
from deployment_services import Postgres, base_env

TIER_DIR = Path(__file__).resolve().parent
REPO_ROOT = TIER_DIR.parents[1]
#: What every component's DAGs folder holds: the example pipeline (unchanged), the module it imports
#: and the tier's own DAGs (tests/deployment/dags).
DAG_FILES = (
    REPO_ROOT / "dags" / "05_pipeline.py",
    REPO_ROOT / "dags" / "movielens_common.py",
    REPO_ROOT / "dags" / ".airflowignore",
    TIER_DIR / "dags" / "deployment_pipelines.py",
)
DAG_IDS = ("05_pipeline", "deployment_live", "deployment_slow")
WORKERS = ("worker-a", "worker-b")
MIGRATE_TIMEOUT_S = 300.0
START_TIMEOUT_S = 180.0
ADMIN = "admin"
#: The scheduler fails a task instance whose worker stopped heartbeating after this many seconds.
HEARTBEAT_TIMEOUT_S = 15

log = logging.getLogger("deployment")


def airflow_env(
    *,
    home: Path,
    component: str,
    postgres: Postgres,
    broker_url: str,
    api_port: int,
    secrets_: Mapping[str, str],
    data_dir: str,
) -> dict[str, str]:
    """The environment of one component: its own home and DAGs folder, the deployment's shared settings."""
    api_url = f"http://127.0.0.1:{api_port}"
    return {
        **base_env(home),
        "AIRFLOW_HOME": str(home),
        "PYTHONPATH": str(TIER_DIR / "pythonpath"),
        "DEPLOYMENT_HOSTNAME": component,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "deployment_hostname.hostname",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__FERNET_KEY": secrets_["fernet_key"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.sqlalchemy_url(),
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres.sqlalchemy_url("postgresql"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "3",
        "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__SECRET_KEY": secrets_["secret_key"],
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets_["jwt_secret"],
        # The example's sensor defers (waits in the triggerer) when this is on.
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        # Runs only from backfills and triggers: no scheduled run of "yesterday" appears on unpausing.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "MOVIELENS_DATA_DIR": data_dir,
    }


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


@dataclass
class AirflowDeployment:
    """The running components; :meth:`start_worker` (re)starts a Celery worker by name."""

    root: Path
    log_dir: Path
    env_for: Any  # component name -> its environment (a callable)
    services: list[Service]
    api_url: str
    admin_password: str
    core: list[Service] = field(default_factory=list)
    workers: dict[str, Service] = field(default_factory=dict)

    def components(self) -> list[Service]:
        """The components now running (a restarted worker replaces the one it restarted)."""
        return [*self.core, *self.workers.values()]

    def home(self, component: str) -> Path:
        home = self.root / component
        if not home.exists():
            (home / "dags").mkdir(parents=True)
            for source in DAG_FILES:
                shutil.copy2(source, home / "dags" / source.name)
        return home

    def start(self, component: str, argv: Iterable[str]) -> Service:
        home = self.home(component)
        service = Service(
            component, [_airflow(), *argv], env=self.env_for(component, home), log_dir=self.log_dir, cwd=home
        )
        self.services.append(service)
        return service

    def start_worker(self, name: str) -> Service:
        """``airflow celery worker`` named ``name`` (its Celery node is ``name@deployment``)."""
        if name in self.workers and self.workers[name].running():
            raise DeploymentError(f"{name} is already running")
        self.workers[name] = self.start(
            name,
            [
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@deployment",
                "--skip-serve-logs",
                "--without-mingle",
            ],
        )
        return self.workers[name]

    def wait_for_workers(
        self, broker_url: str, names: Iterable[str], timeout: float = START_TIMEOUT_S
    ) -> None:
        """Until every named worker answers a Celery ping through the broker."""
        from celery import Celery

        wanted = {f"{name}@deployment" for name in names}
        app = Celery(broker=broker_url)
        try:

            def answered() -> bool:
                replies = app.control.ping(timeout=1.0) or []
                return wanted <= {node for reply in replies for node in reply}

            wait_until(
                answered,
                timeout=timeout,
                what=f"Celery workers {sorted(wanted)}",
                alive=list(self.workers.values()),
            )
        finally:
            app.close()


def start_airflow(
    root: Path,
    log_dir: Path,
    services: list[Service],
    *,
    postgres: Postgres,
    broker_url: str,
    data_dir: str,
) -> AirflowDeployment:
    """Migrate the metadata database, start every component, and wait until they are all up."""
    api_port = free_port()
    shared = {
        "fernet_key": Fernet.generate_key().decode(),
        "secret_key": secrets.token_urlsafe(32),
        "jwt_secret": secrets.token_urlsafe(32),
    }
    admin_password = secrets.token_urlsafe(16)

    def env_for(component: str, home: Path) -> dict[str, str]:
        return airflow_env(
            home=home,
            component=component,
            postgres=postgres,
            broker_url=broker_url,
            api_port=api_port,
            secrets_=shared,
            data_dir=data_dir,
        )

    deployment = AirflowDeployment(
        root=root,
        log_dir=log_dir,
        env_for=env_for,
        services=services,
        api_url=f"http://127.0.0.1:{api_port}",
        admin_password=admin_password,
    )
    migrate_home = deployment.home("migrate")
    with (log_dir / "db-migrate.log").open("wb") as migrate_log:
        try:
            done = subprocess.run(
                [_airflow(), "db", "migrate"],
                env=env_for("migrate", migrate_home),
                stdout=migrate_log,
                stderr=subprocess.STDOUT,
                timeout=MIGRATE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeploymentError(f"airflow db migrate took over {MIGRATE_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        raise DeploymentError(f"airflow db migrate failed:\n{tail(log_dir / 'db-migrate.log')}")

    log.info("metadata database migrated")
    api_home = deployment.home("api-server")
    (api_home / "passwords.json").write_text(json.dumps({ADMIN: admin_password}))
    api = deployment.start(
        "api-server", ["api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1"]
    )
    scheduler = deployment.start("scheduler", ["scheduler"])
    dag_processor = deployment.start("dag-processor", ["dag-processor"])
    triggerer = deployment.start("triggerer", ["triggerer", "--skip-serve-logs"])
    for name in WORKERS:
        deployment.start_worker(name)
    core = deployment.core = [api, scheduler, dag_processor, triggerer]

    def healthy() -> bool:
        try:
            health = requests.get(f"{deployment.api_url}/api/v2/monitor/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        return all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        )

    wait_until(
        healthy,
        timeout=START_TIMEOUT_S,
        what="api-server, scheduler, triggerer and dag-processor",
        alive=core,
    )
    log.info("api-server, scheduler, triggerer and dag-processor healthy")
    deployment.wait_for_workers(broker_url, WORKERS)
    log.info("workers %s answer", ", ".join(WORKERS))
    return deployment


class RestApi:
    """The public REST API (``/api/v2``) as the simple auth manager's admin."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        response = requests.post(
            f"{url}/auth/token", json={"username": ADMIN, "password": password}, timeout=30
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/api/v2{path}", timeout=60, **kwargs)
        if response.status_code not in tuple(expect):
            raise DeploymentError(f"{method} {path}: {response.status_code} {response.text[:1000]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any], *, expect: Iterable[int] = (200, 201)) -> Any:
        return self.request("POST", path, json=dict(body), expect=expect)

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = START_TIMEOUT_S) -> None:
        """Until the dag-processor has parsed every DAG in ``dag_ids``; fails at once on an import error."""
        wanted = set(dag_ids)

        def parsed() -> bool:
            errors = self.get("/importErrors")["import_errors"]
            if errors:
                raise DeploymentError(f"DAG import errors: {json.dumps(errors)[:2000]}")
            return wanted <= {dag["dag_id"] for dag in self.get("/dags", limit=100)["dags"]}

        wait_until(parsed, timeout=timeout, what=f"DAGs {sorted(wanted)} parsed")

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def put_connection(self, connection_id: str, fields: Mapping[str, Any]) -> None:
        self.post("/connections", {"connection_id": connection_id, **fields})

    def backfill(
        self, dag_id: str, first_day: str, last_day: str, *, max_active_runs: int = 10
    ) -> dict[str, Any]:
        """A backfill of the runs whose data intervals start on ``first_day`` .. ``last_day`` (UTC)."""
        return self.post(
            "/backfills",
            {
                "dag_id": dag_id,
                "from_date": f"{first_day}T00:00:00Z",
                "to_date": f"{last_day}T00:00:00Z",
                "max_active_runs": max_active_runs,
                "reprocess_behavior": "completed",
            },
        )

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)["task_instances"]

    def wait_for_runs(
        self, dag_id: str, run_ids: Iterable[str], *, timeout: float, alive: Iterable[Service] = ()
    ) -> dict[str, dict[str, Any]]:
        """Until every run in ``run_ids`` has finished (success or failed); returns them by run id."""
        wanted = set(run_ids)

        def finished() -> dict[str, dict[str, Any]] | None:
            runs = {run["dag_run_id"]: run for run in self.dag_runs(dag_id) if run["dag_run_id"] in wanted}
            done = all(run["state"] in ("success", "failed") for run in runs.values())
            return runs if len(runs) == len(wanted) and done else None

        return wait_until(finished, timeout=timeout, what=f"runs of {dag_id} to finish", alive=list(alive))


def poll_states(api: RestApi, dag_id: str, run_id: str, task_id: str, until: float) -> list[str]:
    """The distinct states a task instance was seen in (in order) while polling until ``until``."""
    seen: list[str] = []
    while time.monotonic() < until:
        for ti in api.task_instances(dag_id, run_id):
            if ti["task_id"] == task_id and ti["state"] and (not seen or seen[-1] != ti["state"]):
                seen.append(ti["state"])
        if seen and seen[-1] in ("success", "failed"):
            break
        time.sleep(0.5)
    return seen
