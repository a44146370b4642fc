"""/movies (MOVIES-*): movieId order, paging like /ratings."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .checks import Findings
from .client import ApiClient
from .discovery import Discovery
from .pages import MOVIES, Page, Window, concatenated, fetch, walk

FIRST = 100
SINGLE = 10
MIDDLE_SIZE = 7


@dataclass
class MoviePages:
    big: Page
    walks: list[list[Page]]
    last: Page

    @property
    def total(self) -> int:
        return self.big.total


@pytest.fixture(scope="session")
def movie_pages(client: ApiClient, discovery: Discovery) -> MoviePages:
    big = fetch(client, MOVIES, offset=0, limit=min(discovery.policy.page_limit, FIRST))
    if big.total == 0:
        pytest.skip("the server holds no movies")
    n = len(big.records)
    walks = [
        walk(client, MOVIES, Window(), size, min(n, limit), limit).pages
        for size, limit in ((1, SINGLE), (MIDDLE_SIZE, n // MIDDLE_SIZE + 1))
        if size < n
    ]
    last = fetch(client, MOVIES, offset=max(big.total - 5, 0), limit=5)
    return MoviePages(big, walks, last)


def _ids(page: Page) -> list:
    return [r.get("movieId") if isinstance(r, dict) else None for r in page.records]


@pytest.mark.clause("MOVIES-001")
def test_movies_001_ordered_and_pages_concatenate(movie_pages: MoviePages):
    findings = Findings()
    for page in (movie_pages.big, movie_pages.last):
        ids = _ids(page)
        if not all(isinstance(i, int) for i in ids):
            findings.add(
                f"the page at offset {page.offset} has movies without an integer movieId", page.exchange
            )
            continue
        bad = next((k for k in range(1, len(ids)) if ids[k] <= ids[k - 1]), None)
        findings.check(
            bad is None,
            f"movieId {ids[bad] if bad is not None else ''} at offset "
            f"{page.offset + (bad or 0)} does not follow {ids[(bad or 1) - 1]}: not ascending and "
            "unique",
            page.exchange,
        )
    big = movie_pages.big.records
    for pages in movie_pages.walks:
        joined = concatenated(pages)
        if joined != big[: len(joined)] or len(joined) < min(
            len(big), sum(p.requested_limit or 0 for p in pages)
        ):
            findings.add(
                f"pages of {pages[0].requested_limit} concatenate to {len(joined)} movies that differ from "
                f"the first {len(joined)} of one page of {len(big)}",
                pages[-1].exchange,
                movie_pages.big.exchange,
            )
    findings.raise_any()


@pytest.mark.clause("MOVIES-002")
def test_movies_002_paging(client: ApiClient, movie_pages: MoviePages):
    findings = Findings()
    total = movie_pages.total
    pages = [movie_pages.big, movie_pages.last, *(p for w in movie_pages.walks for p in w)]
    for page in pages:
        expected = page.expected_length
        findings.check(
            len(page.records) == expected,
            f"/movies at offset {page.offset} with limit {page.limit} "
            f"and total {page.total} holds {len(page.records)} movies, not {expected}",
            page.exchange,
        )
        findings.check(
            page.total == total,
            f"/movies total is {page.total} at offset {page.offset}, {total} at offset 0",
            page.exchange,
            movie_pages.big.exchange,
        )
    for offset in (total, total + 10):
        page = fetch(client, MOVIES, offset=offset, limit=5)
        findings.check(
            page.records == [] and page.total == total,
            f"/movies offset {offset} (total {total}) "
            f"answered {len(page.records)} movies with total {page.total}",
            page.exchange,
        )
    findings.raise_any()
