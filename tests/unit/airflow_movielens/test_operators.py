"""Fetch and rank operators: template defaults, streaming output, atomic writes, object storage, XCom."""

from __future__ import annotations

import errno
import json
import os
from datetime import datetime, timezone

import pendulum
import pytest
import responses
from _provider_fakes import BASE_URL, FakeRatingsAPI, Sleeps, rating, set_connection

from airflow_movielens import hooks
from airflow_movielens.compat import DAG, ObjectStoragePath
from airflow_movielens.dates import DEFAULT_END_DATE, DEFAULT_START_DATE, empty_window_message
from airflow_movielens.exceptions import MovielensAPIError
from airflow_movielens.operators import (
    MovielensFetchRatingsOperator,
    MovielensRankMoviesOperator,
    _RecordWriter,
    read_ratings,
)

RATINGS = BASE_URL + "/ratings"
MOVIES = BASE_URL + "/movies"


def context(start: datetime, end: datetime) -> dict:
    return {"data_interval_start": start, "data_interval_end": end, "ds": start.strftime("%Y-%m-%d")}


DAY = context(pendulum.datetime(2024, 1, 1, tz="UTC"), pendulum.datetime(2024, 1, 2, tz="UTC"))


def run(operator, ctx=DAY):
    """Render the templated fields for ``ctx`` and execute, like a task run does."""
    operator.render_template_fields(ctx)
    return operator.execute(ctx)


def fetch_op(path, **kwargs) -> MovielensFetchRatingsOperator:
    kwargs.setdefault("task_id", "fetch")
    return MovielensFetchRatingsOperator(output_path=str(path), **kwargs)


# -- templated window ------------------------------------------------------------------------------


def test_default_window_renders_data_interval_as_utc_dates():
    op = fetch_op("/tmp/unused.json")
    assert op.window_start == DEFAULT_START_DATE
    assert op.window_end == DEFAULT_END_DATE
    seoul = context(
        pendulum.datetime(2024, 3, 1, 8, tz="Asia/Seoul"),  # 2024-02-29 23:00 UTC
        pendulum.datetime(2024, 3, 2, 8, tz="Asia/Seoul"),
    )
    op.render_template_fields(seoul)
    assert (op.window_start, op.window_end) == ("2024-02-29", "2024-03-01")
    assert set(MovielensFetchRatingsOperator.template_fields) == {
        "conn_id",
        "window_start",
        "window_end",
        "output_path",
    }
    assert set(MovielensRankMoviesOperator.template_fields) == {"conn_id", "input_path", "output_path"}


def test_explicit_templates_render():
    op = fetch_op("/data/{{ ds }}.json", start_date="{{ ds }}", end_date="2024-01-05")
    op.render_template_fields(DAY)
    assert (op.window_start, op.window_end, op.output_path) == (
        "2024-01-01",
        "2024-01-05",
        "/data/2024-01-01.json",
    )


def test_default_args_start_date_does_not_replace_the_window():
    dag_start = datetime(2023, 6, 1, tzinfo=timezone.utc)
    with DAG("default_args_window", schedule=None, default_args={"start_date": dag_start, "end_date": None}):
        op = fetch_op("/tmp/x.json")
        explicit = fetch_op("/tmp/y.json", task_id="explicit", start_date="2024-01-01")
    assert op.window_start == DEFAULT_START_DATE
    assert op.window_end == DEFAULT_END_DATE
    assert op.start_date == dag_start  # BaseOperator's scheduling field still gets default_args
    assert explicit.window_start == "2024-01-01"
    op.render_template_fields(DAY)
    assert (op.window_start, op.window_end) == ("2024-01-01", "2024-01-02")


def test_invalid_rendered_window_fails_before_any_request(connection, mocked, tmp_path):
    op = fetch_op(tmp_path / "x.json", start_date="2024-01-03", end_date="2024-01-02")
    with pytest.raises(ValueError, match="start_date"):
        run(op)
    assert len(mocked.calls) == 0
    assert not (tmp_path / "x.json").exists()


# -- fetching --------------------------------------------------------------------------------------


