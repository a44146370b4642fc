"""The suite against hostile servers: whatever comes back, a clause fails with a message, never crashes.

A server under test may send anything: timestamps in milliseconds, numbers no double or date can
hold, NaN, strings and nulls where integers belong, bytes that are not UTF-8, JSON nested deep
enough to exhaust the recursion limit, truncated or gigantic bodies, odd statuses and content
types, dropped connections. Each must end as a :class:`ContractViolation` (a failed clause with a
readable message), never as an uncaught exception (a clause "error" named after a Python
exception) and never as the runner's exit 2, which means "the suite cannot run".

Two levels: the decoding path fed hypothesis-generated replies through a mocked session, and the
whole runner against a loopback server whose every answer is drawn from a seeded hostile
generator; and regression tests for the crashes those found.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import json
import random
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from _contract_variants import Dataset, RunningServer, VariantApp, make_dataset
from hypothesis import HealthCheck, Phase, configuration, given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError

from movielens_contract import checks, cli, spec
from movielens_contract.client import DEFAULT_MAX_BODY, MAX_JSON_DEPTH, ApiClient, ContractViolation
from movielens_contract.discovery import Discovery
from movielens_contract.pages import (
    DAY,
    MAX_INT,
    MAX_TS,
    MIN_TS,
    MOVIES,
    RATINGS,
    fetch,
    midnight,
    rating_key,
    utc_day,
    when,
)

T = TypeVar("T")
# database=None keeps examples out of ./.hypothesis, but hypothesis still writes caches there (its
# pytest plugin computes the constants of local modules while collecting, before any fixture runs;
# schemathesis in the runner adds unicode data). Pointing its home at a temporary directory as this
# module is imported keeps the working tree clean; the directory goes when the process ends.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="hypothesis-")
configuration.set_hypothesis_home_dir(_HYPOTHESIS_HOME.name)
MOCK_URL = "http://127.0.0.1:9"
MESSAGE_LIMIT = 1000  # what the conftest keeps of a message; ours must be far shorter anyway
# A clause "error" whose message starts like "OverflowError: ..." is an uncaught exception.
EXCEPTION_MESSAGE = re.compile(r"[A-Za-z_][\w.]*: ")

# -- hostile JSON, as text (so that NaN, 1e400 and 400-digit integers can be written) -----------------
ODD_SCALARS = (
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-1",
    "0.5",
    "1.5",
    "4.3",
    "5.0",
    "2.5e0",
    "1e2",
    "1546300800",
    "1546300800000",  # milliseconds
    "1546300800000000",  # microseconds
    "1546300800.5",
    "-62135596801",  # before 0001-01-01
    "253402300800",  # after 9999-12-31
    str(MIN_TS - 1),
    str(MAX_TS + 1),
    "9007199254740991",
    "9007199254740993",
    "1e308",
    "1e400",  # a double's infinity
    "-1e400",
    "1e-400",
    "1" + "0" * 400,  # an integer no double holds
    "-" + "9" * 400,
    "7" * 5000,  # more digits than int() reads
    "NaN",
    "Infinity",
    "-Infinity",
    '""',
    '"x"',
    '"1546300800"',
    '"2019-01-01"',
    '"\\ud800"',  # a lone surrogate
    '"\\u0000<script>"',
    '"caf\\u00e9 \\ud83c\\udfac"',
    '"' + "y" * 5000 + '"',
    "[]",
    "{}",
    "[1, 2]",
    '{"a": {"b": [null]}}',
)
RECORD_KEYS = ("userId", "movieId", "rating", "timestamp", "title", "genres", "error", "parameter")
GOOD_FIELDS = {"userId": "7", "movieId": "42", "rating": "3.5", "timestamp": "1551398400"}
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "text/html",
    "text/plain; charset=latin-1",
    "application/yaml",
    "application/octet-stream",
    "",
)
STATUSES = (200,) * 4 + (201, 204, 206, 299, 301, 304, 400, 401, 403, 404, 418, 429, 500, 503, 599, 999)


def deep(depth: int, kind: str = "[") -> str:
    """JSON nested ``depth`` levels: past Python's recursion limit ``json.loads`` raises RecursionError."""
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def obj(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


def arr(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


# -- hypothesis strategies ----------------------------------------------------------------------------
scalars = st.one_of(
    st.sampled_from(ODD_SCALARS),
    st.integers().map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats().map(lambda f: json.dumps(f)),  # NaN and Infinity as Python writes them
    st.text(max_size=20).map(json.dumps),
)


def containers(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Arrays and objects of ``inner`` values, keys mostly the contract's field names."""
    keys = st.sampled_from(RECORD_KEYS) | st.text(max_size=5)
    return st.lists(inner, max_size=4).map(arr) | st.lists(st.tuples(keys, inner), max_size=4).map(obj)


values = st.recursive(scalars, containers, max_leaves=8)
MISSING = "<missing>"
records = (
    st.builds(  # a good rating with some fields replaced by odd values, dropped or added
        lambda odd: obj([(k, v) for k, v in {**GOOD_FIELDS, **odd}.items() if v != MISSING]),
        st.dictionaries(st.sampled_from(RECORD_KEYS), values | st.just(MISSING), max_size=4),
    )
    | values
)
envelopes = st.builds(
    lambda result, fields, drop: obj([(k, v) for k, v in [("result", result), *fields] if k not in drop]),
    st.lists(records, max_size=6).map(arr) | values,
    st.tuples(
        st.tuples(st.just("offset"), st.sampled_from(("0", "1")) | scalars),
        st.tuples(st.just("limit"), st.sampled_from(("1", "100")) | scalars),
        st.tuples(st.just("total"), st.sampled_from(("0", "1", "5", str(MAX_INT))) | scalars),
    ).map(list),
    st.sets(st.sampled_from(("result", "offset", "limit", "total")), max_size=1),
)
error_bodies = st.builds(
    lambda fields: obj(fields),
    st.lists(st.tuples(st.sampled_from(("error", "parameter", "max_limit", "status")), values), max_size=3),
)
text_bodies = st.one_of(envelopes, envelopes, error_bodies, values)
raw_bodies = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda t, cut: t.encode()[:cut], envelopes, st.integers(0, 40)),  # truncated JSON
    st.builds(
        deep, st.sampled_from((MAX_JSON_DEPTH + 1, 500, 990, 5_000, 20_000)), st.sampled_from("[{")
    ).map(str.encode),
    st.sampled_from((b"", b" ", b"\xef\xbb\xbf{}", b'{"result": [\xff]}', b"\x00" * 8, b"<html>oops</html>")),
    st.builds(lambda t: t.encode("utf-16"), envelopes),
)
bodies = st.one_of(text_bodies.map(lambda t: t.encode("utf-8", "surrogatepass")), raw_bodies)


# -- the decoding path --------------------------------------------------------------------------------
RATING = spec.component("Rating")
MOVIE = spec.component("Movie")
ERROR = spec.component("Error")
RATINGS_PAGE = spec.response_validator(RATINGS, 200)
MOVIES_PAGE = spec.response_validator(MOVIES, 200)
VALIDATORS = (RATING, MOVIE, ERROR, RATINGS_PAGE, MOVIES_PAGE)


def survive(action: Callable[[], T]) -> T | None:
    """``action()``, or ``None`` when it raised a :class:`ContractViolation` with a short message."""
    try:
        return action()
    except ContractViolation as exc:
        message = exc.message
    assert message, "a violation without a message"
    assert len(message) < MESSAGE_LIMIT, message[:200]
    return None


def short_strings(found: list[str]) -> None:
    assert all(isinstance(s, str) and len(s) < 300 for s in found), found


def walk_values(value: Any) -> Iterator[Any]:
    """Every scalar inside a decoded body (recursion is fine: bodies are at most MAX_JSON_DEPTH deep)."""
    if isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from walk_values(item)
    else:
        yield value


def exercise(client: ApiClient, path: str) -> None:
    """Everything the clauses do with an answer: decode, build a page, keys, dates, schemas, errors."""
    reply = survive(lambda: client.get(path, [("limit", "1")]))
    if reply is None:  # e.g. a 204 with a body: a transport error
        return
    body = survive(reply.json)
    reply.is_json_object()
    short_strings(checks.error_body_problems(reply))
    checks.names_parameter(reply, ("limit", "offset"))
    for validator in VALIDATORS:
        if body is not None:
            short_strings(spec.errors(validator, body))
            if isinstance(body, dict) and isinstance(body.get("result"), list):
                for record in body["result"][:10]:
                    short_strings(spec.errors(validator, record))
    page = survive(lambda: fetch(client, path, limit=1))
    if page is not None:
        assert page.expected_length >= 0
        survive(page.order_keys)
        for record in page.records:
            survive(lambda r=record: rating_key(r, reply.exchange))
    for value in walk_values(body):
        if isinstance(value, int) and not isinstance(value, bool):
            day = survive(lambda v=value: utc_day(v))
            assert day is None or isinstance(day, dt.date)
            assert isinstance(when(value), str)
    if path == RATINGS:
        found = Discovery(client, seed=0)
        overview = survive(lambda: found.overview)
        if overview is not None and overview.total > 0:
            survive(lambda: (overview.first_day, overview.last_day))
        assert isinstance(found.facts(), dict)


@pytest.fixture
def mocked() -> Iterator[list[tuple[int, str, bytes]]]:
    """A mocked session answering every GET with the last (status, content type, body) set."""
    answer: list[tuple[int, str, bytes]] = [(200, "application/json", b"{}")]

    def reply(request: Any) -> tuple[int, dict[str, str], bytes]:
        status, ctype, body = answer[-1]
        return status, ({"Content-Type": ctype} if ctype else {}), body

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(MOCK_URL) + r"/.*"), callback=reply)
        yield answer


