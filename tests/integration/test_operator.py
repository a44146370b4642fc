"""MovielensFetchRatingsOperator against the running server: the day's file, exactly, or nothing at all."""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from airflow_movielens.exceptions import MovielensError
from airflow_movielens.operators import MovielensFetchRatingsOperator

NO_WAIT = {"max_attempts": 2, "backoff_base": 0.0, "sleep": lambda seconds: None}


def fetch(conn_id: str, output_path: Path, day: str, end: str, **kwargs) -> dict:
    operator = MovielensFetchRatingsOperator(
        task_id="fetch_ratings",
        conn_id=conn_id,
        output_path=str(output_path),
        start_date=day,
        end_date=end,
        **kwargs,
    )
    return operator.execute(context={})


@pytest.mark.parametrize("batch_size", [1000, 13])
def test_writes_the_days_ratings_exactly(movielens_conn, direct_api, ratings_calendar, tmp_path, batch_size):
    day = ratings_calendar.busy_day
    end = ratings_calendar.next_day(day)
    path = tmp_path / "ratings" / f"{day}.json"

    result = fetch(movielens_conn, path, day, end, batch_size=batch_size)

    expected = direct_api.single_listing(start_date=day, end_date=end)
    assert json.loads(path.read_bytes()) == expected
    assert result == {
        "path": str(path),
        "count": len(expected),
        "start_date": day,
        "end_date": end,
        "format": "json",
    }
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_writes_json_lines(movielens_conn, direct_api, ratings_calendar, tmp_path):
    day = ratings_calendar.busy_day
    end = ratings_calendar.next_day(day)
    path = tmp_path / f"{day}.jsonl"

    result = fetch(movielens_conn, path, day, end, output_format="jsonl", batch_size=50)

    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == direct_api.single_listing(start_date=day, end_date=end)
    assert result["count"] == len(lines)
    assert result["format"] == "jsonl"


def test_an_empty_day_gives_an_empty_file(movielens_conn, ratings_calendar, tmp_path):
    day = ratings_calendar.empty_day
    path = tmp_path / f"{day}.json"

    result = fetch(movielens_conn, path, day, ratings_calendar.next_day(day))

    assert json.loads(path.read_bytes()) == []
    assert result["count"] == 0


# ------------------------------------------------------------------------------------------------
# A server that fails mid-fetch: the real API behind a loopback proxy that forwards the first
# `healthy_pages` requests for /ratings and answers every later one with a 503.
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class FailingProxy:
    port: int
    healthy_pages: int
    forwarded: int = 0
    refused: int = 0


@pytest.fixture
def failing_proxy(movielens_api, monkeypatch) -> Iterator[FailingProxy]:
    state = FailingProxy(port=0, healthy_pages=2)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                forward = state.forwarded < state.healthy_pages
                if forward:
                    state.forwarded += 1
                else:
                    state.refused += 1
            if forward:
                upstream = http.client.HTTPConnection(movielens_api.host, movielens_api.port, timeout=30)
                upstream.request("GET", self.path, headers={"Authorization": self.headers["Authorization"]})
                response = upstream.getresponse()
                status, body = response.status, response.read()
                upstream.close()
            else:
                status, body = 503, b'{"error": "upstream went away"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxied = dataclasses.replace(movielens_api, port=state.port)
    monkeypatch.setenv("AIRFLOW_CONN_MOVIELENS_FLAKY", proxied.connection_json())
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("output_format", ["json", "jsonl"])
def test_a_failure_mid_fetch_leaves_the_existing_partition_untouched(
    failing_proxy, ratings_calendar, tmp_path, output_format
):
    day = ratings_calendar.busy_day
    path = tmp_path / f"{day}.{output_format}"
    path.write_bytes(b"previous partition\n")

    with pytest.raises(MovielensError, match="503"):
        fetch(
            "movielens_flaky",
            path,
            day,
            ratings_calendar.next_day(day),
            batch_size=10,
            output_format=output_format,
            hook_params=NO_WAIT,
        )

    assert failing_proxy.forwarded == 2, "the fetch must have failed after some pages, not at once"
    assert failing_proxy.refused == NO_WAIT["max_attempts"]
    assert path.read_bytes() == b"previous partition\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], "a temporary file was left behind"


def test_a_failure_mid_fetch_creates_no_file(failing_proxy, ratings_calendar, tmp_path):
    day = ratings_calendar.busy_day
    path = tmp_path / "partitions" / f"{day}.json"

    with pytest.raises(MovielensError):
        fetch(
            "movielens_flaky", path, day, ratings_calendar.next_day(day), batch_size=10, hook_params=NO_WAIT
        )

    assert failing_proxy.forwarded == 2
    assert not path.exists()
    assert not path.parent.exists() or list(path.parent.iterdir()) == [], "a temporary file was left behind"
