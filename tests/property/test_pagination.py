"""Property: paging through any simulated server yields exactly the listing, or a documented error.

A simulated ``/ratings`` server (a `responses` callback) is generated from strategies: dataset sizes
from 0, page sizes from 1, servers that clamp ``limit`` (echoing it or not) or reject large limits with a
400 (with or without ``max_limit``), sequences of transient faults (5xx, 429 with ``Retry-After``,
refused connections, truncated bodies), and misbehaviour: the data changing mid-fetch, over-long or
empty pages, a page that repeats the previous page's last record. The hook (with retries and an
injected sleep) must then either return exactly the listing, in order, or raise one of the documented
errors; it must never lose or duplicate records silently. Adaptive paging (``batch_size=None``), with its
first page, growth and cap scaled down to the simulated datasets, is held to the same exactness.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from hypothesis import currently_in_test_context, given, note
from hypothesis import strategies as st

from airflow_movielens import hooks
from airflow_movielens.exceptions import (
    MovielensAPIError,
    MovielensConnectionError,
    MovielensDataChangedError,
    MovielensResponseError,
)
from airflow_movielens.hooks import MovielensHook

URL = "http://127.0.0.1:5000/ratings"
MAX_ATTEMPTS = 3
DOCUMENTED = (MovielensDataChangedError, MovielensAPIError, MovielensConnectionError, MovielensResponseError)
FAULTS = ("500", "502", "503", "504", "429", "refused", "truncated", "bad_json")
MISBEHAVIOURS = ("overlong", "empty", "repeat_boundary")

Record = dict[str, Any]


def as_record(key: tuple[int, int, int]) -> Record:
    timestamp, user, movie = key
    return {
        "userId": user,
        "movieId": movie,
        "rating": 0.5 * (1 + (timestamp + user + movie) % 10),
        "timestamp": timestamp,
    }


def order_key(record: Record) -> tuple[int, int, int]:
    return (record["timestamp"], record["userId"], record["movieId"])


keys = st.tuples(st.integers(0, 40), st.integers(1, 4), st.integers(1, 4))
datasets = st.lists(keys, unique=True, max_size=60).map(lambda ks: [as_record(k) for k in sorted(ks)])


@dataclass
class SimulatedServer:
    """A /ratings endpoint over ``dataset`` with configurable paging quirks, faults and misbehaviour."""

    dataset: list[Record]
    max_limit: int | None = None
    echo_limit: bool = True
    reject_above: int | None = None
    send_max_limit: bool = True
    faults: dict[int, str] = field(default_factory=dict)  # call index -> transient fault
    misbehaviour: dict[int, str] = field(default_factory=dict)  # call index -> misbehaviour
    mutation: tuple[int, str, tuple[int, int, int], int] | None = None  # (call, kind, key, position)
    calls: int = 0
    first_page_call: int | None = None  # the first call answered with a page of data
    answered: list[tuple[int, int, int]] = field(default_factory=list)  # (offset, limit, status) per answer
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.current = list(self.dataset)
        self.mutated = list(self.dataset)
        if self.mutation is not None:
            _, kind, key, position = self.mutation
            if kind == "insert" and key not in {order_key(r) for r in self.dataset}:
                self.mutated = sorted([*self.dataset, as_record(key)], key=order_key)
            elif kind == "delete" and self.dataset:
                self.mutated = [r for i, r in enumerate(self.dataset) if i != position % len(self.dataset)]

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        call = self.calls
        self.calls += 1
        if self.mutation is not None and call == self.mutation[0]:
            self.current = self.mutated
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        offset, limit = int(query["offset"]), int(query["limit"])
        self.log.append(f"call {call}: offset={offset} limit={limit}")
        fault = self.faults.get(call)
        if fault is not None:
            self.log.append(f"  fault {fault}")
            if fault == "refused":
                raise requests.ConnectionError("connection refused")
            if fault == "truncated":
                raise requests.exceptions.ChunkedEncodingError("response ended prematurely")
            if fault == "bad_json":
                return 200, {"Content-Type": "application/json"}, '{"result": [{"userId": 1, '
            headers = {"Retry-After": "1"} if fault == "429" else {}
            return int(fault), headers, json.dumps({"error": f"simulated {fault}"})
        if self.reject_above is not None and limit > self.reject_above:
            body: dict[str, Any] = {
                "error": f"limit must be at most {self.reject_above}",
                "parameter": "limit",
            }
            if self.send_max_limit:
                body["max_limit"] = self.reject_above
            self.answered.append((offset, limit, 400))
            return 400, {}, json.dumps(body)
        effective = min(limit, self.max_limit) if self.max_limit is not None else limit
        data = self.current
        start, size = offset, effective
        quirk = self.misbehaviour.get(call)
        if quirk == "overlong":
            size += 1
        elif quirk == "empty":
            size = 0
        elif quirk == "repeat_boundary" and offset > 0:
            start = offset - 1
        if quirk:
            self.log.append(f"  misbehaviour {quirk}")
        if self.first_page_call is None:
            self.first_page_call = call
        self.answered.append((offset, limit, 200))
        envelope = {
            "result": data[start : start + size],
            "offset": offset,
            "limit": effective if self.echo_limit else limit,
            "total": len(data),
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(envelope)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fetch(server: SimulatedServer, batch_size: int | None) -> tuple[list[Record] | Exception, Sleeps]:
    sleeps = Sleeps()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_callback(responses.GET, URL, callback=server)
        hook = MovielensHook(max_attempts=MAX_ATTEMPTS, backoff_base=0.5, backoff_max=4.0, sleep=sleeps)
        try:
            with hook:
                return list(hook.get_ratings(batch_size=batch_size)), sleeps
        except DOCUMENTED as exc:
            return exc, sleeps
        finally:
            if currently_in_test_context():
                note("\n".join(server.log))


def longest_fault_run(faults: dict[int, str]) -> int:
    longest = run = 0
    for call in range(max(faults, default=-1) + 1):
        run = run + 1 if call in faults else 0
        longest = max(longest, run)
    return longest


page_sizes = st.integers(1, 25)
server_caps = st.none() | st.integers(1, 25)
# Call indices stay small so faults, quirks and mutations often hit the same few requests.
calls = st.integers(0, 15)
fault_maps = st.dictionaries(calls, st.sampled_from(FAULTS), max_size=8)


@given(
    dataset=datasets,
    batch_size=page_sizes,
    max_limit=server_caps,
    echo_limit=st.booleans(),
    reject_above=server_caps,
    send_max_limit=st.booleans(),
    faults=fault_maps,
)
def test_honest_server_listing_is_exact(
    dataset, batch_size, max_limit, echo_limit, reject_above, send_max_limit, faults
):
    """Clamping, 400s about limit and transient faults never change the listing."""
    server = SimulatedServer(
        dataset,
        max_limit=max_limit,
        echo_limit=echo_limit,
        reject_above=reject_above,
        send_max_limit=send_max_limit,
        faults=faults,
    )
    result, sleeps = fetch(server, batch_size)
    if longest_fault_run(faults) < MAX_ATTEMPTS:
        assert result == dataset
        # every fault that was hit cost one backoff wait, bounded by backoff_max / Retry-After
        assert len(sleeps) == sum(1 for call in faults if call < server.calls)
        assert all(0 <= wait <= 4.0 for wait in sleeps)
    else:
        assert result == dataset or isinstance(
            result, (MovielensAPIError, MovielensConnectionError, MovielensResponseError)
        )
        if isinstance(result, Exception):
            assert len(sleeps) == MAX_ATTEMPTS - 1 + sum(
                1 for call in faults if call < server.calls - MAX_ATTEMPTS
            )


@given(
    dataset=datasets,
    batch_size=page_sizes,
    max_limit=server_caps,
    echo_limit=st.booleans(),
    misbehaviour=st.dictionaries(calls, st.sampled_from(MISBEHAVIOURS), max_size=3),
    mutation=st.none() | st.tuples(calls, st.sampled_from(["insert", "delete"]), keys, st.integers(0, 100)),
    faults=fault_maps,
)
def test_misbehaving_server_never_loses_or_duplicates_silently(
    dataset, batch_size, max_limit, echo_limit, misbehaviour, mutation, faults
):
    """Data changing mid-fetch, over-long/empty pages, repeated records: exact listing or an error."""
    server = SimulatedServer(
        dataset,
        max_limit=max_limit,
        echo_limit=echo_limit,
        faults=faults,
        misbehaviour=misbehaviour,
        mutation=mutation,
    )
    result, _ = fetch(server, batch_size)
    if isinstance(result, Exception):
        assert isinstance(result, DOCUMENTED)
        return
    # A change before the first page was served is just a newer snapshot; otherwise the original.
    assert result in (dataset, server.mutated)
    if result != dataset:
        assert mutation is not None
        assert server.first_page_call is not None
        assert mutation[0] <= server.first_page_call
    assert [order_key(r) for r in result] == sorted({order_key(r) for r in result})  # ordered, unique


@given(dataset=datasets, batch_size=page_sizes, call=calls, kind=st.sampled_from(MISBEHAVIOURS))
def test_detectable_misbehaviour_is_reported(dataset, batch_size, call, kind):
    """When a served page really is over-long, empty too early or repeats a record, the hook raises."""
    server = SimulatedServer(dataset, misbehaviour={call: kind})
    result, _ = fetch(server, batch_size)
    offset = call * batch_size  # with an honest server, call n asks for offset n * batch_size
    served = call < server.calls
    harmful = served and (
        (kind == "overlong" and offset + batch_size < len(dataset))
        or (kind == "empty" and offset < len(dataset))
        or (kind == "repeat_boundary" and 0 < offset < len(dataset))
    )
    if harmful:
        assert isinstance(result, MovielensDataChangedError)
    else:
        assert result == dataset


@given(dataset=datasets.filter(lambda d: len(d) >= 2), batch_size=page_sizes, data=st.data())
def test_total_changing_mid_fetch_is_reported(dataset, batch_size, data):
    """Any insert or delete after the first page was served is detected through ``total``."""
    pages = -(-len(dataset) // batch_size)
    if pages < 2:
        return
    call = data.draw(st.integers(1, pages - 1), label="call")
    kind = data.draw(st.sampled_from(["insert", "delete"]), label="kind")
    key = data.draw(keys.filter(lambda k: k not in {order_key(r) for r in dataset}), label="key")
    server = SimulatedServer(dataset, mutation=(call, kind, key, data.draw(st.integers(0, 100))))
    result, _ = fetch(server, batch_size)
    assert isinstance(result, MovielensDataChangedError)
    assert "total changed" in str(result)


SERVER_STYLES = ("accept", "clamp_echo", "clamp_silent", "reject_max_limit", "reject_no_max_limit")


@given(
    dataset=datasets,
    first=st.integers(1, 6),
    growth=st.integers(2, 4),
    cap=st.integers(1, 40),
    style=st.sampled_from(SERVER_STYLES),
    server_cap=st.integers(1, 30),
    faults=fault_maps,
)
def test_adaptive_paging_returns_exactly_the_listing(dataset, first, growth, cap, style, server_cap, faults):
    """The default page size grows, meets any server cap (echoed, silent or a 400) and loses nothing."""
    server = SimulatedServer(
        dataset,
        max_limit=server_cap if style.startswith("clamp") else None,
        echo_limit=style != "clamp_silent",
        reject_above=server_cap if style.startswith("reject") else None,
        send_max_limit=style == "reject_max_limit",
        faults=faults,
    )
    scaled = {"ADAPTIVE_FIRST_PAGE": min(first, cap), "ADAPTIVE_GROWTH": growth, "ADAPTIVE_MAX_PAGE": cap}
    with mock.patch.multiple(hooks, **scaled):
        result, _ = fetch(server, None)
    if longest_fault_run(faults) >= MAX_ATTEMPTS and isinstance(result, Exception):
        assert isinstance(result, (MovielensAPIError, MovielensConnectionError, MovielensResponseError))
        return
    assert result == dataset
    limits = [limit for _, limit, _ in server.answered]
    assert all(limit <= cap for limit in limits)  # the cap bounds every page held in memory
    offsets = [offset for offset, _, status in server.answered if status == 200]
    assert offsets == sorted(offsets)  # never back: no record asked for twice
    over = {(offset, limit) for offset, limit, _ in server.answered if limit > server_cap}
    if style in ("clamp_echo", "reject_max_limit"):
        assert len(over) <= 1  # the server's cap is learnt from its first answer above it
    if style.startswith("reject"):
        rejected = [limit for _, limit, status in server.answered if status == 400]
        assert rejected == sorted(set(rejected), reverse=True)  # a refused limit is never asked again
