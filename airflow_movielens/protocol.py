"""The API's wire rules shared by the sync and async hooks: retries, errors and the page envelope.

One copy of: which failures are transient (:func:`is_transient`), how long to wait before the next
attempt (:class:`RetryPolicy`: exponential backoff with jitter, or the server's ``Retry-After`` capped
by ``max_retry_after``), how an HTTP error status becomes a
:class:`~airflow_movielens.exceptions.MovielensAPIError` (:func:`api_error`), and what a valid page
envelope is (:func:`parse_envelope`). The hooks only move bytes with their HTTP library.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import repeat
from typing import Any, TypeGuard
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import requests
from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.wait import wait_base

from airflow_movielens.exceptions import MovielensAPIError, MovielensResponseError
from airflow_movielens.redaction import Redactor

Record = dict[str, Any]

#: HTTP statuses worth retrying: rate limiting and transient server/gateway failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Transport failures worth retrying: refused/reset connections, timeouts, truncated bodies.
TRANSIENT_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    httpx.TransportError,
    httpx.DecodingError,
)

#: Transport errors that are mistakes, not weather: an unknown URL scheme, a malformed request.
_PERMANENT_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)

#: Failures of any library that are timeouts (their message names the configured timeouts).
TIMEOUT_ERRORS: tuple[type[Exception], ...] = (requests.Timeout, httpx.TimeoutException)

_RETRY_AFTER_SECONDS = re.compile(r"\d+(\.\d+)?")
_NOT_JSON = object()  # what an error body decodes to when it is not JSON


class UndecodableBody(MovielensResponseError):
    """A 200 whose body is not JSON: most often a truncated transfer, so it is retried like one."""


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part, so it can go into errors and logs."""
    if "@" not in url:  # the common case costs one scan of a short string
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns ``None`` when the header is absent or unreadable; a date in the past gives ``0``.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _RETRY_AFTER_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` (certificate not trusted, client certificate refused...), if any.

    Such a failure is configuration, not weather: retrying it only delays the error. An EOF in the
    middle of a TLS stream is a dropped connection and is not counted.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and not isinstance(
            current, (ssl.SSLEOFError, ssl.SSLZeroReturnError)
        ):
            return current
        nested = [arg for arg in current.args if isinstance(arg, BaseException)]  # urllib3 wraps in args
        current = current.__cause__ or current.__context__ or (nested[0] if nested else None)
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether another attempt may succeed: 429/5xx answers, dropped connections, timeouts."""
    if isinstance(exc, MovielensAPIError):
        return exc.status_code in RETRY_STATUSES
    if isinstance(exc, UndecodableBody):
        return True
    return (
        isinstance(exc, TRANSIENT_TRANSPORT_ERRORS)
        and not isinstance(exc, _PERMANENT_TRANSPORT_ERRORS)
        and tls_failure(exc) is None
    )


def transport_failure_message(
    url: str, attempts: int, exc: BaseException, timeout: tuple[float, float]
) -> str:
    """The text of the ``MovielensConnectionError`` for a request that never got an answer."""
    message = f"GET {url} failed after {attempts} attempt(s): {type(exc).__name__}"
    if isinstance(exc, TIMEOUT_ERRORS):
        return message + f" (timeouts: connect {timeout[0]:g} s, read {timeout[1]:g} s)"
    detail = str(exc) or repr(exc)
    tls = tls_failure(exc)
    if tls is not None:
        reason = tls.reason or type(tls).__name__
        return (
            f"{message}: TLS failure ({reason}: {tls}); check the connection's 'verify' "
            f"(CA bundle), 'cert' and 'key' extras. {detail}"
        )
    return f"{message}: {detail}"


def _exponential_jitter(base: float, cap: float) -> wait_base:
    """tenacity's ``base * 2**(attempt-1) + uniform(0, base)``, capped at ``cap``: floor plus jitter.

    Not ``wait_random_exponential``: its "full jitter" waits anywhere in ``[0, base * 2**n]``, so a
    retry may come at once, well before the exponential floor a struggling server is given.
    """
    try:
        return wait_exponential_jitter(multiplier=base, max=cap, jitter=base)
    except TypeError:  # tenacity < 9.1 names the multiplier ``initial``
        return wait_exponential_jitter(initial=base, max=cap, jitter=base)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is retried; validated on creation.

    :param max_attempts: attempts per request including the first (``1`` disables retries).
    :param backoff_base: first backoff wait in seconds; doubles on every retry, plus up to
        ``backoff_base`` seconds of random jitter (so workers that failed together retry apart).
    :param backoff_max: upper bound of one backoff wait in seconds (jitter included).
    :param max_retry_after: upper bound in seconds for a server-requested ``Retry-After`` wait.
    """

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if not is_int(self.max_attempts) or self.max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, got {self.max_attempts!r}")
        for name in ("backoff_base", "backoff_max", "max_retry_after"):
            value = getattr(self, name)
            if not is_number(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))

    def wait(self, retry_state: RetryCallState) -> float:
        """Backoff before the next attempt: the server's ``Retry-After`` (capped) or exponential + jitter."""
        assert retry_state.outcome is not None  # tenacity calls wait after an attempt
        exc = retry_state.outcome.exception()
        if isinstance(exc, MovielensAPIError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        return float(_exponential_jitter(self.backoff_base, self.backoff_max)(retry_state))


def check_timeout(timeout: object) -> tuple[float, float]:
    """``(connect, read)`` from one positive number or a pair (tuple or 2-item list, as JSON gives it)."""
    timeouts = timeout if isinstance(timeout, (tuple, list)) else (timeout, timeout)
    if len(timeouts) != 2 or not all(is_number(t) and t > 0 for t in timeouts):
        raise ValueError(f"timeout must be a positive number or a (connect, read) pair, got {timeout!r}")
    return (float(timeouts[0]), float(timeouts[1]))


def decode_body(status: int, content: bytes, safe_url: str, redactor: Redactor) -> Any:
    """The JSON of a successful answer; a body that is not JSON raises :class:`UndecodableBody`."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass  # raised below, so the error's __context__ is not the decoder's (it holds the body)
    excerpt = redactor.excerpt(content, 80)
    raise UndecodableBody(f"GET {safe_url}: HTTP {status} body is not JSON: {excerpt!r}")


def api_error(
    status: int,
    reason: str | None,
    content: bytes,
    headers: Mapping[str, str],
    safe_url: str,
    redactor: Redactor,
) -> MovielensAPIError:
    """The error of an HTTP error answer: server message, `parameter`, `max_limit`, Retry-After."""
    message = (reason or "").strip() or "no message"
    parameter: str | None = None
    max_limit: int | None = None
    body: Any = _NOT_JSON
    with contextlib.suppress(orjson.JSONDecodeError):  # no handler: no __context__ holding the body
        body = orjson.loads(content)
    if body is _NOT_JSON:
        text = redactor.excerpt(content, 200).strip()
        if text:
            message = text
    elif isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        if isinstance(body.get("parameter"), str):
            parameter = body["parameter"]
        if is_int(body.get("max_limit")) and body["max_limit"] >= 1:
            max_limit = body["max_limit"]
    return MovielensAPIError(
        status,
        safe_url,
        message,
        parameter=parameter,
        max_limit=max_limit,
        retry_after=parse_retry_after(headers.get("Retry-After")),  # pragma: no mutate: headers ignore case
    )


def parse_envelope(body: Any, url: str) -> tuple[list[Record], int, int | None]:
    """Validate a page envelope; return ``(records, total, echoed limit or None)``."""
    if not isinstance(body, dict):
        raise MovielensResponseError(f"GET {url}: expected a JSON object, got {type(body).__name__}")
    result = body.get("result")
    if not isinstance(result, list):
        raise MovielensResponseError(f"GET {url}: 'result' is missing or not a list")
    total = body.get("total")
    if not is_int(total) or total < 0:
        raise MovielensResponseError(f"GET {url}: 'total' is missing or not a non-negative integer")
    if not all(map(isinstance, result, repeat(dict))):  # C-level; a large page costs a few ms less
        for index, record in enumerate(result):
            if not isinstance(record, dict):
                raise MovielensResponseError(
                    f"GET {url}: record {index} of 'result' is a {type(record).__name__}, not an object"
                )
    limit = body.get("limit")
    echoed = limit if is_int(limit) and limit >= 1 else None
    return result, total, echoed
