"""Operators: fetch a window of ratings to a file, and rank the movies of a fetched window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, Literal

import orjson
import pandas as pd

from airflow_movielens.compat import Asset, BaseOperator, Context
from airflow_movielens.dates import (
    DEFAULT_END_DATE,
    DEFAULT_START_DATE,
    DateLike,
    coerce_window,
    empty_window_message,
    window_argument,
)
from airflow_movielens.exceptions import MovielensError
from airflow_movielens.hooks import MovielensHook, check_batch_size, check_hook_params
from airflow_movielens.lineage import FetchRecord, fetch_lineage, rank_lineage, report_files
from airflow_movielens.ranking import rank_movies_by_rating
from airflow_movielens.storage import atomic_writer, read_bytes

if TYPE_CHECKING:  # optional: only with apache-airflow-providers-openlineage
    from airflow.providers.openlineage.extractors import OperatorLineage

OutputFormat = Literal["json", "jsonl"]
_FORMATS = ("json", "jsonl")


def _check_format(name: str, value: str) -> None:
    if value not in _FORMATS:
        raise ValueError(f"{name} must be one of {', '.join(_FORMATS)}, got {value!r}")


def _report_files(operator: BaseOperator, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    """Tell Airflow's hook lineage collector the files ``operator`` read and wrote; never fail the task.

    The file is already in place when this runs: a lineage problem (an URI Airflow refuses as an
    asset, a broken listener plugin) is logged, not raised.
    """
    try:
        report_files(operator, inputs=inputs, outputs=outputs)
    except Exception as exc:
        operator.log.warning("Could not report lineage of %s: %s", ", ".join(inputs + outputs), exc)


class _RecordWriter:
    """Stream records as one JSON array (``json``) or one object per line (``jsonl``)."""

    def __init__(self, handle: IO[bytes], output_format: str) -> None:
        self._handle = handle
        self._lines = output_format == "jsonl"
        self._separator = b""  # before the next record of a JSON array
        if not self._lines:
            handle.write(b"[")

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        if self._lines:
            self._handle.write(b"".join(orjson.dumps(record) + b"\n" for record in records))
            return
        self._handle.write(self._separator + b",".join(orjson.dumps(record) for record in records))
        self._separator = b","

    def close(self) -> None:
        if not self._lines:
            self._handle.write(b"]")


class MovielensFetchRatingsOperator(BaseOperator):
    """Fetch the ratings of ``[start_date, end_date)`` (UTC dates) and write them to ``output_path``.

    :param conn_id: the ``movielens`` connection; templated.
    :param output_path: a local path or an ``ObjectStoragePath`` URI (``s3://...``, ``file:///...``);
        templated. The file appears atomically: a failed run leaves no partial file and an existing
        file untouched.
    :param start_date: first day included; templated, default the run's data-interval start (UTC date).
        Stored as ``window_start`` because ``start_date`` is ``BaseOperator``'s own scheduling field.
    :param end_date: first day excluded; templated, default the data-interval end. Stored as ``window_end``.
    :param batch_size: records requested per page (the server may cap it); ``None`` (the default)
        lets the hook grow the page size from 1,000 towards 20,000 records or the server's cap, which
        fetches a large window about as fast as one request would while holding at most one page
        (about 8 MB at 20,000 ratings) in memory. See :meth:`MovielensHook.get_ratings`.
    :param output_format: ``json`` (one JSON array, as the seed writes) or ``jsonl`` (one object per line).
    :param hook_params: extra keyword arguments for :class:`MovielensHook` (timeouts, retries); checked
        at construction, so a misspelt one fails the DAG parse.
    :param allow_empty_window: write an empty partition for an empty ``[d, d)`` window
        (``start_date == end_date``) instead of failing. Off by default: on Airflow 3 a schedule such
        as ``"@daily"`` gives every run such a window, and succeeding would write empty partitions
        forever; the task fails (before any request) with the reason and the timetable to use.

    Returns (XCom) ``{"path", "count", "start_date", "end_date", "format"}``.

    Lineage: the written file (its final path, never the temporary one) is reported to Airflow's hook
    lineage collector as an output asset, and with ``apache-airflow-providers-openlineage`` installed
    the task's OpenLineage events name the API's ``/ratings`` (namespace ``scheme://host:port``, the
    window as an ``inputSubset`` partition) as input and the file as output (see
    :mod:`airflow_movielens.lineage`). With ``outlets=[Asset(...)]`` the task is an asset producer:
    each success emits an event per asset whose ``extra`` is ``{"path", "start_date", "end_date",
    "count"}`` of the partition written, so a consumer DAG knows which file is new.
    """

    template_fields: Sequence[str] = ("conn_id", "window_start", "window_end", "output_path")
    ui_color = "#d6e9f8"

    def __init__(
        self,
        *,
        output_path: str,
        conn_id: str = MovielensHook.default_conn_name,
        start_date: DateLike = None,
        end_date: DateLike = None,
        batch_size: int | None = None,
        output_format: OutputFormat = "json",
        hook_params: dict[str, Any] | None = None,
        allow_empty_window: bool = False,
        **kwargs: Any,
    ) -> None:
        default_args = kwargs.get("default_args")
        super().__init__(**kwargs)
        _check_format("output_format", output_format)
        check_batch_size(batch_size)
        self.conn_id = conn_id
        self.output_path = output_path
        self.window_start = window_argument(start_date, "start_date", default_args, DEFAULT_START_DATE)
        self.window_end = window_argument(end_date, "end_date", default_args, DEFAULT_END_DATE)
        self.batch_size = batch_size
        self.output_format = output_format
        self.hook_params = check_hook_params(hook_params)
        if not isinstance(allow_empty_window, bool):
            raise TypeError(f"allow_empty_window must be True or False, got {allow_empty_window!r}")
        self.allow_empty_window = allow_empty_window
        self._fetched: FetchRecord | None = None  # what the last successful execute() read and wrote

    def execute(self, context: Context) -> dict[str, Any]:
        self._fetched = None
        start, end = coerce_window(self.window_start, self.window_end)
        if start is not None and start == end:
            if not self.allow_empty_window:
                raise ValueError(
                    f"{empty_window_message(start)} The fetch would write an empty partition; pass "
                    "allow_empty_window=True to write one anyway."
                )
            self.log.warning(empty_window_message(start))
        self.log.info("Fetching ratings for [%s, %s) into %s", start, end, self.output_path)
        count = 0
        with MovielensHook(self.conn_id, **self.hook_params) as hook:
            pages = hook.iter_ratings_pages(start, end, self.batch_size)
            with atomic_writer(self.output_path) as handle:
                writer = _RecordWriter(handle, self.output_format)
                for page in pages:
                    writer.write(page.records)
                    count += len(page.records)
                    self.log.info(
                        "Fetched %d of %d ratings (%.1f%%)",
                        count,
                        page.total,
                        100.0 * count / page.total,  # pages are never empty, so total > 0
                    )
                writer.close()
            api_url = hook.get_conn()[1]  # cached: the URL the pages came from, without credentials
        self.log.info("Wrote %d ratings to %s", count, self.output_path)
        self._fetched = FetchRecord(api_url, start, end, self.output_path, count)
        _report_files(self, inputs=(), outputs=(self.output_path,))
        self._describe_asset_events(
            context, {"path": self.output_path, "start_date": start, "end_date": end, "count": count}
        )
        return {
            "path": self.output_path,
            "count": count,
            "start_date": start,
            "end_date": end,
            "format": self.output_format,
        }

    def _describe_asset_events(self, context: Context, extra: dict[str, Any]) -> None:
        """Put ``extra`` (the partition written) into the event of every asset in ``outlets``."""
        events: Any = context.get("outlet_events")
        if events is None:  # a hand-made context (tests, direct execute() calls)
            return
        for outlet in self.outlets:
            if isinstance(outlet, Asset):  # an alias names no asset event of its own
                events[outlet].extra.update(extra)

    def _planned(self) -> FetchRecord:
        """What a run with the rendered fields reads and writes (reads the connection, no request)."""
        start, end = coerce_window(self.window_start, self.window_end)
        with MovielensHook(self.conn_id, **self.hook_params) as hook:
            api_url = hook.get_conn()[1]
        return FetchRecord(api_url, start, end, self.output_path)

    def get_openlineage_facets_on_start(self) -> OperatorLineage | None:
        """OpenLineage datasets of the run about to start (``None`` without the OpenLineage provider)."""
        return fetch_lineage(self._planned())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        """OpenLineage datasets of the finished run, with the count written (``None`` without the
        OpenLineage provider); after a failed run, those it was to read and write."""
        return fetch_lineage(self._fetched if self._fetched is not None else self._planned())


def read_ratings(path: str, input_format: str = "json") -> pd.DataFrame:
    """Load a partition written by :class:`MovielensFetchRatingsOperator` into a DataFrame."""
    _check_format("input_format", input_format)
    data = read_bytes(path)
    try:
        if input_format == "jsonl":
            records = [orjson.loads(line) for line in data.splitlines() if line.strip()]
        else:
            records = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid {input_format}: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ValueError(f"{path} does not hold a list of rating objects ({input_format})")
    return pd.DataFrame.from_records(records)


class MovielensRankMoviesOperator(BaseOperator):
    """Rank the movies of a fetched partition by average rating and write the ranking as CSV.

    :param input_path: the partition written by the fetch operator (local path or URI); templated.
    :param output_path: the CSV to write atomically (local path or URI); templated.
    :param min_ratings: keep movies rated by at least this many distinct users (inclusive; the
        textbook keeps strictly more: its ``min_ratings=n`` is ``n + 1`` here).
    :param conn_id: when given, add a ``title`` column from ``/movies`` (a failure there is logged and
        leaves the titles empty rather than failing the task); templated.
    :param input_format: ``json`` or ``jsonl``, as written by the fetch operator.
    :param hook_params: extra keyword arguments for :class:`MovielensHook` (for the titles); checked at
        construction.

    The CSV has the columns ``movieId,avg_rating,num_ratings`` (``,title`` with ``conn_id``); an empty
    window gives a CSV with just the header. Returns (XCom) ``{"path", "count"}``.

    Lineage as for the fetch operator: the input file in and the CSV (final path) out, to the hook
    lineage collector and, with the OpenLineage provider, in the task's OpenLineage events.
    """

    template_fields: Sequence[str] = ("conn_id", "input_path", "output_path")
    ui_color = "#e8f7e4"

    def __init__(
        self,
        *,
        input_path: str,
        output_path: str,
        min_ratings: int = 2,
        conn_id: str | None = None,
        input_format: OutputFormat = "json",
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_format("input_format", input_format)
        if isinstance(min_ratings, bool) or not isinstance(min_ratings, int) or min_ratings < 1:
            raise ValueError(f"min_ratings must be an integer >= 1, got {min_ratings!r}")
        self.input_path = input_path
        self.output_path = output_path
        self.min_ratings = min_ratings
        self.conn_id = conn_id
        self.input_format = input_format
        self.hook_params = check_hook_params(hook_params)
        self._ranked: int | None = None  # movies in the ranking the last successful execute() wrote

    def execute(self, context: Context) -> dict[str, Any]:
        self._ranked = None
        ratings = read_ratings(self.input_path, self.input_format)
        ranking = rank_movies_by_rating(ratings, min_ratings=self.min_ratings)
        if self.conn_id is not None:
            ranking["title"] = ranking.index.map(self._titles(set(ranking.index.tolist())))
        with atomic_writer(self.output_path) as handle:
            handle.write(ranking.to_csv(index=True).encode())
        self.log.info(
            "Ranked %d movies from %d ratings into %s", len(ranking), len(ratings), self.output_path
        )
        self._ranked = len(ranking)
        _report_files(self, inputs=(self.input_path,), outputs=(self.output_path,))
        return {"path": self.output_path, "count": len(ranking)}

    def get_openlineage_facets_on_start(self) -> OperatorLineage | None:
        """OpenLineage datasets of the run about to start (``None`` without the OpenLineage provider)."""
        return rank_lineage(self.input_path, self.output_path)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        """OpenLineage datasets of the finished run (``None`` without the OpenLineage provider)."""
        return rank_lineage(self.input_path, self.output_path, self._ranked)

    def _titles(self, movie_ids: set[Any]) -> dict[Any, str]:
        """Titles of the ranked movies from ``/movies``; empty (with a warning) if they can't be fetched."""
        if not movie_ids or self.conn_id is None:
            return {}
        titles: dict[Any, str] = {}
        try:
            with MovielensHook(self.conn_id, **self.hook_params) as hook:
                for movie in hook.get_movies():
                    if movie.get("movieId") in movie_ids:
                        titles[movie["movieId"]] = str(movie.get("title", ""))
        except (MovielensError, OSError) as exc:
            self.log.warning("Could not fetch movie titles, the ranking has no titles: %s", exc)
            return {}
        return titles
