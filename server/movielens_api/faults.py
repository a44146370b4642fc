"""Seeded, reproducible fault injection for resilience tests of API clients.

Off by default. When on, every request except ``/health`` and ``/openapi.yaml`` draws exactly one
number from a per-process ``random.Random(seed)``: below ``rate`` it becomes a fault, and the same
draw picks the kind by weight. With one worker process the same request sequence therefore gets
the same faults on every run. ``max_streak`` caps consecutive faults so that a client with a
bounded number of retries can be tested deterministically.

Kinds:

* ``500``, ``503``: a JSON error with that status.
* ``429``: a JSON error with ``Retry-After: <retry_after>`` seconds.
* ``slow``: wait ``slow_seconds``, then answer normally.
* ``drop``: close the connection without any response (needs gunicorn's ``gunicorn.socket``;
  elsewhere it degrades to ``truncate`` with an empty body).
* ``truncate``: send the real headers with the full ``Content-Length`` but only half the body,
  then close the connection.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

log = logging.getLogger(__name__)

KINDS = ("500", "503", "429", "slow", "drop", "truncate")
EXEMPT_PATHS = frozenset({"/health", "/openapi.yaml"})
_ERRORS = {
    "500": ("500 Internal Server Error", "injected fault: internal server error"),
    "503": ("503 Service Unavailable", "injected fault: service unavailable"),
    "429": ("429 Too Many Requests", "injected fault: too many requests"),
}
ENV_PREFIX = "MOVIELENS_FAULT_"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def parse_kinds(text: str) -> tuple[tuple[str, float], ...]:
    """``"500,503:2,slow"`` -> ``(("500", 1.0), ("503", 2.0), ("slow", 1.0))``; ``all`` = every kind."""
    kinds: list[tuple[str, float]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, weight_text = item.partition(":")
        name = name.strip().lower()
        names = KINDS if name == "all" else (name,)
        if name != "all" and name not in KINDS:
            raise ValueError(f"unknown fault kind {name!r}; choose from {', '.join(KINDS)} or all")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise ValueError(f"fault kind weight must be a number, got {weight_text!r}") from None
        if not weight > 0 or weight == float("inf"):
            raise ValueError(f"fault kind weight must be positive, got {weight_text!r}")
        kinds.extend((n, weight) for n in names)
    if not kinds:
        raise ValueError("no fault kinds given")
    return tuple(kinds)


@dataclass(frozen=True)
class FaultConfig:
    """What to inject and how often. ``rate`` 0 (the default) disables injection."""

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[tuple[str, float], ...] = field(default_factory=lambda: tuple((k, 1.0) for k in KINDS))
    retry_after: int = 1
    slow_seconds: float = 1.0
    max_streak: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        if self.retry_after < 0:
            raise ValueError(f"fault Retry-After must be >= 0 seconds, got {self.retry_after}")
        if not 0.0 <= self.slow_seconds < 3600:
            raise ValueError(f"slow fault delay must be between 0 and 3600 seconds, got {self.slow_seconds}")
        if self.max_streak is not None and self.max_streak < 1:
            raise ValueError(f"fault max streak must be >= 1, got {self.max_streak}")
        if not self.kinds:
            raise ValueError("no fault kinds given")
        for name, weight in self.kinds:
            if name not in KINDS or not weight > 0:
                raise ValueError(f"bad fault kind {name!r} with weight {weight!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> FaultConfig:
        """Read ``MOVIELENS_FAULT_{RATE,SEED,KINDS,RETRY_AFTER,SLOW_SECONDS,MAX_STREAK}``.

        ``overrides`` (e.g. from command-line flags) win over the environment; ``None`` values
        are ignored. Raises ``ValueError`` naming the variable on malformed values.
        """
        env = os.environ if environ is None else environ
        converters: dict[str, Callable[[str], Any]] = {
            "rate": float,
            "seed": int,
            "kinds": parse_kinds,
            "retry_after": int,
            "slow_seconds": float,
            "max_streak": int,
        }
        values: dict[str, Any] = {}
        for name, convert in converters.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw.strip():
                try:
                    values[name] = convert(raw.strip())
                    cls(**{name: values[name]})  # validate now, so that the error names the variable
                except ValueError as exc:
                    raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def describe(self) -> str:
        kinds = ",".join(f"{k}:{w:g}" for k, w in self.kinds)
        streak = "unlimited" if self.max_streak is None else str(self.max_streak)
        return (
            f"rate={self.rate:g} seed={self.seed} kinds={kinds} retry_after={self.retry_after}s "
            f"slow={self.slow_seconds:g}s max_streak={streak}"
        )


class FaultPlan:
    """The per-process sequence of fault decisions (thread-safe, one draw per request)."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self._lock = threading.Lock()
        self._streak = 0
        self._names = [name for name, _ in config.kinds]
        total = sum(weight for _, weight in config.kinds)
        cumulative, running = [], 0.0
        for _, weight in config.kinds:
            running += weight
            cumulative.append(running / total)
        self._cumulative = cumulative

    def next(self) -> str | None:
        """The fault for the next request, or ``None`` for a normal answer."""
        with self._lock:
            draw = self._random.random()
            capped = self.config.max_streak is not None and self._streak >= self.config.max_streak
            if draw >= self.config.rate or capped:
                self._streak = 0
                return None
            self._streak += 1
        # The same draw, rescaled to [0, 1), picks the kind by weight.
        position = bisect.bisect_right(self._cumulative, draw / self.config.rate)
        return self._names[min(position, len(self._names) - 1)]


