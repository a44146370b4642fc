"""Date windows (WIN-*): UTC calendar dates, start inclusive, end exclusive."""

from __future__ import annotations

import datetime as dt

import pytest

from .checks import Findings, expect
from .client import ApiClient, ContractViolation
from .discovery import Boundary, Discovery
from .pages import RATINGS, Page, Window, fetch, midnight, rating_key, total_of, when

ONE_DAY = dt.timedelta(days=1)
EDGE = 5  # records compared on each side of a split


def _day_windows(b: Boundary) -> list[Window]:
    return [
        Window(b.day - ONE_DAY, b.day),
        Window(b.day, b.day + ONE_DAY),
        Window(b.day - ONE_DAY, b.day + ONE_DAY),
    ]


def _edge_pages(client: ApiClient, window: Window, size: int) -> list[Page]:
    """The first page of a window and, when there is more, its last page."""
    first = fetch(client, window=window, offset=0, limit=size)
    if first.total <= len(first.records):
        return [first]
    return [first, fetch(client, window=window, offset=max(first.total - size, 0), limit=size)]


def _record_at(b: Boundary, position: int) -> dict | None:
    """The unfiltered record at ``position`` if the page around the boundary holds it."""
    index = position - b.neighbours.offset
    return b.neighbours.records[index] if 0 <= index < len(b.neighbours.records) else None


def _boundaries(data: Discovery) -> list[Boundary]:
    if not data.boundaries:
        pytest.skip("all ratings lie within one UTC day: no midnight inside the data")
    return data.boundaries


@pytest.mark.clause("WIN-001")
def test_win_001_records_lie_inside_the_window(client: ApiClient, data: Discovery):
    findings = Findings()
    size = min(data.policy.page_limit, 100)
    for b in _boundaries(data):
        for window in _day_windows(b):
            assert window.start is not None
            assert window.end is not None
            low, high = midnight(window.start), midnight(window.end)
            for page in _edge_pages(client, window, size):
                outside = [k[0] for k in page.order_keys() if not low <= k[0] < high]
                if not findings.check(
                    not outside or not page.records,
                    f"window {window} holds a record at {when(outside[0]) if outside else '?'}, outside "
                    f"[{window.start} 00:00Z, {window.end} 00:00Z)",
                    page.exchange,
                ):
                    break
    findings.raise_any()


@pytest.mark.clause("WIN-002")
def test_win_002_end_and_start_split_the_listing(client: ApiClient, data: Discovery):
    total = data.overview.total
    findings = Findings()
    for b in _boundaries(data):
        if b.before + b.after != total:
            findings.add(
                f"end_date={b.day} holds {b.before} records and start_date={b.day} {b.after}: together "
                f"{b.before + b.after}, not the {total} of the whole listing",
                b.before_page.exchange,
                b.after_page.exchange,
            )
            continue
        findings.held()  # the two totals add up
        first_after, last_before = _record_at(b, b.before), _record_at(b, b.before - 1)
        if b.after_page.records:
            ts = rating_key(b.after_page.records[0], b.after_page.exchange)[0]
            findings.check(
                ts >= b.ts,
                f"start_date={b.day} starts with a record at {when(ts)}, before {b.day} 00:00 UTC",
                b.after_page.exchange,
            )
            if first_after is not None:
                findings.check(
                    b.after_page.records[:1] == [first_after],
                    f"the first record of start_date={b.day} is not record {b.before} of the unfiltered "
                    "listing",
                    b.after_page.exchange,
                    b.neighbours.exchange,
                )
        if b.before:
            tail = fetch(client, window=Window(end=b.day), offset=b.before - 1, limit=1)
            if tail.records:
                ts = rating_key(tail.records[0], tail.exchange)[0]
                findings.check(
                    ts < b.ts,
                    f"end_date={b.day} ends with a record at {when(ts)}, at or after {b.day} 00:00 UTC",
                    tail.exchange,
                )
            if last_before is not None:
                findings.check(
                    tail.records == [last_before],
                    f"the last record of end_date={b.day} is not record {b.before - 1} of the unfiltered "
                    "listing",
                    tail.exchange,
                    b.neighbours.exchange,
                )
    findings.raise_any()


