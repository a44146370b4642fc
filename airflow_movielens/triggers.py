"""Deferrable waiting for ratings: the trigger behind ``MovielensRatingsSensor(deferrable=True)``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow_movielens.compat import BaseTrigger, TriggerEvent
from airflow_movielens.dates import DateLike, coerce_window
from airflow_movielens.exceptions import MovielensAPIError, MovielensError
from airflow_movielens.hooks import MovielensAsyncHook, check_hook_params

# Indirection so tests can replace the wait between pokes without touching asyncio itself.
_sleep = asyncio.sleep


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


class MovielensRatingsTrigger(BaseTrigger):
    """Poke ``/ratings`` for the window every ``poke_interval`` seconds until it holds a rating.

    Each check is the sensor's poke (one ``limit=1`` request, with its retries) made by
    :class:`MovielensAsyncHook` on the triggerer's event loop: the same connection settings, retry
    policy, errors and masking as the sensor's :class:`~airflow_movielens.hooks.MovielensHook`, but
    never blocking the loop or holding a thread, so hundreds of waits share one triggerer. Events:

    * ``{"status": "success", "start_date", "end_date"}`` once a rating exists;
    * ``{"status": "error", "status_code", "message"}`` on a failure that retries did not cure (bad
      credentials, unreachable server, malformed answer); the message never holds the password.

    :param conn_id: the ``movielens`` connection.
    :param start_date: first day included (``YYYY-MM-DD``, ``date`` or ``datetime``; stored as a string).
    :param end_date: first day excluded.
    :param poke_interval: seconds between negative checks.
    :param hook_params: keyword arguments for the :class:`MovielensAsyncHook` of the checks (``timeout``,
        ``max_attempts``, backoff), as the sensor was given them. Serialised with the trigger, so they
        must be JSON values: they are stored in their JSON form (a ``timeout`` pair as a list), and a
        function such as ``sleep`` is a ``ValueError`` (it cannot reach the triggerer process).
    """

    def __init__(
        self,
        conn_id: str,
        start_date: DateLike,
        end_date: DateLike,
        poke_interval: float = 60.0,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.conn_id = conn_id
        self.start_date, self.end_date = coerce_window(start_date, end_date)
        if (
            isinstance(poke_interval, bool)
            or not isinstance(poke_interval, (int, float))
            or poke_interval < 0
        ):
            raise ValueError(f"poke_interval must be a number of seconds >= 0, got {poke_interval!r}")
        self.poke_interval = float(poke_interval)
        self.hook_params = check_hook_params(hook_params, for_triggerer=True)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "start_date": self.start_date,
                "end_date": self.end_date,
                "poke_interval": self.poke_interval,
                "hook_params": self.hook_params,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        window = {"start_date": self.start_date, "end_date": self.end_date}
        hook = MovielensAsyncHook(self.conn_id, **self.hook_params)  # one HTTP client for every poke
        try:
            while True:
                try:
                    found = await hook.has_ratings(self.start_date, self.end_date)
                except Exception as exc:  # report failures retries did not cure instead of looping on them
                    message = str(exc) if isinstance(exc, MovielensError) else f"{type(exc).__name__}: {exc}"
                    status_code = exc.status_code if isinstance(exc, MovielensAPIError) else None
                    event = {"status": "error", "status_code": status_code, "message": hook.redact(message)}
                    yield _event({**event, **window})
                    return
                if found:
                    self.log.info("Found ratings for [%s, %s)", self.start_date, self.end_date)
                    yield _event({"status": "success", **window})
                    return
                self.log.info(
                    "No ratings yet for [%s, %s); checking again in %.0f s",
                    self.start_date,
                    self.end_date,
                    self.poke_interval,
                )
                await _sleep(self.poke_interval)
        finally:
            await hook.aclose()
