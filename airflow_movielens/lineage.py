"""Lineage of the operators: which API window and which files a task read and wrote.

Two consumers, one naming of the files, always by their **final** path (``storage`` writes a
temporary object first and records no lineage of its own, so the temporary name never shows up):

* Airflow's hook lineage collector (:func:`report_files`), which lineage listeners read, as asset
  URIs: ``file:///absolute/path`` for a local path, the URI without any ``conn_id@`` otherwise;
* OpenLineage (:func:`fetch_lineage`, :func:`rank_lineage`), datasets named as the OpenLineage
  naming spec (https://openlineage.io/docs/spec/naming) says: a local file is namespace ``file``,
  name its absolute path; an object is namespace ``scheme://bucket``, name its key; the API is
  namespace ``scheme://host:port`` (the connection's base URL, never its credentials), name
  ``/ratings``, and the window it was asked for is a partition in an ``inputSubset`` facet.

The OpenLineage classes are imported inside the functions: the provider does not depend on
``apache-airflow-providers-openlineage``, and without it the functions return ``None``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_movielens.storage import is_uri

if TYPE_CHECKING:  # an optional dependency: never imported at run time outside the functions below
    from airflow.providers.openlineage.extractors import OperatorLineage

#: The dataset name of the ratings listing within the API's namespace.
RATINGS_ENDPOINT = "/ratings"


def _split_uri(path: str) -> tuple[str, str, str]:
    """``(scheme, authority without userinfo, path)`` of an object-storage URI."""
    parts = urlsplit(path)
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2], parts.path


def asset_uri(path: str) -> str:
    """The asset URI of a local path or object-storage URI (``file:///...`` for a local path).

    A ``conn_id@`` in the URI (``ObjectStoragePath``'s way to name the connection) is dropped: it
    says how the file is reached, not which file it is, and Airflow refuses user info in assets.
    """
    if not is_uri(path):
        return "file://" + os.path.abspath(path)
    scheme, authority, key = _split_uri(path)
    return f"{scheme}://{authority}{key}"


def dataset_name(path: str) -> tuple[str, str]:
    """The OpenLineage ``(namespace, name)`` of a local path or object-storage URI.

    ``/data/x.json`` and ``file:///data/x.json``: ``("file", "/data/x.json")``; ``file://host/x``:
    ``("file://host", "/x")``; ``s3://conn@bucket/a/x.json``: ``("s3://bucket", "a/x.json")`` (any
    other store alike: ``scheme://authority`` and the key without its leading ``/``).
    """
    if not is_uri(path):
        return "file", os.path.abspath(path)
    scheme, authority, key = _split_uri(path)
    if scheme == "file":
        return (f"file://{authority}" if authority else "file"), key
    return f"{scheme}://{authority}", key.lstrip("/")


def report_files(context: object, *, inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = ()) -> None:
    """Report the files a task read and wrote (final paths) to Airflow's hook lineage collector."""
    from airflow_movielens.compat import add_hook_lineage

    add_hook_lineage(
        context,
        inputs=tuple(asset_uri(p) for p in inputs),
        outputs=tuple(asset_uri(p) for p in outputs),
    )


@dataclass(frozen=True)
class FetchRecord:
    """What a fetch read and wrote: the API base URL, the window, the final file, how many ratings."""

    api_url: str
    start_date: str | None
    end_date: str | None
    output_path: str
    count: int | None = None


def _window_facets(record: FetchRecord) -> dict[str, Any]:
    """The window a fetch asked for, as an ``inputSubset`` partition (none for the whole listing)."""
    window = {
        key: value
        for key, value in (("start_date", record.start_date), ("end_date", record.end_date))
        if value is not None
    }
    if not window:
        return {}
    try:
        from openlineage.client.generated.base_subset_dataset import (
            InputSubsetInputDatasetFacet,
            Partition,
            PartitionSubsetCondition,
        )
    except ImportError:  # no OpenLineage: _operator_lineage gives None anyway
        return {}
    identifier = f"[{record.start_date or ''}, {record.end_date or ''})"
    condition = PartitionSubsetCondition(partitions=[Partition(dimensions=window, identifier=identifier)])
    return {"inputSubset": InputSubsetInputDatasetFacet(inputCondition=condition)}


def _operator_lineage(
    inputs: list[tuple[str, str, dict[str, Any]]], output_path: str, count: int | None
) -> OperatorLineage | None:
    """``OperatorLineage`` of ``(namespace, name, input facets)`` inputs and one output file with its
    row count (``outputStatistics``) once written; ``None`` without the OpenLineage provider."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.generated.output_statistics_output_dataset import (
            OutputStatisticsOutputDatasetFacet,
        )
    except ImportError:
        return None
    namespace, name = dataset_name(output_path)
    output_facets: dict[str, Any] = {}
    if count is not None:
        output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=count)
    return OperatorLineage(
        inputs=[InputDataset(namespace=ns, name=n, inputFacets=facets) for ns, n, facets in inputs],
        outputs=[OutputDataset(namespace=namespace, name=name, outputFacets=output_facets)],
    )


def fetch_lineage(record: FetchRecord) -> OperatorLineage | None:
    """The ``OperatorLineage`` of a fetch (``None`` without the OpenLineage provider).

    Input: the API's ratings listing with the window; output: the final file, with its record
    count (``outputStatistics``) once the fetch has written it.
    """
    inputs = [(record.api_url, RATINGS_ENDPOINT, _window_facets(record))]
    return _operator_lineage(inputs, record.output_path, record.count)


def rank_lineage(input_path: str, output_path: str, count: int | None = None) -> OperatorLineage | None:
    """The ``OperatorLineage`` of a ranking: the fetched file in, the ranking CSV out (``None``
    without the OpenLineage provider); ``count`` is the number of ranked movies once written."""
    return _operator_lineage([(*dataset_name(input_path), {})], output_path, count)
