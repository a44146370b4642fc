"""``movielens-contract``: check a MovieLens ratings API server against the contract.

Runs the suite's tests with ``pytest.main`` on the installed package, collects one result per
clause and prints them as a table; optionally writes JUnit XML, JSON and HTML reports.

Exit status: 0 when every selected MUST clause holds (SHOULD failures are reported only), 1 when a
MUST clause fails, 2 when the suite cannot run (unreachable server, rejected credentials, bad
options), always with a one-line reason and never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from . import options, report
from .clauses import CLAUSES
from .client import strip_userinfo
from .options import DEFAULT_FUZZ_EXAMPLES, DEFAULT_SEED, DEFAULT_TIMEOUT

PROG = "movielens-contract"
SUITE_DIR = Path(__file__).resolve().parent
# The suite ignores the configuration of whatever project it is run from.
_INI = (
    "[pytest]\naddopts =\n"
    "filterwarnings =\n    ignore::DeprecationWarning\n    ignore::PendingDeprecationWarning\n"
)


class CannotRun(Exception):
    """The suite cannot run; the message is the one-line reason."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CannotRun(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check a MovieLens ratings API server against the contract "
        "(contracts/movielens_contract/openapi.yaml) that the Airflow provider relies on.",
        epilog="Exit status: 0 every MUST clause holds, 1 a MUST clause fails, 2 the suite cannot run.",
    )
    parser.add_argument("url", help="base URL of the server, e.g. http://127.0.0.1:5000")
    parser.add_argument(
        "--user",
        default=os.environ.get("MOVIELENS_CONTRACT_USER", "airflow"),
        help="user for HTTP basic auth (default: $MOVIELENS_CONTRACT_USER or airflow)",
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("MOVIELENS_CONTRACT_PASSWORD", "airflow"),
        help="password (default: $MOVIELENS_CONTRACT_PASSWORD or airflow); never printed",
    )
    parser.add_argument("--level", **options.LEVEL_OPTION)
    parser.add_argument(
        "--clause",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help=f"run only these clauses (IDs such as {', '.join(list(CLAUSES)[:3])}, ...)",
    )
    parser.add_argument(
        "--exclude",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="do not run these clauses",
    )
    parser.add_argument(
        "--require",
        action="extend",
        nargs="+",
        default=[],
        metavar="CAPABILITY",
        help=options.REQUIRE_HELP,
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"sampling and fuzzing seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per request (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--fuzz-examples",
        type=int,
        default=DEFAULT_FUZZ_EXAMPLES,
        help=f"generated requests per endpoint and mode (default {DEFAULT_FUZZ_EXAMPLES})",
    )
    parser.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    return parser


def _pytest_args(args: argparse.Namespace, ini: Path) -> list[str]:
    out = [
        str(SUITE_DIR),
        "-c",
        str(ini),
        "--rootdir",
        str(SUITE_DIR),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        # "--opt=value" for user-given strings: a value starting with "-" must not read as an option.
        f"--url={args.url}",
        f"--user={args.user}",
        f"--password={args.password}",
        "--level",
        args.level,
        "--seed",
        str(args.seed),
        "--request-timeout",
        str(args.timeout),
        "--fuzz-examples",
        str(args.fuzz_examples),
    ]
    for clause in args.clause:
        out += ["--clause", clause]
    for clause in args.exclude:
        out += ["--exclude", clause]
    for capability in args.require:
        out += ["--require", capability]
    if args.junit_xml:
        out += [
            f"--junitxml={args.junit_xml}",
            "-o",
            "junit_suite_name=movielens-contract",
            "-o",
            "junit_logging=no",
        ]
    return out


@contextlib.contextmanager
def _no_plugin_autoload() -> Iterator[None]:
    """Load no third-party pytest plugins: the suite needs none, and they could reorder or time out tests."""
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def check(args: argparse.Namespace) -> None:
    """Raise :class:`CannotRun` unless these options can work; create the report directories.

    Called before anything is started (the reference-server wrapper calls it too), so a bad
    option costs nothing and a fresh checkout needs no directories made by hand.
    """
    reason = options.problem(
        args.url,
        options.split_clauses(args.clause),
        args.timeout,
        args.fuzz_examples,
        options.split_clauses(args.exclude) or set(),
        options.split_capabilities(args.require),
    )
    if reason:
        raise CannotRun(reason)
    for target in (args.junit_xml, args.json, args.html):
        if target is None:
            continue
        if target.exists() and target.is_dir():
            raise CannotRun(f"cannot write {target}: it is a directory")
        try:
            target.resolve().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CannotRun(f"cannot write {target}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _hypothesis_home(directory: Path) -> Iterator[None]:
    """Keep hypothesis' files (FUZZ-*) in ``directory``, never in the user's working directory."""
    previous = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(directory)
    from hypothesis import configuration

    saved = vars(configuration).get("__hypothesis_home_directory")
    configuration.set_hypothesis_home_dir(directory)
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(saved)
        if previous is None:
            del os.environ["HYPOTHESIS_STORAGE_DIRECTORY"]
        else:
            os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = previous


def run(args: argparse.Namespace) -> int:
    """Run the suite; return the exit status (raises :class:`CannotRun` for status 2)."""
    import pytest

    check(args)
    collector = report.ResultCollector()
    with tempfile.TemporaryDirectory(prefix="movielens-contract-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(_INI, encoding="utf-8")
        output = io.StringIO()
        print(
            f"{PROG}: checking {strip_userinfo(args.url)} (seed {args.seed}, level {args.level})",
            flush=True,
        )
        with (
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
            _no_plugin_autoload(),
            _hypothesis_home(Path(tmp) / "hypothesis"),
        ):
            status = int(pytest.main(_pytest_args(args, ini), plugins=[collector]))
    if collector.meta.get("fatal"):
        raise CannotRun(collector.meta["fatal"])
    if collector.collection_errors:
        raise CannotRun(f"the suite failed to load: {collector.collection_errors[0]}")
    if status == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise CannotRun("no clause selected")
    results = collector.results()
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not results:
        raise CannotRun(f"the suite stopped (pytest status {status}): {_last_line(output.getvalue())}")
    meta = {**collector.meta, "exit_code": report.exit_code(results)}
    report.render_terminal(results, meta)
    if args.json:
        report.write_json(args.json, results, meta)
        print(f"JSON report: {args.json}")
    if args.html:
        report.write_html(args.html, results, meta)
        print(f"HTML report: {args.html}")
    if args.junit_xml:
        print(f"JUnit XML report: {args.junit_xml}")
    return report.exit_code(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        return run(args)
    except CannotRun as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback: a one-line reason instead
        print(f"{PROG}: error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
