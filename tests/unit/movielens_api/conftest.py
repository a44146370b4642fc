"""Fixtures for the reference server's unit tests: a small hand-made store and app clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _api_fixtures import PASSWORD, USER, build_store
from werkzeug.test import Client

from movielens_api.app import create_app
from movielens_api.faults import FaultConfig
from movielens_api.live import LiveClock
from movielens_api.store import Store


@pytest.fixture
def store() -> Store:
    return build_store()


@pytest.fixture
def make_client(store: Store) -> Callable[..., Client]:
    """``make_client(max_limit=..., over_max_limit=..., faults=..., sleep=..., store=..., live=...)``
    -> test client."""

    def make(
        *,
        max_limit: int = 10_000,
        over_max_limit: str = "reject",
        faults: FaultConfig | None = None,
        sleep: Callable[[float], None] | None = None,
        store: Store = store,
        live: LiveClock | None = None,
    ) -> Client:
        app = create_app(
            store,
            user=USER,
            password=PASSWORD,
            max_limit=max_limit,
            over_max_limit=over_max_limit,
            faults=faults,
            sleep=sleep,
            live=live,
        )
        return Client(app)

    return make


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()
