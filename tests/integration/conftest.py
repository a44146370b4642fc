"""Integration fixtures: the reference API in a container (pytest-docker) or as a local process.

Which backend serves the tests is chosen once per session by ``MOVIELENS_INTEGRATION_MODE``:

* ``auto`` (default): containers from ``docker-compose.test.yml`` when a Docker engine and a
  compose command answer, otherwise ``movielens-api serve`` as a local process. If the container
  set-up fails (no base image, no index for pip, ...) the run falls back to the process and says
  why.
* ``docker``: containers or fail. CI uses this so a broken Docker set-up cannot pass silently.
* ``process``: always the local process.

The mode is printed in the header and the terminal summary and recorded in the JUnit XML
(testsuite property ``integration_mode``). Every server binds 127.0.0.1 on a free port, with
per-session credentials, so the tests prove that the connection's credentials are used.

Fixtures other tests rely on: ``movielens_api`` and ``faulty_movielens_api`` (session; an
:class:`ApiServer`), ``movielens_conn`` and ``faulty_movielens_conn`` (function; the Airflow
connection id, set through ``AIRFLOW_CONN_<ID>``), ``contract_image`` (session; the id of the
contract-runner image, built from contracts/Dockerfile; skips in process mode).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from pytest_docker.plugin import DockerComposeExecutor

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.test.yml"
MODE_ENV = "MOVIELENS_INTEGRATION_MODE"
MODES = ("auto", "docker", "process")

# Seeded fault injection of `faulty_movielens_api`: every kind, 30% of the requests, no more than
# three faults in a row (so a client with more attempts always gets through), no real waiting for
# Retry-After, short slow responses. The server reads these variables itself; docker-compose.test.yml
# forwards them to the faulty container.
FAULT_SETTINGS = {
    "MOVIELENS_FAULT_RATE": "0.3",
    "MOVIELENS_FAULT_SEED": "20190101",
    "MOVIELENS_FAULT_KINDS": "all",
    "MOVIELENS_FAULT_RETRY_AFTER": "0",
    "MOVIELENS_FAULT_SLOW_SECONDS": "0.2",
    "MOVIELENS_FAULT_MAX_STREAK": "3",
}
FAULT_MAX_STREAK = int(FAULT_SETTINGS["MOVIELENS_FAULT_MAX_STREAK"])

STARTUP_TIMEOUT_S = float(os.environ.get("MOVIELENS_STARTUP_TIMEOUT", "120"))
# A cold build of the contract-runner image installs the suite's dependencies into a venv (under a
# minute from a local wheelhouse); later builds reuse the cached layers and take seconds.
CONTRACT_IMAGE_BUILD_TIMEOUT_S = float(os.environ.get("MOVIELENS_CONTRACT_BUILD_TIMEOUT", "900"))
DOCKER_PROBE_TIMEOUT_S = 20.0
BASE_IMAGE_PULL_TIMEOUT_S = 300.0

_MODE_KEY = pytest.StashKey[tuple[str, str]]()


@dataclass(frozen=True)
class ApiServer:
    """A running reference server: where it listens and how to authenticate."""

    host: str
    port: int
    user: str
    password: str
    mode: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    def connection_json(self) -> str:
        """The Airflow connection for this server in the JSON form of ``AIRFLOW_CONN_<ID>``."""
        return json.dumps(
            {
                "conn_type": "movielens",
                "host": self.host,
                "port": self.port,
                "schema": "http",
                "login": self.user,
                "password": self.password,
            }
        )


# --------------------------------------------------------------------------------------------
# Mode selection
# --------------------------------------------------------------------------------------------


def _requested_mode() -> str:
    mode = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise pytest.UsageError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def _run_quietly(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def detect_compose_command() -> str | None:
    """``docker compose`` (v2) when the plugin exists, else ``docker-compose`` (v1), else None."""
    if shutil.which("docker"):
        done = _run_quietly(["docker", "compose", "version"], DOCKER_PROBE_TIMEOUT_S)
        if done is not None and done.returncode == 0:
            return "docker compose"
    if shutil.which("docker-compose"):
        done = _run_quietly(["docker-compose", "version"], DOCKER_PROBE_TIMEOUT_S)
        if done is not None and done.returncode == 0:
            return "docker-compose"
    return None


def docker_unusable_reason() -> str | None:
    """Why containers cannot be used here, or None when an engine and compose answer."""
    if shutil.which("docker") is None:
        return "no docker command"
    done = _run_quietly(["docker", "info", "--format", "{{.ServerVersion}}"], DOCKER_PROBE_TIMEOUT_S)
    if done is None or done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [""])[-1] if done is not None else "timed out"
        return f"no Docker engine answers ({detail})"
    if detect_compose_command() is None:
        return "no compose command (neither `docker compose` nor `docker-compose`)"
    return None


def base_image_unavailable_reason() -> str | None:
    """None when the server image's base (MOVIELENS_BASE_IMAGE) is present or can be pulled."""
    image = os.environ.get("MOVIELENS_BASE_IMAGE") or "python:3.11-slim"
    inspected = _run_quietly(["docker", "image", "inspect", image], DOCKER_PROBE_TIMEOUT_S)
    if inspected is not None and inspected.returncode == 0:
        return None
    pulled = _run_quietly(["docker", "pull", "--quiet", image], BASE_IMAGE_PULL_TIMEOUT_S)
    if pulled is not None and pulled.returncode == 0:
        return None
    detail = (pulled.stderr.strip().splitlines() or [""])[-1] if pulled is not None else "timed out"
    return (
        f"base image {image} is not available ({detail[:150]}); build a local one with "
        "docker/build-base-image.sh and set MOVIELENS_BASE_IMAGE (see .ci/run)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    mode = _requested_mode()
    if mode == "process":
        return f"integration mode: process ({MODE_ENV}=process)"
    reason = docker_unusable_reason()
    if reason is None:
        return f"integration mode: {mode} -> docker (compose: {detect_compose_command()})"
    if mode == "docker":
        return f"integration mode: docker REQUIRED but unusable: {reason}"
    return f"integration mode: auto -> process ({reason})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    used = terminalreporter.config.stash.get(_MODE_KEY, None)
    if used is not None:
        mode, reason = used
        terminalreporter.write_sep("-", f"integration servers ran as: {mode} ({reason})")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, on_timeout: Callable[[], str]) -> None:
    """Poll ``check`` until it holds, for at most ``timeout`` seconds (start-up waits only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready within {timeout:.0f}s\n{on_timeout()}")


def movielens_api_command() -> list[str]:
    """The ``movielens-api`` script of the running interpreter's environment."""
    script = Path(sys.executable).with_name("movielens-api")
    if script.exists():
        return [str(script)]
    found = shutil.which("movielens-api")
    if found:
        return [found]
    return [sys.executable, "-c", "from movielens_api.cli import main; raise SystemExit(main())"]


