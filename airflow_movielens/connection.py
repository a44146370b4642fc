"""What a ``movielens`` Airflow connection means: the one set of rules both hooks use.

:func:`connection_settings` turns a connection into :class:`ConnectionSettings` (base URL, basic auth,
TLS verification, client certificate, extra headers and the :class:`~airflow_movielens.redaction.Redactor`
for its credentials). :class:`~airflow_movielens.hooks.MovielensHook` (requests) and
:class:`~airflow_movielens.hooks.MovielensAsyncHook` (httpx) both build their clients from it, so a
connection means the same to a task and to the triggerer.

Fields: host (default ``movielens``), port (default ``5000``), schema (the URL scheme, default ``http``),
login and password (HTTP basic auth; omitted when login is empty). Extras (each also accepted with
the ``extra__movielens__`` prefix the connection form may add; an empty value counts as unset):

* ``verify``: ``true`` (default, the system/certifi CA bundle), ``false`` (no certificate check, logged
  as a warning) or the path of a CA bundle file or directory;
* ``cert`` and ``key``: PEM paths of a client certificate and its (unencrypted) private key for mutual
  TLS; ``cert`` alone may hold both;
* ``headers``: a JSON object of extra request headers (string values); it may not set
  ``Authorization`` or ``Proxy-Authorization``, which belong to login and password.

Other extras are ignored with a warning naming them (never their values).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from airflow_movielens import __version__
from airflow_movielens.exceptions import MovielensConnectionExtraError as ConnectionExtraError
from airflow_movielens.redaction import Redactor

DEFAULT_SCHEMA = "http"
DEFAULT_HOST = "movielens"
DEFAULT_PORT = 5000

#: The extras a ``movielens`` connection understands.
KNOWN_EXTRAS = ("verify", "cert", "key", "headers")
_FORM_PREFIX = "extra__movielens__"

#: Headers the ``headers`` extra may not set: they carry credentials, which come from login/password.
RESERVED_HEADERS = frozenset({"authorization", "proxy-authorization"})

_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})

log = logging.getLogger(__name__)


class ConnectionLike(Protocol):
    """The parts of an Airflow ``Connection`` (2.11 model or task-SDK class) the settings read."""

    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def schema(self) -> str | None: ...
    @property
    def login(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def extra_dejson(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything a client needs to talk to the API for one connection (see the module docstring).

    :param base_url: ``scheme://host:port`` without credentials.
    :param auth: ``(login, password)`` for basic auth, or ``None``.
    :param verify: ``True``/``False`` or a CA bundle path, with the meaning ``requests`` gives it.
    :param cert: ``(certificate, key)`` paths, a combined PEM path, or ``None``.
    :param headers: the request headers (defaults plus the ``headers`` extra).
    :param redactor: masks every form of the credentials.
    """

    base_url: str
    auth: tuple[str, str] | None = None
    verify: bool | str = True
    cert: tuple[str, str] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redactor: Redactor = field(default_factory=Redactor)

    def ssl_context(self) -> ssl.SSLContext:
        """An ``SSLContext`` with the same meaning as :attr:`verify` and :attr:`cert` (for httpx).

        Shared by every client with the same settings: loading a CA bundle takes tens of milliseconds
        of CPU, which hundreds of triggers must not each spend on the triggerer's event loop. A
        context is rebuilt when one of its files (or the SSL_CERT_FILE/SSL_CERT_DIR it defaults to)
        changes, so a rotated certificate is picked up.
        """
        paths = [p for p in (self.verify, *_cert_paths(self.cert)) if isinstance(p, str)]
        environment = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        return _ssl_context(self.verify, self.cert, environment, tuple(_stamp(p) for p in paths))


def _cert_paths(cert: tuple[str, str] | str | None) -> tuple[str, ...]:
    return cert if isinstance(cert, tuple) else (cert,) if cert else ()


def _stamp(path: str) -> tuple[str, float, int]:
    try:
        status = os.stat(path)
    except OSError:
        return (path, 0.0, 0)
    return (path, status.st_mtime, status.st_size)


@functools.lru_cache(maxsize=32)
def _ssl_context(
    verify: bool | str,
    cert: tuple[str, str] | str | None,
    environment: tuple[str | None, str | None],
    stamps: tuple[tuple[str, float, int], ...],
) -> ssl.SSLContext:
    """Build the context (cached by :meth:`ConnectionSettings.ssl_context`'s key, so never mutate it)."""
    if isinstance(verify, bool):
        context = httpx.create_ssl_context(verify=verify)  # honours SSL_CERT_FILE/SSL_CERT_DIR
    elif os.path.isdir(verify):
        context = ssl.create_default_context(capath=verify)
    else:
        context = ssl.create_default_context(cafile=verify)
    if isinstance(cert, tuple):
        context.load_cert_chain(*cert)
    elif cert is not None:
        context.load_cert_chain(cert)
    return context


