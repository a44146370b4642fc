"""The deployment tier's one session fixture: a real Airflow 3 deployment on loopback, torn down after.

``deployment`` starts, each as a local process on 127.0.0.1 and a free port (see the modules beside
this file): a throwaway PostgreSQL cluster (metadata database and Celery result backend), Redis
(Celery broker), moto's S3 API, two reference servers (``ref``: the sample data as is; ``slow``:
every answer slowed by fault injection, pages of at most 25 records; a third one, in live mode, is
started by the scenario that needs it: :meth:`Deployment.start_live_server`), then
``airflow db migrate`` and the api-server, scheduler, dag-processor, triggerer and two Celery
workers, each with its own home and DAGs folder. It creates the bucket and the connections (through
the REST API) and unpauses the DAGs.

Everything runs in one temporary directory that is removed afterwards, failure or not, after every
process group was stopped (SIGTERM, then SIGKILL). When a test failed, the services' logs are copied
to ``reports/deployment/`` first. Set ``MOVIELENS_DEPLOYMENT_KEEP=1`` to keep the directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from deployment_airflow import DAG_IDS, REPO_ROOT, AirflowDeployment, RestApi, start_airflow
from deployment_processes import Service, stop_all
from deployment_services import (
    ReferenceServer,
    S3Api,
    start_postgres,
    start_redis,
    start_reference_server,
    start_s3,
)

BUCKET = "movielens-deployment"
S3_CONN_ID = "movielens_s3"
#: ``MOVIELENS_DATA_DIR`` of every component: the pipelines' outputs go to the S3 API, through the
#: ``movielens_s3`` connection named in the URI.
DATA_DIR = f"s3://{S3_CONN_ID}@{BUCKET}/airflow"
#: Fault injection of the ``slow`` server: every answer waits this long, pages hold <= 25 records.
SLOW_SECONDS = 0.6
SLOW_PAGE = 25
#: Live mode of the ``live`` server: the day whose data appears while the sensor waits, how many real
#: seconds after the server starts its first rating appears, and the virtual clock's speed.
LIVE_DAY = "2019-01-20"
LIVE_GAP_S = 25.0
LIVE_SPEED = 1.0
LOGS_ON_FAILURE = REPO_ROOT / "reports" / "deployment"

_FAILED = pytest.StashKey[bool]()
log = logging.getLogger("deployment")


@dataclass
class Deployment:
    """What the scenarios use: the REST API, the S3 API, the reference servers and the components."""

    api: RestApi
    airflow: AirflowDeployment
    s3: S3Api
    ref: ReferenceServer
    slow: ReferenceServer
    broker_url: str
    root: Path
    log_dir: Path
    services: list[Service]

    def start_live_server(self) -> tuple[ReferenceServer, float]:
        """A reference server in live mode whose first rating of :data:`LIVE_DAY` appears
        :data:`LIVE_GAP_S` real seconds after it starts, as connection ``movielens_live``.

        Returns the server and the time (``time.time()``) just before its process was started: the
        first rating cannot be visible before that plus :data:`LIVE_GAP_S`.
        """
        first = self.ref.listing(LIVE_DAY, next_day(LIVE_DAY), page=1)[0]["timestamp"]
        live_start = int(first) - LIVE_GAP_S * LIVE_SPEED
        started_at = time.time()
        live = start_reference_server(
            "live",
            self.root,
            self.log_dir,
            self.services,
            options=["--live-start", iso_utc(live_start), "--live-speed", str(LIVE_SPEED)],
        )
        self.api.put_connection("movielens_live", live.connection())
        return live, started_at

    def object_keys(self, prefix: str = "") -> list[str]:
        """Every key in the bucket under ``prefix`` (the bucket is small: one listing call suffices)."""
        listing = self.s3.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix, MaxKeys=1000)
        assert not listing.get("IsTruncated"), "more than 1000 objects: the listing would need paging"
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read_object(self, key: str) -> bytes:
        return self.s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def head_object(self, key: str) -> dict:
        return self.s3.client().head_object(Bucket=BUCKET, Key=key)

    def multipart_uploads(self) -> list[dict]:
        return self.s3.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.session.stash[_FAILED] = True
    return report


def _keep_logs(log_dir: Path) -> None:
    LOGS_ON_FAILURE.mkdir(parents=True, exist_ok=True)
    for path in log_dir.glob("*.log"):
        shutil.copy2(path, LOGS_ON_FAILURE / path.name)
    for path in log_dir.parent.glob("airflow/*/logs"):  # task logs of each component
        shutil.copytree(path, LOGS_ON_FAILURE / "task-logs" / path.parent.name, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def deployment(request) -> Iterator[Deployment]:
    root = Path(tempfile.mkdtemp(prefix="movielens-deployment-"))
    log_dir = root / "logs"
    log_dir.mkdir()
    root.chmod(0o755)  # PostgreSQL's user must reach its directory below
    services: list[Service] = []
    started = time.monotonic()
    setup_failed = True
    try:
        (root / "postgres").mkdir()
        postgres = start_postgres(root / "postgres", log_dir, services)
        log.info("PostgreSQL up")
        broker_url = start_redis(root, log_dir, services)
        s3 = start_s3(root, log_dir, services)
        ref = start_reference_server("ref", root, log_dir, services)
        slow = start_reference_server(
            "slow",
            root,
            log_dir,
            services,
            options=[
                "--fault-rate",
                "1",
                "--fault-kinds",
                "slow",
                "--fault-slow-seconds",
                str(SLOW_SECONDS),
                "--max-limit",
                str(SLOW_PAGE),
                "--access-log",
            ],
        )
        s3.client().create_bucket(Bucket=BUCKET)
        log.info("Redis, S3 API and reference servers up")
        airflow = start_airflow(
            root / "airflow", log_dir, services, postgres=postgres, broker_url=broker_url, data_dir=DATA_DIR
        )
        api = RestApi(airflow.api_url, airflow.admin_password)
        api.put_connection("movielens_default", ref.connection())
        api.put_connection("movielens_slow", slow.connection())
        api.put_connection(S3_CONN_ID, s3.connection())
        api.wait_for_dags(DAG_IDS)
        for dag_id in DAG_IDS:
            api.unpause(dag_id)
        log.info("deployment up in %.0fs (%s)", time.monotonic() - started, root)
        setup_failed = False
        yield Deployment(
            api=api, airflow=airflow, s3=s3, ref=ref, slow=slow, broker_url=broker_url,
            root=root, log_dir=log_dir, services=services,
        )  # fmt: skip
    finally:
        stop_all(services)
        if setup_failed or request.session.stash.get(_FAILED, False):
            with contextlib.suppress(Exception):
                _keep_logs(log_dir)
        if os.environ.get("MOVIELENS_DEPLOYMENT_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


def next_day(day: str) -> str:
    """The ``YYYY-MM-DD`` after ``day``."""
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def iso_utc(epoch: float) -> str:
    """``epoch`` as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