@settings(
    max_examples=1000,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(
    status=st.sampled_from(STATUSES),
    ctype=st.sampled_from(CONTENT_TYPES),
    body=bodies,
    path=st.sampled_from((RATINGS, MOVIES)),
)
def test_decoding_any_reply_raises_only_contract_violations(mocked, status, ctype, body, path):
    # The function-scoped fixture is fine here: it only holds the mock, whose answer each example sets.
    mocked.append((status, ctype, body))
    exercise(ApiClient(MOCK_URL, "u", "p"), path)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    ts=st.one_of(
        st.integers(), st.sampled_from((MIN_TS, MAX_TS, MIN_TS - 1, MAX_TS + 1, 10**400, -(10**400)))
    )
)
def test_timestamps_are_dates_or_violations(ts):
    day = survive(lambda: utc_day(ts))
    assert (day is not None) == (MIN_TS <= ts <= MAX_TS)
    if day is not None:
        assert midnight(day) <= ts < midnight(day) + DAY
        ten = dt.timedelta(days=10)  # the probe windows reach this far around the data: no OverflowError
        assert (day + ten) - (day - ten) == 2 * ten
    text = when(ts)
    assert isinstance(text, str)
    assert len(text) < 80


def test_spec_errors_bound_messages_of_huge_values():
    huge = {"result": [{"userId": "x" * 10_000, "rating": 10**400, "timestamp": float("nan")}] * 3}
    found = spec.errors(
        RATINGS_PAGE, {**huge, "offset": [1] * 10_000, "limit": None, "total": True}, limit=50
    )
    assert found
    assert all(len(s) < 300 for s in found)
    assert (
        "result/0/rating: 1000000000000000000000000000000000000... is greater than the maximum of 5.0"
        in found
    )


