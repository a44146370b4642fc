"""Finds out what the server holds, so the suite can choose its own probe windows.

Nothing here assumes a dataset: the size comes from ``total``, the date range from the first and
last records, midnights worth probing from sampled pages, and the offset of a midnight in the
unfiltered listing from ``total`` of ``end_date=D``. Every step costs a fixed, small number of
requests whatever the size of the data (see the budget in README.md). Each property is computed
once, on first use, so a run restricted to a few clauses only pays for what they need.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .client import ApiClient, ContractViolation, Exchange, Reply
from .pages import ALL, DAY, MOVIES, RATINGS, Page, Window, fetch, midnight, rating_key, total_of, utc_day

SAMPLE_PAGES = 6
SAMPLE_SIZE = 200
BOUNDARIES = 3
NEIGHBOURS = 5
MIDNIGHT_SEARCH_DAYS = 12
BIG_PAGE = 1000
PAGING_CANDIDATES = 6
# More than any sane page: the cap is judged by this answer, whatever the size of the data.
OVERSIZED_LIMIT = 1_000_000
# Statuses that say "no such endpoint" (an endpoint that answers anything else is offered).
ABSENT_STATUSES = (404, 405, 501)
# Capability -> the endpoint that offers it (max-limit is read from the over-maximum answer).
CAPABILITY_PATHS = {"movies": MOVIES, "health": "/health", "root": "/", "openapi": "/openapi.yaml"}


@dataclass
class Overview:
    """``total`` with the first and last pages of the unfiltered listing (one record each)."""

    total: int
    first: Page
    last: Page

    @staticmethod
    def _ts(page: Page, which: str) -> int:
        """The timestamp of the page's only record: a :class:`ContractViolation` when there is none."""
        if not page.records:
            raise ContractViolation(f"no {which} rating to take a timestamp from", page.exchange)
        return rating_key(page.records[0], page.exchange)[0]

    @property
    def first_ts(self) -> int:
        return self._ts(self.first, "first")

    @property
    def last_ts(self) -> int:
        return self._ts(self.last, "last")

    @property
    def first_day(self) -> dt.date:
        return utc_day(self.first_ts)

    @property
    def last_day(self) -> dt.date:
        return utc_day(self.last_ts)


@dataclass
class LimitPolicy:
    """How the server treats ``limit=OVERSIZED_LIMIT``."""

    mode: str  # "clamp", "reject", "unbounded" (echoes any limit), "truncated" (body over the cap), "broken"
    probe: Reply
    max_limit: int | None
    page_limit: int  # the largest page size the suite asks for


@dataclass
class Capability:
    """Whether the server offers an optional capability, and the answer that showed it."""

    name: str
    offered: bool | None  # None: the question does not arise (max-limit on a server that clamps)
    reason: str
    exchange: Exchange | None


@dataclass
class Boundary:
    """A UTC midnight inside the data, with the server's split of the listing at it."""

    day: dt.date
    before: int  # total of end_date=day
    after: int  # total of start_date=day
    before_page: Page
    after_page: Page
    neighbours: Page  # unfiltered records around offset ``before``

    @property
    def ts(self) -> int:
        return midnight(self.day)