def connection_settings(conn: ConnectionLike, conn_id: str) -> ConnectionSettings:
    """Read ``conn`` into :class:`ConnectionSettings`, validating its extras (errors name the extra).

    Logs a warning for ``verify=false`` and for extras the provider does not know. Never logs or
    raises an extra's value except paths, which are not secrets.
    """
    schema = conn.schema or DEFAULT_SCHEMA
    host = conn.host or DEFAULT_HOST
    port = conn.port or DEFAULT_PORT
    if "://" in host:  # tolerate "http://host" typed into the host field
        scheme_in_host, host = host.split("://", 1)
        schema = conn.schema or scheme_in_host
    host = host.rstrip("/").rsplit("@", 1)[-1]  # never keep userinfo in the URL
    if host.count(":") >= 2 and not host.startswith("["):  # bare IPv6 literal such as ::1
        host = f"[{host}]"

    extras = _extras(conn, conn_id)
    verify = _verify(extras.get("verify"), conn_id)
    if verify is False:
        log.warning(
            "Connection %r has verify=false: TLS certificates are NOT checked, so anyone on the network "
            "path can read or alter the traffic, credentials included. Use a CA bundle path instead.",
            conn_id,
        )
    cert = _cert(extras.get("cert"), extras.get("key"), conn_id)
    extra_headers = _headers(extras.get("headers"), conn_id)
    headers = {
        "Accept": "application/json",
        "User-Agent": f"airflow-movielens/{__version__}",
        **extra_headers,
    }
    auth = (conn.login, conn.password or "") if conn.login else None
    return ConnectionSettings(
        base_url=f"{schema}://{host}:{port}",
        auth=auth,
        verify=verify,
        cert=cert,
        headers=headers,
        # Extra header values may be API keys: masked like the password.
        redactor=Redactor(conn.login or None, conn.password or None, secrets=extra_headers.values()),
    )


def _extras(conn: ConnectionLike, conn_id: str) -> dict[str, Any]:
    """The known extras by plain name (form-prefixed names folded in, empty values dropped)."""
    raw = conn.extra_dejson
    if not isinstance(raw, Mapping):
        raise ConnectionExtraError(f"Connection {conn_id!r}: extra must be a JSON object")
    extras: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in raw.items():
        plain = name[len(_FORM_PREFIX) :] if name.startswith(_FORM_PREFIX) else name
        if plain not in KNOWN_EXTRAS:
            unknown.append(name)
        elif value is not None and value != "" and (plain not in extras or name == plain):
            extras[plain] = value  # the plain name wins over the form's prefixed copy
    if unknown:
        log.warning(
            "Connection %r: ignoring unknown extra(s) %s (known: %s)",
            conn_id,
            ", ".join(sorted(unknown)),
            ", ".join(KNOWN_EXTRAS),
        )
    return extras


def _verify(value: Any, conn_id: str) -> bool | str:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ConnectionExtraError(
            f"Connection {conn_id!r}: extra 'verify' must be true, false or a CA bundle path, "
            f"got a {type(value).__name__}"
        )
    text = value.strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if not os.path.exists(text):
        raise ConnectionExtraError(
            f"Connection {conn_id!r}: extra 'verify' is neither true/false nor an existing CA bundle "
            f"file or directory: {text!r}"
        )
    return text


def _path(value: Any, name: str, conn_id: str) -> str:
    if not isinstance(value, str):
        raise ConnectionExtraError(
            f"Connection {conn_id!r}: extra {name!r} must be a file path, got a {type(value).__name__}"
        )
    path = value.strip()
    if not os.path.isfile(path):
        raise ConnectionExtraError(
            f"Connection {conn_id!r}: extra {name!r} is not an existing file: {path!r}"
        )
    return path


def _cert(cert: Any, key: Any, conn_id: str) -> tuple[str, str] | str | None:
    if cert is None:
        if key is not None:
            raise ConnectionExtraError(
                f"Connection {conn_id!r}: extra 'key' is set without 'cert' (the client certificate)"
            )
        return None
    cert_path = _path(cert, "cert", conn_id)
    return cert_path if key is None else (cert_path, _path(key, "key", conn_id))


def _headers(value: Any, conn_id: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):  # the connection form stores the JSON text
        try:
            value = json.loads(value)
        except ValueError:
            raise ConnectionExtraError(
                f"Connection {conn_id!r}: extra 'headers' is not valid JSON (expected an object of "
                "header names to string values)"
            ) from None  # the decoder's message quotes the text, which may hold a token
    if not isinstance(value, Mapping):
        raise ConnectionExtraError(
            f"Connection {conn_id!r}: extra 'headers' must be a JSON object of header names to string "
            f"values, got a {type(value).__name__}"
        )
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not name.strip() or any(c in name for c in ":\r\n \t"):
            raise ConnectionExtraError(
                f"Connection {conn_id!r}: extra 'headers' has an invalid name {name!r}"
            )
        if name.lower() in RESERVED_HEADERS:
            raise ConnectionExtraError(
                f"Connection {conn_id!r}: extra 'headers' may not set {name!r}; credentials come from "
                "the connection's login and password"
            )
        if not isinstance(header_value, str):
            raise ConnectionExtraError(
                f"Connection {conn_id!r}: extra 'headers': the value of {name!r} must be a string, "
                f"got a {type(header_value).__name__}"
            )
        if "\r" in header_value or "\n" in header_value:
            raise ConnectionExtraError(
                f"Connection {conn_id!r}: extra 'headers': the value of {name!r} contains a line break"
            )
        headers[name] = header_value
    return headers
