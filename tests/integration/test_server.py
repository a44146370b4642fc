"""The reference server as deployed (container or process): it answers, guards data, serves the contract."""

from __future__ import annotations

from pathlib import Path

import requests
import yaml

import movielens_contract

CONTRACT = Path(movielens_contract.__file__).with_name("openapi.yaml")


def test_health_answers_without_credentials_once_data_is_loaded(movielens_api):
    response = requests.get(f"{movielens_api.url}/health", timeout=10)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["ratings"] > 0
    assert body["movies"] > 0


def test_ratings_require_the_configured_credentials(movielens_api):
    url = f"{movielens_api.url}/ratings"

    anonymous = requests.get(url, timeout=10)
    wrong = requests.get(url, auth=(movielens_api.user, movielens_api.password + "x"), timeout=10)
    default = requests.get(url, auth=("airflow", "airflow"), timeout=10)
    right = requests.get(url, params={"limit": 1}, auth=movielens_api.auth, timeout=10)

    for refused in (anonymous, wrong, default):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].lower().startswith("basic")
        assert movielens_api.password not in refused.text
    assert right.status_code == 200
    assert set(right.json()) >= {"result", "offset", "limit", "total"}


def test_the_served_openapi_document_is_the_contract(movielens_api):
    response = requests.get(f"{movielens_api.url}/openapi.yaml", timeout=10)

    assert response.status_code == 200
    assert yaml.safe_load(response.text) == yaml.safe_load(CONTRACT.read_text())


def test_bad_input_is_a_json_400_naming_the_parameter(movielens_api):
    response = requests.get(
        f"{movielens_api.url}/ratings", params={"limit": "ten"}, auth=movielens_api.auth, timeout=10
    )

    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_unknown_paths_are_a_json_404(movielens_api):
    response = requests.get(f"{movielens_api.url}/no-such-endpoint", auth=movielens_api.auth, timeout=10)

    assert response.status_code == 404
    assert "error" in response.json()


def test_pages_concatenate_to_the_single_request_listing(direct_api, ratings_calendar):
    day = ratings_calendar.busy_day
    window = {"start_date": day, "end_date": ratings_calendar.next_day(day)}

    whole = direct_api.single_listing(**window)
    paged = direct_api.paged_listing(page=7, **window)

    assert paged == whole
    keys = [(r["timestamp"], r["userId"], r["movieId"]) for r in whole]
    assert keys == sorted(set(keys)), "not in (timestamp, userId, movieId) order without repeats"
