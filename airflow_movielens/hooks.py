"""Hooks for the MovieLens ratings API (see ``contracts/movielens_contract/openapi.yaml``).

:class:`MovielensHook` (``requests``, for tasks) turns an Airflow connection into an authenticated
``requests`` session and pages through ``/ratings`` and ``/movies`` without ever losing or repeating a record:

* by default (``batch_size=None``) the page size starts small and grows page by page up to a bounded
  maximum or the server's own cap, so a large window costs about what one request would; an integer
  ``batch_size`` is sent as ``limit`` on every request;
* it advances by the number of records actually received, so a server that caps ``limit`` (echoed in
  the envelope) or rejects it with a 400 naming ``limit`` is handled transparently;
* it stops when the offset reaches ``total``; an empty page before that, a change of ``total``, a page
  longer than asked for or records out of the contract's order raise
  :class:`~airflow_movielens.exceptions.MovielensDataChangedError` instead of returning a wrong listing;
* every request has connect/read timeouts and is retried (exponential backoff with jitter, ``Retry-After``
  honoured) on connection errors, timeouts, truncated bodies, 429 and 5xx gateway/server errors; other
  4xx and TLS failures (untrusted or refused certificates) fail at once.

:class:`MovielensAsyncHook` (``httpx``, for the triggerer's event loop) answers ``has_ratings`` the
same way without blocking. Both read the connection through :mod:`airflow_movielens.connection`
(fields and the ``verify``/``cert``/``key``/``headers`` extras) and share
:mod:`airflow_movielens.protocol` (retry policy, errors, envelope) and the masking of credentials.
"""

from __future__ import annotations

import contextlib
import inspect
import operator
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from types import TracebackType
from typing import Any

import httpx
import orjson
import requests
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from airflow_movielens import CONNECTION_FORM_FIELDS, CONNECTION_UI_FIELD_BEHAVIOUR
from airflow_movielens.compat import BaseHook, aget_connection, mask_secret
from airflow_movielens.connection import ConnectionLike, ConnectionSettings, connection_settings
from airflow_movielens.dates import DateLike, coerce_window
from airflow_movielens.exceptions import (
    MovielensAPIError,
    MovielensConnectionError,
    MovielensDataChangedError,
    MovielensError,
    MovielensResponseError,
)
from airflow_movielens.protocol import (
    RETRY_STATUSES,
    Record,
    RetryPolicy,
    api_error,
    check_timeout,
    decode_body,
    is_int,
    is_number,
    is_transient,
    parse_envelope,
    parse_retry_after,
    transport_failure_message,
    without_userinfo,
)
from airflow_movielens.redaction import Redactor

__all__ = [
    "RETRY_STATUSES",
    "MovielensAsyncHook",
    "MovielensHook",
    "RatingsPage",
    "Record",
    "parse_retry_after",
]


@dataclass(frozen=True)
class RatingsPage:
    """One page of a listing: its records, the offset of its first record and the listing's total."""

    records: list[Record]
    offset: int
    total: int


# Sort keys of the contract's listing order; used to detect repeated or missing records between pages.
_RATINGS_ORDER = ("timestamp", "userId", "movieId")
_MOVIES_ORDER = ("movieId",)

#: Adaptive paging (``batch_size=None``): the first page's size, small so a small window stays cheap.
ADAPTIVE_FIRST_PAGE = 1_000
#: Each full page multiplies the next page's size by this, so a large window needs few requests.
ADAPTIVE_GROWTH = 4
#: The largest adaptive page. A page is held in memory (about 8 MB of ratings at this size), and
#: larger pages are no faster: per request the cost is already a few percent, and a page that no
#: longer fits the CPU caches makes decoding and checking it slower (fetching 200,000 ratings from
#: the reference server on loopback, pages of 100,000 took about 15% longer than pages of 20,000).
ADAPTIVE_MAX_PAGE = 20_000


