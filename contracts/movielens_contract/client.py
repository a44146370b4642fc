"""HTTP client of the suite: one ``requests.Session``, timeouts, a request budget and a log of exchanges.

Every request the suite sends goes through :class:`ApiClient`, so the run can count its requests,
cap their number (the documented bound), cache identical idempotent GETs, and show for a failure
the exchange that revealed it, with credentials redacted.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import requests

Params = Sequence[tuple[str, str]]

AUTH_MODES = ("valid", "none", "wrong-password", "wrong-user")
WRONG_PASSWORD = "contract-suite-wrong-password"
UNKNOWN_USER = "contract-suite-unknown-user"
DEFAULT_MAX_BODY = 32 * 1024 * 1024
SHOWN_BODY_CHARS = 300
KEPT_HEADERS = ("Content-Type", "WWW-Authenticate", "Retry-After", "Content-Length")
# No answer of the contract nests deeper than 3 (envelope, result, record); anything near Python's
# recursion limit would make later comparisons, repr() or schema checks raise RecursionError.
MAX_JSON_DEPTH = 64


SHOWN_VALUE_CHARS = 40


def show(value: Any) -> str:
    """A value sent by the server, for a message: its ``repr`` (which escapes odd characters), cut short."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."


def strip_userinfo(url: str) -> str:
    """Remove ``user:password@`` from a URL, even when the password holds an unescaped ``/`` or ``#``.

    The userinfo ends at the last ``@`` before the query (a base URL has no ``@`` elsewhere), so
    ``http://u:pa/ss@host`` loses ``u:pa/ss@``, which a URL parser would read as a path instead.
    """
    scheme, sep, rest = url.partition("://")
    head = rest.split("?", 1)[0]
    if not sep or "@" not in head:
        return url
    return scheme + sep + rest[head.rindex("@") + 1 :]