def test_fetch_writes_json_array_and_returns_summary(connection, mocked, tmp_path, logs):
    data = [rating(i) for i in range(5)]
    api = FakeRatingsAPI(data).register(mocked)
    target = tmp_path / "ratings" / "2024-01-01.json"
    result = run(fetch_op(target, batch_size=2))
    assert target.read_bytes() == json.dumps(data, separators=(",", ":")).encode()
    assert result == {
        "path": str(target),
        "count": 5,
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "format": "json",
    }
    assert api.requests[0]["start_date"] == "2024-01-01"
    assert api.requests[0]["end_date"] == "2024-01-02"
    progress = [m for m in logs.messages if m.startswith("Fetched ")]
    assert progress == [
        "Fetched 2 of 5 ratings (40.0%)",
        "Fetched 4 of 5 ratings (80.0%)",
        "Fetched 5 of 5 ratings (100.0%)",
    ]
    assert os.listdir(target.parent) == ["2024-01-01.json"]  # no temporary file left behind


def test_fetch_pages_adaptively_by_default(connection, mocked, tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "ADAPTIVE_FIRST_PAGE", 2)  # scaled down: 2, 8, 32, ... capped at 10
    monkeypatch.setattr(hooks, "ADAPTIVE_MAX_PAGE", 10)
    data = [rating(i) for i in range(25)]
    api = FakeRatingsAPI(data).register(mocked)
    target = tmp_path / "2024-01-01.json"
    assert run(fetch_op(target))["count"] == 25
    assert json.loads(target.read_bytes()) == data
    assert [(q["offset"], q["limit"]) for q in api.requests] == [
        ("0", "2"),
        ("2", "8"),
        ("10", "10"),
        ("20", "5"),
    ]


def test_fetch_writes_json_lines(connection, mocked, tmp_path):
    data = [rating(i) for i in range(3)]
    FakeRatingsAPI(data).register(mocked)
    target = tmp_path / "2024-01-01.jsonl"
    result = run(fetch_op(target, output_format="jsonl"))
    lines = target.read_text().splitlines()
    assert [json.loads(line) for line in lines] == data
    assert result["format"] == "jsonl"
    assert result["count"] == 3


SAME_DAY = context(pendulum.datetime(2024, 1, 1, tz="UTC"), pendulum.datetime(2024, 1, 1, tz="UTC"))


def test_empty_window_fails_before_any_request(connection, mocked, tmp_path):
    # Airflow 3's "@daily" gives [d, d): succeeding would write empty partitions forever.
    target = tmp_path / "empty.json"
    target.write_text('[{"old": true}]')
    with pytest.raises(ValueError, match="allow_empty_window=True") as info:
        run(fetch_op(target), SAME_DAY)
    assert str(info.value) == (
        f"{empty_window_message('2024-01-01')} The fetch would write an empty partition; pass "
        "allow_empty_window=True to write one anyway."
    )
    assert "CronDataIntervalTimetable" in str(info.value)  # the sensor's advice, too
    assert len(mocked.calls) == 0
    assert target.read_text() == '[{"old": true}]'
    assert os.listdir(tmp_path) == ["empty.json"]


@pytest.mark.parametrize("output_format", ["json", "jsonl"])
def test_empty_window_writes_empty_partition_when_allowed(connection, mocked, tmp_path, logs, output_format):
    FakeRatingsAPI([]).register(mocked)
    target = tmp_path / "empty.json"
    result = run(fetch_op(target, allow_empty_window=True, output_format=output_format), SAME_DAY)
    assert target.read_text() == ("[]" if output_format == "json" else "")
    assert result["count"] == 0
    assert empty_window_message("2024-01-01") in logs.messages
    assert len(mocked.calls) == 1


def test_allow_empty_window_is_a_plain_bool():
    assert fetch_op("/tmp/x").allow_empty_window is False
    with pytest.raises(TypeError, match=r"^allow_empty_window must be True or False, got 'yes'$"):
        fetch_op("/tmp/x", allow_empty_window="yes")


def test_allow_empty_window_does_not_change_a_whole_day(connection, mocked, tmp_path, logs):
    FakeRatingsAPI([rating(0)]).register(mocked)
    assert run(fetch_op(tmp_path / "x.json", allow_empty_window=True))["count"] == 1
    assert not any("is empty" in m for m in logs.messages)


