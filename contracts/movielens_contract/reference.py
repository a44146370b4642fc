"""Run the suite against the reference server, or against a given URL.

``python -m movielens_contract.reference [URL] [runner options]``

Without a URL it checks the runner options first (bad ones exit 2 at once, before anything
starts), then starts ``movielens-api serve`` on 127.0.0.1 on a free port with the generated sample
data and one-off credentials, waits for ``/health``, runs the suite, prints the report and stops
the server. With a URL it only runs the suite (``tox -e contract -- URL ...``). The exit
status is the runner's: 0, 1, or 2 when the suite (or the reference server) cannot run.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import requests

from . import cli

STARTUP_TIMEOUT = float(os.environ.get("MOVIELENS_CONTRACT_STARTUP_TIMEOUT", "180"))
POLL_INTERVAL = 0.2
# Stands in for the reference server's URL while the options are checked: its port is not known yet.
_PLACEHOLDER_URL = "http://127.0.0.1:1"


class CannotStart(Exception):
    """The reference server did not come up; the message says why in one line."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(port: int) -> list[str]:
    """How to start ``movielens-api serve``: the console script next to this Python, else the module."""
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    script = Path(sys.executable).with_name("movielens-api")
    if script.exists():
        return [str(script), *args]
    found = shutil.which("movielens-api")
    if found:
        return [found, *args]
    return [sys.executable, "-c", "import sys; from movielens_api.cli import main; sys.exit(main())", *args]


class ReferenceServer:
    """``movielens-api serve`` as a child process on loopback."""

    def __init__(self, *, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        if importlib.util.find_spec("movielens_api") is None:
            raise CannotStart(
                "the reference server is not installed (pip install movielens-api; from a checkout ./server)"
            )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.user = "contract"
        self.password = secrets.token_urlsafe(12)
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        env = {**os.environ, "API_USER": self.user, "API_PASSWORD": self.password}
        self.process = subprocess.Popen(
            server_command(self.port),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            self._wait(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _last_output(self) -> str:
        self._log.seek(0)
        lines = [
            line.strip() for line in self._log.read().decode("utf-8", "replace").splitlines() if line.strip()
        ]
        return lines[-1] if lines else "no output"

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with requests.Session() as session:
            session.trust_env = False
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise CannotStart(
                        f"the reference server exited with status {self.process.returncode}: "
                        f"{self._last_output()}"
                    )
                try:
                    if session.get(f"{self.url}/health", timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass
                time.sleep(POLL_INTERVAL)
        raise CannotStart(
            f"the reference server did not answer /health within {timeout:g}s: {self._last_output()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=15)
        self._log.close()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)  # the server and its workers: its own process group
        except (ProcessLookupError, PermissionError, AttributeError):
            self.process.send_signal(sig)


def options_problem(args: Sequence[str]) -> str | None:
    """Why the runner would reject ``args`` (the options after the URL), or ``None``.

    The same parser and checks as :func:`cli.run`, so that bad options fail in a moment instead of
    after the reference server has started.
    """
    try:
        cli.check(cli.build_parser().parse_args([_PLACEHOLDER_URL, *args]))
    except cli.CannotRun as exc:
        return str(exc)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        return cli.main(args)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return 0
    reason = options_problem(args)
    if reason:
        print(f"{cli.PROG}: error: {reason}", file=sys.stderr)
        return 2
    print(f"{cli.PROG}: starting the reference server (movielens-api serve) on 127.0.0.1", flush=True)
    try:
        server = ReferenceServer()
    except CannotStart as exc:
        print(f"{cli.PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        # "--opt=value": a generated password may start with "-", which argparse would read as an option.
        return cli.main([server.url, f"--user={server.user}", f"--password={server.password}", *args])
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
