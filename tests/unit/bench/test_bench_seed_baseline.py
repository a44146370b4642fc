"""The seed-approach baseline must serve the same pages as the API contract, or its ratio is unfair."""

from __future__ import annotations

import base64
import datetime as dt

import pandas as pd
import pytest

from bench import seed_baseline

AUTH = {"Authorization": "Basic " + base64.b64encode(b"airflow:airflow").decode()}
DAY = 86_400
JAN1 = int(dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc).timestamp())


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.delenv("API_USER", raising=False)
    monkeypatch.delenv("API_PASSWORD", raising=False)
    # Unsorted on disk, with ties on timestamp, a record exactly at midnight and one the day before.
    rows = [
        (3, 10, 4.0, JAN1 + DAY + 5),
        (2, 11, 3.5, JAN1 + 5),
        (1, 12, 5.0, JAN1 + 5),
        (1, 10, 0.5, JAN1),
        (9, 99, 2.0, JAN1 - 1),
        (1, 11, 1.0, JAN1 + 2 * DAY),
    ]
    pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(
        tmp_path / "ratings.csv", index=False
    )
    return seed_baseline.create_app(tmp_path).test_client()


def test_pages_follow_the_contract_order_and_utc_window(client):
    query = "start_date=2019-01-01&end_date=2019-01-03"
    pages = [client.get(f"/ratings?{query}&offset={o}&limit=2", headers=AUTH).get_json() for o in (0, 2, 4)]
    assert [p["total"] for p in pages] == [4, 4, 4]
    records = [r for p in pages for r in p["result"]]
    assert [(r["timestamp"], r["userId"], r["movieId"]) for r in records] == [
        (JAN1, 1, 10),
        (JAN1 + 5, 1, 12),
        (JAN1 + 5, 2, 11),
        (JAN1 + DAY + 5, 3, 10),
    ]
    assert records[0] == {"userId": 1, "movieId": 10, "rating": 0.5, "timestamp": JAN1}


def test_requires_basic_auth(client):
    assert client.get("/ratings").status_code == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"airflow:nope").decode()}
    assert client.get("/ratings", headers=wrong).status_code == 401


def test_clamps_limit_like_the_reference(client):
    body = client.get("/ratings?limit=50000", headers=AUTH).get_json()
    assert body["limit"] == seed_baseline.MAX_LIMIT
    assert len(body["result"]) == 6
