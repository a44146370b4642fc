"""connection_settings: what a movielens connection's fields and extras mean (shared by both hooks)."""

from __future__ import annotations

import json

import pytest
from _provider_fakes import LOGIN, PASSWORD, set_connection

from airflow_movielens.compat import BaseHook
from airflow_movielens.connection import connection_settings
from airflow_movielens.exceptions import MovielensConnectionExtraError, MovielensError
from airflow_movielens.hooks import MovielensHook


def settings_for(monkeypatch, extra=None, **fields):
    fields = {"host": "127.0.0.1", "port": 5000, "login": LOGIN, "password": PASSWORD, **fields}
    if extra is not None:
        fields["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
    set_connection(monkeypatch, "extras_test", **fields)
    return connection_settings(BaseHook.get_connection("extras_test"), "extras_test")


@pytest.fixture
def pem(tmp_path):
    path = tmp_path / "some.pem"
    path.write_text("not parsed here")
    return str(path)


def test_defaults(monkeypatch):
    settings = settings_for(monkeypatch)
    assert settings.base_url == "http://127.0.0.1:5000"
    assert settings.auth == (LOGIN, PASSWORD)
    assert settings.verify is True
    assert settings.cert is None
    assert settings.headers["Accept"] == "application/json"
    assert settings.headers["User-Agent"].startswith("airflow-movielens/")
    assert PASSWORD in settings.redactor.forms


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), ("true", True), ("False", False)]
)
def test_verify_booleans(monkeypatch, value, expected):
    assert settings_for(monkeypatch, {"verify": value}).verify is expected


def test_verify_false_warns(monkeypatch, logs):
    settings_for(monkeypatch, {"verify": "false"})
    (warning,) = [m for m in logs.messages if "verify=false" in m]
    assert "'extras_test'" in warning
    assert "NOT checked" in warning


def test_verify_path_and_form_prefix(monkeypatch, pem, tmp_path):
    assert settings_for(monkeypatch, {"verify": pem}).verify == pem
    assert settings_for(monkeypatch, {"verify": str(tmp_path)}).verify == str(tmp_path)  # a CA directory
    assert settings_for(monkeypatch, {"extra__movielens__verify": pem}).verify == pem
    # the plain name wins over the form's prefixed copy; an empty form value counts as unset
    assert settings_for(monkeypatch, {"extra__movielens__verify": "false", "verify": pem}).verify == pem
    assert settings_for(monkeypatch, {"verify": ""}).verify is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"verify": "/nonexistent/ca.pem"},
            r"extra 'verify' is neither true/false nor an existing CA bundle",
        ),
        ({"verify": 5}, r"extra 'verify' must be true, false or a CA bundle path, got a int"),
        (
            {"cert": "/nonexistent/client.pem"},
            r"extra 'cert' is not an existing file: '/nonexistent/client.pem'",
        ),
        ({"cert": ["a", "b"]}, r"extra 'cert' must be a file path, got a list"),
        ({"key": "/tmp"}, r"extra 'key' is set without 'cert'"),
        ({"headers": "{not json"}, r"extra 'headers' is not valid JSON"),
        ({"headers": ["X-A", "b"]}, r"extra 'headers' must be a JSON object .* got a list"),
        ({"headers": {"X-Count": 3}}, r"extra 'headers': the value of 'X-Count' must be a string, got a int"),
        ({"headers": {"Bad Name": "x"}}, r"extra 'headers' has an invalid name 'Bad Name'"),
        (
            {"headers": {"X-A": "a\r\nInjected: yes"}},
            r"extra 'headers': the value of 'X-A' contains a line break",
        ),
        (
            {"headers": {"authorization": "Bearer abc"}},
            r"extra 'headers' may not set 'authorization'; credentials come from",
        ),
        (
            {"headers": {"Proxy-Authorization": "Basic abc"}},
            r"extra 'headers' may not set 'Proxy-Authorization'",
        ),
    ],
)
def test_bad_extras_are_named(monkeypatch, extra, message):
    with pytest.raises(MovielensConnectionExtraError, match=rf"^Connection 'extras_test': {message}"):
        settings_for(monkeypatch, extra)


def test_extra_errors_are_movielens_errors_and_value_errors():
    assert issubclass(MovielensConnectionExtraError, MovielensError)
    assert issubclass(MovielensConnectionExtraError, ValueError)


def test_bad_header_json_does_not_quote_the_text(monkeypatch):
    with pytest.raises(MovielensConnectionExtraError) as info:
        settings_for(monkeypatch, '{"headers": "{\\"X-Api-Key\\": \\"tok-9f8e7d6c5b"}')
    assert "tok-9f8e7d6c5b" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_cert_and_key(monkeypatch, pem, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("k")
    assert settings_for(monkeypatch, {"cert": pem}).cert == pem
    assert settings_for(monkeypatch, {"cert": pem, "key": str(key)}).cert == (pem, str(key))


def test_headers_are_added_and_their_values_masked(monkeypatch):
    settings = settings_for(
        monkeypatch, {"headers": json.dumps({"X-Api-Key": "k3y-v4lue-0001", "X-Team": "ml"})}
    )
    assert settings.headers["X-Api-Key"] == "k3y-v4lue-0001"
    assert settings.headers["X-Team"] == "ml"
    assert settings.headers["Accept"] == "application/json"
    assert settings.redactor("echo k3y-v4lue-0001") == "echo ***"
    assert settings.redactor("team ml") == "team ml"  # too short to be a secret worth masking
    # an object works as well as the form's JSON text, and may override the default headers
    assert settings_for(monkeypatch, {"headers": {"Accept": "application/x-ndjson"}}).headers["Accept"] == (
        "application/x-ndjson"
    )


def test_unknown_extras_warn_by_name_only(monkeypatch, logs):
    settings_for(monkeypatch, {"verfiy": "s3cr3t-value", "timeout": 5, "verify": True})
    (warning,) = [m for m in logs.messages if "unknown extra" in m]
    assert "unknown extra(s) timeout, verfiy (" in warning
    assert "s3cr3t-value" not in warning
    assert "known: verify, cert, key, headers" in warning


def test_the_hook_reports_a_bad_extra_clearly(monkeypatch):
    set_connection(monkeypatch, host="127.0.0.1", port=5000, extra=json.dumps({"verify": "/nope.pem"}))
    with pytest.raises(MovielensConnectionExtraError, match="extra 'verify'"):
        MovielensHook().has_ratings("2024-01-01", "2024-01-02")
    ok, message = MovielensHook().test_connection()
    assert not ok
    assert "extra 'verify'" in message
