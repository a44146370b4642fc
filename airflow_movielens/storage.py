"""Atomic output files, local or on object storage, so a failed task never leaves a partial file.

A local path is written to a hidden temporary sibling ``.NAME.<32 hex digits>.tmp`` and moved into
place with ``os.replace`` (atomic on POSIX). A URI such as ``s3://bucket/key``, ``gs://...`` or
``file:///...`` goes through Airflow's ``ObjectStoragePath`` (fsspec): the temporary object is written
first and then moved over the target. Either way the target is only touched once the whole content
has been written; on any failure, ``BaseException`` included (a timeout, a SIGTERM turned into an
exception, Ctrl-C), the temporary file is deleted and an existing target keeps its old content.

A process killed outright (SIGKILL, the OOM killer, SIGTERM outside Airflow's task runner) cannot
clean up, so every successful write also removes the **stale** temporaries of the same target:

* locally, a writer holds an exclusive ``flock`` on its temporary file until it is renamed; a
  temporary whose lock can be taken has no live writer (the kernel drops a dead process's locks),
  so temporaries of a concurrent run are left alone;
* on object storage there are no locks: every other temporary of the target is removed after the
  rename. A concurrent writer of the same target then fails its rename instead of succeeding (its
  run fails loudly, nothing is lost: the target holds a complete file).

Only names this module creates are considered, for the same target only: ``.NAME.`` followed by 32
lowercase hex digits (or, locally, the 8 characters ``tempfile.mkstemp`` used in earlier versions)
and ``.tmp``. An ``OSError`` while writing (a full disk, a permission) is re-raised naming the target.

Lineage: nothing here reports to Airflow's hook lineage collector (``ObjectStoragePath.open`` would
report the temporary object as the task's output); the operators report the final paths
(:mod:`airflow_movielens.lineage`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # imported where used: local files need no Airflow import (seconds on a busy worker)
    from airflow_movielens.compat import ObjectStoragePath

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

log = logging.getLogger(__name__)


def is_uri(path: str) -> bool:
    """Whether ``path`` names an object-storage location (``scheme://...``) rather than a local file."""
    return bool(_URI.match(path))


def temporary_name(name: str) -> str:
    """A fresh name for a temporary sibling of the file ``name``."""
    return f".{name}.{uuid.uuid4().hex}.tmp"


def is_temporary_of(candidate: str, name: str, *, legacy: bool = False) -> bool:
    """Whether ``candidate`` is a name :func:`temporary_name` gives for ``name`` (``legacy``: or mkstemp)."""
    prefix, suffix = f".{name}.", ".tmp"
    if not (candidate.startswith(prefix) and candidate.endswith(suffix)):
        return False
    token = candidate[len(prefix) : -len(suffix)]
    if re.fullmatch(r"[0-9a-f]{32}", token):
        return True
    return legacy and re.fullmatch(r"[a-z0-9_]{8}", token) is not None


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


def _write_error(exc: OSError, path: str) -> OSError:
    """``exc`` with a message naming the target ``path``; the same errno, so the same subclass.

    An ``OSError`` from a library (``requests`` errors are ``OSError`` too) is returned unchanged:
    it is not about the file, and its type and attributes matter to whoever catches it.
    """
    if type(exc).__module__ != "builtins":
        return exc
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != path else ""
    message = f"could not write {path}: {reason}{where}"
    return OSError(exc.errno, message) if exc.errno is not None else type(exc)(message)


def _reraise(exc: BaseException, path: str) -> NoReturn:
    """Raise ``exc``, an ``OSError`` as :func:`_write_error` names it."""
    if isinstance(exc, OSError):
        named = _write_error(exc, path)
        if named is not exc:
            raise named from exc
    raise exc


# -- local files -----------------------------------------------------------------------------------


def _lock(fd: int) -> bool:
    """Take an exclusive lock without waiting; False if another open file holds one."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _create_locked(directory: str, name: str) -> tuple[int, str]:
    """Create and lock a fresh temporary file beside ``name``; return its descriptor and path."""
    while True:
        tmp = os.path.join(directory, temporary_name(name))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # umask applies
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):  # not a lock-less FS
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        # A cleaner may have taken the file between creation and lock; then start again.
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.stat(tmp), os.fstat(fd)):
                return fd, tmp
        os.close(fd)


def _remove_stale_local(directory: str, name: str) -> None:
    """Remove the temporaries of ``name`` in ``directory`` that no live writer holds."""
    try:
        entries = [
            entry.path for entry in os.scandir(directory) if is_temporary_of(entry.name, name, legacy=True)
        ]
    except OSError:
        return
    for tmp in entries:
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # gone already, or a symlink: not ours
            continue
        try:
            if os.path.isfile(tmp) and _lock(fd):
                os.unlink(tmp)
                log.info("Removed %s, left behind by an earlier run that did not finish", tmp)
        except OSError:  # a lock-less file system, or no permission: leave it
            pass
        finally:
            os.close(fd)


@contextlib.contextmanager
def _atomic_local(path: str) -> Iterator[IO[bytes]]:
    directory, name = os.path.split(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = _create_locked(directory, name)
    except OSError as exc:
        _reraise(exc, path)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp, path)  # still locked: a cleaner never takes a file that is being renamed
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _reraise(exc, path)
    _remove_stale_local(directory, name)


# -- object storage --------------------------------------------------------------------------------


def _remove_stale_objects(directory: ObjectStoragePath, name: str) -> None:
    """Remove every temporary of ``name`` in ``directory`` (call after the target was written)."""
    try:
        stale = [child for child in directory.iterdir() if is_temporary_of(child.name, name)]
    except Exception:  # listing is a courtesy: never fail a write that succeeded
        log.debug("Could not list %s for stale temporaries of %s", directory, name, exc_info=True)
        return
    for child in stale:
        try:
            child.unlink()
        except Exception:
            log.debug("Could not remove %s", child, exc_info=True)
        else:
            log.info("Removed %s, left behind by an earlier run that did not finish", child)


@contextlib.contextmanager
def _atomic_object(path: str) -> Iterator[IO[bytes]]:
    from airflow_movielens.compat import ObjectStoragePath

    # Paths are built from strings (not ``parent / name``) so any ``conn_id@`` in the URI is kept.
    parent, _, name = path.rstrip("/").rpartition("/")
    if not name or parent.endswith(":/"):
        raise ValueError(f"output path {path!r} does not name an object inside a bucket or directory")
    target = ObjectStoragePath(path)
    directory = ObjectStoragePath(parent)
    tmp = ObjectStoragePath(f"{parent}/{temporary_name(name)}")
    try:
        if not directory.exists():  # local-like stores need the directory; on S3 etc. this is a no-op
            directory.mkdir(parents=True, exist_ok=True)
        # The file system's own handle, not ``tmp.open()``: that one reports every write of the
        # temporary object to Airflow's hook lineage collector. The caller reports the final path.
        with tmp.fs.open(tmp.path, "wb") as handle:
            yield handle
        tmp.rename(target)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            if tmp.exists():
                tmp.unlink()
        _reraise(exc, path)
    _remove_stale_objects(directory, name)


def read_bytes(path: str) -> bytes:
    """Read a whole local file or object-storage URI."""
    if is_uri(path):
        from airflow_movielens.compat import ObjectStoragePath

        source = ObjectStoragePath(path)
        # untracked, as writes are (see _atomic_object); "rb" is fsspec's default mode, no mutant
        with source.fs.open(source.path, "rb") as handle:  # pragma: no mutate
            data: bytes = handle.read()
        return data
    return Path(path).read_bytes()
