"""Test doubles for the provider's unit tests: a contract-following fake API, a recording sleep."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

BASE_URL = "http://127.0.0.1:5000"
PASSWORD = "s3cr3t-Pa55-w0rd"  # must never show up in logs or exception texts
LOGIN = "airflow"


def set_connection(
    monkeypatch: pytest.MonkeyPatch, conn_id: str = "movielens_default", **fields: Any
) -> None:
    """Define an Airflow connection through the AIRFLOW_CONN_<ID> environment variable (JSON form)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "movielens", **fields}))


class Sleeps(list[float]):
    """An injected sleep function that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def rating(i: int) -> dict[str, Any]:
    """The i-th rating of a synthetic listing, in the contract's (timestamp, userId, movieId) order."""
    return {
        "userId": 1 + i % 7,
        "movieId": 1 + i,
        "rating": 0.5 + (i % 10) / 2,
        "timestamp": 1_700_000_000 + i,
    }


@dataclass
class FakeRatingsAPI:
    """A contract-following /ratings endpoint over a list of records, with knobs for misbehaviour."""

    records: list[dict[str, Any]]
    max_limit: int | None = None  # clamp (echoed in the envelope) above this page size
    reject_limit_above: int | None = None  # answer 400 naming `limit` above this page size
    send_max_limit: bool = True
    requests: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        self.requests.append(query)
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", 100))
        if self.reject_limit_above is not None and limit > self.reject_limit_above:
            body: dict[str, Any] = {
                "error": f"limit must be <= {self.reject_limit_above}",
                "parameter": "limit",
            }
            if self.send_max_limit:
                body["max_limit"] = self.reject_limit_above
            return 400, {}, json.dumps(body)
        if self.max_limit is not None:
            limit = min(limit, self.max_limit)
        page = self.records[offset : offset + limit]
        envelope = {"result": page, "offset": offset, "limit": limit, "total": len(self.records)}
        return 200, {"Content-Type": "application/json"}, json.dumps(envelope)

    def register(self, rsps: responses.RequestsMock, path: str = "/ratings") -> FakeRatingsAPI:
        rsps.add_callback(responses.GET, BASE_URL + path, callback=self)
        return self


@dataclass
class LogCapture:
    """Log messages from both stdlib logging (Airflow 2) and structlog (Airflow 3 task SDK)."""

    caplog: pytest.LogCaptureFixture
    events: list[dict[str, Any]]

    @property
    def messages(self) -> list[str]:
        stdlib = [record.getMessage() for record in self.caplog.records]
        return stdlib + [str(event.get("event", "")) for event in self.events]

    @property
    def text(self) -> str:
        return self.caplog.text + "\n" + "\n".join(str(event) for event in self.events)