def test_explicit_datetime_window_is_converted(connection, mocked, tmp_path):
    api = FakeRatingsAPI([]).register(mocked)
    op = fetch_op(
        tmp_path / "x.json",
        start_date=pendulum.datetime(2024, 1, 2, 3, tz="Asia/Seoul"),
        end_date=datetime(2024, 1, 2, 12, 0),
    )
    result = run(op)
    assert (result["start_date"], result["end_date"]) == ("2024-01-01", "2024-01-02")
    assert api.requests[0]["start_date"] == "2024-01-01"


def failing_after_first_page(mocked):
    mocked.add(
        responses.GET, RATINGS, json={"result": [rating(0), rating(1)], "offset": 0, "limit": 2, "total": 4}
    )
    mocked.add(responses.GET, RATINGS, status=401, json={"error": "credentials revoked"})


def test_failure_mid_fetch_leaves_no_file(connection, mocked, tmp_path):
    failing_after_first_page(mocked)
    target = tmp_path / "out" / "2024-01-01.json"
    with pytest.raises(MovielensAPIError, match="credentials revoked"):
        run(fetch_op(target, batch_size=2))
    assert not target.exists()
    assert os.listdir(target.parent) == []


def test_failure_mid_fetch_keeps_existing_partition(connection, mocked, tmp_path):
    failing_after_first_page(mocked)
    target = tmp_path / "2024-01-01.json"
    target.write_text('[{"old": true}]')
    with pytest.raises(MovielensAPIError):
        run(fetch_op(target, batch_size=2))
    assert target.read_text() == '[{"old": true}]'
    assert os.listdir(tmp_path) == ["2024-01-01.json"]


def test_disk_full_names_the_partition(connection, mocked, tmp_path, monkeypatch):
    FakeRatingsAPI([rating(i) for i in range(4)]).register(mocked)

    def full_disk(self, records):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_RecordWriter, "write", full_disk)
    target = tmp_path / "2024-01-01.json"
    with pytest.raises(OSError, match="No space left on device") as info:
        run(fetch_op(target, batch_size=2))
    assert info.value.errno == errno.ENOSPC
    assert f"could not write {target}: " in str(info.value)
    assert os.listdir(tmp_path) == []


def test_rerun_replaces_partition(connection, mocked, tmp_path):
    FakeRatingsAPI([rating(7)]).register(mocked)
    target = tmp_path / "2024-01-01.json"
    target.write_text("stale")
    run(fetch_op(target))
    assert json.loads(target.read_text()) == [rating(7)]


def test_fetch_to_file_uri(connection, mocked, tmp_path):
    data = [rating(i) for i in range(3)]
    FakeRatingsAPI(data).register(mocked)
    uri = f"file://{tmp_path}/lake/{{{{ ds }}}}.json"
    result = run(fetch_op(uri))
    assert result["path"] == f"file://{tmp_path}/lake/2024-01-01.json"
    assert json.loads((tmp_path / "lake" / "2024-01-01.json").read_text()) == data
    assert os.listdir(tmp_path / "lake") == ["2024-01-01.json"]


def test_fetch_to_memory_object_storage(connection, mocked, memory_fs):
    data = [rating(i) for i in range(4)]
    FakeRatingsAPI(data).register(mocked)
    run(fetch_op("memory://bucket/ratings/2024-01-01.jsonl", output_format="jsonl", batch_size=3))
    stored = ObjectStoragePath("memory://bucket/ratings/2024-01-01.jsonl").read_bytes()
    assert [json.loads(line) for line in stored.splitlines()] == data
    assert [p.name for p in ObjectStoragePath("memory://bucket/ratings/").iterdir()] == ["2024-01-01.jsonl"]


