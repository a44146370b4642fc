"""Local service processes of the deployment tier: started in their own session, stopped as a group.

Every service (PostgreSQL, Redis, the S3 API, the reference servers, each Airflow component) is a
:class:`Service`: one ``subprocess.Popen`` in a new session, so the process and everything it forks
(Celery's pool, the task supervisor and task processes) share one process group that
:meth:`Service.stop` ends with SIGTERM and, after a grace period, SIGKILL. Output goes to a log file
in the tier's temporary directory, whose last lines are quoted when a service dies or a wait times out.

Every wait has a deadline (:func:`wait_until`); nothing here sleeps for time to pass, it polls a
condition at a short interval until the deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: How often waits poll their condition.
POLL_S = 0.25
#: SIGTERM to SIGKILL.
STOP_GRACE_S = 15.0


class DeploymentError(RuntimeError):
    """A service did not start, died, or a wait ran past its deadline."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file (empty if it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    alive: Sequence[Service] = (),
) -> T:
    """Poll ``condition`` until it returns a truthy value (returned) or ``timeout`` seconds pass.

    ``alive``: services that must keep running meanwhile; one that exits fails the wait at once,
    quoting its log, instead of letting the wait run into its deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        for service in alive:
            service.check_running()
        if time.monotonic() >= deadline:
            raise DeploymentError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_S)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def stop_all(services: Sequence[Service], grace: float = STOP_GRACE_S) -> None:
    """Stop every service at once: SIGTERM to each process group, SIGKILL to what is left after ``grace``."""
    for service in services:
        service.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(s.running() or s.group_pids() for s in services):
        time.sleep(POLL_S)
    for service in services:
        with contextlib.suppress(DeploymentError):
            service.kill()


class Service:
    """One service process and its log; started in a new session so it can be stopped as a group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_dir: Path,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self.started_at = time.time()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
            )
        self.pid = self.process.pid

    def __repr__(self) -> str:
        return f"<Service {self.name} pid={self.pid}>"

    def running(self) -> bool:
        return self.process.poll() is None

    def check_running(self) -> None:
        """Raise, quoting the log, if the process has exited."""
        code = self.process.poll()
        if code is not None:
            raise DeploymentError(
                f"{self.name} exited with {code}; last lines of {self.log_path}:\n{tail(self.log_path)}"
            )

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def group_pids(self) -> list[int]:
        """The live processes of this service's process group (the process and all it forked).

        Zombies (dead, not yet reaped by whoever inherited them) do not count: they run nothing.
        """
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z" and int(fields[2]) == self.pid:
                    pids.append(int(entry.name))
        return pids

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (nothing if it is gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole process group at once (the machine the service ran on is gone); returns
        once none of its processes runs any more."""
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_S)
        wait_until(
            lambda: not self.group_pids(), timeout=STOP_GRACE_S, what=f"the processes of {self.name} to die"
        )

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM the process group, then SIGKILL whatever of it is left after ``grace`` seconds."""
        stop_all([self], grace)
