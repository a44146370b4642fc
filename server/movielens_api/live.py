"""Live mode: the server shows only the ratings whose time has come, on a virtual clock.

With ``--live-start`` the server pretends that "now" was that instant when it started and lets
virtual time run at ``--live-speed`` virtual seconds per real second. Every request sees only the
ratings with ``timestamp < cut-off``, where::

    cut-off = live_start + (clock() - anchor) * speed

so a day's ratings appear while that day passes, and a sensor waiting for a day's data has
something to wait for. The cut-off is taken once per request (:meth:`LiveClock.cutoff`), so its
``total`` and records agree; since newer ratings only ever join at the end of the
``(timestamp, userId, movieId)`` order, a client paging while time passes gets no duplicates or
gaps.

Why a monotonic clock, anchored once in the master process: gunicorn loads the app in its master
(``preload_app``), the CLI re-anchors the clock there when the server is ready to accept
connections (before any worker is forked), and the forked workers inherit that anchor. Linux's
``CLOCK_MONOTONIC`` (``time.monotonic``) is one clock for the whole machine, so every worker,
including any one gunicorn restarts later, computes the same cut-off from the same anchor, start
and speed. Unlike wall-clock time it cannot be stepped by NTP or an operator, so the cut-off
never moves backwards and a rating once served never disappears. A restart of the server starts
virtual time again at ``live_start``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

#: Environment variables equivalent to ``--live-start`` and ``--live-speed``.
START_ENV = "MOVIELENS_LIVE_START"
SPEED_ENV = "MOVIELENS_LIVE_SPEED"
DEFAULT_SPEED = 1.0

_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
#: Virtual time stops at the last second a datetime can show, 9999-12-31T23:59:59Z.
_LAST = (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_UTC) - _EPOCH) / dt.timedelta(seconds=1)


def parse_start(text: str) -> dt.datetime:
    """An ISO 8601 date and time with a time zone (``Z`` or an offset), as an aware UTC datetime.

    A time without a zone is refused: the server's clock must not depend on the machine's zone.
    Raises ``ValueError`` saying what is wrong.
    """
    value = text.strip()
    shown = value[:60]
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read Z
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{shown!r} is not an ISO 8601 date and time such as 2019-01-02T23:59:30Z") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{shown!r} has no time zone; add Z for UTC or an offset such as +01:00")
    return moment.astimezone(_UTC)


def parse_speed(text: str) -> float:
    """Virtual seconds per real second: a finite number >= 0 (0 stops virtual time)."""
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"{text.strip()[:40]!r} is not a number") from None
    if not math.isfinite(speed) or speed < 0:
        raise ValueError(f"{text.strip()[:40]} is not a finite number >= 0")
    return speed


def isoformat(seconds: float) -> str:
    """Epoch seconds as ISO 8601 in UTC with a ``Z``, microseconds only when there are any."""
    moment = _EPOCH + dt.timedelta(seconds=seconds)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Cutoff:
    """One request's view of virtual time: ratings with ``timestamp < seconds`` are visible."""

    #: The virtual now, in epoch seconds.
    seconds: float

    @property
    def bound(self) -> int:
        """The same cut-off on whole-second timestamps: ``t < seconds`` exactly when ``t < bound``."""
        return math.ceil(self.seconds)

    def describe(self) -> str:
        return isoformat(self.seconds)


class LiveClock:
    """The virtual clock of live mode: ``start`` when anchored, then ``speed`` times real time.

    ``clock`` returns real seconds (default ``time.monotonic``); tests pass their own to move time
    without sleeping. The clock is anchored when this object is made and again by :meth:`anchor`.
    """

    def __init__(
        self,
        start: dt.datetime,
        speed: float = DEFAULT_SPEED,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"live start {start.isoformat()} has no time zone")
        if not math.isfinite(speed) or speed < 0:
            raise ValueError(f"live speed must be a finite number >= 0, got {speed!r}")
        self.start = start.astimezone(_UTC)
        self.speed = speed
        self._start_seconds = (self.start - _EPOCH) / dt.timedelta(seconds=1)
        self._clock = clock if clock is not None else monotonic
        self._anchor = self._clock()

    @property
    def start_text(self) -> str:
        """``start`` as ISO 8601 with a ``Z``."""
        return self.start.isoformat().replace("+00:00", "Z")

    def anchor(self) -> None:
        """Let virtual time start at ``start`` now (the CLI calls this when the server is ready)."""
        self._anchor = self._clock()

    def cutoff(self) -> Cutoff:
        """The cut-off now; one call per request, so that everything it answers agrees."""
        elapsed = max(0.0, self._clock() - self._anchor)
        return Cutoff(min(self._start_seconds + elapsed * self.speed, _LAST))

    def report(self, cutoff: Cutoff) -> dict[str, object]:
        """What ``/health`` says of live mode at ``cutoff`` (a test waits on ``cutoff_timestamp``)."""
        return {
            "start": self.start_text,
            "speed": self.speed,
            "cutoff": cutoff.describe(),
            "cutoff_timestamp": cutoff.seconds,
        }

    def describe(self) -> str:
        """``start`` and ``speed`` in words, for the start-up log."""
        return f"virtual time starts at {self.start_text} and runs at {self.speed:g}x"
