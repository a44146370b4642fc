"""The ``movielens-api`` command line, in-process (the server itself is replaced by a recorder)."""

from __future__ import annotations

import datetime as dt
import logging
import socket

import orjson
import pytest
from werkzeug.test import Client

from movielens_api import cli, live, sample, server
from movielens_api.faults import FaultMiddleware


@pytest.fixture
def served(monkeypatch):
    """Record what ``serve`` would have been started with, instead of starting gunicorn."""
    calls = []

    def fake_serve(app, **options):
        calls.append((app, options))
        options["on_ready"]("http://127.0.0.1:5999")

    monkeypatch.setattr(server, "serve", fake_serve)
    for name in (
        "API_USER",
        "API_PASSWORD",
        "MOVIELENS_OVER_MAX_LIMIT",
        "MOVIELENS_LIVE_START",
        "MOVIELENS_LIVE_SPEED",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("RATE", "SEED", "KINDS", "RETRY_AFTER", "SLOW_SECONDS", "MAX_STREAK"):
        monkeypatch.delenv(f"MOVIELENS_FAULT_{name}", raising=False)
    return calls


def test_generate_writes_the_sample(tmp_path, capsys):
    assert cli.main(["generate", "--out", str(tmp_path / "a"), "--ratings", "1500", "--seed", "4"]) == 0
    sample.write_csv(sample.generate(1500, 4), tmp_path / "b")
    for name in ("ratings.csv", "movies.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert "wrote 1500 ratings" in capsys.readouterr().out


def test_generate_into_an_unwritable_place_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["generate", "--out", str(blocker / "sub"), "--ratings", "10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("movielens-api: error: cannot write to")
    assert "Traceback" not in err


def test_serve_defaults(served, capsys):
    assert cli.main(["serve", "--ratings", "500", "--seed", "2"]) == 0
    ((app, options),) = served
    assert options == {
        "host": "127.0.0.1",
        "port": 5000,
        "workers": 2,
        "threads": 4,
        "timeout": 31,
        "worker_class": "gevent",
        "read_timeout": 5,
        "max_connections": 1000,
        "access_log": False,
        "on_ready": options["on_ready"],
    }
    movies = len(sample.generate(500, 2).movie_ids)
    # Exactly one ready line on stdout. (Other lines may be there when a logging handler on stdout
    # was installed earlier in the process, as Airflow 2.11's logging config does once imported.)
    ready = [line for line in capsys.readouterr().out.splitlines() if "ready on" in line]
    assert ready == [f"movielens-api ready on http://127.0.0.1:5999 (500 ratings, {movies} movies)"]
    health = orjson.loads(Client(app).get("/health").data)
    assert health["ratings"] == 500
    # default credentials airflow/airflow
    assert (
        Client(app).get("/ratings", headers={"Authorization": "Basic YWlyZmxvdzphaXJmbG93"}).status_code
        == 200
    )


def test_serve_options_credentials_and_faults(served, monkeypatch, tmp_path):
    monkeypatch.setenv("API_USER", "u")
    monkeypatch.setenv("API_PASSWORD", "p")
    monkeypatch.setenv("MOVIELENS_FAULT_KINDS", "503")
    sample.write_csv(sample.generate(300, 1), tmp_path / "data")
    argv = ["serve", "--host", "::1", "--port", "0", "--data", str(tmp_path / "data"), "--cache-dir",
            str(tmp_path / "cache"), "--workers", "3", "--threads", "8", "--max-limit", "5",
            "--fault-rate", "1", "--fault-slow-seconds", "45", "--access-log", "--worker-class", "gthread",
            "--read-timeout", "9", "--max-connections", "300"]  # fmt: skip
    assert cli.main(argv) == 0
    ((app, options),) = served
    assert (options["host"], options["port"], options["workers"], options["threads"]) == ("::1", 0, 3, 8)
    assert options["timeout"] == 75  # longer than a slow fault
    assert options["access_log"] is True
    assert (options["worker_class"], options["read_timeout"], options["max_connections"]) == (
        "gthread",
        9,
        300,
    )
    assert isinstance(app.wsgi_app, FaultMiddleware)
    client = Client(app)
    assert client.get("/ratings", headers={"Authorization": "Basic dTpw"}).status_code == 503
    assert client.get("/health").status_code == 200
    assert list((tmp_path / "cache").iterdir())  # the columnar cache was written


@pytest.mark.parametrize(
    ("argv", "env", "status"),
    [
        ([], None, 400),  # reject by default: a client paging by the limit it asked for fails loudly
        (["--over-max-limit", "clamp"], None, 200),
        ([], "clamp", 200),
        ([], " CLAMP ", 200),
        ([], "reject", 400),
        (["--over-max-limit", "reject"], "clamp", 400),  # the option wins over the environment
    ],
)
def test_over_max_limit_mode(served, monkeypatch, argv, env, status):
    if env is not None:
        monkeypatch.setenv("MOVIELENS_OVER_MAX_LIMIT", env)
    assert cli.main(["serve", "--ratings", "50", "--max-limit", "5", *argv]) == 0
    ((app, _),) = served
    response = Client(app).get("/ratings?limit=6", headers={"Authorization": "Basic YWlyZmxvdzphaXJmbG93"})
    assert response.status_code == status
    page = orjson.loads(response.data)
    assert page["max_limit" if status == 400 else "limit"] == 5


@pytest.mark.parametrize(("budget", "rendered"), [(None, 400), ("0", 0)])
def test_json_cache_budget(served, tmp_path, caplog, budget, rendered):
    caplog.set_level(logging.INFO, logger="movielens_api")
    sample.write_csv(sample.generate(400, 1), tmp_path / "data")
    argv = ["serve", "--data", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]
    assert cli.main(argv + (["--json-cache-mb", budget] if budget else [])) == 0
    assert f"loaded 400 ratings (the newest {rendered} pre-rendered as JSON)" in caplog.text
    ((app, _),) = served
    client = Client(app)
    auth = {"Authorization": "Basic YWlyZmxvdzphaXJmbG93"}
    assert len(orjson.loads(client.get("/ratings?limit=1000", headers=auth).data)["result"]) == 400


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--json-cache-mb", "-1"], "--json-cache-mb"),
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--port", "http"], "--port"),
        (["serve", "--workers", "0"], "--workers"),
        (["serve", "--threads", "-1"], "--threads"),
        (["serve", "--max-limit", "0"], "--max-limit"),
        (["serve", "--ratings", "-5"], "--ratings"),
        (["serve", "--fault-rate", "2"], "--fault-rate"),
        (["serve", "--fault-rate", "nan"], "--fault-rate"),
        (["serve", "--fault-kinds", "teapot"], "--fault-kinds"),
        (["serve", "--fault-max-streak", "0"], "--fault-max-streak"),
        (["serve", "--cache-dir", "x", "--no-cache"], "--no-cache"),
        (["serve", "--data", "x", "--ratings", "5"], "--data"),
        (["serve", "--bogus"], "--bogus"),
        (["serve", "--over-max-limit", "truncate"], "--over-max-limit"),
        (
            ["serve", "--live-start", "2019-01-02T23:59:30"],
            "argument --live-start: '2019-01-02T23:59:30' has no time zone",
        ),
        (["serve", "--live-start", "soon"], "argument --live-start: 'soon' is not an ISO 8601"),
        (
            ["serve", "--live-start", "2019-01-02T00:00Z", "--live-speed", "-1"],
            "argument --live-speed: -1 is not",
        ),
        (["serve", "--live-start", "2019-01-02T00:00Z", "--live-speed", "nan"], "argument --live-speed"),
        (["serve", "--live-speed", "2"], "--live-speed needs --live-start"),
        (["serve", "--worker-class", "sync"], "--worker-class"),
        (["serve", "--read-timeout", "0"], "--read-timeout"),
        (["serve", "--max-connections", "0"], "--max-connections"),
        (["generate"], "--out"),
        (["launch"], "launch"),
        ([], "required: {serve,generate}"),
    ],
)
def test_bad_options_exit_2_without_traceback(served, capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert served == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOVIELENS_FAULT_RATE": "often"}, "MOVIELENS_FAULT_RATE"),
        ({"API_PASSWORD": ""}, "API_PASSWORD"),
        ({"API_USER": ""}, "API_USER"),
        ({"MOVIELENS_OVER_MAX_LIMIT": "truncate"}, "MOVIELENS_OVER_MAX_LIMIT"),
        ({"MOVIELENS_LIVE_START": "2019-01-02"}, "MOVIELENS_LIVE_START: '2019-01-02' has no time zone"),
        (
            {"MOVIELENS_LIVE_START": "2019-01-02T00:00Z", "MOVIELENS_LIVE_SPEED": "fast"},
            "MOVIELENS_LIVE_SPEED",
        ),
        ({"MOVIELENS_LIVE_SPEED": "2"}, "MOVIELENS_LIVE_SPEED is set but live mode is off"),
    ],
)
def test_bad_environment_exits_2(served, monkeypatch, capsys, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", "--ratings", "10"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert served == []


def test_bad_data_exits_2_naming_file_and_line(served, tmp_path, capsys):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,2,3.0,4\n1,2,9.0,4\n")
    assert cli.main(["serve", "--data", str(tmp_path), "--no-cache"]) == 2
    assert capsys.readouterr().err == (
        f"movielens-api: error: {tmp_path / 'ratings.csv'}, line 3: "
        "rating '9.0' is not a multiple of 0.5 between 0.5 and 5.0\n"
    )
    assert cli.main(["serve", "--data", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert served == []


def test_gunicorn_protocol_errors_are_json():
    left, right = socket.socketpair()
    with left, right:
        server._write_json_error(left, 414, "URI Too Long", "Request Line is too large (9000 > 8190)")
        raw = right.recv(65536)
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert b"Content-Type: application/json" in head
    assert orjson.loads(payload) == {"error": "URI Too Long: Request Line is too large (9000 > 8190)"}


@pytest.mark.parametrize(("host", "url"), [("127.0.0.1", "http://127.0.0.1:80"), ("::1", "http://[::1]:80")])
def test_url_for(host, url):
    assert server.url_for(host, 80) == url


AIRFLOW_AUTH = {"Authorization": "Basic YWlyZmxvdzphaXJmbG93"}


def sample_count_before(n: int, seed: int, moment: str) -> int:
    """Generated ratings stamped before ``moment`` (ISO, UTC), counted from the generator itself."""
    bound = dt.datetime.fromisoformat(moment).timestamp()
    return int((sample.generate(n, seed).timestamp < bound).sum())


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--live-start", "2019-03-01T00:00:00Z", "--live-speed", "0"], {}),
        ([], {"MOVIELENS_LIVE_START": " 2019-03-01T09:00:00+09:00 ", "MOVIELENS_LIVE_SPEED": "0"}),
        # the options win over the environment, each on its own
        (
            ["--live-start", "2019-03-01T00:00:00Z"],
            {"MOVIELENS_LIVE_START": "2019-06-01T00:00Z", "MOVIELENS_LIVE_SPEED": "0"},
        ),
        (["--live-speed", "0"], {"MOVIELENS_LIVE_START": "2019-03-01T00:00Z", "MOVIELENS_LIVE_SPEED": "5"}),
    ],
)
def test_live_mode_from_options_or_environment(served, monkeypatch, caplog, argv, env):
    caplog.set_level(logging.INFO, logger="movielens_api")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", "--ratings", "500", "--seed", "2", *argv]) == 0
    ((app, _),) = served
    client = Client(app)
    health = orjson.loads(client.get("/health").data)
    visible = sample_count_before(500, 2, "2019-03-01T00:00:00+00:00")
    assert 0 < visible < 500
    assert health["ratings"] == visible
    assert health["live"] == {
        "start": "2019-03-01T00:00:00Z",
        "speed": 0.0,
        "cutoff": "2019-03-01T00:00:00Z",
        "cutoff_timestamp": dt.datetime(2019, 3, 1, tzinfo=dt.timezone.utc).timestamp(),
    }
    page = orjson.loads(client.get("/ratings?limit=1000", headers=AIRFLOW_AUTH).data)
    assert page["total"] == len(page["result"]) == visible
    assert "live mode: only ratings before the virtual now are served; virtual time starts at " in caplog.text


def test_an_empty_live_start_variable_leaves_live_mode_off(served, monkeypatch):
    monkeypatch.setenv("MOVIELENS_LIVE_START", "")
    monkeypatch.setenv("MOVIELENS_LIVE_SPEED", " ")
    assert cli.main(["serve", "--ratings", "50"]) == 0
    ((app, _),) = served
    health = orjson.loads(Client(app).get("/health").data)
    assert (sorted(health), health["ratings"]) == (["movies", "ratings", "status"], 50)


def test_virtual_time_starts_when_the_server_is_ready(served, monkeypatch):
    """Loading data and binding take real time; the ready hook re-anchors the clock (in gunicorn's
    master, before the workers fork), so the virtual now is --live-start when serving begins."""
    now = [0.0]
    monkeypatch.setattr(live, "monotonic", lambda: now[0])

    def slow_start(app, **options):
        served.append((app, options))
        now[0] = 100.0  # data loaded and socket bound 100 s after the app was built
        options["on_ready"]("http://127.0.0.1:5999")
        now[0] = 110.0

    monkeypatch.setattr(server, "serve", slow_start)
    assert (
        cli.main(["serve", "--ratings", "50", "--live-start", "2019-03-01T00:00Z", "--live-speed", "2"]) == 0
    )
    ((app, _),) = served
    health = orjson.loads(Client(app).get("/health").data)
    assert health["live"]["cutoff"] == "2019-03-01T00:00:20Z"