class _MovielensHookBase(BaseHook):
    """What the sync and async hooks share: the connection type, options, retries and masking.

    :param conn_id: the Airflow connection (type ``movielens``), default ``movielens_default``.
    :param timeout: ``(connect, read)`` timeouts in seconds (a pair, as tuple or list, or one number for
        both), always applied.
    :param max_attempts: attempts per request including the first (``1`` disables retries).
    :param backoff_base: first backoff wait in seconds; doubles on every retry, plus up to
        ``backoff_base`` seconds of random jitter (so workers that failed together retry apart).
    :param backoff_max: upper bound of one backoff wait in seconds (jitter included).
    :param max_retry_after: upper bound in seconds for a server-requested ``Retry-After`` wait.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "movielens_default"
    conn_type = "movielens"
    hook_name = "MovieLens"

    DEFAULT_SCHEMA = "http"
    DEFAULT_HOST = "movielens"
    DEFAULT_PORT = 5000

    def __init__(  # no defaults: each hook's signature declares (and documents) its own
        self,
        conn_id: str,
        *,
        timeout: float | tuple[float, float] | list[float],
        max_attempts: int,
        backoff_base: float,
        backoff_max: float,
        max_retry_after: float,
    ) -> None:
        super().__init__()
        self.retry_policy = RetryPolicy(max_attempts, backoff_base, backoff_max, max_retry_after)
        self.conn_id = conn_id
        self.timeout: tuple[float, float] = check_timeout(timeout)
        self.max_attempts = self.retry_policy.max_attempts
        self.backoff_base = self.retry_policy.backoff_base
        self.backoff_max = self.retry_policy.backoff_max
        self.max_retry_after = self.retry_policy.max_retry_after
        self._redactor = Redactor()  # replaced by one for the connection's credentials on first use

    def redact(self, text: str) -> str:
        """``text`` with every form of the connection's secrets masked (once the connection was read)."""
        return self._redactor(text)

    def _settings(self, conn: ConnectionLike) -> ConnectionSettings:
        """The connection's settings; its secrets are registered with Airflow's log masking too."""
        settings = connection_settings(conn, self.conn_id)
        self._redactor = settings.redactor
        if settings.redactor.forms:  # Airflow's task logs mask them too, even in other libraries' lines
            with contextlib.suppress(Exception):  # masking must never fail a fetch
                mask_secret(list(settings.redactor.forms))
        return settings

    @contextlib.contextmanager
    def _redacting(self) -> Iterator[None]:
        """Mask the credentials in any exception leaving the block, before anyone formats or logs it.

        The one place the hooks mask: around each attempt (so retry warnings quote masked errors)
        and around each public call. Only body excerpts are masked earlier, before they are cut.
        """
        try:
            yield
        except Exception as exc:
            self._redactor.scrub(exc)
            raise

    def _retry_options(self, max_attempts: int | None) -> dict[str, Any]:
        """tenacity options of one request: the shared policy, this hook's retry warning."""
        return {
            "stop": stop_after_attempt(max_attempts or self.max_attempts),
            "wait": self.retry_policy.wait,
            "retry": retry_if_exception(is_transient),
            "before_sleep": self._log_retry,
            "reraise": True,
        }

    def _log_retry(self, retry_state: RetryCallState) -> None:
        assert retry_state.outcome is not None
        assert retry_state.next_action is not None
        exc = retry_state.outcome.exception()
        reason = str(exc) if isinstance(exc, MovielensError) else type(exc).__name__
        wait = retry_state.next_action.sleep
        self.log.warning(
            "Attempt %d/%d failed (%s); retrying in %.2f s",
            retry_state.attempt_number,
            self.max_attempts,
            reason,  # masked: _get_once masks its errors
            wait,
        )


