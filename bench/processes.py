"""Start, probe, measure and stop the servers under test (reference and seed baseline).

Servers run as child processes on 127.0.0.1 with a free port. Start-up time is the wall time
from spawning the process to the first 200 from ``GET /health`` (which answers only once the data
is loaded). Memory is summed over the server's whole process tree (gunicorn master + workers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from . import columnar_cache

REPO_ROOT = Path(__file__).resolve().parent.parent
USER = "airflow"
PASSWORD = "airflow"


class ServerError(RuntimeError):
    """A server under test did not start or died; the message carries its log tail."""


def free_port() -> int:
    """A currently unused TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Memory:
    """Resident memory of a process tree in bytes.

    ``rss`` sums each process's resident set, so pages shared between the gunicorn master and its
    forked workers count once per process (an upper bound). ``pss`` splits each shared page among
    the processes sharing it, so the sum is the tree's real share of physical memory.
    """

    rss: int
    pss: int
    processes: int


@dataclass
class ServerProcess:
    """A running server child process and how long it took to become ready."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    startup_seconds: float = float("nan")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float) -> ServerProcess:
        """Spawn the server and wait (bounded by ``timeout``) until /health answers 200."""
        env = {**os.environ, "API_USER": USER, "API_PASSWORD": PASSWORD, **self.env}
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True
        )
        log.close()
        session = requests.Session()
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if session.get(self.base_url + "/health", timeout=1.0).status_code == 200:
                    self.startup_seconds = time.perf_counter() - started
                    session.close()
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.02)
        self.stop()
        raise ServerError(f"{self.name} not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def wait_for_processes(self, count: int, timeout: float = 30.0) -> int:
        """Wait (bounded) until the process tree holds ``count`` processes (master + workers).

        ``/health`` answers as soon as one worker is up; memory is only comparable once all are.
        """
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        deadline = time.perf_counter() + timeout
        while True:
            found = 1 + len(root.children(recursive=True))
            if found >= count or time.perf_counter() >= deadline:
                return found
            time.sleep(0.05)

    def memory(self) -> Memory:
        """RSS and PSS summed over the server's process tree (master + workers)."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        rss = pss = count = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except psutil.NoSuchProcess:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            count += 1
        return Memory(rss=rss, pss=pss, processes=count)

    def stop(self, timeout: float = 15.0) -> None:
        """Quick shutdown (SIGINT: gunicorn stops its workers at once), SIGKILL the group if it lingers.

        The graceful SIGTERM path waits for keep-alive connections and only slows the run down.
        """
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the child leads its own process group
            self.proc.wait(timeout=timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# Threads per worker for both servers (the reference's default; only gthread workers use them).
THREADS = 4
# The reference's gunicorn worker class (``movielens-api serve --worker-class``), to compare the
# default (gevent) with gthread in the same run; empty: the server's default.
WORKER_CLASS_ENV = "MOVIELENS_BENCH_WORKER_CLASS"


def reference_server(
    data_dir: Path, log_dir: Path, *, workers: int, max_limit: int | None = None, name: str = "reference"
) -> ServerProcess:
    """The reference server, started through its own CLI exactly as a user would.

    Its columnar cache goes to the work directory (``columnar_cache.cache_dir``), never ``~/.cache``.
    """
    cli = "import sys; from movielens_api.cli import main; sys.exit(main())"
    argv = [sys.executable, "-c", cli, "serve", "--host", "127.0.0.1", "--port", "{port}"]
    argv += ["--data", str(data_dir), "--cache-dir", str(columnar_cache.cache_dir(data_dir))]
    argv += ["--workers", str(workers), "--threads", str(THREADS)]
    if os.environ.get(WORKER_CLASS_ENV):
        argv += ["--worker-class", os.environ[WORKER_CLASS_ENV]]
    if max_limit is not None:
        argv += ["--max-limit", str(max_limit)]
    return ServerProcess(name=name, argv=argv, log_path=log_dir / f"{name}-{data_dir.name}.log")


def baseline_server(data_dir: Path, log_dir: Path, *, workers: int) -> ServerProcess:
    """The seed-approach baseline app under gunicorn, configured like ``movielens-api serve``.

    Same worker class (gthread), workers, threads, keep-alive and preloading as the reference's
    gunicorn setup, so only the app differs.
    """
    argv = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", str(workers)]
    argv += ["--worker-class", "gthread", "--threads", str(THREADS), "--preload", "--keep-alive", "5"]
    argv += ["--chdir", str(REPO_ROOT), "--log-level", "warning", "bench.seed_baseline:create_app()"]
    return ServerProcess(
        name="seed-baseline",
        argv=argv,
        log_path=log_dir / f"seed-baseline-{data_dir.name}.log",
        env={"BENCH_SEED_DATA": str(data_dir)},
    )