def _close_connection(environ: Mapping[str, Any]) -> bool:
    """Shut the client connection down under gunicorn; ``False`` if the socket is not exposed."""
    sock = environ.get("gunicorn.socket")
    if sock is None:
        return False
    with contextlib.suppress(OSError):  # already gone: the effect the fault wants
        sock.shutdown(socket.SHUT_RDWR)
    return True


class FaultMiddleware:
    """WSGI middleware applying a :class:`FaultPlan` in front of ``app``."""

    def __init__(
        self, app: WSGIApp, config: FaultConfig, *, sleep: Callable[[float], None] | None = None
    ) -> None:
        self.app = app
        self.config = config
        self.plan = FaultPlan(config)
        self.sleep = sleep if sleep is not None else time.sleep

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in EXEMPT_PATHS:
            return self.app(environ, start_response)
        kind = self.plan.next()
        if kind is None:
            return self.app(environ, start_response)
        log.info(
            "injecting fault %s into %s %s", kind, environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        )
        if kind in _ERRORS:
            status, message = _ERRORS[kind]
            body = orjson.dumps({"error": message, "fault": kind})
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            if kind == "429":
                headers.append(("Retry-After", str(self.config.retry_after)))
            start_response(status, headers)
            return [body]
        if kind == "slow":
            self.sleep(self.config.slow_seconds)
            return self.app(environ, start_response)
        if kind == "drop" and _close_connection(environ):
            # Nothing can reach the client any more; gunicorn's write fails with EPIPE, which it
            # ignores quietly.
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        return self._truncate(environ, start_response, keep_body=kind == "truncate")

    def _truncate(
        self, environ: dict[str, Any], start_response: StartResponse, *, keep_body: bool
    ) -> Iterator[bytes]:
        """The real answer's headers and full Content-Length, half its body, then a closed connection."""
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        body = b"".join(chunks)
        declared = max(len(body), 1)
        sent = body[: len(body) // 2] if keep_body else b""
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(declared))])
        return self._send_then_close(environ, sent)

    @staticmethod
    def _send_then_close(environ: dict[str, Any], sent: bytes) -> Iterator[bytes]:
        if sent:
            yield sent
        _close_connection(environ)
