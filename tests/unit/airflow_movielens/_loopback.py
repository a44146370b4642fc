"""A real HTTP(S) server on 127.0.0.1 for the tests that need a socket: TLS, mTLS, the async client.

An aiohttp application on its own event loop in a background thread, so a test can drive it from the
sync hook or from ``asyncio.run`` alike. It answers from a script of responses (then a default
envelope), records what it received (query, headers, client certificate) and counts how many
requests it held at once (``peak``), which is how the concurrency test tells a thread pool from an
event loop. ``delay`` makes every answer slow, without blocking the server's loop.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Answer = tuple[int, dict[str, str], str]


def envelope(total: int) -> dict[str, Any]:
    records = [{"userId": 1, "movieId": 1, "rating": 4.0, "timestamp": 1704067200}] if total else []
    return {"result": records, "offset": 0, "limit": 1, "total": total}


def json_answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    client_cert: dict[str, Any] | None


@dataclass
class LoopbackAPI:
    """See the module docstring; use as a context manager (``with LoopbackAPI() as api``)."""

    ssl_context: ssl.SSLContext | None = None
    delay: float = 0.0
    default: Answer | Callable[[Received], Answer] = field(default_factory=lambda: json_answer(envelope(1)))
    script: deque[Answer | Callable[[Received], Answer]] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    peak: int = 0
    port: int = 0
    _in_flight: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    def answer(self, *answers: Answer | Callable[[Received], Answer]) -> None:
        """Answer the next requests with these, in order (then with ``default``)."""
        self.script.extend(answers)

    async def _handle(self, request: web.Request) -> web.Response:
        transport = request.transport
        peer = transport.get_extra_info("peercert") if transport is not None else None
        seen = Received(request.path, dict(request.query), dict(request.headers), peer)
        self.received.append(seen)
        self._in_flight += 1
        self.peak = max(self.peak, self._in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)  # a slow server: the loop serves others meanwhile
            answer = self.script.popleft() if self.script else self.default
            status, headers, body = answer(seen) if callable(answer) else answer
            return web.Response(status=status, headers=headers, text=body)
        finally:
            self._in_flight -= 1

    def __enter__(self) -> LoopbackAPI:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_route("GET", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            try:
                loop.run_until_complete(runner.setup())
                # A deep backlog: hundreds of clients connect at once in the concurrency test.
                site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self.ssl_context, backlog=2048)
                loop.run_until_complete(site.start())
                self.port = runner.addresses[0][1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="loopback-api", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the loopback server did not start within 30 s")
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(30)
