"""Fault injection: reproducible decisions, each kind's effect, configuration parsing."""

from __future__ import annotations

import itertools
import socket

import orjson
import pytest
from _api_fixtures import AUTH

from movielens_api.faults import KINDS, FaultConfig, FaultPlan, parse_kinds


def decisions(config, n):
    plan = FaultPlan(config)
    return [plan.next() for _ in range(n)]


# --- decisions -----------------------------------------------------------------------------


def test_same_seed_same_faults():
    config = FaultConfig(rate=0.3, seed=11)
    assert decisions(config, 500) == decisions(config, 500)
    assert decisions(config, 500) != decisions(FaultConfig(rate=0.3, seed=12), 500)


def test_off_by_default_and_always_at_rate_one():
    assert set(decisions(FaultConfig(), 300)) == {None}
    assert None not in decisions(FaultConfig(rate=1.0), 300)


def test_rate_and_kind_mix():
    sequence = decisions(FaultConfig(rate=0.25, seed=3), 20_000)
    faults = [kind for kind in sequence if kind is not None]
    assert 0.23 < len(faults) / len(sequence) < 0.27
    counts = {kind: faults.count(kind) for kind in KINDS}
    assert min(counts.values()) > 0.8 * len(faults) / len(KINDS)  # equal weights by default


def test_weights_and_subsets_of_kinds():
    config = FaultConfig(rate=1.0, seed=5, kinds=parse_kinds("503:3,429"))
    sequence = decisions(config, 8_000)
    assert set(sequence) == {"503", "429"}
    assert 2.6 < sequence.count("503") / sequence.count("429") < 3.4


@pytest.mark.parametrize("streak", [1, 2, 3])
def test_max_streak_caps_consecutive_faults(streak):
    sequence = decisions(FaultConfig(rate=0.9, seed=1, max_streak=streak), 3_000)
    runs = [
        len(list(group)) for faulted, group in itertools.groupby(k is not None for k in sequence) if faulted
    ]
    assert max(runs) == streak
    assert decisions(FaultConfig(rate=1.0, max_streak=2), 6)[2::3] == [None, None]


def test_exempt_paths_do_not_consume_draws(make_client):
    config = FaultConfig(rate=0.5, seed=8, kinds=parse_kinds("503"))
    plain = make_client(faults=config)
    interleaved = make_client(faults=config)
    statuses, statuses_interleaved = [], []
    for _ in range(40):
        statuses.append(plain.get("/ratings", headers=AUTH).status_code)
        assert interleaved.get("/health").status_code == 200
        assert interleaved.get("/openapi.yaml").status_code == 200
        statuses_interleaved.append(interleaved.get("/ratings", headers=AUTH).status_code)
    assert statuses == statuses_interleaved
    assert statuses == [503 if kind else 200 for kind in decisions(config, 40)]


# --- effects -------------------------------------------------------------------------------


def only(kind, **options):
    return FaultConfig(rate=1.0, seed=0, kinds=parse_kinds(kind), **options)


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503), ("429", 429)])
def test_error_faults_answer_json(make_client, kind, status):
    response = make_client(faults=only(kind, retry_after=7)).get("/ratings", headers=AUTH)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert "injected fault" in orjson.loads(response.data)["error"]
    assert response.headers.get("Retry-After") == ("7" if kind == "429" else None)


def test_slow_fault_waits_then_answers_normally(make_client, client):
    waits = []
    slow = make_client(faults=only("slow", slow_seconds=2.5), sleep=waits.append)
    response = slow.get("/ratings?limit=3", headers=AUTH)
    assert waits == [2.5]
    assert response.status_code == 200
    assert response.data == client.get("/ratings?limit=3", headers=AUTH).data


class FakeSocket:
    def __init__(self):
        self.calls = []

    def shutdown(self, how):
        self.calls.append(how)