def test_spec_errors_sort_indexes_and_names_together():
    class Fixed:  # a validator whose errors sit at an index and at a name of the same level
        def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
            yield ValidationError("by name", path=["result", "x"])
            yield ValidationError("by index", path=["result", 0])

    assert spec.errors(Fixed(), None) == ["result/0: by index", "result/x: by name"]  # type: ignore[arg-type]


# -- regressions ---------------------------------------------------------------------------------------
def test_deeply_nested_json_is_a_clear_violation(mocked):
    client = ApiClient(MOCK_URL, "u", "p")
    for depth, reason in (
        (100_000, "too deeply nested to decode"),
        (MAX_JSON_DEPTH + 1, "too deeply nested"),
    ):
        mocked.append((200, "application/json", deep(depth).encode()))
        with pytest.raises(ContractViolation, match=f"response body is not JSON \\({reason}"):
            fetch(client, limit=1, cache=False)
    mocked.append((200, "application/json", deep(MAX_JSON_DEPTH).encode()))
    with pytest.raises(ContractViolation, match="not a JSON object"):
        fetch(client, limit=1, cache=False)


def test_millisecond_timestamps_fail_rec_001_not_the_run(tmp_path):
    """A server sending milliseconds once made the runner exit 2 with an OverflowError."""
    data = make_dataset()
    in_ms = Dataset(tuple((u, m, r, ts * 1000) for u, m, r, ts in data.ratings), data.movies)
    report_path = tmp_path / "r.json"
    with RunningServer(VariantApp(in_ms)) as server:
        code = cli.main(
            [server.url, "--user", "airflow", "--password", "airflow", "--json", str(report_path)]
        )
    assert code == 1
    report = json.loads(report_path.read_text(encoding="utf-8"))
    rec = next(c for c in report["clauses"] if c["id"] == "REC-001")
    assert rec["outcome"] == "fail"
    assert (
        f"timestamp {data.ratings[0][3] * 1000} is not seconds since the epoch (milliseconds?)"
        in rec["message"]
    )
    assert not [c for c in report["clauses"] if c["outcome"] == "error"]


