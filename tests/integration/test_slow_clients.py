"""Slow clients and killed workers cannot take the reference server offline or cost a client data.

These tests start their own ``movielens-api serve`` process on loopback (whatever the integration
mode), because they choose its options and signal its workers. Every wait is polled against a
deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from _slow_clients import KINDS, Server, hold_slow_connections, percentile

from airflow_movielens.hooks import MovielensHook

psutil = pytest.importorskip("psutil")

USER, PASSWORD = "slow-" + os.urandom(3).hex(), "pw-" + os.urandom(6).hex()
READ_TIMEOUT = 2  # --read-timeout: short, so that the test is too
SLOW_CONNECTIONS = 240  # 60 of each kind
HOLD_SECONDS = 12.0
NORMAL_CLIENTS = 4
LATENCY_BOUND = 2.0  # seconds: every normal request must be answered within this
CLOSE_SLACK = 1.5  # seconds past the read timeout the server may take to close a slow connection
RECOVERY_BOUND = 10.0


@pytest.fixture
def server(tmp_path):
    started = []

    def start(*args: str) -> Server:
        srv = Server(tmp_path / f"server-{len(started)}.log", *args, user=USER, password=PASSWORD)
        started.append(srv)
        srv.wait_until(srv.healthy, 120, "the server answering /health")
        return srv

    yield start
    for srv in started:
        srv.stop()


def test_hundreds_of_slow_connections_neither_block_normal_clients_nor_stay_open(server):
    srv = server("--ratings", "20000", "--workers", "2", "--read-timeout", str(READ_TIMEOUT))
    outcome = hold_slow_connections(
        "127.0.0.1",
        srv.port,
        n=SLOW_CONNECTIONS,
        seconds=HOLD_SECONDS,
        user=USER,
        password=PASSWORD,
        interval=0.2,
        give_up_after=READ_TIMEOUT + CLOSE_SLACK + 5,
        normal_clients=NORMAL_CLIENTS,
        bound=LATENCY_BOUND,
    )
    closed = {kind: sorted(times) for kind, times in outcome.closed_after.items()}
    p99 = percentile(outcome.latencies, 99) if outcome.latencies else float("nan")
    slowest_close = max(t for times in closed.values() for t in times)
    held = sorted(outcome.open_samples)
    print(
        f"\nslow connections held: median {held[len(held) // 2]}, min {held[0]} of {SLOW_CONNECTIONS}; "
        f"normal requests: {len(outcome.latencies)} ok, {len(outcome.failures)} failed, "
        f"p50 {percentile(outcome.latencies, 50) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(outcome.latencies) * 1000:.1f} ms; slow connections closed after (max per kind) "
        + ", ".join(f"{k} {max(v):.2f}s" for k, v in closed.items())
    )

    assert outcome.failures == [], outcome.failures[:5]
    assert len(outcome.latencies) >= 50  # the normal clients kept being served the whole time
    assert max(outcome.latencies) <= LATENCY_BOUND
    assert outcome.connect_failures == 0
    assert held[len(held) // 2] >= 200, held  # the slow connections really were held open
    # Every slow connection was closed by the server within its read timeout (plus slack), and
    # not before it: a slow client is cut off by the bound, not by luck.
    assert outcome.not_closed == 0
    assert all(closed[kind] for kind in KINDS), {k: len(v) for k, v in closed.items()}
    assert slowest_close <= READ_TIMEOUT + CLOSE_SLACK, closed
    assert min(t for times in closed.values() for t in times) >= READ_TIMEOUT * 0.9, closed


def _workers(srv: Server) -> list[psutil.Process]:
    return psutil.Process(srv.proc.pid).children()


def _serving_worker(srv: Server, client_port: int) -> psutil.Process:
    """The worker holding the connection whose client side is ``client_port``."""
    for worker in _workers(srv):
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port and conn.laddr.port == srv.port:
                return worker
    raise AssertionError(f"no worker holds the connection from port {client_port}")


_LOAD = """
import sys, time, requests
url, user, password, until = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
s = requests.Session()
while time.time() < until:
    try:
        s.get(url + "/ratings?limit=1000&offset=5000", auth=(user, password), timeout=5)
    except requests.RequestException:
        s = requests.Session()
"""


def _watch_recovery(srv: Server, victim: int, killed_at: float, result: dict[str, float]) -> None:
    """Record when the master has replaced ``victim`` and when ``/health`` answers again."""
    deadline = killed_at + RECOVERY_BOUND
    while time.monotonic() < deadline and "replaced" not in result:
        pids = {w.pid for w in _workers(srv)}
        if victim not in pids and len(pids) == 2:
            result["replaced"] = time.monotonic() - killed_at
        time.sleep(0.02)
    while time.monotonic() < deadline and "serving" not in result:
        if srv.healthy():
            result["serving"] = time.monotonic() - killed_at
        time.sleep(0.02)


def test_a_killed_worker_costs_a_fetching_hook_no_data_and_the_server_recovers(server, monkeypatch):
    srv = server("--ratings", "200000", "--workers", "2")
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOVIELENS_KILL",
        f'{{"conn_type": "movielens", "host": "127.0.0.1", "port": {srv.port}, "schema": "http", '
        f'"login": "{USER}", "password": "{PASSWORD}"}}',
    )
    window = ("2019-01-01", "2019-07-01")
    with MovielensHook("movielens_kill", backoff_base=0.2, max_attempts=8) as hook:
        expected = list(hook.get_ratings(*window, batch_size=1000))
    assert len(expected) > 50_000

    # Load from other processes, so that the only connection of this process is the hook's.
    until = time.time() + 60
    load = [
        subprocess.Popen([sys.executable, "-c", _LOAD, srv.url, USER, PASSWORD, str(until)]) for _ in range(2)
    ]
    recovery: dict[str, float] = {}
    watcher = None
    try:
        fetched: list[dict[str, object]] = []
        victim = None
        with MovielensHook("movielens_kill", backoff_base=0.2, max_attempts=8) as hook:
            for page in hook.iter_ratings_pages(*window, batch_size=1000):
                fetched += page.records
                if victim is None and len(fetched) >= 10_000:
                    ports = [
                        c.laddr.port
                        for c in psutil.Process().net_connections(kind="tcp")
                        if c.raddr and c.raddr.port == srv.port and c.status == psutil.CONN_ESTABLISHED
                    ]
                    assert len(ports) == 1, ports  # the hook's keep-alive connection
                    victim = _serving_worker(srv, ports[0]).pid
                    os.kill(victim, signal.SIGKILL)  # the worker answering this very fetch
                    killed_at = time.monotonic()
                    watcher = threading.Thread(
                        target=_watch_recovery, args=(srv, victim, killed_at, recovery)
                    )
                    watcher.start()
        assert victim is not None
        assert watcher is not None
        fetch_done = time.monotonic() - killed_at
        watcher.join(RECOVERY_BOUND + 5)
    finally:
        for proc in load:
            proc.kill()
            proc.wait(timeout=10)

    print(
        f"\nworker {victim} killed (SIGKILL) after 10,000 of {len(expected)} records: replaced after "
        f"{recovery.get('replaced', float('nan')):.2f}s, /health answered after "
        f"{recovery.get('serving', float('nan')):.2f}s; the hook finished {fetch_done:.2f}s after the kill"
    )
    assert fetched == expected  # no record lost or repeated
    assert "replaced" in recovery, srv.log_tail()
    assert "serving" in recovery, srv.log_tail()
    assert recovery["replaced"] <= RECOVERY_BOUND
