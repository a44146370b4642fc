"""Running the app under gunicorn (gevent workers, app preloaded before fork).

The data is loaded once in the master process; forked workers share its pages copy-on-write (or,
from the columnar cache, through the page cache). Each worker is gunicorn's gevent worker
(:mod:`movielens_api.gevent_worker`): a connection costs a greenlet rather than a thread, so slow
or stalled clients cannot take every worker, and a request's line and headers must arrive within
``read_timeout`` seconds (which is also how long an idle keep-alive connection is kept), after
which the connection is closed. ``max_connections`` caps the connections per worker. gunicorn's
``gthread`` worker stays selectable (``worker_class="gthread"``) for comparisons: it has no such
bound, and ``workers * threads`` slow clients make it unresponsive.

Gunicorn's own error pages for malformed HTTP (request line too long, bad header...) are HTML;
they are replaced by JSON bodies so that nothing the server sends is ever an HTML page.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import orjson
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication

WORKER_CLASSES = {
    "gevent": "movielens_api.gevent_worker.MovielensGeventWorker",
    "gthread": "gthread",
}
DEFAULT_WORKER_CLASS = "gevent"
DEFAULT_READ_TIMEOUT = 5
DEFAULT_MAX_CONNECTIONS = 1000

# The access log must not include %(u)s, which gunicorn fills from the Authorization header.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def _write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Stand-in for ``gunicorn.util.write_error`` that answers JSON instead of HTML."""
    message = f"{reason}: {mesg}" if mesg else reason
    body = orjson.dumps({"error": message})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1", "replace")
    gunicorn_util.write_nonblock(sock, head + body)


def url_for(host: str, port: int) -> str:
    """``http://host:port`` with IPv6 literals bracketed."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """A programmatic gunicorn application serving one preloaded WSGI app."""

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        host: str,
        port: int,
        workers: int,
        threads: int,
        timeout: int = 30,
        worker_class: str = DEFAULT_WORKER_CLASS,
        read_timeout: int = DEFAULT_READ_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        access_log: bool = False,
        on_ready: Callable[[str], None] | None = None,
    ) -> None:
        if worker_class not in WORKER_CLASSES:
            raise ValueError(f"worker_class must be one of {', '.join(WORKER_CLASSES)}, got {worker_class!r}")
        if read_timeout < 1:
            raise ValueError(f"read_timeout must be >= 1 second, got {read_timeout}")
        self.application = app
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": WORKER_CLASSES[worker_class],
            "worker_connections": max_connections,
            "preload_app": True,
            "timeout": timeout,
            "graceful_timeout": 10,
            # The gevent worker reads every request (line, headers, unread body) under a timeout of
            # this many seconds; with 0 (no keep-alive) it would read without any bound.
            "keepalive": read_timeout,
            "limit_request_line": 8190,
            "proc_name": "movielens-api",
            "accesslog": "-" if access_log else None,
            "access_log_format": ACCESS_LOG_FORMAT,
            "when_ready": self._when_ready,
            # gunicorn >= 24 opens a control socket in $HOME; several test servers would clash.
            "control_socket_disable": True,
        }
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:
        return self.application

    def _when_ready(self, arbiter: Any) -> None:
        host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        if self.on_ready is not None:
            self.on_ready(url_for(host, port))


def serve(app: Callable[..., Any], **options: Any) -> None:
    """Serve ``app`` until gunicorn is stopped (SIGTERM/SIGINT); ``options`` are GunicornServer's."""
    gunicorn_util.write_error = _write_json_error
    GunicornServer(app, **options).run()
    sys.stdout.flush()