# -- the runner against a hostile loopback server ------------------------------------------------------
def _window(query: dict[str, list[str]], shape: dict[str, Any]) -> tuple[int, int]:
    """The indexes ``[lo, hi)`` of the run's ratings (``base + k * step``) inside the query's window."""
    total, base, step = shape["total"], shape["base"], shape["step"]
    lo, hi = 0, max(total, 0)
    if step <= 0:  # unsorted data: windows are ignored
        return lo, hi
    for name in ("start_date", "end_date"):
        if name in query:
            at = midnight(dt.date.fromisoformat(query[name][-1]))
            k = min(max(-(-(at - base) // step), 0), hi)
            lo, hi = (max(lo, k), hi) if name == "start_date" else (lo, min(hi, k))
    return lo, max(lo, hi)


def _plausible_page(
    rng: random.Random, path: str, query: dict[str, list[str]], shape: dict[str, Any]
) -> tuple[str, bool]:
    """A page that looks right (window, paging and order as the contract says), and whether odd
    values were mixed in."""

    def number(name: str, default: int) -> int:
        raw = query.get(name, [str(default)])[-1]
        return int(raw) if raw.isdigit() and len(raw) < 20 else default

    offset, limit = number("offset", 0), number("limit", 100)
    lo, hi = _window(query, shape) if path == RATINGS else (0, 40)
    limit = min(limit, shape["max_page"])
    rows, odd = [], False
    for k in range(lo + offset, min(hi, lo + offset + limit)):
        fields = {"userId": str(1 + k % 7), "movieId": str(1 + k), "rating": "3.5"}
        fields["timestamp"] = str(shape["base"] + k * shape["step"])
        if path == MOVIES:
            fields = {"movieId": str(k + 1), "title": '"T"', "genres": '"Drama"'}
        if rng.random() < shape["oddness"]:
            fields[rng.choice(RECORD_KEYS)], odd = odd_value(rng), True
        rows.append(obj(list(fields.items())))
    envelope = {"result": arr(rows), "offset": str(offset), "limit": str(limit), "total": str(hi - lo)}
    if rng.random() < shape["oddness"]:
        envelope[rng.choice(list(envelope))], odd = odd_value(rng), True
    return obj(list(envelope.items())), odd


def odd_value(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 3 and roll < 0.1:
        return arr([odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))])
    if depth < 3 and roll < 0.2:
        return obj([(rng.choice(RECORD_KEYS), odd_value(rng, depth + 1)) for _ in range(rng.randint(0, 3))])
    if roll < 0.3:
        return str(rng.randint(-(10**30), 10**30))
    return rng.choice(ODD_SCALARS)


def hostile_body(rng: random.Random, path: str, query: dict[str, list[str]], shape: dict[str, Any]) -> bytes:
    """One body of any kind the generator knows, the plausible kinds more often."""
    kind = rng.choices(
        ("plausible", "envelope", "error", "value", "deep", "truncated", "bytes", "empty", "big", "utf16"),
        weights=(40, 12, 10, 8, 6, 6, 6, 4, 2, 2),
    )[0]
    if kind == "plausible":
        return _plausible_page(rng, path, query, shape)[0].encode("utf-8", "surrogatepass")
    if kind == "envelope":
        fields = [(k, odd_value(rng)) for k in ("result", "offset", "limit", "total") if rng.random() < 0.9]
        return obj(fields).encode("utf-8", "surrogatepass")
    if kind == "error":
        fields = [(k, odd_value(rng)) for k in ("error", "parameter", "max_limit") if rng.random() < 0.7]
        return obj(fields).encode("utf-8", "surrogatepass")
    if kind == "value":
        return odd_value(rng).encode("utf-8", "surrogatepass")
    if kind == "deep":
        return deep(rng.choice((MAX_JSON_DEPTH + 1, 900, 5_000, 100_000)), rng.choice("[{")).encode()
    if kind == "truncated":
        text = _plausible_page(rng, path, query, shape)[0].encode("utf-8", "surrogatepass")
        return text[: rng.randrange(max(len(text), 1))]
    if kind == "bytes":
        return rng.randbytes(rng.randint(1, 200))
    if kind == "empty":
        return b""
    if kind == "big":  # a page of tens of thousands of records, far above any requested limit
        big = {**shape, "total": 60_000, "max_page": 60_000, "oddness": 0.0}
        return _plausible_page(rng, RATINGS, {"limit": ["60000"]}, big)[0].encode()
    return _plausible_page(rng, path, query, shape)[0].encode("utf-16")


class HostileServer:
    """Loopback HTTP server; answer ``n`` of a run is drawn from ``Random(f"{seed}:{n}")``.

    Each run has a shape: how many ratings, their timestamps (``base + k * step``: seconds,
    milliseconds, the edges of the representable dates, unsorted), the page-size cap, how often a
    value in a page is odd, how often a whole answer is hostile and after how many calm answers
    (so that discovery goes deep in some runs and fails early in others). The other answers follow
    the contract closely enough that clauses send their requests, with odd values mixed in.

    Answer 0 of a run (the runner's preflight ``GET /ratings?limit=1``) is a complete answer that
    is not 401/403, since refused credentials or no answer there rightly
    mean exit 2; every later answer may be anything, dropped connections and 401s included.
    """

    def __init__(self) -> None:
        self.served = 0
        self.hostile = 0  # answers of a hostile kind, or plausible pages holding odd values
        self.oversized = 0
        self._lock = threading.Lock()
        self._seed = 0
        self._count = 0
        self._shape: dict[str, Any] = {}
        self._send_oversized = False
        handler = type("Handler", (_HostileHandler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def start_run(self, seed: int, *, oversized: bool = False) -> None:
        rng = random.Random(f"shape:{seed}")
        with self._lock:
            self._seed, self._count, self._send_oversized = seed, 0, oversized
            self._shape = {
                "total": rng.choice((0, 5, 40, 500, 500, 5000, 10**6, MAX_INT, MAX_INT + 2, -3)),
                "base": rng.choice(
                    (1551398400,) * 4 + (1551398400 * 1000, MIN_TS, MAX_TS - 40 * DAY, 0, -DAY)
                ),
                "step": rng.choice((61, 3600, 3600, 7 * 3600, DAY, -60)),
                "max_page": rng.choice((10, 1000)),
                "oddness": rng.choice((0.01, 0.05, 0.2)),
                "hostility": rng.choice((0.3, 1.0, 1.0, 1.0)),
                "calm": rng.choice((0, 0, 0, 60, 150)),  # answers before hostility starts: gets deeper
            }

    def next_answer(self) -> tuple[int, random.Random, dict[str, Any], bool]:
        with self._lock:
            n, self._count, self.served = self._count, self._count + 1, self.served + 1
            oversized = self._send_oversized and n == 3
            self.oversized += oversized
            return n, random.Random(f"{self._seed}:{n}"), self._shape, oversized

    def count_hostile(self) -> None:
        with self._lock:
            self.hostile += 1

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


AUTHORIZATION = "Basic " + base64.b64encode(b"u:p").decode()
DOCUMENTS = {
    "/health": b'{"status": "ok"}',
    "/": b'{"message": "hostile MovieLens API"}',
    "/openapi.yaml": b"openapi: 3.1.0\npaths:\n  /ratings: {}\n",
}


class _HostileHandler(BaseHTTPRequestHandler):
    server_state: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.close_connection = True
        n, rng, shape, oversized = self.server_state.next_answer()
        with contextlib.suppress(OSError):  # the client gave up (body cap, timeout): nothing to do
            if n == 0:
                self._preflight(rng, shape)
            elif oversized:
                self._oversized()
            elif n >= shape["calm"] and rng.random() < shape["hostility"]:
                self.server_state.count_hostile()
                self._hostile(rng, shape)
            else:
                self._plausible(rng, shape)

    def _write(
        self, status: int | str, headers: list[tuple[str, str]], body: bytes, length: bool = True
    ) -> None:
        if length:
            headers = [*headers, ("Content-Length", str(len(body)))]
        head = f"HTTP/1.1 {status} Whatever\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        self.wfile.write(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
        self.wfile.flush()

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query, keep_blank_values=True)

    def _preflight(self, rng: random.Random, shape: dict[str, Any]) -> None:
        """Any complete answer that does not refuse the credentials."""
        path, query = self._route()
        body = hostile_body(rng, path, query, shape)
        self._write(rng.choice((200, 200, 404, 500)), [("Content-Type", rng.choice(CONTENT_TYPES))], body)

    def _oversized(self) -> None:
        """A 200 whose body runs past the client's cap (it stops reading there)."""
        chunk = b'{"userId": 1}, ' * 70_000
        self._write(200, [("Content-Type", "application/json")], b'{"result": [', length=False)
        for _ in range(DEFAULT_MAX_BODY // len(chunk) + 2):
            self.wfile.write(chunk)

    def _plausible(self, rng: random.Random, shape: dict[str, Any]) -> None:
        """What a server close to the contract answers, with the run's odd values mixed in."""
        path, query = self._route()
        ctype = [("Content-Type", "application/json")]
        if path in DOCUMENTS:
            self._write(200, ctype, DOCUMENTS[path])
        elif path not in (RATINGS, MOVIES):
            self._write(404, ctype, b'{"error": "no such endpoint"}')
        elif self.headers.get("Authorization") != AUTHORIZATION:
            self._write(401, [*ctype, ("WWW-Authenticate", "Basic")], b'{"error": "authentication required"}')
        else:
            bad = _bad_parameter(query)
            if bad:
                self._write(400, ctype, json.dumps({"error": f"bad {bad}", "parameter": bad}).encode())
            else:
                page, odd = _plausible_page(rng, path, query, shape)
                if odd:
                    self.server_state.count_hostile()
                self._write(200, ctype, page.encode("utf-8", "surrogatepass"))

    def _hostile(self, rng: random.Random, shape: dict[str, Any]) -> None:
        path, query = self._route()
        body = hostile_body(rng, path, query, shape)
        ctype = rng.choice(CONTENT_TYPES)
        status = rng.choice(STATUSES)
        headers = [("Content-Type", ctype)] if ctype else []
        fault = rng.random()
        if fault < 0.05:  # no answer at all
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault < 0.10:  # headers promising more than comes
            self._write(status, [*headers, ("Content-Length", str(len(body) + 100))], body, length=False)
        elif fault < 0.12:  # a status line that is not HTTP
            self.wfile.write(b"HELLO THERE\r\n\r\n" + body)
        elif fault < 0.14:  # gzip that is not
            self._write(status, [*headers, ("Content-Encoding", "gzip")], body)
        elif fault < 0.16:  # real gzip
            self._write(status, [*headers, ("Content-Encoding", "gzip")], gzip.compress(body))
        elif fault < 0.17:  # slow, but well within the timeout
            time.sleep(rng.uniform(0.05, 0.2))
            self._write(status, headers, body)
        elif fault < 0.20:  # no Content-Length: the body ends with the connection
            self._write(status, headers, body, length=False)
        elif fault < 0.25:  # 401 with odd challenge headers
            challenge = rng.choice(("", "Bearer", "Basic", 'basic realm="\u00e9"'))
            self._write(401, [*headers, ("WWW-Authenticate", challenge)], body)
        else:
            self._write(status, headers, body)


def _bad_parameter(query: dict[str, list[str]]) -> str | None:
    """The first malformed parameter, as a server close to the contract would reject it."""
    for name in ("offset", "limit"):
        if name in query and not (query[name][-1].isdigit() and int(query[name][-1]) <= MAX_INT):
            return name
        if name == "limit" and query.get(name) == ["0"]:
            return name
    dates = {}
    for name in ("start_date", "end_date"):
        if name in query:
            try:
                dates[name] = dt.date.fromisoformat(query[name][-1])
            except ValueError:
                return name
    if len(dates) == 2 and dates["start_date"] > dates["end_date"]:
        return "start_date"
    return None


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


# Every answer is drawn from the hostile generator; at least this many are served in all, and at
# least MIN_HOSTILE of them are of a hostile kind or pages holding odd values (the rest are the
# well-formed answers a hostile server also sends, which let the suite reach its deeper clauses).
MIN_SERVED = 1500
MIN_HOSTILE = 1000
MAX_RUNS = 80


def _crashes(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(clause, exception class, message) of each clause that ended in an uncaught exception."""
    found = []
    for clause in report["clauses"]:
        match = EXCEPTION_MESSAGE.match(clause["message"])
        if clause["outcome"] == "error" and match:
            found.append((clause["id"], match.group(0)[:-2], clause["message"][:300]))
    return found


def test_runner_survives_a_hostile_server(hostile, tmp_path, capsys):
    """Hypothesis draws each run's seed (its shape and every answer); at least 1,000 hostile answers."""
    started = time.monotonic()
    problems: list[str] = []
    runs: list[int] = []

    def enough() -> bool:
        # A count, not a clock: the seeds are derandomized and every answer is seeded, so the same
        # runs serve the same answers however busy the machine is.
        return hostile.served >= MIN_SERVED and hostile.hostile >= MIN_HOSTILE and len(runs) >= 5

    @settings(
        max_examples=MAX_RUNS,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(seed=st.integers(min_value=0, max_value=2**32 - 1))
    def one_run(seed: int) -> None:
        if enough():
            return
        hostile.start_run(seed, oversized=not runs)
        report_path = tmp_path / f"r{len(runs)}.json"
        argv = [hostile.url, "--user", "u", "--password", "p", "--json", str(report_path)]
        code = cli.main([*argv, "--fuzz-examples", "2", "--seed", str(seed % 1000)])
        _, err = capsys.readouterr()
        runs.append(seed)
        if code not in (0, 1):
            problems.append(f"seed {seed}: exit {code}: {err.strip()[:300]}")
        if not report_path.exists():
            problems.append(f"seed {seed}: no JSON report")
            return
        for clause, _name, message in _crashes(json.loads(report_path.read_text(encoding="utf-8"))):
            problems.append(f"seed {seed}: {clause} {message}")

    one_run()
    print(
        f"{len(runs)} runs: {hostile.served} answers, {hostile.hostile} hostile, "
        f"in {time.monotonic() - started:.1f} s"
    )
    assert not problems, "\n".join(problems)
    assert hostile.served >= MIN_SERVED, f"only {hostile.served} answers in {len(runs)} runs"
    assert hostile.hostile >= MIN_HOSTILE, f"only {hostile.hostile} hostile answers in {len(runs)} runs"
    assert hostile.oversized == 1


class _AfterPreflight:
    """WSGI: a correct variant for the preflight, then ``body`` with a 200 for every request."""

    def __init__(self, body: bytes, ctype: str) -> None:
        self.app = VariantApp(make_dataset())
        self.body, self.ctype, self.calls = body, ctype, 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.calls += 1
        if self.calls == 1:
            return list(self.app(environ, start_response))
        start_response("200 OK", [("Content-Type", self.ctype), ("Content-Length", str(len(self.body)))])
        return [self.body]


@pytest.mark.parametrize(
    ("clause", "exception", "body", "ctype"),
    [
        ("FUZZ-002", "RecursionError", deep(100_000).encode(), "application/json"),
        ("DOC-001", "RecursionError", deep(100_000).encode(), "application/yaml"),
        ("DOC-001", "ValueError", b"openapi: 2020-13-45\n", "application/yaml"),
        ("DOC-001", "TypeError", b"openapi: '3.1.0'\npaths: 5\n", "application/yaml"),
    ],
)
def test_odd_documents_fail_their_clause_without_crashing(tmp_path, capsys, clause, exception, body, ctype):
    """Crashes the hostile runs found in FUZZ-002's and DOC-001's own parsing: now clause failures."""
    report_path = tmp_path / "r.json"
    with RunningServer(_AfterPreflight(body, ctype)) as server:
        argv = [server.url, "--user", "airflow", "--password", "airflow", "--json", str(report_path)]
        code = cli.main([*argv, "--clause", clause, "--fuzz-examples", "2"])
    capsys.readouterr()
    assert code in (0, 1)
    report = json.loads(report_path.read_text())
    assert (clause, exception) not in {c[:2] for c in _crashes(report)}
    assert {c["id"]: c["outcome"] for c in report["clauses"]}[clause] == "fail"
