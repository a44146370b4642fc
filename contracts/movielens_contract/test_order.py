"""Order (ORDER-*): (timestamp, userId, movieId), the same on every request."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from .checks import Findings
from .client import ApiClient
from .discovery import Discovery
from .pages import ALL, RATINGS, Page, Window, fetch, walk, when

CROSS_PAGE_SIZE = 7
CROSS_PAGES = 10
REPEATS = 3


def _check_sorted(findings: Findings, page: Page, what: str) -> None:
    keys = page.order_keys()
    for index, (a, b) in enumerate(itertools.pairwise(keys)):
        if b < a:
            findings.add(
                f"{what}: the record at offset {page.offset + index + 1} (timestamp {when(b[0])}, user "
                f"{b[1]}, movie {b[2]}) comes after (timestamp {a[0]}, user {a[1]}, movie {a[2]})",
                page.exchange,
            )
            return
    if len(keys) > 1:
        findings.held()


@pytest.mark.clause("ORDER-001")
def test_order_001_sorted_by_timestamp_user_movie(client: ApiClient, data: Discovery):
    findings = Findings()
    for page in data.samples:
        _check_sorted(findings, page, f"sampled page at offset {page.offset}")
    for boundary in data.boundaries:
        _check_sorted(findings, boundary.neighbours, f"page around {boundary.day}")
    for earlier, later in zip(data.samples, data.samples[1:], strict=False):  # across sampled pages
        if earlier.records and later.records and earlier.offset + len(earlier.records) <= later.offset:
            findings.check(
                later.order_keys()[0] >= earlier.order_keys()[-1],
                f"the record at offset {later.offset} sorts before the one at offset "
                f"{earlier.offset + len(earlier.records) - 1}",
                later.exchange,
                earlier.exchange,
            )
    pages = walk(
        client,
        RATINGS,
        ALL,
        CROSS_PAGE_SIZE,
        min(data.overview.total, CROSS_PAGE_SIZE * CROSS_PAGES),
        CROSS_PAGES,
    ).pages
    for earlier, later in itertools.pairwise(pages):  # across page boundaries
        if earlier.records and later.records:
            findings.check(
                later.order_keys()[0] >= earlier.order_keys()[-1],
                f"the first record of the page at offset {later.offset} sorts before the last record of "
                f"the page at offset {earlier.offset}",
                later.exchange,
                earlier.exchange,
            )
    findings.raise_any()


def _pages_to_repeat(data: Discovery) -> list[tuple[Window, int, int]]:
    """(window, offset, limit) of three pages, one around tied timestamps when the samples show any."""
    first = data.samples[0]
    chosen = [(ALL, first.offset, len(first.records) or 1)]
    tie = next(
        (
            (page.offset + i, page)
            for page in data.samples
            for i, (a, b) in enumerate(zip(page.order_keys(), page.order_keys()[1:], strict=False))
            if a[0] == b[0]
        ),
        None,
    )
    if tie is not None:
        chosen.append((ALL, max(tie[0] - 3, 0), 10))
    else:
        middle = data.samples[len(data.samples) // 2]
        chosen.append((ALL, middle.offset, 10))
    if data.boundaries:
        day = data.boundaries[0].day
        chosen.append((Window(day, day + dt.timedelta(days=1)), 0, 50))
    return chosen


@pytest.mark.clause("ORDER-002")
def test_order_002_same_request_same_answer(client: ApiClient, data: Discovery):
    findings = Findings()
    for window, offset, limit in _pages_to_repeat(data):
        limit = min(limit, data.policy.page_limit)
        first = fetch(client, window=window, offset=offset, limit=limit, cache=False)
        for _ in range(REPEATS - 1):
            again = fetch(client, window=window, offset=offset, limit=limit, cache=False)
            if not findings.check(
                again.records == first.records,
                f"the same request ({window}, offset {offset}, limit {limit}) answered different "
                "records or a different order",
                again.exchange,
                first.exchange,
            ):
                break
    findings.raise_any()