class ServerProcess:
    """``movielens-api serve`` in its own process group on 127.0.0.1, logging to a file."""

    def __init__(
        self,
        port: int,
        user: str,
        password: str,
        log_path: Path,
        extra_args: list[str],
        extra_env: dict[str, str],
    ) -> None:
        self.port = port
        self.log_path = log_path
        cmd = [*movielens_api_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args]
        # Only the fault and live settings given here: none inherited from the test process's
        # environment (a stray MOVIELENS_LIVE_START would hide ratings the tests count on).
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("MOVIELENS_FAULT_", "MOVIELENS_LIVE_"))
        }
        env.update({"API_USER": user, "API_PASSWORD": password, **extra_env})
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout: float) -> None:
        url = f"http://127.0.0.1:{self.port}"

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"movielens-api exited with {self.proc.returncode} before becoming healthy:\n"
                    + self.log_tail()
                )
            return is_healthy(url)

        wait_until(ready, timeout, f"movielens-api on port {self.port}", self.log_tail)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


# --------------------------------------------------------------------------------------------
# pytest-docker configuration
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def movielens_credentials() -> tuple[str, str]:
    """Per-session credentials (not the defaults, so a client that ignores them fails)."""
    return ("it-" + secrets.token_hex(4), secrets.token_urlsafe(12))


@pytest.fixture(scope="session")
def _compose_environment(movielens_credentials: tuple[str, str]) -> Iterator[dict[str, str]]:
    """Ports, credentials and fault settings for docker-compose.test.yml, exported for compose."""
    user, password = movielens_credentials
    values = {
        "MOVIELENS_API_PORT": str(free_port()),
        "MOVIELENS_FAULTY_PORT": str(free_port()),
        "MOVIELENS_API_USER": user,
        "MOVIELENS_API_PASSWORD": password,
        **FAULT_SETTINGS,
    }
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield values
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    return detect_compose_command() or "docker compose"


@pytest.fixture(scope="session")
def docker_compose_file(_compose_environment: dict[str, str]) -> str:
    return str(COMPOSE_FILE)


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # `--wait` exists only in Compose v2; health is awaited below for both versions.
    return ["up --build -d"]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v --remove-orphans"]


# --------------------------------------------------------------------------------------------
# The servers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Backend:
    mode: str
    api: ApiServer | None = None
    faulty: ApiServer | None = None


