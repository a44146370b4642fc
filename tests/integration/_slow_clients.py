"""Slow (slowloris) connections and timed normal requests on loopback, for the hardening tests.

Everything is asyncio in one thread: ``hold_slow_connections`` keeps ``n`` connections of four
kinds open against a server (reconnecting each one as soon as the server closes it, so the count
stays up) while normal clients time ``/health`` and ``/ratings`` requests. Every wait is bounded:
a slow connection the server does not close is given up at ``give_up_after`` and reported as such.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

KINDS = ("idle", "partial_line", "trickled_headers", "trickled_body")


@dataclass
class Outcome:
    """What the slow connections and the normal clients saw."""

    # kind -> seconds from connect to the server closing the connection, one per closed connection
    closed_after: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    not_closed: int = 0  # connections the server had not closed by give_up_after
    connect_failures: int = 0
    open_samples: list[int] = field(default_factory=list)  # slow connections open, sampled
    latencies: list[float] = field(default_factory=list)  # normal requests that succeeded
    failures: list[str] = field(default_factory=list)  # normal requests that did not


class _Open:
    count = 0


async def _closed_by_server(reader: asyncio.StreamReader, deadline: float) -> bool:
    """Read (and discard) until EOF or reset; ``False`` if ``deadline`` passes first."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            data = await asyncio.wait_for(reader.read(65536), left)
        except (ConnectionError, OSError):
            return True
        except asyncio.TimeoutError:
            return False
        if not data:
            return True


async def _trickle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, interval: float, deadline: float
) -> bool:
    """Send one byte per ``interval`` until the server closes the connection (or ``deadline``)."""
    closed = asyncio.ensure_future(_closed_by_server(reader, deadline))
    try:
        while not closed.done():
            try:
                writer.write(b"a")
                await writer.drain()
            except (ConnectionError, OSError):
                break
            await asyncio.wait({closed}, timeout=interval)
        return await closed
    finally:
        closed.cancel()


async def _slow_connection(
    kind: str, host: str, port: int, interval: float, give_up_after: float, outcome: Outcome
) -> None:
    started = time.monotonic()
    deadline = started + give_up_after
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), give_up_after)
    except (OSError, asyncio.TimeoutError):
        outcome.connect_failures += 1
        return
    _Open.count += 1
    try:
        if kind == "partial_line":
            writer.write(b"GET /ratings?limit=1")
        elif kind == "trickled_headers":
            writer.write(b"GET /health HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        elif kind == "trickled_body":
            # A complete request head announcing a body that then arrives one byte at a time.
            writer.write(b"POST /ratings HTTP/1.1\r\nHost: slow\r\nContent-Length: 1000000\r\n\r\n")
        if kind in ("trickled_headers", "trickled_body"):
            closed = await _trickle(reader, writer, interval, deadline)
        else:
            await writer.drain()
            closed = await _closed_by_server(reader, deadline)
        if closed:
            outcome.closed_after[kind].append(time.monotonic() - started)
        else:
            outcome.not_closed += 1
    finally:
        _Open.count -= 1
        writer.close()


async def _slow_client(
    kind: str, host: str, port: int, until: float, interval: float, give_up_after: float, outcome: Outcome
) -> None:
    """One slow connection after another until ``until`` (a slowloris reconnects when dropped)."""
    while time.monotonic() < until:
        await _slow_connection(kind, host, port, interval, give_up_after, outcome)


async def _request(host: str, port: int, target: str, auth: str, timeout: float) -> tuple[int, bytes]:
    """One ``GET`` on a fresh connection (``Connection: close``), read to the end."""

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            raw = await reader.read(-1)
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body

    return await asyncio.wait_for(go(), timeout)


async def _normal_client(
    host: str, port: int, auth: str, until: float, bound: float, seed: int, outcome: Outcome
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        target = "/health" if rng.random() < 0.5 else f"/ratings?offset={rng.randrange(10_000)}&limit=100"
        started = time.monotonic()
        try:
            status, body = await _request(host, port, target, auth, bound)
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as exc:
            outcome.failures.append(f"{target}: {type(exc).__name__} {exc}")
            continue
        elapsed = time.monotonic() - started
        if status != 200 or not body.startswith(b"{"):
            outcome.failures.append(f"{target}: status {status} {body[:80]!r}")
        else:
            outcome.latencies.append(elapsed)
        await asyncio.sleep(0.02)  # a paced client, not a flood: the point is availability


async def _sample_open(until: float, outcome: Outcome) -> None:
    while time.monotonic() < until:
        await asyncio.sleep(0.25)
        outcome.open_samples.append(_Open.count)


async def _hold(
    host: str,
    port: int,
    *,
    n: int,
    seconds: float,
    user: str,
    password: str,
    interval: float,
    give_up_after: float,
    normal_clients: int,
    bound: float,
) -> Outcome:
    outcome = Outcome()
    _Open.count = 0
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    start = time.monotonic()
    until = start + seconds
    slow = [
        _slow_client(KINDS[i % len(KINDS)], host, port, until, interval, give_up_after, outcome)
        for i in range(n)
    ]
    tasks = [asyncio.ensure_future(c) for c in slow]
    # The normal clients start once the slow connections are in place.
    while _Open.count < n and time.monotonic() < start + 10:
        await asyncio.sleep(0.05)
    tasks += [
        asyncio.ensure_future(_normal_client(host, port, auth, until, bound, seed, outcome))
        for seed in range(normal_clients)
    ]
    tasks.append(asyncio.ensure_future(_sample_open(until, outcome)))
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + give_up_after + 30)
    return outcome


def hold_slow_connections(host: str, port: int, **options: object) -> Outcome:
    """Run :func:`_hold` in a fresh event loop (see its keyword arguments)."""
    return asyncio.run(_hold(host, port, **options))  # type: ignore[arg-type]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# --------------------------------------------------------------------------------------------
# A server process of our own (these tests need to choose its options and signal its workers)
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``movielens-api serve`` on 127.0.0.1 in its own process group, logging to a file."""

    def __init__(self, log_path: Path, *args: str, user: str, password: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        script = Path(sys.executable).with_name("movielens-api")
        cmd = [str(script)] if script.exists() else [sys.executable, "-m", "movielens_api"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIELENS_")}
        env.update({"API_USER": user, "API_PASSWORD": password})
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*cmd, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll ``check`` every 50 ms until it holds; the seconds it took (fails at ``timeout``)."""
        started = time.monotonic()
        while not check():
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{what}: not within {timeout:g}s\n{self.log_tail()}")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
