"""The services an Airflow deployment runs on, each a local process on 127.0.0.1 and a free port.

* :func:`start_postgres`: a throwaway PostgreSQL 15 cluster (Debian's binaries under
  ``/usr/lib/postgresql/<version>/bin``) initialised in a temporary directory. PostgreSQL refuses to
  run as root, so under root the cluster belongs to an unprivileged system user
  (:data:`PG_SYSTEM_USER`, Debian's ``postgres``; created when missing) and the server runs as that
  user; otherwise it runs as the current user. Password authentication on TCP, no Unix socket in
  a shared directory.
* :func:`start_redis`: ``redis-server`` (Debian's package), no persistence, loopback only.
* :func:`start_s3`: moto's S3 API server (``python -m moto.server``).
* :func:`start_reference_server`: ``movielens-api serve`` (the ``server/`` distribution), with any
  extra options (fault injection, live mode).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
from deployment_processes import DeploymentError, Service, free_port, port_open, tail, wait_until

#: Unprivileged owner of the PostgreSQL cluster when the tier runs as root.
PG_SYSTEM_USER = "postgres"
STARTUP_TIMEOUT_S = 60.0
READY_LINE = re.compile(r"movielens-api ready on (http://\S+)")


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment for a service: no inherited Airflow settings, UTC, this venv first."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": os.pathsep.join([venv_bin, "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


# -- PostgreSQL ------------------------------------------------------------------------------------


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb``."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if not candidates:
        raise DeploymentError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
            "apt-get install postgresql (.ci/run does)"
        )
    return Path(candidates[-1]).parent


def _system_user() -> str | None:
    """The user PostgreSQL runs as: :data:`PG_SYSTEM_USER` under root (created if missing), else None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return PG_SYSTEM_USER


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str
    password: str
    database: str

    def sqlalchemy_url(self, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"


def start_postgres(root: Path, log_dir: Path, services: list[Service]) -> Postgres:
    """Initialise a cluster in ``root/pgdata``, start it on a free loopback port, create the database."""
    bin_dir = postgres_bin_dir()
    run_as = _system_user()
    data_dir, socket_dir = root / "pgdata", root / "pgsocket"
    socket_dir.mkdir()
    password = secrets.token_urlsafe(16)
    password_file = root / "pgpassword"
    password_file.write_text(password + "\n")
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        for path in (root, socket_dir, password_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    env = base_env(root)
    init = subprocess.run(
        [
            str(bin_dir / "initdb"),
            "--pgdata",
            str(data_dir),
            "--username",
            "airflow",
            "--pwfile",
            str(password_file),
            "--auth-host",
            "scram-sha-256",
            "--auth-local",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        env=env,
        user=run_as,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )
    password_file.unlink()
    if init.returncode != 0:
        raise DeploymentError(f"initdb failed ({init.returncode}): {init.stderr.strip()[-2000:]}")
    port = free_port()
    server = Service(
        "postgres",
        [
            str(bin_dir / "postgres"),
            "-D",
            str(data_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={port}",
            "-c",
            f"unix_socket_directories={socket_dir}",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        env=env,
        log_dir=log_dir,
        user=run_as,
    )
    services.append(server)
    wait_until(lambda: port_open(port), timeout=STARTUP_TIMEOUT_S, what="PostgreSQL", alive=[server])
    created = subprocess.run(
        [
            str(bin_dir / "createdb"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--username",
            "airflow",
            "airflow",
        ],
        env={**env, "PGPASSWORD": password},
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )
    if created.returncode != 0:
        raise DeploymentError(f"createdb failed: {created.stderr.strip()}; log:\n{tail(server.log_path)}")
    return Postgres(port=port, user="airflow", password=password, database="airflow")


# -- Redis -----------------------------------------------------------------------------------------


def start_redis(root: Path, log_dir: Path, services: list[Service]) -> str:
    """Start ``redis-server`` on a free loopback port; return its ``redis://`` URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise DeploymentError("redis-server not found: apt-get install redis-server (.ci/run does)")
    port = free_port()
    directory = root / "redis"
    directory.mkdir()
    server = Service(
        "redis",
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--protected-mode",
            "yes",
        ],
        env=base_env(directory),
        log_dir=log_dir,
    )
    services.append(server)
    wait_until(lambda: port_open(port), timeout=STARTUP_TIMEOUT_S, what="Redis", alive=[server])
    return f"redis://127.0.0.1:{port}/0"


# -- the S3 API ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Api:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def connection(self) -> dict[str, object]:
        """An Amazon provider (``aws``) connection to this API (REST API body, without ``connection_id``)."""
        return {
            "conn_type": "aws",
            "login": self.access_key,
            "password": self.secret_key,
            # endpoint_url serves every service but STS, which the connection test calls: without
            # its own endpoint it would go to AWS.
            "extra": json.dumps(
                {
                    "endpoint_url": self.endpoint_url,
                    "region_name": self.region,
                    "service_config": {"sts": {"endpoint_url": self.endpoint_url}},
                }
            ),
        }

    def client(self):  # a boto3 S3 client (untyped: boto3 ships no stubs)
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )


def start_s3(root: Path, log_dir: Path, services: list[Service]) -> S3Api:
    """Start moto's server (S3 API over HTTP) on a free loopback port."""
    port = free_port()
    directory = root / "moto"
    directory.mkdir()
    server = Service(
        "s3",
        [sys.executable, "-m", "moto.server", "--host", "127.0.0.1", "--port", str(port)],
        env=base_env(directory),
        log_dir=log_dir,
    )
    services.append(server)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return requests.get(f"{url}/moto-api/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ready, timeout=STARTUP_TIMEOUT_S, what="the S3 API (moto)", alive=[server])
    # moto accepts any credentials; real ones make the Amazon provider sign requests as against AWS.
    return S3Api(endpoint_url=url, access_key="deployment-tier", secret_key=secrets.token_hex(16))


# -- the reference server --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceServer:
    """A running ``movielens-api serve``: its URL, credentials and process."""

    url: str
    user: str
    password: str
    service: Service

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    def connection(self) -> dict[str, object]:
        """The Airflow connection for this server (REST API body, without ``connection_id``)."""
        return {
            "conn_type": "movielens",
            "host": "127.0.0.1",
            "port": self.port,
            "schema": "http",
            "login": self.user,
            "password": self.password,
        }

    def listing(self, start_date: str, end_date: str, *, page: int = 10_000) -> list[dict[str, object]]:
        """Every rating of ``[start_date, end_date)`` as the server lists it, fetched directly."""
        records: list[dict[str, object]] = []
        offset, total = 0, None
        while total is None or offset < total:
            response = requests.get(
                f"{self.url}/ratings",
                params={"start_date": start_date, "end_date": end_date, "offset": offset, "limit": page},
                auth=self.auth,
                timeout=30,
            )
            response.raise_for_status()
            body = response.json()
            total = body["total"]
            if not body["result"]:
                break
            records.extend(body["result"])
            offset += len(body["result"])
        return records

    def movies(self) -> list[dict[str, object]]:
        """Every movie the server lists (``/movies``), fetched directly."""
        response = requests.get(f"{self.url}/movies", params={"limit": 10_000}, auth=self.auth, timeout=30)
        response.raise_for_status()
        body = response.json()
        assert len(body["result"]) == body["total"], "more movies than one page"
        return body["result"]


def start_reference_server(
    name: str,
    root: Path,
    log_dir: Path,
    services: list[Service],
    *,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ReferenceServer:
    """``movielens-api serve`` on a free loopback port (the generated sample, one worker) plus ``options``."""
    user, password = "deploy", secrets.token_urlsafe(12)
    directory = root / name
    directory.mkdir()
    server = Service(
        name,
        [
            str(Path(sys.executable).parent / "movielens-api"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "1",
            *options,
        ],
        env={**base_env(directory), "API_USER": user, "API_PASSWORD": password, **(env or {})},
        log_dir=log_dir,
    )
    services.append(server)

    def ready() -> str | None:
        match = READY_LINE.search(server.log_text())
        return match.group(1) if match else None

    url = wait_until(ready, timeout=STARTUP_TIMEOUT_S, what=f"reference server {name}", alive=[server])
    return ReferenceServer(url=url, user=user, password=password, service=server)
