"""HTTP behaviour of the reference app (in-process, through the WSGI test client)."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import orjson
import pytest
from _api_fixtures import AUTH, MOVIES, PASSWORD, USER, basic, build_store, day, expected_records
from werkzeug.test import Client

from movielens_api import app as app_module
from movielens_api.params import MAX_SAFE_INTEGER
from movielens_api.store import Store

REPO = Path(__file__).resolve().parents[3]


def body(response):
    assert response.headers["Content-Type"] == "application/json"
    return orjson.loads(response.data)


def get_ratings(client, query=""):
    response = client.get(f"/ratings?{query}", headers=AUTH)
    return response.status_code, body(response)


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(USER, "wrong"),
        basic("someone", PASSWORD),
        basic(USER, PASSWORD + "x"),
        basic(USER, PASSWORD.split(":")[0]),  # the password contains colons: split on the first
        basic("", ""),
        {"Authorization": "Basic"},
        {"Authorization": "Basic "},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode()},
        {"Authorization": "Bearer " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()},
        {"Authorization": "Digest username=tester"},
        {"Authorization": "\u00e9\u00e9"},
    ],
)
@pytest.mark.parametrize("path", ["/ratings", "/movies"])
def test_missing_or_wrong_credentials_are_401_json(client, headers, path):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="movielens"'
    assert "error" in body(response)
    assert PASSWORD not in response.get_data(as_text=True)


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_right_credentials_any_scheme_case(client, scheme):
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert client.get("/ratings", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


def test_credentials_are_compared_in_constant_time(client, monkeypatch):
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(app_module.hmac, "compare_digest", spy)
    client.get("/ratings", headers=basic("intruder", "guess"))
    # Both user and password are compared even though the user is already wrong (every time the
    # header is checked: by the fast path for GET /ratings, then by the Flask view that answers 401).
    pair = [(b"intruder", USER.encode()), (b"guess", PASSWORD.encode())]
    assert calls
    assert calls == pair * (len(calls) // 2)


def test_auth_is_checked_before_parameters(client):
    assert client.get("/ratings?limit=abc").status_code == 401


@pytest.mark.parametrize("path", ["/", "/health", "/openapi.yaml"])
def test_public_endpoints_need_no_credentials(client, path):
    assert client.get(path).status_code == 200


# --- envelope and records ------------------------------------------------------------------


def test_full_listing_in_total_order(client):
    status, page = get_ratings(client)
    assert status == 200
    assert page == {"result": expected_records(), "offset": 0, "limit": 100, "total": len(expected_records())}
    keys = [(r["timestamp"], r["userId"], r["movieId"]) for r in page["result"]]
    assert keys == sorted(keys)


def test_record_keys_order_and_types(client):
    raw = client.get("/ratings?limit=1&start_date=2019-01-02", headers=AUTH).data
    assert raw.startswith(b'{"result":[{"userId":3,"movieId":7,"rating":5.0,"timestamp":1546387200}]')
    record = orjson.loads(raw)["result"][0]
    assert list(record) == ["userId", "movieId", "rating", "timestamp"]
    assert isinstance(record["rating"], float)
    assert all(isinstance(record[k], int) for k in ("userId", "movieId", "timestamp"))


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("start_date=2019-01-01&end_date=2019-01-02", day("2019-01-01"), day("2019-01-02")),
        ("start_date=2019-01-02&end_date=2019-01-03", day("2019-01-02"), day("2019-01-03")),
        ("start_date=2019-01-02", day("2019-01-02"), None),
        ("end_date=2019-01-02", None, day("2019-01-02")),
        ("start_date=2019-01-04&end_date=2019-01-05", day("2019-01-04"), day("2019-01-05")),
        ("start_date=2019-01-01&end_date=2019-01-01", day("2019-01-01"), day("2019-01-01")),
        ("start_date=2020-02-29&end_date=2020-03-01", day("2020-02-29"), day("2020-03-01")),
        ("start_date=1970-01-01&end_date=9999-12-31", 0, day("9999-12-31")),
        ("end_date=2018-12-31", None, day("2018-12-31")),
    ],
)
def test_date_windows_start_inclusive_end_exclusive(client, query, start, end):
    status, page = get_ratings(client, query)
    assert status == 200
    assert page["result"] == expected_records(start, end)
    assert page["total"] == len(expected_records(start, end))


def test_midnight_record_belongs_to_the_day_it_starts(client):
    _, first = get_ratings(client, "start_date=2019-01-01&end_date=2019-01-02")
    _, second = get_ratings(client, "start_date=2019-01-02&end_date=2019-01-03")
    assert first["result"][-1]["timestamp"] == day("2019-01-02") - 1
    assert second["result"][0]["timestamp"] == day("2019-01-02")


def test_same_start_and_end_is_empty(client):
    assert get_ratings(client, "start_date=2019-01-02&end_date=2019-01-02") == (
        200,
        {"result": [], "offset": 0, "limit": 100, "total": 0},
    )


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 100])
def test_pages_of_any_size_concatenate(client, size):
    seen, offset = [], 0
    while True:
        _, page = get_ratings(client, f"offset={offset}&limit={size}")
        assert page["total"] == 8
        assert len(page["result"]) == min(size, max(0, 8 - offset))
        if not page["result"]:
            break
        seen += page["result"]
        offset += page["limit"]
    assert seen == expected_records()


@pytest.mark.parametrize("offset", [8, 9, 1000, MAX_SAFE_INTEGER])
def test_offset_past_the_end_is_an_empty_200(client, offset):
    assert get_ratings(client, f"offset={offset}") == (
        200,
        {"result": [], "offset": offset, "limit": 100, "total": 8},
    )


def test_offset_within_a_window(client):
    _, page = get_ratings(client, "start_date=2019-01-01&end_date=2019-01-03&offset=3&limit=2")
    assert page == {"result": expected_records(day("2019-01-01"), day("2019-01-03"))[3:5], "offset": 3,
                    "limit": 2, "total": 5}  # fmt: skip


@pytest.mark.parametrize("limit", ["5", "50000", str(MAX_SAFE_INTEGER)])
def test_limit_above_the_maximum_is_rejected_by_default_naming_max_limit(make_client, limit):
    # A client that advances by the limit it asked for would skip records on a clamped page.
    status, error = get_ratings(make_client(max_limit=4), f"limit={limit}")
    assert status == 400
    assert error == {"error": error["error"], "parameter": "limit", "max_limit": 4}
    assert "at most 4" in error["error"]


def test_the_maximum_itself_is_accepted_when_rejecting(make_client):
    status, page = get_ratings(make_client(max_limit=4), "limit=4")
    assert (status, page["limit"], page["result"]) == (200, 4, expected_records()[:4])


@pytest.mark.parametrize("limit", ["4", "5", "50000", str(MAX_SAFE_INTEGER)])
def test_limit_above_the_maximum_is_clamped_and_echoed_in_clamp_mode(make_client, limit):
    client = make_client(max_limit=4, over_max_limit="clamp")
    status, page = get_ratings(client, f"limit={limit}")
    assert status == 200
    assert page["limit"] == 4
    assert page["result"] == expected_records()[:4]
    assert page["total"] == 8


@pytest.mark.parametrize("mode", ["reject", "clamp"])
@pytest.mark.parametrize("limit", ["4", "9"])
def test_fast_path_and_flask_answer_an_over_maximum_limit_alike(store, mode, limit):
    app = app_module.create_app(store, user=USER, password=PASSWORD, max_limit=4, over_max_limit=mode)
    fast = Client(app).get(f"/ratings?limit={limit}", headers=AUTH)
    flask_only = Client(app.wsgi_app.app).get(f"/ratings?limit={limit}", headers=AUTH)
    assert (fast.status_code, body(fast)) == (flask_only.status_code, body(flask_only))
    assert fast.status_code == (400 if mode == "reject" and limit == "9" else 200)


def test_an_unknown_over_maximum_mode_is_refused(store):
    with pytest.raises(ValueError, match="over_max_limit"):
        app_module.create_app(store, user=USER, password=PASSWORD, over_max_limit="truncate")


@pytest.mark.parametrize("mode", ["reject", "clamp"])
def test_default_limit_respects_a_small_maximum(make_client, mode):
    # Only a limit the client gave is refused; the default page shrinks to the maximum.
    _, page = get_ratings(make_client(max_limit=3, over_max_limit=mode))
    assert page["limit"] == 3
    assert len(page["result"]) == 3


def test_leading_zeros_are_digits(client):
    _, page = get_ratings(client, "offset=001&limit=002")
    assert (page["offset"], page["limit"], page["result"]) == (1, 2, expected_records()[1:3])


def test_unknown_parameters_are_ignored(client):
    assert get_ratings(client, "foo=bar&limit=2")[1]["result"] == expected_records()[:2]


# --- bad input -----------------------------------------------------------------------------

BAD_RATINGS_QUERIES = [
    ("limit=abc", "limit"),
    ("limit=0", "limit"),
    ("limit=-1", "limit"),
    ("limit=1.5", "limit"),
    ("limit=1e3", "limit"),
    ("limit=+5", "limit"),  # '+' is a space in a query string
    ("limit=%2B5", "limit"),
    ("limit=%205", "limit"),
    ("limit=5%20", "limit"),
    ("limit=0x10", "limit"),
    ("limit=%D9%A3", "limit"),  # ARABIC-INDIC DIGIT THREE
    ("limit=%EF%BC%95", "limit"),  # FULLWIDTH DIGIT FIVE
    ("limit=%FF", "limit"),  # not UTF-8
    ("limit=9007199254740992", "limit"),  # 2^53
    ("limit=99999999999999999999999999999999", "limit"),
    ("limit=1" + "0" * 3000, "limit"),
    ("limit=", "limit"),
    ("limit", "limit"),
    ("limit=5&limit=5", "limit"),
    ("limit=5&limit=6", "limit"),
    ("offset=abc", "offset"),
    ("offset=-1", "offset"),
    ("offset=1.0", "offset"),
    ("offset=9007199254740992", "offset"),
    ("offset=", "offset"),
    ("offset=0&offset=0", "offset"),
    ("start_date=2019-02-30", "start_date"),
    ("start_date=2019-1-1", "start_date"),
    ("start_date=20190101", "start_date"),
    ("start_date=2019/01/01", "start_date"),
    ("start_date=2019-01-01T00:00:00", "start_date"),
    ("start_date=2019-13-01", "start_date"),
    ("start_date=0000-01-01", "start_date"),
    ("start_date=yesterday", "start_date"),
    ("start_date=", "start_date"),
    ("start_date=2019-01-01&start_date=2019-01-01", "start_date"),
    ("end_date=2019-02-29", "end_date"),
    ("end_date=2019-01-01%20", "end_date"),
    ("end_date=", "end_date"),
    ("end_date=2019-01-02&end_date=2019-01-03", "end_date"),
    ("start_date=2019-01-03&end_date=2019-01-02", "start_date"),
]


@pytest.mark.parametrize(("query", "parameter"), BAD_RATINGS_QUERIES)
def test_bad_ratings_input_is_a_400_naming_the_parameter(client, query, parameter):
    status, error = get_ratings(client, query)
    assert status == 400
    assert error["parameter"] == parameter
    assert parameter in error["error"]
    if parameter == "limit":
        assert error["max_limit"] == 10_000


@pytest.mark.parametrize(
    ("query", "parameter"), [(q, p) for q, p in BAD_RATINGS_QUERIES if p in ("offset", "limit")][::3]
)
def test_bad_movies_input_is_a_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/movies?{query}", headers=AUTH)
    assert response.status_code == 400
    assert body(response)["parameter"] == parameter


# --- movies, service endpoints, errors -----------------------------------------------------


def test_movies_are_paged_in_movie_id_order(client):
    expected = [{"movieId": i, "title": t, "genres": g} for i, t, g in sorted(MOVIES)]
    response = client.get("/movies", headers=AUTH)
    assert body(response) == {"result": expected, "offset": 0, "limit": 100, "total": 5}
    seen, offset = [], 0
    while offset < 5:
        page = body(client.get(f"/movies?offset={offset}&limit=2", headers=AUTH))
        assert page["total"] == 5
        seen += page["result"]
        offset += 2
    assert seen == expected
    assert body(client.get("/movies?offset=5", headers=AUTH))["result"] == []


def test_movies_limit_above_the_maximum_is_rejected(make_client):
    response = make_client(max_limit=2).get("/movies?limit=10", headers=AUTH)
    assert response.status_code == 400
    assert body(response)["max_limit"] == 2


def test_movies_limit_is_clamped_in_clamp_mode(make_client):
    page = body(make_client(max_limit=2, over_max_limit="clamp").get("/movies?limit=10", headers=AUTH))
    assert (page["limit"], len(page["result"])) == (2, 2)


def test_health_reports_counts(client):
    assert body(client.get("/health")) == {"status": "ok", "ratings": 8, "movies": 5}


def test_hello_lists_endpoints(client):
    hello = body(client.get("/"))
    assert hello["message"]
    assert "/ratings" in hello["endpoints"]


def test_openapi_document_is_the_contract(client):
    response = client.get("/openapi.yaml")
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert response.data == (REPO / "contracts" / "movielens_contract" / "openapi.yaml").read_bytes()


@pytest.mark.parametrize("path", ["/nope", "/ratings/", "/ratings/1", "/RATINGS", "/health/x", "/%FF"])
def test_unknown_paths_are_404_json(client, path):
    response = client.get(path, headers=AUTH)
    assert response.status_code == 404
    assert "error" in body(response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/ratings", "/movies", "/health"])
def test_other_methods_are_405_json(client, method, path):
    response = client.open(path, method=method, headers=AUTH)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert method in body(response)["error"]


def test_head_answers_without_body(client):
    response = client.head("/ratings", headers=AUTH)
    assert (response.status_code, response.data) == (200, b"")


def test_unexpected_errors_are_500_json_without_traceback(make_client, caplog):
    class BrokenStore(Store):
        def window(self, start, end):
            raise RuntimeError("secret internals")

    good = build_store()
    broken = BrokenStore(**{f.name: getattr(good, f.name) for f in dataclasses.fields(good)})
    response = make_client(store=broken).get("/ratings", headers=AUTH)
    assert response.status_code == 500
    assert body(response) == {"error": "internal server error"}
    assert "secret internals" in caplog.text  # logged for the operator, not sent to the client


def test_max_limit_must_be_positive(store):
    with pytest.raises(ValueError, match="max_limit"):
        app_module.create_app(store, user=USER, password=PASSWORD, max_limit=0)