def _start_docker(request: pytest.FixtureRequest, user: str, password: str) -> _Backend:
    env = request.getfixturevalue("_compose_environment")
    compose = DockerComposeExecutor(
        request.getfixturevalue("docker_compose_command"),
        str(COMPOSE_FILE),
        request.getfixturevalue("docker_compose_project_name"),
    )
    try:
        request.getfixturevalue("docker_services")
    except Exception:
        # pytest-docker skips its clean-up when `up` fails: remove what may have been created.
        compose.execute("down -v --remove-orphans", success_codes=range(256))
        raise

    def logs() -> str:
        out = compose.execute("logs --no-color --tail 40", success_codes=range(256))
        return out.decode("utf-8", "replace")

    api = ApiServer("127.0.0.1", int(env["MOVIELENS_API_PORT"]), user, password, "docker")
    faulty = ApiServer("127.0.0.1", int(env["MOVIELENS_FAULTY_PORT"]), user, password, "docker")
    for server in (api, faulty):
        wait_until(lambda s=server: is_healthy(s.url), STARTUP_TIMEOUT_S, f"container on {server.url}", logs)
    return _Backend("docker", api, faulty)


@pytest.fixture(scope="session")
def _integration_backend(request: pytest.FixtureRequest, movielens_credentials: tuple[str, str]) -> _Backend:
    """Decide docker or process once per session; start the containers in docker mode."""
    requested = _requested_mode()
    user, password = movielens_credentials
    if requested == "process":
        backend, reason = _Backend("process"), f"{MODE_ENV}=process"
    else:
        unusable = docker_unusable_reason() or base_image_unavailable_reason()
        if unusable is not None and requested == "docker":
            pytest.fail(f"{MODE_ENV}=docker but containers cannot be used: {unusable}", pytrace=False)
        if unusable is not None:
            backend, reason = _Backend("process"), f"auto: {unusable}"
        else:
            try:
                backend = _start_docker(request, user, password)
                reason = f"{requested}: {COMPOSE_FILE.name} via {detect_compose_command()}"
            except Exception as exc:
                if requested == "docker":
                    pytest.fail(f"{MODE_ENV}=docker but the containers did not start:\n{exc}", pytrace=False)
                lines = [line.strip(' "') for line in str(exc).splitlines() if line.strip(' ".')]
                detail = lines[-1] if lines else type(exc).__name__  # compose ends with the actual error
                backend, reason = _Backend("process"), f"auto: container set-up failed: {detail[:200]}"
    request.config.stash[_MODE_KEY] = (backend.mode, reason)
    request.getfixturevalue("record_testsuite_property")("integration_mode", backend.mode)
    return backend


def _process_server(
    request: pytest.FixtureRequest,
    name: str,
    credentials: tuple[str, str],
    extra_args: list[str],
    extra_env: dict[str, str],
) -> Iterator[ApiServer]:
    log_dir = request.getfixturevalue("tmp_path_factory").mktemp("movielens-api")
    port = free_port()
    server = ServerProcess(port, *credentials, log_dir / f"{name}.log", extra_args, extra_env)
    try:
        server.wait_healthy(STARTUP_TIMEOUT_S)
        yield ApiServer("127.0.0.1", port, *credentials, "process")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def movielens_api(
    request: pytest.FixtureRequest, _integration_backend: _Backend, movielens_credentials: tuple[str, str]
) -> Iterator[ApiServer]:
    """The reference server with its bundled sample data, fault-free."""
    if _integration_backend.api is not None:
        yield _integration_backend.api
        return
    yield from _process_server(request, "movielens-api", movielens_credentials, [], {})


@pytest.fixture(scope="session")
def faulty_movielens_api(
    request: pytest.FixtureRequest, _integration_backend: _Backend, movielens_credentials: tuple[str, str]
) -> Iterator[ApiServer]:
    """The same server and data with seeded fault injection (one worker: reproducible faults)."""
    if _integration_backend.faulty is not None:
        yield _integration_backend.faulty
        return
    yield from _process_server(
        request, "movielens-api-faulty", movielens_credentials, ["--workers", "1"], FAULT_SETTINGS
    )


@pytest.fixture(scope="session")
def contract_image(
    _integration_backend: _Backend, docker_compose_command: str, docker_compose_project_name: str
) -> str:
    """The contract-runner image (contracts/Dockerfile), built through compose; its image id.

    Built by the ``movielens-contract`` service of docker-compose.test.yml (profile ``contract``,
    which pytest-docker's ``up`` leaves alone), so the base image and wheelhouse settings are those
    of the server image. ``MOVIELENS_CONTRACT_IMAGE`` names the tag; the id is returned so that a
    concurrent run retagging the same name on a shared engine cannot swap the image under the tests.
    Skips in process mode only: in docker mode a failed build fails the tests that need it.
    """
    if _integration_backend.mode != "docker":
        pytest.skip("the contract-runner image needs containers (integration mode: process)")
    tag = os.environ.get("MOVIELENS_CONTRACT_IMAGE") or "movielens-contract:test"
    build = [
        *shlex.split(docker_compose_command),
        "-f",
        str(COMPOSE_FILE),
        "-p",
        docker_compose_project_name,
        "--profile",
        "contract",
        "build",
        "movielens-contract",
    ]
    try:
        done = subprocess.run(
            build,
            capture_output=True,
            text=True,
            env={**os.environ, "MOVIELENS_CONTRACT_IMAGE": tag},
            timeout=CONTRACT_IMAGE_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"building {tag} took more than {CONTRACT_IMAGE_BUILD_TIMEOUT_S:.0f}s", pytrace=False)
    if done.returncode != 0:
        output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        pytest.fail(f"building {tag} failed ({shlex.join(build)}):\n{output}", pytrace=False)
    inspected = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        timeout=DOCKER_PROBE_TIMEOUT_S,
        check=True,
    )
    return inspected.stdout.strip()


