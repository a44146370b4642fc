"""``movielens-api``: serve the reference API or generate sample data.

Bad options and bad data end with a one-line message on stderr and exit code 2, never a
traceback. Credentials come only from the environment (``API_USER``/``API_PASSWORD``, default
``airflow``/``airflow``), so they never appear in a process list or a log.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from . import live, ratings_json, sample
from .faults import FaultConfig, parse_kinds
from .params import OVER_MAX_LIMIT_MODES
from .server import DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT, DEFAULT_WORKER_CLASS, WORKER_CLASSES
from .store import DataError, Store, default_cache_dir, load_directory

PROG = "movielens-api"
OVER_MAX_LIMIT_ENV = "MOVIELENS_OVER_MAX_LIMIT"
log = logging.getLogger("movielens_api")
T = TypeVar("T")


def _bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"{value} is not {bound}")
        return value

    return convert


def _bounded_float(low: float, high: float) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value

    return convert


def _kinds(text: str) -> tuple[tuple[str, float], ...]:
    try:
        return parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser raising ``ValueError`` (argparse prefixes the option)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="MovieLens ratings API reference server.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{serve,generate}")

    serve = commands.add_parser("serve", help="run the API under gunicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_bounded_int(0, 65535), default=5000, help="0 picks a free port")
    serve.add_argument("--data", metavar="DIR", help="MovieLens directory with ratings.csv [+ movies.csv]")
    serve.add_argument("--ratings", type=_bounded_int(0, 10**9), help="size of the generated dataset")
    serve.add_argument("--seed", type=_bounded_int(0, 2**63 - 1), help="seed of the generated dataset")
    serve.add_argument("--workers", type=_bounded_int(1, 64), default=2, help="worker processes (2)")
    serve.add_argument(
        "--worker-class",
        choices=sorted(WORKER_CLASSES),
        default=DEFAULT_WORKER_CLASS,
        help="gunicorn worker: gevent (default; bounded reads, many connections) or gthread",
    )
    serve.add_argument(
        "--threads", type=_bounded_int(1, 256), default=4, help="threads per gthread worker (4)"
    )
    serve.add_argument(
        "--read-timeout",
        type=_bounded_int(1, 600),
        default=DEFAULT_READ_TIMEOUT,
        help=f"seconds a client may take to send a request line and headers, and that an idle "
        f"keep-alive connection is kept; then it is closed (default {DEFAULT_READ_TIMEOUT})",
    )
    serve.add_argument(
        "--max-connections",
        type=_bounded_int(1, 100_000),
        default=DEFAULT_MAX_CONNECTIONS,
        help="open connections per gevent worker; more wait to be accepted "
        f"(default {DEFAULT_MAX_CONNECTIONS})",
    )
    serve.add_argument("--max-limit", type=_bounded_int(1), default=10_000, help="largest page (10000)")
    serve.add_argument(
        "--over-max-limit",
        choices=OVER_MAX_LIMIT_MODES,
        default=None,
        help="a larger limit gets a 400 naming max_limit (reject, the default) or the largest page "
        f"(clamp); also {OVER_MAX_LIMIT_ENV}",
    )
    cache = serve.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", metavar="DIR", help="columnar cache of --data (default ~/.cache)")
    cache.add_argument("--no-cache", action="store_true", help="always read the CSV files")
    serve.add_argument(
        "--json-cache-mb",
        type=_bounded_int(0, 1 << 20),
        default=ratings_json.DEFAULT_BUDGET_MB,
        help=f"memory for the newest ratings pre-rendered as JSON (default {ratings_json.DEFAULT_BUDGET_MB})",
    )
    serve.add_argument("--access-log", action="store_true", help="log each request to stderr")
    live_mode = serve.add_argument_group(
        "live mode: serve only the ratings whose time has come on a virtual clock (off by default)"
    )
    live_mode.add_argument(
        "--live-start",
        type=_argument(live.parse_start),
        metavar="ISO8601",
        help="the virtual now when the server starts, with a time zone, e.g. 2019-01-02T23:59:30Z; "
        f"ratings at or after the virtual now stay hidden until it passes them (also {live.START_ENV})",
    )
    live_mode.add_argument(
        "--live-speed",
        type=_argument(live.parse_speed),
        metavar="FLOAT",
        help=f"virtual seconds per real second, >= 0 (default {live.DEFAULT_SPEED:g}; also {live.SPEED_ENV})",
    )
    faults = serve.add_argument_group("fault injection (also MOVIELENS_FAULT_* variables)")
    faults.add_argument("--fault-rate", type=_bounded_float(0.0, 1.0), help="share of requests faulted")
    faults.add_argument("--fault-seed", type=_bounded_int(0), help="seed of the fault sequence")
    faults.add_argument(
        "--fault-kinds", type=_kinds, help="comma list of 500,503,429,slow,drop,truncate[:weight] or all"
    )
    faults.add_argument("--fault-retry-after", type=_bounded_int(0, 86_400), help="429 Retry-After seconds")
    faults.add_argument("--fault-slow-seconds", type=_bounded_float(0.0, 600.0), help="slow fault delay")
    faults.add_argument("--fault-max-streak", type=_bounded_int(1), help="most faults in a row")

    generate = commands.add_parser("generate", help="write the sample dataset as MovieLens CSV files")
    generate.add_argument("--out", required=True, metavar="DIR", help="output directory")
    generate.add_argument("--ratings", type=_bounded_int(0, 10**9), default=sample.DEFAULT_RATINGS)
    generate.add_argument("--seed", type=_bounded_int(0, 2**63 - 1), default=sample.DEFAULT_SEED)
    return parser


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _from_env(name: str, parse: Callable[[str], T]) -> T | None:
    """``parse`` of the environment variable ``name``; ``None`` when unset or empty.

    Raises ``ValueError`` naming the variable when its value is bad.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _live_clock(args: argparse.Namespace, parser: argparse.ArgumentParser) -> live.LiveClock | None:
    """The live clock the options and ``MOVIELENS_LIVE_*`` ask for (options win), or ``None``.

    Raises ``ValueError`` naming the variable when the environment holds a bad value.
    """
    start = args.live_start if args.live_start is not None else _from_env(live.START_ENV, live.parse_start)
    speed = args.live_speed
    if speed is None:
        speed = _from_env(live.SPEED_ENV, live.parse_speed)
        if speed is not None and start is None:
            raise ValueError(
                f"{live.SPEED_ENV} is set but live mode is off: set {live.START_ENV} or --live-start"
            )
    if start is None:
        if args.live_speed is not None:
            parser.error(f"--live-speed needs --live-start (or {live.START_ENV})")
        return None
    return live.LiveClock(start, live.DEFAULT_SPEED if speed is None else speed)


