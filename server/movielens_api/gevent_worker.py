"""The gunicorn worker that serves the API: gunicorn's gevent worker with bounded socket I/O.

Why gevent: a connection costs a greenlet, not a thread, so idle, half-sent or trickling
connections (slowloris) cannot use up the workers as they did gunicorn's ``gthread`` threads,
and gunicorn's async loop reads each request's line, headers and any unread body under a
``gevent.Timeout`` of ``keepalive`` seconds: a request that is not complete by then is dropped and
its connection closed, however slowly the bytes keep coming (gunicorn's gthread worker has no such
total bound). ``worker_connections`` caps the connections one worker holds; beyond it the worker
stops accepting and the rest wait in the listen backlog instead of taking memory.

What this subclass adds: a per-operation socket timeout (``timeout``, the worker timeout) instead
of gunicorn's fully blocking sockets, so that a client that stops reading a response cannot keep
its greenlet forever either.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker


class MovielensGeventWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's ``gevent`` worker whose client sockets time out each read and write."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        # GeventWorker.handle makes the socket fully blocking; bound each operation instead (the
        # request line and headers are bounded in total by keepalive, see timeout_ctx).
        client.settimeout(float(self.cfg.timeout))
        AsyncWorker.handle(self, listener, client, addr)
