"""The MovieLens API as the textbook wrote it: Flask + pandas, with the textbook's defects.

"Data Pipelines with Apache Airflow", chapter 8, serves ratings from a small Flask app; this
project's API descends from it. This module reproduces that app's *semantics* (not its code), on
purpose including its defects, so the contract suite can be shown to fail it for the right
reasons:

* dates are read with ``time.mktime(time.strptime(value, "%Y-%m-%d"))``: midnight of the
  process's local time zone, and strptime also takes ``2019-1-1``;
* the window is applied by truthiness, so a bound at timestamp 0 (1970-01-01 in UTC) is no bound;
* ``offset``/``limit`` go through ``int()`` unchecked and without a maximum; the page is
  ``df.iloc[offset:offset + limit]`` (negative offsets count from the end, ``limit=0`` is empty);
* ``start_date > end_date`` is simply an empty window;
* any exception is Flask's default HTML 500, an unknown path Flask's HTML 404;
* ``/`` is a plain string, and there is no ``/movies``, ``/health`` or ``/openapi.yaml``.

Basic auth is done by hand (the book used Flask-HTTPAuth): a 401 with ``WWW-Authenticate: Basic``.
It has no fault switches: the defects above are its behaviour.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterable
from typing import Any

import pandas as pd
from _contract_variants import Dataset, make_dataset
from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

FAULTS: dict[str, str] = {}


def _to_timestamp(value: str | None) -> int | None:
    """The textbook's date reading: local midnight of the process time zone, or ``None``."""
    if value is None:
        return None
    return int(time.mktime(time.strptime(value, "%Y-%m-%d")))


def create_app(dataset: Dataset, *, user: str = "airflow", password: str = "airflow") -> Flask:
    """The Flask app over ``dataset``'s ratings."""
    ratings = pd.DataFrame(dataset.ratings, columns=["userId", "movieId", "rating", "timestamp"])
    ratings = ratings.sort_values(["timestamp", "userId", "movieId"]).reset_index(drop=True)
    app = Flask("textbook_movielens")
    app.logger.disabled = True  # the 500s are the point; no tracebacks on stderr

    def authorised() -> bool:
        given = request.authorization
        if given is None or given.type != "basic":
            return False
        same_user = hmac.compare_digest(str(given.username or ""), user)
        same_password = hmac.compare_digest(str(given.password or ""), password)
        return same_user and same_password

    @app.route("/")
    def hello() -> str:
        return "Hello from the Movie Rating API!"

    @app.route("/ratings")
    def ratings_endpoint() -> Response:
        if not authorised():
            return Response(
                "Unauthorized Access",
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="Authentication Required"'},
            )
        start_ts = _to_timestamp(request.args.get("start_date"))
        end_ts = _to_timestamp(request.args.get("end_date"))
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 100))
        frame = ratings
        if start_ts:
            frame = frame[frame.timestamp >= start_ts]
        if end_ts:
            frame = frame[frame.timestamp < end_ts]
        page = frame.iloc[offset : offset + limit]
        return jsonify(
            {
                "result": page.to_dict(orient="records"),
                "offset": offset,
                "limit": limit,
                "total": len(frame),
            }
        )

    return app


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class TextbookServer:
    """The app served by werkzeug (threaded) on 127.0.0.1, a free port, in a daemon thread."""

    def __init__(self, app: Flask) -> None:
        self._httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="textbook", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> TextbookServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(dataset: Dataset | None = None, *, faults: Iterable[str] = (), **options: Any) -> TextbookServer:
    """Start the textbook app over ``dataset`` (default ``make_dataset()``); options: user, password."""
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)} (the textbook server has none)")
    return TextbookServer(create_app(make_dataset() if dataset is None else dataset, **options))
