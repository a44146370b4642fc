"""Errors raised by the MovieLens provider.

All of them derive from :class:`MovielensError`, itself an ``AirflowException``, so a task fails with
a readable message. Messages name the HTTP status, the URL (never with credentials) and the server's
own ``error`` text; they never contain the connection password.
"""

from __future__ import annotations

from airflow_movielens.compat import AirflowException


class MovielensError(AirflowException):
    """Base class of every error raised by ``airflow_movielens``."""


class MovielensAPIError(MovielensError):
    """The API answered with an HTTP error status.

    :param status_code: the HTTP status, e.g. 401 or 503.
    :param url: the request URL, credentials removed.
    :param message: the server's ``error`` message (or a short excerpt of a non-JSON body).
    :param parameter: the offending query parameter the server named, if any.
    :param max_limit: the server's maximum page size, when a 400 about ``limit`` carries it.
    :param retry_after: seconds the server asked us to wait (``Retry-After``), if any.
    """

    def __init__(
        self,
        status_code: int,
        url: str,
        message: str,
        *,
        parameter: str | None = None,
        max_limit: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        # AirflowException on Airflow 3 declares ``status_code`` as an HTTPStatus; ours is the API's int.
        self.status_code: int = status_code  # type: ignore[assignment]
        self.url = url
        self.message = message
        self.parameter = parameter
        self.max_limit = max_limit
        self.retry_after = retry_after
        super().__init__(f"MovieLens API answered HTTP {status_code} for GET {url}: {message}")


class MovielensConnectionError(MovielensError):
    """The API could not be reached (connection refused, timeout, truncated transfer) after all retries."""


class MovielensConnectionExtraError(MovielensError, ValueError):
    """An extra of the connection (``verify``, ``cert``, ``key``, ``headers``) has an unusable value.

    The message names the connection and the extra; it never quotes a header value.
    """


class MovielensResponseError(MovielensError):
    """The API answered 200 but the body is not the documented envelope (not JSON, no ``result``...)."""


class MovielensDataChangedError(MovielensError):
    """The listing changed while it was being paged (``total`` changed, a page was too long or out of order).

    Raised instead of returning a listing that could silently miss or repeat records; rerunning the
    task fetches a consistent snapshot.
    """
