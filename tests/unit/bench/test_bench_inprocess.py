"""The in-process comparison calls a WSGI app directly and sees its real answer."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from bench import inprocess, seed_baseline
from bench.timing import Query, plan_queries

JAN1 = int(dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc).timestamp())


def test_direct_wsgi_call_returns_the_page(tmp_path, monkeypatch):
    monkeypatch.delenv("API_USER", raising=False)
    monkeypatch.delenv("API_PASSWORD", raising=False)
    rows = [(u, 1, 4.0, JAN1 + u) for u in range(1, 31)]
    pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(
        tmp_path / "ratings.csv", index=False
    )
    app = seed_baseline.create_app(tmp_path)
    query = Query(dt.date(2019, 1, 1), dt.date(2019, 1, 2), offset=10, limit=5)
    environ = inprocess._environ(query)
    for _ in range(2):  # the prebuilt environ is reusable: each call gets a fresh copy
        status, body = inprocess._call(app, environ)
        assert status.startswith("200")
        page = json.loads(body)
        assert page["total"] == 30
        assert [r["userId"] for r in page["result"]] == [11, 12, 13, 14, 15]
    assert len(inprocess._run(app, [query] * 4, max_seconds=5.0)) == 4


def test_planned_offsets_are_in_range_and_repeatable():
    start, end = dt.date(2019, 1, 1), dt.date(2020, 1, 1)
    plan = plan_queries(start, end, total=5_000, limit=1_000, count=50, seed=7)
    assert plan == plan_queries(start, end, total=5_000, limit=1_000, count=50, seed=7)
    assert all(0 <= q.offset <= 4_000 and q.limit == 1_000 for q in plan)
    assert len({q.offset for q in plan}) > 1
