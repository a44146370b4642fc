"""Sensor that waits until the API has ratings for a window (poke, reschedule or deferrable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_movielens.compat import BaseSensorOperator, Context
from airflow_movielens.dates import (
    DEFAULT_END_DATE,
    DEFAULT_START_DATE,
    DateLike,
    coerce_window,
    empty_window_message,
    window_argument,
)
from airflow_movielens.exceptions import MovielensError
from airflow_movielens.hooks import MovielensHook
from airflow_movielens.triggers import MovielensRatingsTrigger


class MovielensRatingsSensor(BaseSensorOperator):
    """Wait until ``[start_date, end_date)`` (UTC dates) holds at least one rating.

    Each poke is a single ``limit=1`` request. Works in ``mode="poke"`` and ``mode="reschedule"``; with
    ``deferrable=True`` the wait runs in the triggerer (:class:`MovielensRatingsTrigger`) and frees the
    worker slot, bounded by the sensor's ``timeout``. An empty window (``start_date == end_date``, e.g.
    from an Airflow 3 trigger timetable) is an immediate ``ValueError`` instead of a wait until timeout.

    :param conn_id: the ``movielens`` connection.
    :param start_date: first day included; templated, default the run's data-interval start (UTC date).
        Stored as ``window_start`` (``start_date`` is ``BaseOperator``'s own field; a
        ``default_args["start_date"]`` never replaces the window).
    :param end_date: first day excluded; templated, default the data-interval end. Stored as ``window_end``.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param hook_params: extra keyword arguments for :class:`MovielensHook` when poking (timeouts, retries).
    """

    template_fields: Sequence[str] = ("window_start", "window_end")
    ui_color = "#f4e6c9"

    def __init__(
        self,
        *,
        conn_id: str = MovielensHook.default_conn_name,
        start_date: DateLike = None,
        end_date: DateLike = None,
        deferrable: bool = False,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        default_args = kwargs.get("default_args")
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.window_start = window_argument(start_date, "start_date", default_args, DEFAULT_START_DATE)
        self.window_end = window_argument(end_date, "end_date", default_args, DEFAULT_END_DATE)
        self.deferrable = deferrable
        self.hook_params = dict(hook_params or {})

    def _window(self) -> tuple[str | None, str | None]:
        """The rendered window; an empty ``[d, d)`` window can never hold a rating, so it fails fast."""
        start, end = coerce_window(self.window_start, self.window_end)
        if start is not None and start == end:
            raise ValueError(f"{empty_window_message(start)} The sensor would wait until its timeout.")
        return start, end

    def poke(self, context: Context) -> bool:
        start, end = self._window()
        with MovielensHook(self.conn_id, **self.hook_params) as hook:
            found = hook.has_ratings(start, end)
        if found:
            self.log.info("Found ratings for [%s, %s)", start, end)
        else:
            self.log.info("No ratings yet for [%s, %s); waiting", start, end)
        return found

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        start, end = self._window()
        self.defer(
            trigger=MovielensRatingsTrigger(
                conn_id=self.conn_id,
                start_date=start,
                end_date=end,
                poke_interval=float(self.poke_interval),
                hook_params=self.hook_params,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger fired: succeed on a success event, fail clearly otherwise."""
        if not event or event.get("status") != "success":
            detail = (event or {}).get("message") or "the trigger sent no event"
            raise MovielensError(f"Waiting for MovieLens ratings failed: {detail}")
        self.log.info("Found ratings for [%s, %s)", event.get("start_date"), event.get("end_date"))