@pytest.mark.clause("WIN-003")
def test_win_003_dates_are_utc_midnights(data: Discovery):
    findings = Findings()
    for b in _boundaries(data):
        before, after = _record_at(b, b.before - 1), _record_at(b, b.before)
        if before is not None:
            ts = rating_key(before, b.neighbours.exchange)[0]
            findings.check(
                ts < b.ts,
                f"end_date={b.day} stops after a record at {when(ts)}: that is "
                f"{(ts - b.ts) / 3600:+.2f} h from {b.day} 00:00 UTC (dates not read as UTC "
                "midnights?)",
                b.before_page.exchange,
                b.neighbours.exchange,
            )
        if after is not None:
            ts = rating_key(after, b.neighbours.exchange)[0]
            findings.check(
                ts >= b.ts,
                f"end_date={b.day} stops before a record at {when(ts)}: that is "
                f"{(ts - b.ts) / 3600:+.2f} h from {b.day} 00:00 UTC (dates not read as UTC "
                "midnights?)",
                b.before_page.exchange,
                b.neighbours.exchange,
            )
    findings.raise_any()


@pytest.mark.clause("WIN-004")
def test_win_004_midnight_record_opens_its_day(client: ApiClient, data: Discovery):
    found = data.midnight_record
    if found is None:
        pytest.skip("no rating at exactly 00:00:00 UTC was found in the sampled data")
    day, record = found
    ts = midnight(day)
    today = fetch(client, window=Window(day, day + ONE_DAY), limit=min(data.policy.page_limit, 100))
    at_midnight = [r for r, k in zip(today.records, today.order_keys(), strict=False) if k[0] == ts]
    expect(
        today.records and today.order_keys()[0][0] == ts and record in at_midnight,
        f"the rating at {when(ts)} is not among the first records of window [{day}, {day + ONE_DAY})",
        today.exchange,
    )
    yesterday_total = total_of(client, Window(day - ONE_DAY, day))
    if yesterday_total:
        last = fetch(client, window=Window(day - ONE_DAY, day), offset=yesterday_total - 1, limit=1)
        expect(
            last.order_keys() and last.order_keys()[0][0] < ts,
            f"window [{day - ONE_DAY}, {day}) ends with a rating at "
            f"{when(last.order_keys()[0][0]) if last.order_keys() else '?'}, at or after {day} 00:00 UTC",
            last.exchange,
        )


@pytest.mark.clause("WIN-005")
def test_win_005_adjacent_windows_add_up(client: ApiClient, data: Discovery):
    findings = Findings()
    total = data.overview.total
    for b in _boundaries(data):
        a, c = b.day - ONE_DAY, b.day + ONE_DAY
        left = fetch(client, window=Window(a, b.day), limit=1)
        right = fetch(client, window=Window(b.day, c), limit=1)
        both = fetch(client, window=Window(a, c), limit=1)
        if left.total + right.total != both.total:
            findings.add(
                f"[{a}, {b.day}) holds {left.total}, [{b.day}, {c}) {right.total}, but [{a}, {c}) "
                f"{both.total}",
                left.exchange,
                right.exchange,
                both.exchange,
            )
            continue
        k = min(EDGE, data.policy.page_limit)
        joined = fetch(
            client,
            window=Window(a, c),
            offset=max(left.total - k, 0),
            limit=2 * k if 2 * k <= data.policy.page_limit else k,
        )
        tail = (
            fetch(client, window=Window(a, b.day), offset=max(left.total - k, 0), limit=k).records
            if left.total
            else []
        )
        head = fetch(client, window=Window(b.day, c), offset=0, limit=k).records
        expected = tail + head  # shorter than the joined page when [a, b) holds fewer than k records
        n = min(len(expected), len(joined.records))
        findings.check(
            joined.records[:n] == expected[:n] and (n > 0 or not joined.records),
            f"around {b.day} the records of [{a}, {c}) differ from [{a}, {b.day}) followed by [{b.day}, {c})",
            joined.exchange,
        )
        first, last = data.overview.first_day, data.overview.last_day + ONE_DAY
        upto, since = total_of(client, Window(first, b.day)), total_of(client, Window(b.day, last))
        findings.check(
            upto + since == total,
            f"[{first}, {b.day}) holds {upto} and [{b.day}, {last}) {since}: "
            f"together {upto + since}, not {total}",
            joined.exchange,
        )
    findings.raise_any()