@pytest.fixture(scope="session")
def fault_max_streak() -> int:
    """Most faults in a row ``faulty_movielens_api`` injects: more attempts than this always get through."""
    return FAULT_MAX_STREAK


@pytest.fixture
def movielens_conn(movielens_api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``movielens_default`` pointing at ``movielens_api`` (env-var connection, JSON form)."""
    monkeypatch.setenv("AIRFLOW_CONN_MOVIELENS_DEFAULT", movielens_api.connection_json())
    return "movielens_default"


@pytest.fixture
def faulty_movielens_conn(faulty_movielens_api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``movielens_faulty`` pointing at ``faulty_movielens_api``."""
    monkeypatch.setenv("AIRFLOW_CONN_MOVIELENS_FAULTY", faulty_movielens_api.connection_json())
    return "movielens_faulty"


@dataclass(frozen=True)
class WrongPasswordConn:
    conn_id: str
    password: str


@pytest.fixture
def wrong_password_conn(movielens_api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> WrongPasswordConn:
    """``movielens_wrong``: ``movielens_api`` with a wrong password (which must never be shown)."""
    wrong = dataclasses.replace(movielens_api, password="wrong-" + movielens_api.password)
    monkeypatch.setenv("AIRFLOW_CONN_MOVIELENS_WRONG", wrong.connection_json())
    return WrongPasswordConn("movielens_wrong", wrong.password)


# --------------------------------------------------------------------------------------------
# Expectations computed with plain HTTP, independently of the provider under test
# --------------------------------------------------------------------------------------------


class DirectClient:
    """Minimal ``requests`` client of the API, used to compute what the provider must return."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.auth = server.auth

    def get(self, path: str, **params: object) -> dict:
        response = self.session.get(f"{self.server.url}{path}", params=params, timeout=30)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        return response.json()

    def total(self, path: str = "/ratings", **params: object) -> int:
        return int(self.get(path, limit=1, **params)["total"])

    def single_listing(self, path: str = "/ratings", **params: object) -> list[dict]:
        """The whole listing in ONE request (limit = total); only for listings within the page cap."""
        total = self.total(path, **params)
        body = self.get(path, offset=0, limit=max(total, 1), **params)
        assert body["total"] == total
        assert len(body["result"]) == total, "listing larger than one page"
        return body["result"]

    def paged_listing(self, path: str = "/ratings", page: int = 10_000, **params: object) -> list[dict]:
        """The whole listing with the simplest possible paging, advancing by records received."""
        records: list[dict] = []
        total = self.total(path, **params)
        while len(records) < total:
            chunk = self.get(path, offset=len(records), limit=page, **params)["result"]
            assert chunk, f"empty page at offset {len(records)} of {total}"
            records.extend(chunk)
        return records


@dataclass(frozen=True)
class RatingsCalendar:
    """Ratings per UTC day of the sample data's year, from the fault-free server."""

    counts: dict[str, int]

    @property
    def busy_day(self) -> str:
        """The first day with at least 100 ratings (several pages at small batch sizes)."""
        return next(day for day, n in self.counts.items() if n >= 100)

    @property
    def empty_day(self) -> str:
        """A day without any rating (the sample data has some)."""
        return next(day for day, n in self.counts.items() if n == 0)

    @staticmethod
    def next_day(day: str) -> str:
        return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


@pytest.fixture(scope="session")
def direct_api(movielens_api: ApiServer) -> DirectClient:
    return DirectClient(movielens_api)


@pytest.fixture(scope="session")
def ratings_calendar(direct_api: DirectClient) -> RatingsCalendar:
    """Counts per day of 2019 (the sample data's year), one ``limit=1`` request per day."""
    counts = {}
    day = date(2019, 1, 1)
    while day.year == 2019:
        following = day + timedelta(days=1)
        counts[day.isoformat()] = direct_api.total(start_date=day.isoformat(), end_date=following.isoformat())
        day = following
    assert sum(counts.values()) > 0, "the server has no ratings in 2019"
    return RatingsCalendar(counts)
