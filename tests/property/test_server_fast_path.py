"""Property: the ``GET /ratings`` fast path answers every request exactly as the Flask app alone.

The reference server answers authorised, valid ``GET /ratings`` requests in a small WSGI layer in
front of Flask and hands everything else to Flask. For random query strings (valid, malformed,
repeated, empty, percent-encoded and out-of-range parameters, unknown ones) and credentials (right,
wrong, absent, garbled), the status, content type and body through the whole app equal those of the
Flask app with the fast path bypassed, with and without a live cut-off (in the middle of the data,
between two of its midnights and noons).
"""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import quote

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from werkzeug.test import Client

from movielens_api.app import RatingsFastPath, create_app
from movielens_api.live import LiveClock
from movielens_api.store import Store

USER, PASSWORD = "prop", "erty"
rng = np.random.default_rng(3)
STORE = Store.from_columns(
    timestamp=1_577_836_800 + rng.integers(-3, 12, 400) * 43_200,  # around 2020-01-01, midnights
    user=rng.integers(1, 9, 400),
    movie=rng.integers(1, 30, 400),
    half_stars=rng.integers(1, 11, 400),
    json_budget_mb=200 * 75 / 2**20,  # about the newest half pre-rendered, the rest serialised per request
)
assert 0 < STORE.rendered.first < STORE.n_ratings
APP = create_app(STORE, user=USER, password=PASSWORD, max_limit=50)
assert isinstance(APP.wsgi_app, RatingsFastPath)
WHOLE, FLASK_ONLY = Client(APP), Client(APP.wsgi_app.app)
LIVE_START = dt.datetime(2020, 1, 3, 6, 0, tzinfo=dt.timezone.utc)
LIVE_APP = create_app(STORE, user=USER, password=PASSWORD, max_limit=50, live=LiveClock(LIVE_START, 0.0))
assert 0 < STORE.window(None, int(LIVE_START.timestamp()))[1] < STORE.n_ratings
CLIENTS = {
    "all ratings": (WHOLE, FLASK_ONLY),
    "live cut-off": (Client(LIVE_APP), Client(LIVE_APP.wsgi_app.app)),
}


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


dates = st.one_of(
    st.dates(min_value=dt.date(2019, 12, 28), max_value=dt.date(2020, 1, 9)).map(str),
    st.sampled_from(
        ["2020-02-30", "2020-1-01", "20200101", "", "2020-01-01T00:00", "0000-01-01", "9999-12-31"]
    ),
)
counts = st.one_of(
    st.integers(0, 500).map(str),
    st.sampled_from(["", "-1", "0", "1e3", "+5", " 5", "05", "9" * 30, str(2**53), str(2**53 - 1), "٣"]),
)
params = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["start_date", "end_date"]), dates),
        st.tuples(st.sampled_from(["offset", "limit"]), counts),
        st.tuples(st.sampled_from(["other", "LIMIT", "limit[]"]), st.text(max_size=5)),
    ),
    max_size=5,
)
headers = st.one_of(
    st.just({"Authorization": basic(f"{USER}:{PASSWORD}")}),
    st.just({"Authorization": basic(f"{USER}:{PASSWORD}").upper()}),
    st.just({}),
    st.builds(lambda t: {"Authorization": basic(t)}, st.text(max_size=12)),
    st.builds(
        lambda t: {"Authorization": t},
        st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=12),
    ),
)


@pytest.mark.parametrize("mode", sorted(CLIENTS))
@given(pairs=params, auth=headers, encode_names=st.booleans())
def test_fast_path_answers_like_flask(mode, pairs, auth, encode_names):
    query = "&".join(
        f"{quote(name) if not encode_names else ''.join(f'%{b:02X}' for b in name.encode())}={quote(value)}"
        for name, value in pairs
    )
    note(query)
    url = f"/ratings?{query}"
    fast, flask = CLIENTS[mode]
    whole, alone = fast.get(url, headers=auth), flask.get(url, headers=auth)
    assert whole.status_code == alone.status_code
    assert whole.headers["Content-Type"] == alone.headers["Content-Type"]
    assert whole.data == alone.data


def test_valid_requests_do_not_reach_flask(monkeypatch):
    def not_here(*args, **kwargs):
        raise AssertionError("the Flask view answered a valid request")

    monkeypatch.setitem(APP.view_functions, "ratings", not_here)
    response = WHOLE.get(
        "/ratings?limit=7&start_date=2020-01-01", headers={"Authorization": basic("prop:erty")}
    )
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(response.data))
