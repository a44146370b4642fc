"""Atomic output files, local or on object storage, so a failed task never leaves a partial file.

A local path is written to a hidden temporary sibling and moved into place with ``os.replace``
(atomic on POSIX). A URI such as ``s3://bucket/key``, ``gs://...`` or ``file:///...`` goes through
Airflow's ``ObjectStoragePath`` (fsspec): the temporary object is written first and then moved over the
target. Either way the target is only touched once the whole content has been written; on failure the
temporary file is deleted and an existing target keeps its old content.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from airflow_movielens.compat import ObjectStoragePath

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(path: str) -> bool:
    """Whether ``path`` names an object-storage location (``scheme://...``) rather than a local file."""
    return bool(_URI.match(path))


@contextlib.contextmanager
def atomic_writer(path: str) -> Iterator[IO[bytes]]:
    """Yield a binary file; on success its content replaces ``path`` at once, on failure nothing changes."""
    if not path:
        raise ValueError("output path is empty")
    if is_uri(path):
        with _atomic_object(path) as handle:
            yield handle
    else:
        with _atomic_local(path) as handle:
            yield handle


@contextlib.contextmanager
def _atomic_local(path: str) -> Iterator[IO[bytes]]:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _atomic_object(path: str) -> Iterator[IO[bytes]]:
    # Paths are built from strings (not ``parent / name``) so any ``conn_id@`` in the URI is kept.
    parent, _, name = path.rstrip("/").rpartition("/")
    if not name or parent.endswith(":/"):
        raise ValueError(f"output path {path!r} does not name an object inside a bucket or directory")
    target = ObjectStoragePath(path)
    directory = ObjectStoragePath(parent)
    if not directory.exists():  # local-like stores need the directory; on S3 etc. this is a no-op
        directory.mkdir(parents=True, exist_ok=True)
    tmp = ObjectStoragePath(f"{parent}/.{name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as handle:  # type: ignore[no-untyped-call]
            yield handle
        tmp.rename(target)
    except BaseException:
        with contextlib.suppress(Exception):
            if tmp.exists():
                tmp.unlink()
        raise


def read_bytes(path: str) -> bytes:
    """Read a whole local file or object-storage URI."""
    if is_uri(path):
        return ObjectStoragePath(path).read_bytes()
    return Path(path).read_bytes()