def test_drop_fault_closes_the_connection_without_answer(make_client):
    sock = FakeSocket()
    app = make_client(faults=only("drop")).application
    started = []
    body = b"".join(
        app(
            {"REQUEST_METHOD": "GET", "PATH_INFO": "/ratings", "gunicorn.socket": sock},
            lambda *a: started.append(a),
        )
    )
    assert sock.calls == [socket.SHUT_RDWR]
    assert body == b""


def test_drop_fault_without_gunicorn_degrades_to_an_empty_truncated_answer(make_client):
    response = make_client(faults=only("drop")).get("/ratings", headers=AUTH)
    assert response.data == b""
    assert int(response.headers["Content-Length"]) > 0


def test_truncate_fault_sends_a_prefix_of_the_real_body_then_closes(make_client, client):
    full = client.get("/ratings", headers=AUTH).data
    sock = FakeSocket()
    app = make_client(faults=only("truncate")).application
    started = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/ratings",
        "HTTP_AUTHORIZATION": AUTH["Authorization"],
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    chunks = []
    for chunk in app(
        {**environ, "gunicorn.socket": sock}, lambda status, headers, *a: started.append(headers)
    ):
        chunks.append(chunk)
        assert sock.calls == []  # the prefix goes out before the connection is closed
    sent = b"".join(chunks)
    assert sock.calls == [socket.SHUT_RDWR]
    declared = int(dict(started[0])["Content-Length"])
    assert declared == len(full) > len(sent) > 0
    assert full.startswith(sent)


@pytest.mark.parametrize("kind", KINDS)
def test_health_and_openapi_are_never_faulted(make_client, kind):
    client = make_client(faults=only(kind), sleep=lambda s: pytest.fail("slowed an exempt path"))
    for _ in range(5):
        assert client.get("/health").status_code == 200
        assert client.get("/openapi.yaml").status_code == 200


def test_zero_rate_installs_nothing(make_client, client):
    faulty = make_client(faults=FaultConfig(rate=0.0))
    assert type(faulty.application.wsgi_app) is type(client.application.wsgi_app)


# --- configuration -------------------------------------------------------------------------


def test_parse_kinds():
    assert parse_kinds("500, 503:2 ,slow") == (("500", 1.0), ("503", 2.0), ("slow", 1.0))
    assert [k for k, _ in parse_kinds("all")] == list(KINDS)


@pytest.mark.parametrize("text", ["", ",", "404", "slow:0", "slow:-1", "slow:x", "slow:inf"])
def test_bad_kinds(text):
    with pytest.raises(ValueError, match=r"fault kind|no fault kinds"):
        parse_kinds(text)


def test_from_env_and_overrides():
    env = {
        "MOVIELENS_FAULT_RATE": "0.2",
        "MOVIELENS_FAULT_SEED": "9",
        "MOVIELENS_FAULT_KINDS": "429,drop",
        "MOVIELENS_FAULT_RETRY_AFTER": "3",
        "MOVIELENS_FAULT_SLOW_SECONDS": "0.5",
        "MOVIELENS_FAULT_MAX_STREAK": "2",
    }
    config = FaultConfig.from_env(env)
    assert config == FaultConfig(
        rate=0.2, seed=9, kinds=(("429", 1.0), ("drop", 1.0)), retry_after=3, slow_seconds=0.5, max_streak=2
    )
    assert FaultConfig.from_env(env, rate=0.7, seed=None).rate == 0.7
    assert FaultConfig.from_env({}) == FaultConfig()
    assert "rate=0.2" in config.describe()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MOVIELENS_FAULT_RATE", "lots"),
        ("MOVIELENS_FAULT_RATE", "1.5"),
        ("MOVIELENS_FAULT_SEED", "1.5"),
        ("MOVIELENS_FAULT_KINDS", "teapot"),
        ("MOVIELENS_FAULT_RETRY_AFTER", "-1"),
        ("MOVIELENS_FAULT_SLOW_SECONDS", "-2"),
        ("MOVIELENS_FAULT_MAX_STREAK", "0"),
    ],
)
def test_bad_environment_values_are_rejected(variable, value):
    with pytest.raises(ValueError, match=f"^{variable}="):
        FaultConfig.from_env({variable: value})
