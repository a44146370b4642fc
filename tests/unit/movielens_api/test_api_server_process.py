"""``movielens-api serve`` as a real gunicorn process on 127.0.0.1 (bounded, killed in teardown)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
import requests

from movielens_api import sample
from movielens_api.faults import FaultConfig, FaultPlan, parse_kinds

STARTUP_TIMEOUT = 60.0
USER, PASSWORD = "process-user", "process-pass-7f3a"
READY = re.compile(r"^movielens-api ready on (http://127\.0\.0\.1:\d+) ")


class Server:
    """A running ``python -m movielens_api serve --port 0`` and its captured output."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, tmp: Path) -> None:
        self.stderr_path = tmp / f"server-{os.getpid()}-{time.monotonic_ns()}.err"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        environment = {**os.environ, "API_USER": USER, "API_PASSWORD": PASSWORD, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "movielens_api", "serve", "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_ready()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", "replace"))

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = READY.match(line)
            if match:
                return match.group(1)
        self.stop()
        pytest.fail(f"server did not become ready: {self.stderr_path.read_text()[-2000:]}")

    def stop(self) -> str:
        """Stop the server (SIGTERM, then SIGKILL of its process group); return all its output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._stderr.close()
        stdout = []
        while not self.lines.empty():
            stdout.append(self.lines.get_nowait())
        return "".join(stdout) + self.stderr_path.read_text(errors="replace")


@pytest.fixture
def start_server(tmp_path):
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(*args, env=env, tmp=tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def get(url, path, **kwargs):
    return requests.get(url + path, auth=(USER, PASSWORD), timeout=10, **kwargs)


def test_production_server_answers_on_loopback(start_server):
    server = start_server(
        "--ratings",
        "3000",
        "--seed",
        "5",
        "--workers",
        "2",
        "--max-limit",
        "1000",
        "--over-max-limit",
        "clamp",
    )
    health = requests.get(server.url + "/health", timeout=10)
    assert health.json() == {"status": "ok", "ratings": 3000, "movies": health.json()["movies"]}
    assert health.headers["Server"].startswith("gunicorn")  # not a development server

    records, offset = [], 0
    while True:
        page = get(
            server.url, f"/ratings?start_date=2019-03-01&end_date=2019-06-01&offset={offset}&limit=5000"
        )
        body = page.json()
        assert body["limit"] == 1000  # clamped and echoed
        if not body["result"]:
            break
        records += body["result"]
        offset += body["limit"]
    assert len(records) == body["total"] > 0
    keys = [(r["timestamp"], r["userId"], r["movieId"]) for r in records]
    assert keys == sorted(keys)

    denied = requests.get(server.url + "/ratings", auth=(USER, "nope"), timeout=10)
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"] == 'Basic realm="movielens"'
    assert get(server.url, "/ratings?limit=1e3").status_code == 400


def raw_exchange(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_http_is_answered_with_json(start_server):
    server = start_server("--ratings", "100", "--workers", "1")
    for payload, status in [
        (b"GET /ratings?limit=" + b"9" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"BOGUS\r\n\r\n", b"400"),
    ]:
        head, _, body = raw_exchange(server.url, payload).partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == status
        assert b"Content-Type: application/json" in head
        assert "error" in orjson.loads(body)


def test_credentials_never_reach_the_logs(start_server):
    server = start_server("--ratings", "200", "--workers", "1", "--access-log")
    assert get(server.url, "/ratings?limit=2").status_code == 200
    assert requests.get(server.url + "/ratings", auth=(USER, "wrong-guess"), timeout=10).status_code == 401
    log = server.stop()
    assert "GET /ratings?limit=2" in log  # the access log is on ...
    for secret in (USER, PASSWORD, "wrong-guess"):
        assert secret not in log  # ... but shows no user name or password


def test_one_worker_reproduces_the_fault_sequence(start_server):
    faults = [
        "--fault-rate",
        "0.5",
        "--fault-seed",
        "21",
        "--fault-kinds",
        "503,429",
        "--fault-retry-after",
        "4",
    ]
    server = start_server("--ratings", "200", "--workers", "1", *faults)
    responses = [get(server.url, "/ratings?limit=1") for _ in range(30)]
    plan = FaultPlan(FaultConfig(rate=0.5, seed=21, kinds=parse_kinds("503,429")))
    assert [r.status_code for r in responses] == [
        int(k) if k else 200 for k in (plan.next() for _ in range(30))
    ]
    assert {r.headers.get("Retry-After") for r in responses if r.status_code == 429} == {"4"}
    assert get(server.url, "/health").status_code == 200


def test_drop_fault_breaks_the_connection(start_server):
    server = start_server("--ratings", "200", "--workers", "1", "--fault-rate", "1", "--fault-kinds", "drop")
    for _ in range(3):
        with pytest.raises(requests.ConnectionError):
            get(server.url, "/ratings")
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    assert "Traceback" not in server.stop()  # gunicorn shrugs off the closed socket quietly


def test_truncate_fault_cuts_the_body_short(start_server):
    server = start_server(
        "--ratings", "500", "--workers", "1", "--fault-rate", "1", "--fault-kinds", "truncate"
    )
    for _ in range(3):
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
            get(server.url, "/ratings?limit=200")
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = f"GET /ratings?limit=200 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n"
    head, _, body = raw_exchange(server.url, request.encode()).partition(b"\r\n\r\n")  # read until closed
    declared = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert head.startswith(b"HTTP/1.1 200")
    assert 0 < len(body) < declared
    assert body.startswith(b'{"result":[{"userId":')
    assert "Traceback" not in server.stop()


def test_bad_data_stops_start_up_with_exit_code_2(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,2,3.0,soon\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "movielens_api",
            "serve",
            "--port",
            "0",
            "--data",
            str(tmp_path),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{tmp_path / 'ratings.csv'}, line 2: timestamp 'soon'" in done.stderr
    assert "Traceback" not in done.stderr


def test_python_m_generate(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "movielens_api", "generate", "--out", str(tmp_path), "--ratings", "50"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "ratings.csv").read_text().splitlines()) == 51


sample_timestamps = sample.generate(3000, 5).timestamp  # the data of `--ratings 3000 --seed 5`


def count_before(seconds: float) -> int:
    """Sample ratings stamped before ``seconds`` (epoch), counted from the generator itself."""
    return int((sample_timestamps < seconds).sum())


def test_live_mode_from_the_environment_in_every_worker(start_server):
    cutoff = dt.datetime(2019, 3, 1, tzinfo=dt.timezone.utc).timestamp()
    env = {"MOVIELENS_LIVE_START": "2019-03-01T00:00:00Z", "MOVIELENS_LIVE_SPEED": "0"}
    server = start_server("--ratings", "3000", "--seed", "5", "--workers", "2", env=env)
    visible = count_before(cutoff)
    assert 0 < visible < 3000
    for _ in range(8):  # new connections, spread over both workers
        health = requests.get(server.url + "/health", timeout=10).json()
        assert health["ratings"] == visible
        assert health["live"]["cutoff"] == "2019-03-01T00:00:00Z"
        page = get(server.url, "/ratings?start_date=2019-02-01&limit=10000").json()
        assert page["result"]
        assert max(r["timestamp"] for r in page["result"]) < cutoff
    assert get(server.url, "/ratings?limit=1").json()["total"] == visible
    past = get(server.url, f"/ratings?offset={visible}").json()
    assert (past["result"], past["total"]) == ([], visible)


def test_live_cutoff_advances_with_real_time(start_server):
    start = dt.datetime(2019, 1, 2, 23, 59, 30, tzinfo=dt.timezone.utc).timestamp()
    day_start, day_end = start + 30, start + 30 + 86_400  # 2019-01-03
    speed = 600.0

    def in_day(cutoff: float) -> int:
        return count_before(max(day_start, min(day_end, cutoff))) - count_before(day_start)

    spawned = time.monotonic()
    server = start_server(
        "--ratings", "3000", "--seed", "5", "--workers", "2",
        "--live-start", "2019-01-02T23:59:30Z", "--live-speed", str(speed),
    )  # fmt: skip
    ready = time.monotonic()  # virtual time was anchored at --live-start before the ready line
    previous = start
    for _ in range(10):
        before = time.monotonic()
        health = requests.get(server.url + "/health", timeout=10).json()
        window = get(server.url, "/ratings?start_date=2019-01-03&end_date=2019-01-04").json()
        latest = start + (time.monotonic() - spawned) * speed  # no cut-off so far can be later
        cutoff = health["live"]["cutoff_timestamp"]
        assert start + (before - ready) * speed <= cutoff <= latest
        assert cutoff >= previous  # never backwards, whichever worker answered
        previous = cutoff
        assert health["ratings"] == count_before(cutoff)
        # The window's request came after the health request and before `latest`.
        assert in_day(cutoff) <= window["total"] <= in_day(latest)
