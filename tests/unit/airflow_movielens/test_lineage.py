"""Lineage of the fetch and rank operators: hook-lineage assets (final paths only) and OpenLineage.

The hook lineage tests install a recording collector (Airflow only records when a lineage reader is
registered) and check that a run reports the file it wrote under its final name: the temporary
object ``storage`` writes first and renames must never appear. The OpenLineage tests need
``apache-airflow-providers-openlineage`` (installed in unit-af33 only) and check the dataset
names exactly; ``test_without_openlineage_*`` run everywhere, with the provider hidden where it is
installed, and check that the operators work and their OpenLineage methods return ``None``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from types import SimpleNamespace

import pendulum
import pytest
from _provider_fakes import FakeRatingsAPI, rating

from airflow_movielens import compat
from airflow_movielens.compat import AIRFLOW_V3, Asset, ObjectStoragePath
from airflow_movielens.exceptions import MovielensAPIError
from airflow_movielens.lineage import asset_uri, dataset_name
from airflow_movielens.operators import MovielensFetchRatingsOperator, MovielensRankMoviesOperator

HAS_OPENLINEAGE = importlib.util.find_spec("airflow.providers.openlineage") is not None
needs_openlineage = pytest.mark.skipif(
    not HAS_OPENLINEAGE, reason="apache-airflow-providers-openlineage is not installed (unit-af33 has it)"
)

DAY = {
    "data_interval_start": pendulum.datetime(2024, 1, 1, tz="UTC"),
    "data_interval_end": pendulum.datetime(2024, 1, 2, tz="UTC"),
    "ds": "2024-01-01",
}
RANK_INPUT = [
    {"userId": 1, "movieId": 10, "rating": 4.0, "timestamp": 1},
    {"userId": 2, "movieId": 10, "rating": 5.0, "timestamp": 2},
]


def run(operator):
    operator.render_template_fields(DAY)
    return operator.execute(DAY)


def fetch_op(path, **kwargs):
    return MovielensFetchRatingsOperator(task_id="fetch", output_path=str(path), **kwargs)


def rank_op(input_path, output_path):
    return MovielensRankMoviesOperator(
        task_id="rank", input_path=str(input_path), output_path=str(output_path), min_ratings=1
    )


class Recorded:
    """The asset URIs a recording hook lineage collector received, on either Airflow line."""

    def __init__(self, collector):
        self.collector = collector

    def _lineage(self):
        return self.collector.collected_assets if AIRFLOW_V3 else self.collector.collected_datasets

    def _uris(self, infos):
        return [(info.asset if AIRFLOW_V3 else info.dataset).uri for info in infos]

    def forget(self):
        """Drop what was recorded so far."""
        self.collector.__init__()

    @property
    def reporters(self):
        """The context (the operator) each input and output was reported with, in order."""
        lineage = self._lineage()
        return [info.context for info in [*lineage.inputs, *lineage.outputs]]

    @property
    def inputs(self):
        return self._uris(self._lineage().inputs)

    @property
    def outputs(self):
        return self._uris(self._lineage().outputs)


@pytest.fixture
def collector(monkeypatch):
    """A hook lineage collector that records (as with a lineage reader such as OpenLineage)."""
    sdk_lineage = None
    if AIRFLOW_V3:  # not on 2.11: a stray airflow.sdk there is not the running line's
        with contextlib.suppress(ImportError):  # Airflow >= 3.2: a cached getter in the task SDK
            import airflow.sdk.lineage as sdk_lineage
    if sdk_lineage is not None:
        recording = sdk_lineage.HookLineageCollector()
        monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: recording)
    else:  # Airflow 2.11 and 3.0/3.1: a module global behind the getter
        import airflow.lineage.hook as hook_lineage

        recording = hook_lineage.HookLineageCollector()
        monkeypatch.setattr(hook_lineage, "_hook_lineage_collector", recording)
    return Recorded(recording)


# -- naming ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "uri", "name"),
    [
        ("/data/r/2024-01-01.json", "file:///data/r/2024-01-01.json", ("file", "/data/r/2024-01-01.json")),
        ("file:///data/r/x.json", "file:///data/r/x.json", ("file", "/data/r/x.json")),
        ("file://nas/data/x.json", "file://nas/data/x.json", ("file://nas", "/data/x.json")),
        (
            "s3://bucket/r/2024-01-01.json",
            "s3://bucket/r/2024-01-01.json",
            ("s3://bucket", "r/2024-01-01.json"),
        ),
        ("s3://aws_conn@bucket/r/x.json", "s3://bucket/r/x.json", ("s3://bucket", "r/x.json")),
        ("GS://bucket/x.csv", "gs://bucket/x.csv", ("gs://bucket", "x.csv")),
    ],
)
def test_names_of_paths(path, uri, name):
    assert asset_uri(path) == uri
    assert dataset_name(path) == name


def test_relative_local_path_is_named_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert asset_uri("out/x.json") == f"file://{tmp_path}/out/x.json"
    assert dataset_name("out/x.json") == ("file", f"{tmp_path}/out/x.json")


# -- hook lineage: the final path only -------------------------------------------------------------


def test_fetch_to_object_storage_reports_the_final_object_only(connection, mocked, memory_fs, collector):
    FakeRatingsAPI([rating(i) for i in range(3)]).register(mocked)
    run(fetch_op("memory://bucket/ratings/{{ ds }}.jsonl", output_format="jsonl", batch_size=2))
    assert collector.outputs == ["memory://bucket/ratings/2024-01-01.jsonl"]
    assert collector.inputs == []


def test_fetch_to_local_file_reports_its_file_uri(connection, mocked, tmp_path, collector):
    FakeRatingsAPI([rating(0)]).register(mocked)
    op = fetch_op(tmp_path / "{{ ds }}.json")
    run(op)
    assert collector.outputs == [f"file://{tmp_path}/2024-01-01.json"]
    assert collector.reporters == [op]  # a lineage reader attributes the file to this task


def test_failed_fetch_reports_nothing(connection, mocked, memory_fs, collector):
    mocked.add("GET", "http://127.0.0.1:5000/ratings", status=401, json={"error": "no"})
    with pytest.raises(MovielensAPIError):
        run(fetch_op("memory://bucket/ratings/x.json"))
    assert collector.outputs == []


def test_rank_reports_its_input_and_final_output(memory_fs, collector):
    source = ObjectStoragePath("memory://lake/ratings.json")
    source.write_bytes(json.dumps(RANK_INPUT).encode())
    collector.forget()  # the test's own write above
    op = rank_op("memory://lake/ratings.json", "memory://lake/rankings/{{ ds }}.csv")
    run(op)
    assert collector.inputs == ["memory://lake/ratings.json"]
    assert collector.outputs == ["memory://lake/rankings/2024-01-01.csv"]
    assert collector.reporters == [op, op]


def test_a_lineage_failure_does_not_fail_the_written_fetch(connection, mocked, tmp_path, monkeypatch, logs):
    def broken(*args, **kwargs):
        raise RuntimeError("listener plugin exploded")

    monkeypatch.setattr(compat, "add_hook_lineage", broken)
    FakeRatingsAPI([rating(0)]).register(mocked)
    target = tmp_path / "x.json"
    assert run(fetch_op(target))["count"] == 1
    assert json.loads(target.read_text()) == [rating(0)]
    assert f"Could not report lineage of {target}: listener plugin exploded" in logs.messages
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    assert run(rank_op(tmp_path / "in.json", tmp_path / "out.csv"))["count"] == 1
    assert (
        f"Could not report lineage of {tmp_path}/in.json, {tmp_path}/out.csv: listener plugin exploded"
        in logs.messages
    )


# -- asset events ----------------------------------------------------------------------------------


class OutletEvents:
    """Airflow's ``outlet_events`` accessor as operators use it: ``events[asset].extra``, per asset.

    Keyed by URI, as Airflow's accessors are: Airflow 3.0 and 3.1 Assets are not hashable.
    """

    def __init__(self):
        self.by_uri = {}

    def __getitem__(self, asset):
        return self.by_uri.setdefault(asset.uri, SimpleNamespace(extra={}))


def test_fetch_describes_the_written_partition_in_its_asset_events(connection, mocked, tmp_path):
    FakeRatingsAPI([rating(0), rating(1)]).register(mocked)
    ratings = Asset(f"file://{tmp_path}/ratings")
    op = fetch_op(tmp_path / "ratings" / "{{ ds }}.json", outlets=[ratings])
    events = OutletEvents()
    op.render_template_fields(DAY)
    op.execute({**DAY, "outlet_events": events})
    assert list(events.by_uri) == [ratings.uri]
    assert events[ratings].extra == {
        "path": f"{tmp_path}/ratings/2024-01-01.json",
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "count": 2,
    }


# -- OpenLineage -----------------------------------------------------------------------------------


def _names(datasets):
    return [(d.namespace, d.name) for d in datasets]


@needs_openlineage
def test_openlineage_of_a_fetch_to_a_local_file(connection, mocked, tmp_path):
    FakeRatingsAPI([rating(i) for i in range(3)]).register(mocked)
    op = fetch_op(tmp_path / "ratings" / "{{ ds }}.json")
    run(op)
    lineage = op.get_openlineage_facets_on_complete(None)
    assert _names(lineage.inputs) == [("http://127.0.0.1:5000", "/ratings")]
    assert _names(lineage.outputs) == [("file", f"{tmp_path}/ratings/2024-01-01.json")]
    (partition,) = lineage.inputs[0].inputFacets["inputSubset"].inputCondition.partitions
    assert partition.dimensions == {"start_date": "2024-01-01", "end_date": "2024-01-02"}
    assert partition.identifier == "[2024-01-01, 2024-01-02)"
    assert lineage.outputs[0].outputFacets["outputStatistics"].rowCount == 3


@needs_openlineage
def test_openlineage_of_a_fetch_to_s3_names_bucket_and_key(connection):
    op = fetch_op("s3://aws_default@movielens-lake/ratings/{{ ds }}.json", start_date="2024-01-01")
    op.render_template_fields(DAY)
    for lineage in (op.get_openlineage_facets_on_start(), op.get_openlineage_facets_on_complete(None)):
        assert _names(lineage.inputs) == [("http://127.0.0.1:5000", "/ratings")]
        assert _names(lineage.outputs) == [("s3://movielens-lake", "ratings/2024-01-01.json")]
        assert lineage.outputs[0].outputFacets == {}  # not written (yet): no statistics


@needs_openlineage
def test_openlineage_api_namespace_has_no_credentials(monkeypatch):
    from _provider_fakes import PASSWORD, set_connection

    set_connection(monkeypatch, host="user:pw@ratings.example", port=8443, schema="https", password=PASSWORD)
    op = fetch_op("/data/x.json")
    op.render_template_fields(DAY)
    lineage = op.get_openlineage_facets_on_start()
    assert _names(lineage.inputs) == [("https://ratings.example:8443", "/ratings")]


@needs_openlineage
def test_openlineage_of_the_whole_listing_has_no_subset(connection):
    op = fetch_op("/data/all.json")
    op.window_start = op.window_end = None
    assert op.get_openlineage_facets_on_start().inputs[0].inputFacets == {}


@needs_openlineage
def test_openlineage_of_a_ranking(tmp_path):
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    op = rank_op(tmp_path / "in.json", "gs://lake/rankings/{{ ds }}.csv")
    op.render_template_fields(DAY)
    started = op.get_openlineage_facets_on_start()
    assert _names(started.inputs) == [("file", f"{tmp_path}/in.json")]
    assert _names(started.outputs) == [("gs://lake", "rankings/2024-01-01.csv")]
    assert started.outputs[0].outputFacets == {}


@needs_openlineage
def test_openlineage_of_a_planned_fetch_names_its_connection_and_window(monkeypatch):
    from _provider_fakes import set_connection

    set_connection(monkeypatch, conn_id="ratings_eu", host="ratings-eu.example", port=8080, schema="http")
    op = fetch_op("/data/{{ ds }}.json", conn_id="ratings_eu", hook_params={"timeout": 5})
    op.render_template_fields(DAY)
    lineage = op.get_openlineage_facets_on_start()
    assert _names(lineage.inputs) == [("http://ratings-eu.example:8080", "/ratings")]
    (partition,) = lineage.inputs[0].inputFacets["inputSubset"].inputCondition.partitions
    assert partition.dimensions == {"start_date": "2024-01-01", "end_date": "2024-01-02"}
    # a run that failed reports what it was to read and write, without statistics
    assert op.get_openlineage_facets_on_complete(None) == lineage


@needs_openlineage
def test_openlineage_of_a_finished_ranking_counts_the_ranked_movies(tmp_path):
    (tmp_path / "in.json").write_text(json.dumps([*RANK_INPUT, {**RANK_INPUT[0], "movieId": 11}]))
    op = rank_op(tmp_path / "in.json", tmp_path / "out.csv")
    assert run(op)["count"] == 2
    lineage = op.get_openlineage_facets_on_complete(None)
    assert _names(lineage.inputs) == [("file", f"{tmp_path}/in.json")]
    assert _names(lineage.outputs) == [("file", f"{tmp_path}/out.csv")]
    assert lineage.outputs[0].outputFacets["outputStatistics"].rowCount == 2


@needs_openlineage
def test_openlineage_after_a_failed_retry_reports_no_earlier_count(connection, mocked, tmp_path):
    # A task instance retried after a success (a cleared run) must not report the old run's count.
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    rank = rank_op(tmp_path / "in.json", tmp_path / "out.csv")
    assert rank.get_openlineage_facets_on_complete(None).outputs[0].outputFacets == {}  # never ran
    run(rank)
    (tmp_path / "in.json").write_text("not json")
    with pytest.raises(ValueError, match=r"in\.json is not valid json"):
        run(rank)
    assert rank.get_openlineage_facets_on_complete(None).outputs[0].outputFacets == {}

    FakeRatingsAPI([rating(0)]).register(mocked)
    fetch = fetch_op(tmp_path / "x.json")
    run(fetch)
    mocked.replace("GET", "http://127.0.0.1:5000/ratings", status=401, json={"error": "no"})
    with pytest.raises(MovielensAPIError):
        run(fetch)
    assert fetch.get_openlineage_facets_on_complete(None).outputs[0].outputFacets == {}


@needs_openlineage
def test_the_openlineage_provider_reads_and_serializes_the_fetch_lineage(connection, mocked, tmp_path):
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from openlineage.client.serde import Serde

    FakeRatingsAPI([rating(0)]).register(mocked)
    op = fetch_op(tmp_path / "x.json")
    run(op)
    extractor = ExtractorManager()._get_extractor(op)
    lineage = extractor.extract_on_complete(None)
    assert _names(lineage.outputs) == [("file", f"{tmp_path}/x.json")]
    event_input = Serde.to_dict(lineage.inputs[0])
    assert event_input["namespace"] == "http://127.0.0.1:5000"
    subset = event_input["inputFacets"]["inputSubset"]
    assert subset["inputCondition"]["type"] == "partition"
    assert subset["_schemaURL"].endswith("BaseSubsetDatasetFacet.json#/$defs/InputSubsetInputDatasetFacet")
    assert Serde.to_dict(lineage.outputs[0])["outputFacets"]["outputStatistics"]["rowCount"] == 1


# -- without the OpenLineage provider --------------------------------------------------------------

_OPENLINEAGE_MODULES = (
    "airflow.providers.openlineage",
    "airflow.providers.openlineage.extractors",
    "openlineage",
    "openlineage.client",
    "openlineage.client.event_v2",
)


@pytest.fixture
def without_openlineage(monkeypatch):
    """The OpenLineage provider and client as if not installed (a ``None`` in sys.modules fails imports)."""
    for name in _OPENLINEAGE_MODULES:
        monkeypatch.setitem(sys.modules, name, None)


def test_without_openlineage_the_fetch_works_and_gives_no_lineage(
    connection, mocked, tmp_path, without_openlineage
):
    FakeRatingsAPI([rating(0), rating(1)]).register(mocked)
    op = fetch_op(tmp_path / "x.json")
    assert run(op)["count"] == 2
    assert json.loads((tmp_path / "x.json").read_text()) == [rating(0), rating(1)]
    assert op.get_openlineage_facets_on_start() is None
    assert op.get_openlineage_facets_on_complete(None) is None


def test_without_openlineage_the_ranking_works_and_gives_no_lineage(tmp_path, without_openlineage):
    (tmp_path / "in.json").write_text(json.dumps(RANK_INPUT))
    op = rank_op(tmp_path / "in.json", tmp_path / "out.csv")
    assert run(op)["count"] == 1
    assert op.get_openlineage_facets_on_start() is None
    assert op.get_openlineage_facets_on_complete(None) is None


@pytest.mark.skipif(AIRFLOW_V3, reason="unit-af211 is the env without the OpenLineage provider")
def test_unit_af211_runs_without_the_openlineage_provider():
    """The degradation tests above run against a real absence there, not only a hidden module."""
    assert not HAS_OPENLINEAGE
    assert "airflow.providers.openlineage" not in sys.modules
