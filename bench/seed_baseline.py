"""The seed's server approach, re-implemented for comparison: filter the whole table per request.

Written for the benchmark (not copied): like the seed's Flask app it keeps the ratings in a pandas
DataFrame, builds boolean masks over the whole table for the date window on every request, slices
the page with ``iloc``, converts it with ``to_dict(orient="records")`` and answers with Flask's
``jsonify``. Two deliberate differences keep the comparison fair and the pages identical to the
reference server's: the table is sorted once at start-up by ``(timestamp, userId, movieId)``, and
dates are read as UTC midnight. Basic auth is checked like the reference does.

Served by gunicorn (``bench.seed_baseline:create_app()``, data directory from ``BENCH_SEED_DATA``)
with the same worker count as the reference, or called in-process through ``create_app(path)``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
from pathlib import Path

import pandas as pd
from flask import Flask, Response, jsonify, request

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


def _day_to_epoch(value: str | None) -> int | None:
    if not value:
        return None
    day = dt.date.fromisoformat(value)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def load_ratings(data_dir: Path) -> pd.DataFrame:
    """Read ``ratings.csv`` once and sort it in the API's total order."""
    frame = pd.read_csv(
        data_dir / "ratings.csv",
        dtype={"userId": "int64", "movieId": "int64", "rating": "float64", "timestamp": "int64"},
    )
    return frame.sort_values(["timestamp", "userId", "movieId"], kind="stable", ignore_index=True)


def create_app(data_dir: str | Path | None = None) -> Flask:
    """The baseline WSGI app over ``data_dir`` (default: the ``BENCH_SEED_DATA`` directory)."""
    directory = Path(data_dir if data_dir is not None else os.environ["BENCH_SEED_DATA"])
    ratings = load_ratings(directory)
    user = os.environ.get("API_USER", "airflow").encode()
    password = os.environ.get("API_PASSWORD", "airflow").encode()
    app = Flask("seed_baseline")

    @app.get("/health")
    def health() -> Response:
        return jsonify({"status": "ok", "ratings": len(ratings)})

    @app.get("/ratings")
    def get_ratings() -> Response | tuple[Response, int]:
        auth = request.authorization
        if not (
            auth is not None
            and hmac.compare_digest((auth.username or "").encode(), user)
            and hmac.compare_digest((auth.password or "").encode(), password)
        ):
            return jsonify({"error": "authentication required"}), 401
        start = _day_to_epoch(request.args.get("start_date"))
        end = _day_to_epoch(request.args.get("end_date"))
        offset = int(request.args.get("offset", 0))
        limit = min(int(request.args.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        subset = ratings
        if start is not None:  # a boolean mask over the whole table, on every request
            subset = subset.loc[subset["timestamp"] >= start]
        if end is not None:
            subset = subset.loc[subset["timestamp"] < end]
        page = subset.iloc[offset : offset + limit]
        return jsonify(
            {
                "result": page.to_dict(orient="records"),
                "offset": offset,
                "limit": limit,
                "total": int(subset.shape[0]),
            }
        )

    return app
