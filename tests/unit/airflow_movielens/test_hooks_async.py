"""MovielensAsyncHook on its own (the trigger's client): the same settings as MovielensHook, httpx's
client configured from them, and errors that name the answer. HTTP is an ``httpx.MockTransport``;
the trigger tests run the hook against a real loopback server."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

import httpx
import pytest
from _loopback import envelope
from _provider_fakes import LOGIN, PASSWORD, set_connection

from airflow_movielens.exceptions import MovielensAPIError, MovielensResponseError
from airflow_movielens.hooks import MovielensAsyncHook, MovielensHook

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    set_connection(
        monkeypatch, host="ratings.example", port=8080, schema="http", login=LOGIN, password=PASSWORD
    )


def has_ratings(handler: Handler, **hook_kwargs) -> bool:
    async def check() -> bool:
        waits: list[float] = []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        hook = MovielensAsyncHook(transport=httpx.MockTransport(handler), sleep=record, **hook_kwargs)
        async with hook:
            return await hook.has_ratings("2024-01-01", "2024-01-02")

    return asyncio.run(check())


def json_response(status: int, body: object, **kwargs) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), **kwargs)


def test_the_defaults_are_the_sync_hooks():
    sync, async_ = MovielensHook(), MovielensAsyncHook()
    assert async_.retry_policy == sync.retry_policy
    assert async_.timeout == sync.timeout


def test_every_retry_setting_reaches_the_policy():
    hook = MovielensAsyncHook(max_attempts=2, backoff_base=0.5, backoff_max=7.0, max_retry_after=30.0)
    assert (
        hook.retry_policy
        == MovielensHook(max_attempts=2, backoff_base=0.5, backoff_max=7.0, max_retry_after=30.0).retry_policy
    )


def test_the_client_sends_the_credentials_and_the_window_through_the_given_transport():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, envelope(1))

    assert has_ratings(handler) is True
    (request,) = seen
    assert request.url.host == "ratings.example"
    assert request.url.path == "/ratings"
    assert dict(request.url.params) == {
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "offset": "0",
        "limit": "1",
    }
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {token}"


def test_the_client_follows_redirects_as_the_sync_hook_does():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ratings":
            return httpx.Response(307, headers={"Location": "/v2/ratings?" + str(request.url.params)})
        return json_response(200, envelope(0))

    assert has_ratings(handler) is False  # the redirected answer was read: no ratings


def test_the_client_has_the_connect_and_read_timeouts():
    async def client_timeout() -> httpx.Timeout:
        async with MovielensAsyncHook(timeout=(3.0, 0.5)) as hook:
            client, base_url = await hook.get_async_conn()
            assert base_url == "http://ratings.example:8080"
            return client.timeout

    assert asyncio.run(client_timeout()) == httpx.Timeout(0.5, connect=3.0)


def test_the_client_is_opened_once_and_again_after_aclose():
    async def clients() -> tuple[object, object, object]:
        hook = MovielensAsyncHook()
        first, _ = await hook.get_async_conn()
        again, _ = await hook.get_async_conn()
        await hook.aclose()
        assert first.is_closed
        reopened, _ = await hook.get_async_conn()
        await hook.aclose()
        return first, again, reopened

    first, again, reopened = asyncio.run(clients())
    assert again is first
    assert reopened is not first


def test_an_http_error_names_status_reason_and_url_without_credentials():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=f"denied for {PASSWORD}".encode())

    with pytest.raises(MovielensAPIError) as info:
        has_ratings(handler)
    message = str(info.value)
    assert message.startswith("MovieLens API answered HTTP 403 for GET http://ratings.example:8080/ratings?")
    assert message.endswith(": denied for ***")
    assert info.value.status_code == 403
    assert PASSWORD not in repr(info.value.args)


def test_an_http_error_without_a_body_gives_the_reason_phrase():
    with pytest.raises(MovielensAPIError) as info:
        has_ratings(lambda request: httpx.Response(404), max_attempts=1)
    assert str(info.value).endswith(": Not Found")


def test_a_body_that_is_not_json_names_the_status_the_url_and_a_masked_excerpt():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(203, content=f"<html>{PASSWORD}</html>".encode())

    with pytest.raises(MovielensResponseError) as info:
        has_ratings(handler, max_attempts=1)
    message = str(info.value)
    assert "GET http://ratings.example:8080/ratings?" in message
    assert "HTTP 203 body is not JSON: '<html>***</html>'" in message
    assert PASSWORD not in message


def test_without_an_injected_sleep_the_retry_waits_with_asyncio():
    answers = iter([httpx.Response(503), json_response(200, envelope(1))])

    async def check() -> bool:
        hook = MovielensAsyncHook(
            transport=httpx.MockTransport(lambda request: next(answers)), backoff_base=0
        )
        async with hook:  # backoff_base=0: the one wait between the attempts is asyncio.sleep(0)
            return await hook.has_ratings()

    assert asyncio.run(check()) is True