def test_failure_on_object_storage_leaves_old_object(connection, mocked, memory_fs):
    failing_after_first_page(mocked)
    target = ObjectStoragePath("memory://bucket/ratings/2024-01-01.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"[]")
    with pytest.raises(MovielensAPIError):
        run(fetch_op("memory://bucket/ratings/2024-01-01.json", batch_size=2))
    assert target.read_bytes() == b"[]"
    assert [p.name for p in ObjectStoragePath("memory://bucket/ratings/").iterdir()] == ["2024-01-01.json"]


# -- ranking operator ------------------------------------------------------------------------------


RANK_INPUT = [
    {"userId": 1, "movieId": 10, "rating": 4.0, "timestamp": 1},
    {"userId": 2, "movieId": 10, "rating": 5.0, "timestamp": 2},
    {"userId": 1, "movieId": 20, "rating": 5.0, "timestamp": 3},
    {"userId": 3, "movieId": 20, "rating": 4.0, "timestamp": 4},
    {"userId": 1, "movieId": 30, "rating": 5.0, "timestamp": 5},
]


def rank_op(input_path, output_path, **kwargs) -> MovielensRankMoviesOperator:
    return MovielensRankMoviesOperator(
        task_id="rank", input_path=str(input_path), output_path=str(output_path), **kwargs
    )


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_rank_writes_csv(tmp_path, fmt):
    source = tmp_path / f"in.{fmt}"
    if fmt == "json":
        source.write_text(json.dumps(RANK_INPUT))
    else:
        source.write_text("".join(json.dumps(r) + "\n" for r in RANK_INPUT))
    target = tmp_path / "rank" / "2024-01-01.csv"
    result = run(rank_op(source, target, input_format=fmt))
    # 10 and 20 tie on (avg 4.5, 2 raters): movieId breaks the tie; 30 has a single rater.
    assert target.read_text() == "movieId,avg_rating,num_ratings\n10,4.5,2\n20,4.5,2\n"
    assert result == {"path": str(target), "count": 2}


def test_rank_templates_render(tmp_path):
    (tmp_path / "2024-01-01.json").write_text(json.dumps(RANK_INPUT))
    op = rank_op(tmp_path / "{{ ds }}.json", tmp_path / "{{ ds }}.csv", min_ratings=1)
    run(op)
    assert op.output_path == str(tmp_path / "2024-01-01.csv")
    assert (tmp_path / "2024-01-01.csv").read_text().splitlines()[1] == "30,5.0,1"


def test_rank_empty_window_writes_headers(tmp_path):
    (tmp_path / "in.json").write_text("[]")
    run(rank_op(tmp_path / "in.json", tmp_path / "out.csv"))
    assert (tmp_path / "out.csv").read_text() == "movieId,avg_rating,num_ratings\n"


def test_rank_adds_titles(connection, mocked, tmp_path):
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    movies = [{"movieId": i, "title": f"Movie {i}", "genres": "Drama"} for i in (10, 20, 30)]
    FakeRatingsAPI(movies).register(mocked, "/movies")
    run(rank_op(tmp_path / "in.json", tmp_path / "out.csv", conn_id="movielens_default"))
    assert (tmp_path / "out.csv").read_text() == (
        "movieId,avg_rating,num_ratings,title\n10,4.5,2,Movie 10\n20,4.5,2,Movie 20\n"
    )


def test_rank_titles_failure_is_logged_not_fatal(connection, mocked, tmp_path, logs):
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    mocked.add(responses.GET, MOVIES, status=404, json={"error": "no such endpoint"})
    run(rank_op(tmp_path / "in.json", tmp_path / "out.csv", conn_id="movielens_default"))
    assert (
        tmp_path / "out.csv"
    ).read_text() == "movieId,avg_rating,num_ratings,title\n10,4.5,2,\n20,4.5,2,\n"
    assert any("Could not fetch movie titles" in m and "404" in m for m in logs.messages)


def test_rank_bad_input_is_a_clear_error(tmp_path):
    (tmp_path / "in.json").write_text('{"not": "a list"}')
    with pytest.raises(ValueError, match="list of rating objects"):
        run(rank_op(tmp_path / "in.json", tmp_path / "out.csv"))
    (tmp_path / "in.json").write_text("[{")
    with pytest.raises(ValueError, match="not valid json"):
        run(rank_op(tmp_path / "in.json", tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()


def test_rank_reads_and_writes_object_storage(memory_fs):
    ObjectStoragePath("memory://lake/in.json").write_bytes(json.dumps(RANK_INPUT).encode())
    run(rank_op("memory://lake/in.json", "memory://lake/out.csv"))
    assert ObjectStoragePath("memory://lake/out.csv").read_text() == (
        "movieId,avg_rating,num_ratings\n10,4.5,2\n20,4.5,2\n"
    )


# -- arguments, hook wiring, log lines -------------------------------------------------------------


def test_invalid_arguments_fail_at_construction():
    with pytest.raises(ValueError, match=r"^output_format must be one of json, jsonl, got 'csv'$"):
        fetch_op("/tmp/x", output_format="csv")
    with pytest.raises(ValueError, match=r"^input_format must be one of json, jsonl, got 'parquet'$"):
        rank_op("a", "b", input_format="parquet")
    for bad in (0, True):
        with pytest.raises(
            ValueError, match=rf"^batch_size must be None \(adaptive\) or an integer >= 1, got {bad}$"
        ):
            fetch_op("/tmp/x", batch_size=bad)
        with pytest.raises(ValueError, match=rf"^min_ratings must be an integer >= 1, got {bad}$"):
            rank_op("a", "b", min_ratings=bad)
    assert fetch_op("/tmp/x", batch_size=1).batch_size == 1
    assert fetch_op("/tmp/x").batch_size is None


def test_hook_params_are_checked_at_construction():
    with pytest.raises(
        ValueError, match=r"^hook_params: unknown 'retries'; MovielensHook takes .*max_attempts"
    ):
        fetch_op("/tmp/x", hook_params={"retries": 3})
    with pytest.raises(ValueError, match=r"^hook_params: unknown 'conn_id'"):
        rank_op("a", "b", hook_params={"conn_id": "other"})  # the connection is the operator's conn_id
    with pytest.raises(ValueError, match=r"^hook_params: backoff_max must be a number >= 0, got -1$"):
        rank_op("a", "b", hook_params={"backoff_max": -1})
    with pytest.raises(
        ValueError, match=r"^hook_params must be a dict of MovielensHook arguments, got list$"
    ):
        fetch_op("/tmp/x", hook_params=[("timeout", 5)])
    assert fetch_op("/tmp/x", hook_params={"timeout": [3, 9]}).hook_params == {"timeout": [3, 9]}


def test_conn_id_is_templated_on_both_operators(monkeypatch, mocked, tmp_path):
    set_connection(monkeypatch, "movielens_staging", host="127.0.0.1", port=5000)
    FakeRatingsAPI([rating(0)]).register(mocked)
    FakeRatingsAPI([{"movieId": 1, "title": "One", "genres": ""}]).register(mocked, "/movies")
    ctx = {**DAY, "params": {"conn": "movielens_staging"}}
    fetch = fetch_op(tmp_path / "x.json", conn_id="{{ params.conn }}")
    rank = rank_op(tmp_path / "x.json", tmp_path / "x.csv", min_ratings=1, conn_id="{{ params.conn }}")
    assert (fetch.conn_id, rank.conn_id) == (
        "{{ params.conn }}",
        "{{ params.conn }}",
    )  # untouched until rendered
    assert run(fetch, ctx)["count"] == 1
    run(rank, ctx)
    assert (fetch.conn_id, rank.conn_id) == ("movielens_staging", "movielens_staging")
    assert (tmp_path / "x.csv").read_text().splitlines()[1] == "1,0.5,1,One"
    assert rank_op("a", "b").conn_id is None  # no conn_id: no titles, and rendering keeps None


def test_default_args_end_date_does_not_replace_the_window():
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    end = datetime(2030, 1, 1, tzinfo=timezone.utc)
    with DAG("default_args_end", schedule=None, default_args={"start_date": start, "end_date": end}):
        op = fetch_op("/tmp/x.json")
    assert (op.window_start, op.window_end) == (DEFAULT_START_DATE, DEFAULT_END_DATE)
    assert op.end_date == end


def test_fetch_uses_the_given_connection_and_hook_params(monkeypatch, mocked, tmp_path):
    set_connection(monkeypatch, "movielens_other", host="127.0.0.1", port=5000)
    mocked.add(responses.GET, RATINGS, status=503, json={"error": "busy"})
    FakeRatingsAPI([rating(0)]).register(mocked)
    waits = Sleeps()
    op = fetch_op(tmp_path / "x.json", conn_id="movielens_other", hook_params={"sleep": waits})
    assert run(op)["count"] == 1
    assert len(waits) == 1


def test_fetch_log_lines(connection, mocked, tmp_path, logs):
    FakeRatingsAPI([rating(0), rating(1)]).register(mocked)
    target = str(tmp_path / "x.json")
    run(fetch_op(target))
    assert f"Fetching ratings for [2024-01-01, 2024-01-02) into {target}" in logs.messages
    assert f"Wrote 2 ratings to {target}" in logs.messages
    assert not any("is empty" in m for m in logs.messages)


def test_unbounded_window_is_not_reported_empty(connection, mocked, tmp_path, logs):
    FakeRatingsAPI([rating(0)]).register(mocked)
    op = fetch_op(tmp_path / "x.json")
    op.window_start = op.window_end = None  # (None, None) is the whole listing, not [d, d)
    assert run(op)["count"] == 1
    assert not any("is empty" in m for m in logs.messages)


def test_read_ratings_formats(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(RANK_INPUT))
    assert read_ratings(str(tmp_path / "a.json")).to_dict("records") == RANK_INPUT
    (tmp_path / "b.jsonl").write_text(json.dumps(RANK_INPUT[0]) + "\n\n" + json.dumps(RANK_INPUT[1]) + "\n")
    assert read_ratings(str(tmp_path / "b.jsonl"), "jsonl").to_dict("records") == RANK_INPUT[:2]
    with pytest.raises(ValueError, match=r"^input_format must be one of json, jsonl, got 'xml'$"):
        read_ratings(str(tmp_path / "a.json"), "xml")
    (tmp_path / "c.json").write_text(json.dumps([RANK_INPUT[0], 5]))
    with pytest.raises(ValueError, match=r"c\.json does not hold a list of rating objects \(json\)$"):
        read_ratings(str(tmp_path / "c.json"))


def test_rank_log_line(tmp_path, logs):
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    target = str(tmp_path / "out.csv")
    run(rank_op(tmp_path / "in.json", target))
    assert f"Ranked 2 movies from 5 ratings into {target}" in logs.messages


def test_rank_titles_use_the_given_connection(monkeypatch, mocked, tmp_path):
    set_connection(monkeypatch, "titles_conn", host="127.0.0.1", port=5000)
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    mocked.add(responses.GET, MOVIES, status=503, json={"error": "busy"})
    FakeRatingsAPI([{"movieId": 10, "title": "Ten", "genres": ""}, {"movieId": 20, "genres": ""}]).register(
        mocked, "/movies"
    )
    waits = Sleeps()
    run(
        rank_op(
            tmp_path / "in.json", tmp_path / "out.csv", conn_id="titles_conn", hook_params={"sleep": waits}
        )
    )
    assert (
        tmp_path / "out.csv"
    ).read_text() == "movieId,avg_rating,num_ratings,title\n10,4.5,2,Ten\n20,4.5,2,\n"
    assert len(waits) == 1


def test_rank_empty_window_with_titles_makes_no_request(connection, mocked, tmp_path):
    (tmp_path / "in.json").write_text("[]")
    run(rank_op(tmp_path / "in.json", tmp_path / "out.csv", conn_id="movielens_default"))
    assert (tmp_path / "out.csv").read_text() == "movieId,avg_rating,num_ratings,title\n"
    assert len(mocked.calls) == 0


def test_rank_titles_failure_message(connection, mocked, tmp_path, logs):
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    mocked.add(responses.GET, MOVIES, status=404, json={"error": "no such endpoint"})
    run(rank_op(tmp_path / "in.json", tmp_path / "out.csv", conn_id="movielens_default"))
    assert (
        "Could not fetch movie titles, the ranking has no titles: MovieLens API answered HTTP 404 for GET "
        f"{MOVIES}?offset=0&limit=1000: no such endpoint"
    ) in logs.messages