def _probe_days(discovery: Discovery) -> list[dt.date]:
    if discovery.has_data and discovery.boundaries:
        return [discovery.boundaries[0].day, discovery.overview.first_day - dt.timedelta(days=3)]
    if discovery.has_data:
        return [discovery.overview.first_day]
    return [dt.date(2000, 1, 1)]


def _check_empty(findings: Findings, client: ApiClient, window: Window, what: str) -> None:
    """A page of ``window`` must hold no records and total 0; ``what`` names the window in the message."""
    try:
        page = fetch(client, window=window, limit=10)
    except ContractViolation as exc:
        findings.violation(exc)
        return
    findings.check(
        page.records == [] and page.total == 0,
        f"{what} answered {len(page.records)} records with total {page.total}",
        page.exchange,
    )


@pytest.mark.clause("WIN-006")
def test_win_006_start_equal_end_is_empty(client: ApiClient, discovery: Discovery):
    findings = Findings()
    for day in _probe_days(discovery):
        _check_empty(findings, client, Window(day, day), f"start_date == end_date == {day}")
    findings.raise_any()


@pytest.mark.clause("WIN-007")
def test_win_007_start_after_end_is_4xx(client: ApiClient, discovery: Discovery):
    day = _probe_days(discovery)[0]
    reply = client.get(RATINGS, [*Window(day + ONE_DAY, day).params(), ("limit", "1")])
    expect(
        400 <= reply.status < 500,
        f"start_date {day + ONE_DAY} > end_date {day} answered {reply.status}, not a 4xx",
        reply.exchange,
    )


@pytest.mark.clause("WIN-008")
def test_win_008_window_without_records_is_empty(client: ApiClient, discovery: Discovery):
    if discovery.has_data:
        first, last = discovery.overview.first_day, discovery.overview.last_day
        windows = []
        if first.year > 1:
            windows.append(Window(first - dt.timedelta(days=8), first - ONE_DAY))
        if last.year < 9999:
            windows.append(Window(last + dt.timedelta(days=2), last + dt.timedelta(days=9)))
    else:
        windows = [Window(dt.date(2000, 1, 1), dt.date(2000, 1, 8))]
    findings = Findings()
    for window in windows:
        _check_empty(findings, client, window, f"window {window} without ratings")
    findings.raise_any()


EPOCH = dt.date(1970, 1, 1)


@pytest.mark.clause("WIN-009")
def test_win_009_the_epoch_is_a_date_like_any_other(client: ApiClient, discovery: Discovery):
    findings = Findings()
    total = discovery.overview.total
    negative = discovery.has_data and discovery.overview.first_ts < 0
    before = fetch(client, window=Window(end=EPOCH), limit=10)
    since = fetch(client, window=Window(start=EPOCH), limit=1)
    if negative:
        findings.check(
            before.total + since.total == total,
            f"end_date={EPOCH} holds {before.total} and start_date={EPOCH} {since.total}: together "
            f"{before.total + since.total}, not {total}",
            before.exchange,
            since.exchange,
        )
    else:
        findings.check(
            before.total == 0 and before.records == [],
            f"end_date={EPOCH} answered total {before.total} and {len(before.records)} records, but no "
            "rating is before 1970 (a bound at timestamp 0 read as no bound?)",
            before.exchange,
        )
        findings.check(
            since.total == total,
            f"start_date={EPOCH} answered total {since.total}, not the {total} of the whole listing",
            since.exchange,
        )
    if discovery.has_data:
        end = discovery.boundaries[0].day if discovery.boundaries else discovery.overview.last_day + ONE_DAY
        upto = fetch(client, window=Window(end=end), limit=1)
        both = fetch(client, window=Window(EPOCH, end), limit=1)
        expected = upto.total - (before.total if negative else 0)
        findings.check(
            both.total == expected,
            f"[{EPOCH}, {end}) holds {both.total} ratings, end_date={end} alone {upto.total}",
            both.exchange,
            upto.exchange,
        )
    findings.raise_any()