def secret_forms(user: str, password: str) -> set[str]:
    """Every spelling of the password a server or proxy might echo into a report.

    The password itself, percent-encoded (``quote`` and ``quote_plus``), and ``user:password`` in
    base64, standard and URL-safe, with and without padding (what an ``Authorization: Basic``
    header carries, and what a server re-encoding it may show).
    """
    pair = f"{user}:{password}".encode()
    forms = {password, quote(password, safe=""), quote_plus(password)}
    for encoded in (base64.b64encode(pair), base64.urlsafe_b64encode(pair)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return forms


def describe_transport_error(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed request (requests' own messages run to several lines of repr)."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeout:g}s"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {timeout:g}s"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if isinstance(exc, requests.ConnectionError) and errno:
        return f"connection failed: {errno.group(0).strip()}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        incomplete = re.search(r"IncompleteRead\([^)]*\)", text)
        return f"the answer broke off{f' ({incomplete.group(0)})' if incomplete else ''}"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the body does not decode as its Content-Encoding says"
    if "BadStatusLine" in text:
        return "the answer does not start with an HTTP status line"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the server closed the connection without an answer"
    return f"{exc.__class__.__name__}: {text[:200]}"


class Redactor:
    """Removes credentials from anything that ends up in a report."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Very short secrets would blank out ordinary text; they are still never logged directly.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = strip_userinfo(text) if "://" in text else text
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


@dataclass
class Exchange:
    """One request and what came back, as shown in reports (already redacted)."""

    method: str
    url: str
    auth: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    elapsed_ms: float = 0.0
    error: str | None = None

    def summary(self) -> str:
        """One line: request, then status and a short body (or the transport error)."""
        credentials = "" if self.auth == "valid" else f" [credentials: {self.auth}]"
        if self.error:
            outcome = f"error: {self.error}"
        else:
            body = " ".join(self.body.split())
            if len(body) > 120:
                body = body[:117] + "..."
            outcome = f"{self.status} {body}".rstrip()
        return f"{self.method} {self.url}{credentials} -> {outcome}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "credentials": self.auth,
            "status": self.status,
            "headers": dict(self.headers),
            "body": self.body,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "error": self.error,
        }


class NotJson(ValueError):
    """A body the suite cannot read as JSON; the message says why in a few words."""


def _reject_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON value")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays/objects more than ``limit`` levels deep (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def parse_json(content: bytes) -> Any:
    """``content`` decoded as strict JSON (RFC 8259: UTF-8, no NaN/Infinity), nesting bounded.

    Every way a body can fail (bad bytes, bad syntax, a number Python refuses to read, nesting
    that exhausts the recursion limit) is a :class:`NotJson`, never another exception, so what a
    server sends cannot crash the suite.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotJson(f"not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise NotJson("empty body")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except NotJson:
        raise
    except json.JSONDecodeError as exc:
        raise NotJson(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise NotJson("too deeply nested to decode") from None
    except ValueError as exc:  # e.g. an integer of more digits than int() accepts
        raise NotJson(str(exc).split(":")[0][:120]) from None
    if isinstance(value, dict | list) and _deeper_than(value, MAX_JSON_DEPTH):
        raise NotJson(f"too deeply nested: more than {MAX_JSON_DEPTH} levels")
    return value


class ContractViolation(AssertionError):
    """A clause does not hold; carries the exchanges that show it."""

    def __init__(self, message: str, *exchanges: Exchange | None) -> None:
        super().__init__(message)
        self.message = message
        self.exchanges = [e for e in exchanges if e is not None]


class SuiteCannotRun(Exception):
    """The suite cannot run at all (unreachable server, rejected credentials, bad options)."""


class BudgetExhausted(RuntimeError):
    """The run tried to send more requests than its documented bound."""


@dataclass
class Reply:
    """A response, read in full up to a byte cap."""

    exchange: Exchange
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    content: bytes
    truncated: bool
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    _problem: str | None = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed by :func:`parse_json`; a :class:`ContractViolation` when it is not JSON."""
        if not self._parsed:
            self._parsed = True
            if self.truncated:
                self._problem = "response body exceeds the suite's size cap"
            else:
                try:
                    self._json = parse_json(self.content)
                except NotJson as exc:
                    self._problem = f"response body is not JSON ({exc})"
        if self._problem is not None:
            raise ContractViolation(self._problem, self.exchange)
        return self._json

    def is_json_object(self) -> bool:
        try:
            return isinstance(self.json(), dict)
        except ContractViolation:
            return False


class ApiClient:
    """The suite's only way to the server."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        timeout: float = 10.0,
        max_requests: int = 1000,
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> None:
        # credentials in the URL would go out with every request, the unauthenticated ones included
        self.base_url = strip_userinfo(base_url).rstrip("/")
        self.user = user
        self._password = password
        self.timeout = timeout
        self.max_requests = max_requests
        self.max_body_bytes = max_body_bytes
        # the password, and the Authorization header values that carry it (base64 of "user:password")
        self.redact = Redactor(secret_forms(user, password) | secret_forms(UNKNOWN_USER, password))
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies from the environment: the target is addressed directly
        self.session.headers["User-Agent"] = "movielens-contract"
        self.requests_sent = 0
        self.log: list[Exchange] = []
        self._cache: dict[tuple[str, str, tuple[tuple[str, str], ...]], Reply] = {}

    def __repr__(self) -> str:
        return f"ApiClient({self.redact(self.base_url)!r}, user={self.user!r})"

    def close(self) -> None:
        self.session.close()

    def auth_for(self, mode: str) -> tuple[str, str] | None:
        if mode == "valid":
            return (self.user, self._password)
        if mode == "wrong-password":
            wrong = WRONG_PASSWORD if self._password != WRONG_PASSWORD else WRONG_PASSWORD + "-2"
            return (self.user, wrong)
        if mode == "wrong-user":
            return (UNKNOWN_USER, self._password)
        if mode == "none":
            return None
        raise ValueError(f"unknown credentials mode {mode!r}")

    def url_for(self, path: str, params: Params = ()) -> str:
        request = requests.Request("GET", self.base_url + path, params=list(params)).prepare()
        return str(request.url)

    def count_request(self) -> None:
        """Count one request against the budget (also used for requests sent by schemathesis)."""
        if self.requests_sent >= self.max_requests:
            raise BudgetExhausted(f"the suite's request budget of {self.max_requests} is spent")
        self.requests_sent += 1

    def get(self, path: str, params: Params = (), *, auth: str = "valid", cache: bool = True) -> Reply:
        """GET ``path`` with ``params``; transport errors become a :class:`ContractViolation`."""
        params = tuple((str(k), str(v)) for k, v in params)
        key = (auth, path, params)
        if cache and key in self._cache:
            reply = self._cache[key]
            self.log.append(reply.exchange)
            return reply
        url = self.url_for(path, params)
        exchange = Exchange("GET", self.redact(url), auth)
        self.log.append(exchange)
        self.count_request()
        started = time.perf_counter()
        try:
            response = self.session.get(
                url, auth=self.auth_for(auth), timeout=self.timeout, stream=True, allow_redirects=False
            )
            try:
                content, truncated = self._read(response)
            finally:
                response.close()
        except requests.RequestException as exc:
            exchange.elapsed_ms = (time.perf_counter() - started) * 1000
            exchange.error = self.redact(describe_transport_error(exc, self.timeout))
            raise ContractViolation(f"request failed: {exchange.error}", exchange) from None
        exchange.elapsed_ms = (time.perf_counter() - started) * 1000
        exchange.status = response.status_code
        exchange.headers = {
            h: self.redact(response.headers[h]) for h in KEPT_HEADERS if h in response.headers
        }
        exchange.body = self.redact(content[: SHOWN_BODY_CHARS * 4].decode("utf-8", "replace"))[
            :SHOWN_BODY_CHARS
        ]
        if truncated:
            exchange.body += f" ... [more than {self.max_body_bytes} bytes, not read]"
        reply = Reply(exchange, response.status_code, response.headers, content, truncated)
        if cache:
            self._cache[key] = reply
        return reply

    def _read(self, response: requests.Response) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=256 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"".join(chunks)[: self.max_body_bytes], True
        return b"".join(chunks), False