class Discovery:
    """Lazily discovered facts about the server's data."""

    def __init__(self, client: ApiClient, seed: int) -> None:
        self.client = client
        self.seed = seed
        self._capabilities: dict[str, Capability] = {}

    def rng(self, purpose: str) -> random.Random:
        """A generator per purpose, so results do not depend on which clause asked first."""
        return random.Random(f"{self.seed}:{purpose}")

    @cached_property
    def overview(self) -> Overview:
        first = fetch(self.client, offset=0, limit=1)
        if first.total > 0 and not first.records:
            raise ContractViolation(f"total is {first.total} but the first page is empty", first.exchange)
        last = fetch(self.client, offset=max(first.total - 1, 0), limit=1) if first.total else first
        if first.total > 0 and not last.records:
            raise ContractViolation(
                f"total is {first.total} but offset {first.total - 1} is empty", last.exchange
            )
        return Overview(first.total, first, last)

    @property
    def has_data(self) -> bool:
        return self.overview.total > 0

    @cached_property
    def policy(self) -> LimitPolicy:
        reply = self.client.get(RATINGS, [("limit", str(OVERSIZED_LIMIT))])
        body: Any = None
        if reply.truncated:
            return LimitPolicy("truncated", reply, None, BIG_PAGE)
        if reply.is_json_object():
            body = reply.json()
        echoed = body.get("limit") if isinstance(body, dict) else None
        if reply.status == 200 and isinstance(echoed, int) and not isinstance(echoed, bool):
            if 1 <= echoed < OVERSIZED_LIMIT:
                return LimitPolicy("clamp", reply, echoed, min(echoed, BIG_PAGE))
            if echoed == OVERSIZED_LIMIT:
                return LimitPolicy("unbounded", reply, None, BIG_PAGE)
        if 400 <= reply.status < 500 and reply.status not in (401, 403):
            max_limit = body.get("max_limit") if isinstance(body, dict) else None
            if isinstance(max_limit, int) and not isinstance(max_limit, bool) and max_limit >= 1:
                return LimitPolicy("reject", reply, max_limit, min(max_limit, BIG_PAGE))
            for size in (BIG_PAGE, 100, 10):
                if self.client.get(RATINGS, [("limit", str(size))]).status == 200:
                    return LimitPolicy("reject", reply, None, size)
        return LimitPolicy("broken", reply, None, 100)

    def capability(self, name: str) -> Capability:
        """Whether the server offers capability ``name`` (one or two requests, cached)."""
        if name not in self._capabilities:
            try:
                self._capabilities[name] = self._detect(name)
            except ContractViolation as exc:  # it answered something: its clauses judge what
                exchange = exc.exchanges[0] if exc.exchanges else None
                self._capabilities[name] = Capability(name, True, exc.message, exchange)
        return self._capabilities[name]

    def known_capabilities(self) -> dict[str, Capability]:
        """The capabilities asked about so far (nothing is fetched for this)."""
        return dict(self._capabilities)

    def offers(self, name: str) -> bool:
        """True unless the server is known not to offer ``name``."""
        return self.capability(name).offered is not False

    def _detect(self, name: str) -> Capability:
        if name == "max-limit":
            policy = self.policy
            if policy.mode != "reject":
                return Capability(
                    name, None, f"the server does not reject an over-maximum limit ({policy.mode})", None
                )
            if policy.max_limit is None:
                return Capability(
                    name, False, "the 400 for an over-maximum limit holds no max_limit", policy.probe.exchange
                )
            return Capability(name, True, f"max_limit {policy.max_limit}", policy.probe.exchange)
        path = CAPABILITY_PATHS[name]
        params = [("limit", "1")] if path == MOVIES else []
        reply = self.client.get(path, params, auth="valid" if path == MOVIES else "none")
        if reply.status in (401, 403):  # behind authentication: still offered if it exists
            reply = self.client.get(path, params)
        if reply.status in ABSENT_STATUSES:
            return Capability(name, False, f"GET {path} answered {reply.status}", reply.exchange)
        return Capability(name, True, f"GET {path} answered {reply.status}", reply.exchange)

    @cached_property
    def samples(self) -> list[Page]:
        """Pages spread evenly over the unfiltered listing (seeded jitter), in offset order."""
        total = self.overview.total
        size = min(self.policy.page_limit, SAMPLE_SIZE)
        if total <= size:
            offsets = [0]
        else:
            rng = self.rng("samples")
            span = total - size
            jitter = max(span // (4 * SAMPLE_PAGES), 0)
            offsets = sorted(
                {
                    0,
                    span,
                    *(
                        min(span, i * span // (SAMPLE_PAGES - 1) + rng.randint(0, jitter))
                        for i in range(1, SAMPLE_PAGES - 1)
                    ),
                }
            )
        return [fetch(self.client, offset=o, limit=size) for o in offsets]

    def _candidate_midnights(self) -> list[dt.date]:
        """Midnights inside the data, those with sampled records closest on both sides first."""
        ov = self.overview
        scored: dict[dt.date, int] = {}
        fallback: list[dt.date] = []
        for page in self.samples:
            keys = page.order_keys()
            for (a, *_), (b, *_) in itertools.pairwise(keys):
                if utc_day(a) < utc_day(b):
                    day = utc_day(b)
                    score = max(midnight(day) - a, b - midnight(day))
                    scored[day] = min(score, scored.get(day, score))
            if keys:
                fallback.append(utc_day(keys[0][0]) + dt.timedelta(days=1))
        ranked = sorted(scored, key=lambda d: (scored[d], d)) + fallback
        out: list[dt.date] = []
        for day in ranked:
            if ov.first_ts < midnight(day) <= ov.last_ts and day not in out:
                out.append(day)
        return out

    def boundary(self, day: dt.date) -> Boundary:
        before_page = fetch(self.client, window=Window(end=day), limit=1)
        after_page = fetch(self.client, window=Window(start=day), limit=1)
        offset = max(before_page.total - NEIGHBOURS, 0)
        neighbours = fetch(self.client, offset=offset, limit=min(2 * NEIGHBOURS, self.policy.page_limit))
        return Boundary(day, before_page.total, after_page.total, before_page, after_page, neighbours)

    @cached_property
    def boundaries(self) -> list[Boundary]:
        """Up to three midnights inside the data, with records close to them when the data has any."""
        if self.overview.total < 2:
            return []
        return [self.boundary(day) for day in self._candidate_midnights()[:BOUNDARIES]]

    @cached_property
    def midnight_record(self) -> tuple[dt.date, dict[str, Any]] | None:
        """A record at exactly 00:00:00 UTC and its day, searched in samples then around midnights."""
        for page in self.samples:
            for record, key in zip(page.records, page.order_keys(), strict=False):
                if key[0] % DAY == 0 and key[0] > self.overview.first_ts:
                    return utc_day(key[0]), record
        days = [b.day for b in self.boundaries]
        days += [d for d in self._candidate_midnights() if d not in days]
        first, span = self.overview.first_day, (self.overview.last_day - self.overview.first_day).days
        if span > 1:  # then days spread over the whole range, at seeded places
            rng = self.rng("midnights")
            step = span / MIDNIGHT_SEARCH_DAYS
            spread = [
                first + dt.timedelta(days=1 + int(i * step + rng.random() * step) % span)
                for i in range(MIDNIGHT_SEARCH_DAYS)
            ]
            days += [d for d in dict.fromkeys(spread) if d not in days]
        days = days[: BOUNDARIES + 2 + MIDNIGHT_SEARCH_DAYS]
        for day in days:
            before = total_of(self.client, Window(end=day))
            if before >= self.overview.total:
                continue
            page = fetch(self.client, offset=before, limit=1)
            if page.records and page.order_keys()[0][0] == midnight(day):
                return day, page.records[0]
        return None

    @cached_property
    def paging_window(self) -> tuple[Window, int]:
        """A window small enough to walk with one-record pages, found among days in the data."""
        ov = self.overview
        days = [ov.first_day, ov.last_day]
        for b in self.boundaries:
            days += [b.day - dt.timedelta(days=1), b.day]
        candidates: list[tuple[Window, int]] = [(ALL, ov.total)]
        for day in dict.fromkeys(days[:PAGING_CANDIDATES]):
            window = Window(day, day + dt.timedelta(days=1))
            candidates.append((window, total_of(self.client, window)))
        enough = [c for c in candidates if c[1] >= 4]
        if enough:
            return min(enough, key=lambda c: c[1])
        return max(candidates, key=lambda c: c[1])

    def facts(self) -> dict[str, Any]:
        """What was discovered so far (nothing is fetched for this), for the reports.

        It runs when the session ends, where an exception would stop pytest with an internal error
        (the runner's exit 2), so each fact is taken on its own and one that cannot be told (a
        property raising on the server's odd data, whatever the exception) is left out.
        """
        known = self.__dict__
        readers: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("overview", self._overview_facts),
            ("policy", lambda: {"over_max_limit": self.policy.mode, "max_limit": self.policy.max_limit}),
            ("boundaries", lambda: {"probed_midnights": [b.day.isoformat() for b in self.boundaries]}),
            ("midnight_record", self._midnight_facts),
            ("paging_window", self._paging_facts),
        ]
        out: dict[str, Any] = {}
        for name, read in readers:
            if name not in known:
                continue
            try:
                out.update(read())
            except Exception:  # a report detail must never end the run (see above)
                continue
        return out

    def _overview_facts(self) -> dict[str, Any]:
        ov = self.overview
        if not ov.total:
            return {"ratings": ov.total}
        return {
            "ratings": ov.total,
            "first_rating": ov.first_day.isoformat(),
            "last_rating": ov.last_day.isoformat(),
        }

    def _midnight_facts(self) -> dict[str, Any]:
        found = self.midnight_record
        return {} if found is None else {"midnight_record_day": found[0].isoformat()}

    def _paging_facts(self) -> dict[str, Any]:
        window, total = self.paging_window
        return {"paging_window": f"{window} ({total} ratings)"}