class MovielensHook(_MovielensHookBase):
    """Talk to the MovieLens ratings API through an Airflow connection.

    :param conn_id: the Airflow connection (type ``movielens``), default ``movielens_default``.
    :param timeout: ``(connect, read)`` timeouts in seconds (or one number for both), always applied.
    :param max_attempts: attempts per request including the first (``1`` disables retries).
    :param backoff_base: first backoff wait in seconds; doubles on every retry, plus up to
        ``backoff_base`` seconds of random jitter (so workers that failed together retry apart).
    :param backoff_max: upper bound of one backoff wait in seconds (jitter included).
    :param max_retry_after: upper bound in seconds for a server-requested ``Retry-After`` wait.
    :param sleep: the function that waits between attempts (tests inject a recorder).

    The connection's meaning (fields and the ``verify``/``cert``/``key``/``headers`` extras) is
    :mod:`airflow_movielens.connection`'s. Use the hook as a context manager (or call :meth:`close`)
    to release the HTTP session::

        with MovielensHook("movielens_default") as hook:
            for rating in hook.get_ratings("2024-01-01", "2024-01-02"):
                ...
    """

    def __init__(
        self,
        conn_id: str = _MovielensHookBase.default_conn_name,
        *,
        timeout: float | tuple[float, float] | list[float] = (10.0, 60.0),
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            conn_id,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
        )
        self._sleep = sleep
        self._conn: tuple[requests.Session, str] | None = None
        self._tls: dict[str, Any] = {}

    # -- Airflow connection form ------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form on Airflow 2.11 (Airflow 3 reads the same data from ``get_provider_info``)."""
        return ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extras' fields of the connection form on Airflow 2.11 (Airflow 3 reads ``conn-fields``)."""
        return connection_form_widgets()

    # -- session ----------------------------------------------------------------------------------

    def get_conn(self) -> tuple[requests.Session, str]:
        """Return the cached ``(session, base_url)``, reading the connection on first use."""
        if self._conn is None:
            settings = self._settings(self.get_connection(self.conn_id))
            session = requests.Session()
            session.headers.update(settings.headers)
            session.auth = settings.auth
            # Given with each request, not as session.verify: requests lets REQUESTS_CA_BUNDLE override
            # a session's verify (even false or a path), but not a request's (only its default, true).
            self._tls = {"verify": settings.verify, "cert": settings.cert}
            self._conn = (session, settings.base_url)
        return self._conn

    def close(self) -> None:
        """Close the HTTP session; the next call opens a new one."""
        if self._conn is not None:
            self._conn[0].close()
        self._conn = None

    def __enter__(self) -> MovielensHook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public API -------------------------------------------------------------------------------

    def get_ratings(
        self, start_date: DateLike = None, end_date: DateLike = None, batch_size: int | None = None
    ) -> Iterator[Record]:
        """Yield the ratings with ``start_date <= timestamp < end_date`` (UTC dates), in listing order.

        :param batch_size: records asked for per page. ``None`` (the default) pages adaptively: the
            first page asks for :data:`ADAPTIVE_FIRST_PAGE` records and each full page multiplies the
            next one by :data:`ADAPTIVE_GROWTH`, up to :data:`ADAPTIVE_MAX_PAGE` (a page is held in
            memory: about 8 MB of ratings at that size) or the largest page the server accepts, once
            it tells (an echoed smaller ``limit``, a 400 naming ``max_limit``) or serves a short page;
            a large window then costs about what one request for it would. An integer is sent as
            ``limit`` on every request, exactly (only lowered when the server caps or rejects it).

        Arguments are validated now, before any request; records are fetched lazily page by page.
        """
        pages = self.iter_ratings_pages(start_date, end_date, batch_size)
        return chain.from_iterable(page.records for page in pages)  # no Python frame per record

    def iter_ratings_pages(
        self, start_date: DateLike = None, end_date: DateLike = None, batch_size: int | None = None
    ) -> Iterator[RatingsPage]:
        """Yield the pages of ``/ratings`` for the window (for progress reporting and streaming).

        ``batch_size`` as in :meth:`get_ratings`: ``None`` (default) grows the pages, an integer fixes them.
        """
        params = _window_params(start_date, end_date)
        check_batch_size(batch_size)
        return self._paginate("/ratings", params, batch_size, _RATINGS_ORDER)

    def get_movies(self, batch_size: int | None = None) -> Iterator[Record]:
        """Yield every movie (``movieId``, ``title``, ``genres``) in ``movieId`` order.

        ``batch_size`` as in :meth:`get_ratings`: ``None`` (default) grows the pages, an integer fixes them.
        """
        check_batch_size(batch_size)
        pages = self._paginate("/movies", {}, batch_size, _MOVIES_ORDER)
        return chain.from_iterable(page.records for page in pages)

    def has_ratings(self, start_date: DateLike = None, end_date: DateLike = None) -> bool:
        """Whether the window holds at least one rating; one request with ``limit=1``."""
        params = _window_params(start_date, end_date)
        with self._redacting():
            body, url = self._get_json("/ratings", {**params, "offset": 0, "limit": 1})
            _, total, _ = parse_envelope(body, url)
        return total > 0

    def test_connection(self) -> tuple[bool, str]:
        """Check credentials and reachability with one cheap request (``GET /ratings?limit=1``)."""
        try:
            with self._redacting():
                body, url = self._get_json("/ratings", {"offset": 0, "limit": 1}, max_attempts=1)
                _, total, _ = parse_envelope(body, url)
        except MovielensError as exc:
            return False, str(exc)  # masked by _redacting, like every error of the hook
        except Exception as exc:  # the connection form shows the message instead of a stack trace
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"Connected to {self.get_conn()[1]}: {total} ratings available."

    # -- requests and retries ---------------------------------------------------------------------

    def _get_json(
        self, path: str, params: dict[str, Any], *, max_attempts: int | None = None
    ) -> tuple[Any, str]:
        """GET ``path`` with retries; return the decoded JSON body and the (credential-free) URL."""
        session, base_url = self.get_conn()
        url = base_url + path
        retrying = Retrying(sleep=self._sleep, **self._retry_options(max_attempts))
        try:
            with self._redacting():
                return retrying(self._get_once, session, url, params)
        except requests.RequestException as exc:
            attempts = retrying.statistics["attempt_number"]
            message = self._redactor(transport_failure_message(url, attempts, exc, self.timeout))
        # Raised outside the handler, so the error has no __context__ holding the unmasked request.
        raise MovielensConnectionError(message)

    def _get_once(self, session: requests.Session, url: str, params: dict[str, Any]) -> tuple[Any, str]:
        """One GET; any error it raises is masked already, so retry warnings can quote it."""
        with self._redacting():
            response = session.get(url, params=params, timeout=self.timeout, **self._tls)
            safe_url = without_userinfo(response.url)  # the final URL: a redirect may have added some
            if not response.ok:
                raise api_error(
                    response.status_code,
                    response.reason,
                    response.content,
                    response.headers,
                    safe_url,
                    self._redactor,
                )
            return decode_body(response.status_code, response.content, safe_url, self._redactor), safe_url

    # -- pagination -------------------------------------------------------------------------------

    def _paginate(
        self, path: str, params: dict[str, Any], batch_size: int | None, order: tuple[str, ...]
    ) -> Iterator[RatingsPage]:
        with self._redacting():  # errors name URLs and server messages: mask them
            yield from self._pages(path, params, batch_size, order)

    def _pages(
        self, path: str, params: dict[str, Any], batch_size: int | None, order: tuple[str, ...]
    ) -> Iterator[RatingsPage]:
        """Page through ``path``; ``batch_size=None`` grows the page size (see :meth:`get_ratings`).

        ``limit`` is the page size asked for, ``ceiling`` the largest this fetch may still grow to:
        a server's echoed cap, a rejected limit or a short page lowers or freezes it for good, so no
        limit the server refused is ever asked for again. Every check is the same in both modes.
        """
        adaptive = batch_size is None
        limit = ADAPTIVE_FIRST_PAGE if batch_size is None else batch_size
        ceiling = ADAPTIVE_MAX_PAGE  # read in adaptive mode only
        offset = 0
        total: int | None = None
        last_key: tuple[Any, ...] | None = None
        while total is None or offset < total:
            # Adaptive pages never ask for more than the rest of the listing (a rejecting server
            # would answer the excess with a needless 400); an explicit batch size is sent as given.
            asked = limit if not adaptive or total is None else min(limit, total - offset)
            try:
                body, url = self._get_json(path, {**params, "offset": offset, "limit": asked})
            except MovielensAPIError as exc:
                if exc.status_code != 400 or not _is_about_limit(exc) or asked <= 1:
                    raise
                if exc.max_limit is not None and exc.max_limit < asked:
                    new_limit = exc.max_limit
                else:
                    new_limit = max(1, asked // 2)
                # Growing pages reach any server's cap by design: expected, so not a warning then.
                (self.log.info if adaptive else self.log.warning)(
                    "The server rejected limit=%d (%s); continuing with limit=%d",
                    asked,
                    exc.message,
                    new_limit,
                )
                limit = ceiling = new_limit
                continue
            records, page_total, echoed = parse_envelope(body, url)
            if total is None:
                total = page_total
            elif page_total != total:
                raise MovielensDataChangedError(
                    f"GET {url}: total changed from {total} to {page_total} while paging; the data changed "
                    "under the fetch, rerun to get a consistent listing"
                )
            if len(records) > asked:
                raise MovielensDataChangedError(
                    f"GET {url}: the page holds {len(records)} records, more than the {asked} asked for"
                )
            if echoed is not None and echoed < asked:
                if len(records) > echoed:
                    raise MovielensDataChangedError(
                        f"GET {url}: the page holds {len(records)} records, more than its own limit {echoed}"
                    )
                self.log.info("The server caps the page size at %d (asked for %d)", echoed, asked)
                limit = ceiling = echoed
            if not records:
                if offset < total:
                    raise MovielensDataChangedError(
                        f"GET {url}: empty page at offset {offset} although total is {total}; the listing "
                        "shrank under the fetch"
                    )
                return
            if offset + len(records) > total:
                raise MovielensDataChangedError(
                    f"GET {url}: records {offset}..{offset + len(records) - 1} exceed total {total}"
                )
            last_key = _check_order(records, order, url, offset, last_key)
            yield RatingsPage(records=records, offset=offset, total=total)
            offset += len(records)
            if adaptive and offset < total:
                if len(records) < asked:  # a short page: the server caps without saying so
                    ceiling = limit
                limit = min(limit * ADAPTIVE_GROWTH, ceiling)


#: What ``hook_params`` may hold: the hook's keyword-only arguments (the connection is ``conn_id``).
HOOK_PARAMS = frozenset(
    name
    for name, parameter in inspect.signature(MovielensHook.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


def check_hook_params(
    hook_params: Mapping[str, Any] | None, *, for_triggerer: bool = False
) -> dict[str, Any]:
    """Validate ``hook_params`` (keyword arguments for :class:`MovielensHook`) now; return a copy.

    Operators call it when constructed, so a misspelt or invalid parameter fails when the DAG file is
    parsed, with a ``ValueError`` naming it, not at the first request (or in the triggerer).
    ``for_triggerer``: the parameters go to :class:`~airflow_movielens.triggers.MovielensRatingsTrigger`,
    whose kwargs the triggerer stores as JSON. The copy is then their JSON form (a ``timeout`` tuple
    becomes a list, which the hook accepts), and a value without one (the ``sleep`` function) is a
    ``ValueError`` naming it: it cannot cross into the triggerer process.
    """
    if hook_params is None:
        return {}
    if not isinstance(hook_params, Mapping):
        raise ValueError(
            f"hook_params must be a dict of MovielensHook arguments, got {type(hook_params).__name__}"
        )
    params = dict(hook_params)
    unknown = sorted(set(params) - HOOK_PARAMS, key=str)
    if unknown:
        raise ValueError(
            f"hook_params: unknown {', '.join(map(repr, unknown))}; MovielensHook takes "
            f"{', '.join(sorted(HOOK_PARAMS))}"
        )
    if for_triggerer:
        unsendable = [
            f"{key!r} ({type(value).__name__})" for key, value in params.items() if not _is_json(value)
        ]
        if unsendable:
            raise ValueError(
                f"hook_params {', '.join(unsendable)} cannot be sent to the triggerer: with "
                "deferrable=True the hook runs in the triggerer process, which receives only JSON "
                "values. Leave it out, or use deferrable=False."
            )
        params = orjson.loads(orjson.dumps(params))
    try:
        MovielensHook(**params)  # the hook's own checks; it reads no connection until its first request
    except ValueError as exc:
        raise ValueError(f"hook_params: {exc}") from None
    return params


def _is_json(value: Any) -> bool:
    if callable(value):  # a function (or a callable list, as tests' recorders are) stays in its process
        return False
    try:
        orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return False
    return True


class MovielensAsyncHook(_MovielensHookBase):
    """The MovieLens API from an asyncio event loop (httpx): what the deferrable trigger uses.

    Built from the same connection settings, retry policy, errors and redaction as
    :class:`MovielensHook`, so a check behaves alike in a task and in the triggerer; only the HTTP
    library differs. It never blocks the loop, so one triggerer runs hundreds of checks at once.
    Parameters as for :class:`MovielensHook`, except:

    :param sleep: the coroutine function that waits between attempts (tests inject a recorder).
    :param transport: an httpx transport to use instead of the network (tests only).

    Use it as an async context manager (or await :meth:`aclose`)::

        async with MovielensAsyncHook("movielens_default") as hook:
            found = await hook.has_ratings("2024-01-01", "2024-01-02")
    """

    def __init__(
        self,
        conn_id: str = _MovielensHookBase.default_conn_name,
        *,
        timeout: float | tuple[float, float] | list[float] = (10.0, 60.0),
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            conn_id,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
        )
        self._sleep = sleep
        self._transport = transport
        self._client: tuple[httpx.AsyncClient, str] | None = None

    async def get_async_conn(self) -> tuple[httpx.AsyncClient, str]:
        """Return the cached ``(client, base_url)``, reading the connection (async-safely) on first use."""
        if self._client is None:
            settings = self._settings(await aget_connection(self.conn_id))
            client = httpx.AsyncClient(
                auth=settings.auth,
                headers=settings.headers,
                verify=settings.ssl_context(),
                timeout=httpx.Timeout(self.timeout[1], connect=self.timeout[0]),
                follow_redirects=True,  # as requests does for the sync hook
                transport=self._transport,
            )
            self._client = (client, settings.base_url)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client; the next call opens a new one."""
        if self._client is not None:
            await self._client[0].aclose()
        self._client = None

    async def __aenter__(self) -> MovielensAsyncHook:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def has_ratings(self, start_date: DateLike = None, end_date: DateLike = None) -> bool:
        """Whether the window holds at least one rating; one request with ``limit=1`` (retried)."""
        params = _window_params(start_date, end_date)
        with self._redacting():
            body, url = await self._get_json("/ratings", {**params, "offset": 0, "limit": 1})
            _, total, _ = parse_envelope(body, url)
        return total > 0

    async def _get_json(self, path: str, params: dict[str, Any]) -> tuple[Any, str]:
        client, base_url = await self.get_async_conn()
        url = base_url + path
        options = self._retry_options(None)
        retrying = (
            AsyncRetrying(**options) if self._sleep is None else AsyncRetrying(sleep=self._sleep, **options)
        )
        try:
            with self._redacting():
                result: tuple[Any, str] = await retrying(self._get_once, client, url, params)
                return result
        except httpx.HTTPError as exc:
            attempts = retrying.statistics["attempt_number"]
            message = self._redactor(transport_failure_message(url, attempts, exc, self.timeout))
        raise MovielensConnectionError(message)  # outside the handler: no __context__ with the request

    async def _get_once(self, client: httpx.AsyncClient, url: str, params: dict[str, Any]) -> tuple[Any, str]:
        with self._redacting():
            response = await client.get(url, params=params)
            safe_url = without_userinfo(str(response.url))
            if response.is_error:  # 4xx/5xx, like requests' `not response.ok`
                raise api_error(
                    response.status_code,
                    response.reason_phrase,
                    response.content,
                    response.headers,
                    safe_url,
                    self._redactor,
                )
            return decode_body(response.status_code, response.content, safe_url, self._redactor), safe_url


def connection_form_widgets() -> dict[str, Any]:
    """Airflow 2.11's form fields for the extras in :data:`~airflow_movielens.CONNECTION_FORM_FIELDS`.

    Imported lazily: only the webserver has (and needs) wtforms. flask_appbuilder's widget is used
    where it is installed (2.11's webserver); Airflow 3.0 and 3.1 read these fields too, but run
    without flask_appbuilder unless the FAB auth manager is installed, and drop the whole connection
    type when this method fails to import, so its absence must not fail.
    """
    from wtforms import StringField

    try:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    except ImportError:
        widget: dict[str, Any] = {}
    else:
        widget = {"widget": BS3TextFieldWidget()}
    return {
        name: StringField(spec["label"], description=spec["description"], **widget)
        for name, spec in CONNECTION_FORM_FIELDS.items()
    }


def ui_field_behaviour() -> dict[str, Any]:
    """Connection-form behaviour of the ``movielens`` type (labels, placeholders, hidden fields)."""
    spec = CONNECTION_UI_FIELD_BEHAVIOUR
    return {
        "hidden_fields": list(spec["hidden-fields"]),
        "relabeling": dict(spec["relabeling"]),
        "placeholders": dict(spec["placeholders"]),
    }


def _is_about_limit(exc: MovielensAPIError) -> bool:
    if exc.parameter is not None:
        return exc.parameter == "limit"
    return exc.max_limit is not None or "limit" in exc.message.lower()


_NUMBER_TYPES = frozenset({int, float})


def _check_order(
    records: list[Record], order: tuple[str, ...], url: str, offset: int, last_key: tuple[Any, ...] | None
) -> tuple[Any, ...]:
    """Check that ``records`` continue the listing in strictly increasing ``order``; return the last key.

    The common case (well-formed, ordered records) is checked with C-level ``map`` calls, about five
    times cheaper per record than a Python loop; any anomaly is re-checked record by record so the
    error names the exact record.
    """
    try:
        keys: list[tuple[Any, ...]] = (
            list(map(operator.itemgetter(*order), records))
            if len(order) > 1
            else [(record[order[0]],) for record in records]
        )
        well_typed = set(map(type, chain.from_iterable(keys))) <= _NUMBER_TYPES
        ordered = all(map(operator.lt, keys, islice(keys, 1, None)))
        if well_typed and ordered and (last_key is None or last_key < keys[0]):
            return keys[-1]
    except (KeyError, TypeError):
        pass
    for index, record in enumerate(records):
        key = _order_key(record, order, url, offset + index)
        if last_key is not None and not last_key < key:
            raise MovielensDataChangedError(
                f"GET {url}: record {offset + index} is not after the previous one in "
                f"({', '.join(order)}) order; the server repeated or reordered records"
            )
        last_key = key
    # Never fails: records is never empty here (and a page the walk accepts passes the fast path).
    assert last_key is not None  # pragma: no mutate
    return last_key


def _order_key(record: Record, order: tuple[str, ...], url: str, position: int) -> tuple[Any, ...]:
    values = []
    for field in order:
        value = record.get(field)
        if not is_number(value):
            raise MovielensResponseError(f"GET {url}: record {position} has no numeric {field!r}")
        values.append(value)
    return tuple(values)


def _window_params(start_date: DateLike, end_date: DateLike) -> dict[str, Any]:
    start, end = coerce_window(start_date, end_date)
    params: dict[str, Any] = {}
    if start is not None:
        params["start_date"] = start
    if end is not None:
        params["end_date"] = end
    return params


def check_batch_size(batch_size: int | None) -> None:
    """``None`` (adaptive paging) or an integer >= 1; anything else is refused before any request."""
    if batch_size is not None and (not is_int(batch_size) or batch_size < 1):
        raise ValueError(f"batch_size must be None (adaptive) or an integer >= 1, got {batch_size!r}")