def _load(args: argparse.Namespace) -> Store:
    started = time.perf_counter()
    if args.data is not None:
        cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
        store = load_directory(args.data, cache_dir=cache_dir, json_budget_mb=args.json_cache_mb)
        source = args.data
    else:
        n = sample.DEFAULT_RATINGS if args.ratings is None else args.ratings
        seed = sample.DEFAULT_SEED if args.seed is None else args.seed
        store = Store.generated(n, seed, json_budget_mb=args.json_cache_mb)
        source = f"generated sample (ratings={n}, seed={seed})"
    rendered = store.n_ratings - (store.rendered.first if store.rendered else store.n_ratings)
    log.info(
        "loaded %d ratings (the newest %d pre-rendered as JSON) and %d movies from %s in %.2fs",
        store.n_ratings,
        rendered,
        store.n_movies,
        source,
        time.perf_counter() - started,
    )
    return store


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .app import create_app
    from .server import serve

    if args.data is not None and (args.ratings is not None or args.seed is not None):
        parser.error("--ratings/--seed size the generated dataset; they cannot be combined with --data")
    user = os.environ.get("API_USER", "airflow")
    password = os.environ.get("API_PASSWORD", "airflow")
    if not user or not password:
        return _fail("API_USER and API_PASSWORD must not be empty")
    try:
        faults = FaultConfig.from_env(
            rate=args.fault_rate,
            seed=args.fault_seed,
            kinds=args.fault_kinds,
            retry_after=args.fault_retry_after,
            slow_seconds=args.fault_slow_seconds,
            max_streak=args.fault_max_streak,
        )
    except ValueError as exc:
        return _fail(f"fault injection: {exc}")
    try:
        live_clock = _live_clock(args, parser)
    except ValueError as exc:
        return _fail(f"live mode: {exc}")
    over_max_limit = args.over_max_limit or os.environ.get(OVER_MAX_LIMIT_ENV, "").strip().lower() or "reject"
    if over_max_limit not in OVER_MAX_LIMIT_MODES:
        return _fail(
            f"{OVER_MAX_LIMIT_ENV}={over_max_limit!r}: expected one of {', '.join(OVER_MAX_LIMIT_MODES)}"
        )
    try:
        store = _load(args)
    except DataError as exc:
        return _fail(str(exc))
    except MemoryError:
        return _fail("not enough memory to load the dataset")
    log.info("a limit above %d is answered with: %s", args.max_limit, over_max_limit)
    if faults.rate > 0:
        log.warning("fault injection is ON: %s", faults.describe())
    if live_clock is not None:
        log.info("live mode: only ratings before the virtual now are served; %s", live_clock.describe())
    app = create_app(
        store,
        user=user,
        password=password,
        max_limit=args.max_limit,
        over_max_limit=over_max_limit,
        faults=faults,
        live=live_clock,
    )

    def ready(url: str) -> None:
        # gunicorn calls this in its master before it forks the workers: they all inherit this
        # anchor, so virtual time starts at --live-start when the server starts accepting.
        if live_clock is not None:
            live_clock.anchor()
        print(f"{PROG} ready on {url} ({store.n_ratings} ratings, {store.n_movies} movies)", flush=True)

    timeout = max(30, math.ceil(faults.slow_seconds) + 30)
    serve(
        app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        timeout=timeout,
        worker_class=args.worker_class,
        read_timeout=args.read_timeout,
        max_connections=args.max_connections,
        access_log=args.access_log,
        on_ready=ready,
    )
    return 0


def _generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    data = sample.generate(args.ratings, args.seed)
    try:
        ratings_path, movies_path = sample.write_csv(data, args.out)
    except OSError as exc:
        return _fail(f"cannot write to {args.out}: {exc.strerror or exc}")
    print(
        f"wrote {len(data)} ratings to {ratings_path} and {len(data.movie_ids)} movies to {movies_path} "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``movielens-api`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
    )
    try:
        if args.command == "generate":
            return _generate(args)
        return _serve(args, parser)
    except KeyboardInterrupt:
        return 130
