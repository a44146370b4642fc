"""Pagination (PAGE-*): pages of any size concatenate to the listing; exact lengths; stable total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .checks import Findings, error_body_problems, expect, fail, names_parameter
from .client import ApiClient
from .discovery import OVERSIZED_LIMIT, Discovery
from .pages import ALL, RATINGS, Page, Walk, Window, fetch, walk

MAX_WALK_PAGES = 30
ODD_SIZES = (5, 7, 9, 11, 13)


@dataclass
class Paging:
    window: Window
    reference: Walk  # the listing read with the largest page size
    walks: list[Walk]  # the same listing with small page sizes

    @property
    def total(self) -> int:
        return self.reference.total

    def all_pages(self) -> list[Page]:
        return [p for w in (self.reference, *self.walks) for p in w.pages]


@pytest.fixture(scope="session")
def paging(client: ApiClient, discovery: Discovery) -> Paging:
    """A small window found in the data, walked with page sizes 1, 2, 3, a seeded odd size and the largest."""
    if not discovery.has_data:
        pytest.skip("the server holds no ratings")
    window, total = discovery.paging_window
    big = discovery.policy.page_limit
    odd = discovery.rng("page-size").choice(ODD_SIZES)
    sizes = [s for s in (1, 2, 3, odd) if s < big]
    reference = walk(client, RATINGS, window, big, total, MAX_WALK_PAGES)
    return Paging(window, reference, [walk(client, RATINGS, window, s, total, MAX_WALK_PAGES) for s in sizes])


def _positions(w: Walk) -> dict[int, tuple[dict[str, Any], Page]]:
    out: dict[int, tuple[dict[str, Any], Page]] = {}
    for page in w.pages:
        assert page.requested_offset is not None
        for index, record in enumerate(page.records):
            out.setdefault(page.requested_offset + index, (record, page))
    return out


@pytest.mark.clause("PAGE-001")
def test_page_001_pages_concatenate_to_the_listing(paging: Paging):
    ref = paging.reference
    findings = Findings()
    if ref.complete:
        records = ref.records
        findings.check(
            len(records) == ref.total,
            f"pages of {ref.size} over {paging.window} concatenate to "
            f"{len(records)} records, total says {ref.total}",
            ref.pages[-1].exchange,
        )
        keys = [(r.get("timestamp"), r.get("userId"), r.get("movieId")) for r in records]
        duplicates = len(keys) - len(set(map(repr, keys)))
        findings.check(
            duplicates == 0,
            f"the listing of {paging.window} repeats {duplicates} record(s)",
            ref.pages[0].exchange,
        )
    reference = _positions(ref)
    for w in paging.walks:
        if w.complete and ref.complete:
            if w.records != ref.records:
                where = next(
                    (i for i, (a, b) in enumerate(zip(w.records, ref.records, strict=False)) if a != b),
                    min(len(w.records), len(ref.records)),
                )
                page = next(
                    (
                        p
                        for p in w.pages
                        if p.requested_offset is not None and p.requested_offset + len(p.records) > where
                    ),
                    w.pages[-1],
                )
                findings.add(
                    f"pages of {w.size} over {paging.window} concatenate to {len(w.records)} records "
                    f"that differ from pages of {ref.size} ({len(ref.records)} records) at position "
                    f"{where}",
                    page.exchange,
                )
            else:
                findings.held()
            continue
        for page in w.pages:  # only the first and last pages were read: compare them position by position
            assert page.requested_offset is not None
            for index, record in enumerate(page.records):
                expected = reference.get(page.requested_offset + index)
                if expected is not None and not findings.check(
                    expected[0] == record,
                    f"the page of {w.size} at offset {page.requested_offset} differs from the page "
                    f"of {ref.size} at position {page.requested_offset + index}",
                    page.exchange,
                    expected[1].exchange,
                ):
                    break
    findings.raise_any()


@pytest.mark.clause("PAGE-002")
def test_page_002_exact_page_lengths(paging: Paging):
    findings = Findings()
    for page in paging.all_pages():
        assert page.requested_limit is not None
        findings.check(
            page.limit <= page.requested_limit,
            f"asked for limit {page.requested_limit}, the envelope says {page.limit}",
            page.exchange,
        )
        expected = page.expected_length
        findings.check(
            len(page.records) == expected,
            f"the page at offset {page.offset} with limit {page.limit} "
            f"and total {page.total} holds {len(page.records)} records, not {expected}",
            page.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("PAGE-003")
def test_page_003_total_is_stable(paging: Paging, discovery: Discovery):
    findings = Findings()
    for page in paging.all_pages():
        findings.check(
            page.total == paging.total,
            f"total of {paging.window} is {page.total} on the page at offset {page.offset} with limit "
            f"{page.requested_limit}, {paging.total} on the first page of {paging.reference.size}",
            page.exchange,
            paging.reference.pages[0].exchange,
        )
    overall = discovery.overview.total
    for page in (discovery.overview.last, *discovery.samples):
        findings.check(
            page.total == overall,
            f"the unfiltered total is {page.total} at offset {page.offset}, {overall} at offset 0",
            page.exchange,
            discovery.overview.first.exchange,
        )
    findings.raise_any()


@pytest.mark.clause("PAGE-004")
def test_page_004_offset_past_end_is_empty(client: ApiClient, discovery: Discovery):
    findings = Findings()
    windows = [(ALL, discovery.overview.total)]
    if discovery.has_data:
        windows.append(discovery.paging_window)
    for window, total in windows:
        for offset in (total, total + 1, total + 1000):
            page = fetch(client, window=window, offset=offset, limit=10)
            findings.check(
                page.records == [],
                f"offset {offset} of {window} (total {total}) answered {len(page.records)} records",
                page.exchange,
            )
            findings.check(
                page.total == total,
                f"offset {offset} of {window} says total {page.total}, not {total}",
                page.exchange,
            )
    findings.raise_any()


@pytest.mark.clause("PAGE-005")
def test_page_005_over_max_limit_clamped_or_rejected(client: ApiClient, discovery: Discovery):
    policy = discovery.policy
    probe = policy.probe
    total = discovery.overview.total
    if policy.mode == "truncated":
        pytest.skip(
            f"limit={OVERSIZED_LIMIT} answered more than {client.max_body_bytes} bytes: the page cannot "
            "be read to check it (PAGE-007 reports the missing cap)"
        )
    if policy.mode == "broken":
        fail(
            f"limit={OVERSIZED_LIMIT} answered {probe.status}: neither a clamped page "
            "(200 echoing the effective limit), a full page echoing the limit, nor a 4xx",
            probe.exchange,
        )
    if policy.mode == "reject":
        # The 4xx is what made it "reject"; what a client then needs is a page size that works.
        accepted = fetch(client, limit=policy.page_limit)
        expect(
            len(accepted.records) == min(accepted.limit, total) and accepted.limit <= policy.page_limit,
            f"after rejecting limit={OVERSIZED_LIMIT}, limit={policy.page_limit} answered "
            f"{len(accepted.records)} records with limit {accepted.limit} and total {total}",
            accepted.exchange,
            probe.exchange,
        )
        return
    page = fetch(client, limit=OVERSIZED_LIMIT)
    expected = min(page.limit, total)
    expect(
        len(page.records) == expected,
        f"limit={OVERSIZED_LIMIT} answered {len(page.records)} records with the "
        f"envelope's limit {page.limit} and total {total}: a clamped limit must be echoed",
        page.exchange,
    )
    if policy.mode == "clamp" and policy.max_limit is not None:
        above = fetch(client, limit=policy.max_limit + 1)
        expect(
            above.limit == policy.max_limit,
            f"limit={policy.max_limit + 1} is echoed as {above.limit}, limit={OVERSIZED_LIMIT} as "
            f"{policy.max_limit}",
            above.exchange,
            page.exchange,
        )
        expect(
            len(above.records) == min(above.limit, total),
            f"limit={policy.max_limit + 1} answered "
            f"{len(above.records)} records with the envelope's limit {above.limit}",
            above.exchange,
        )


@pytest.mark.clause("PAGE-006")
def test_page_006_rejection_names_max_limit(client: ApiClient, discovery: Discovery):
    policy = discovery.policy
    if policy.mode != "reject" or policy.max_limit is None:
        pytest.skip(f"the server does not reject an over-maximum limit ({policy.mode})")
    expect(
        names_parameter(policy.probe, ("limit",)),
        "the 400 for an over-maximum limit does not name limit",
        policy.probe.exchange,
    )
    problems = error_body_problems(policy.probe)
    expect(
        not problems,
        f"the 400 for an over-maximum limit is not an error object: {'; '.join(problems)}",
        policy.probe.exchange,
    )
    page = fetch(client, limit=policy.max_limit)
    expect(
        page.limit == policy.max_limit,
        f"limit={policy.max_limit} (the advertised max_limit) is echoed as {page.limit}",
        page.exchange,
    )


@pytest.mark.clause("PAGE-007")
def test_page_007_page_size_is_capped(client: ApiClient, discovery: Discovery):
    policy = discovery.policy
    if policy.mode == "broken":
        pytest.skip(f"limit={OVERSIZED_LIMIT} answered {policy.probe.status} (see PAGE-005)")
    expect(
        policy.mode in ("clamp", "reject"),
        f"limit={OVERSIZED_LIMIT} was honoured ("
        + (
            f"a body of more than {client.max_body_bytes} bytes"
            if policy.mode == "truncated"
            else f"echoed as {OVERSIZED_LIMIT}"
        )
        + "): the server has no maximum page size, so one request's size grows with the data",
        policy.probe.exchange,
    )
