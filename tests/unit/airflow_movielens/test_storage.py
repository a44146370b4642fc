"""atomic_writer: no partial file for any way a write can end, stale temporaries removed, named errors.

Endings a task can meet: an ``Exception``, a ``BaseException`` (Airflow's ``AirflowTaskTimeout`` and
``AirflowTaskTerminated``, ``KeyboardInterrupt``, ``SystemExit``), a generator failing mid-write, and
a process killed outright (SIGKILL, SIGTERM outside Airflow's task runner), which cannot clean up:
then the next successful write of the same target removes what it left, and nothing else.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from airflow_movielens.compat import AirflowTaskTerminated, AirflowTaskTimeout, ObjectStoragePath
from airflow_movielens.storage import atomic_writer, is_temporary_of, read_bytes, temporary_name

NAME = "2024-01-01.json"
ENDINGS = [
    pytest.param(lambda: ValueError("bad record"), id="Exception"),
    pytest.param(KeyboardInterrupt, id="KeyboardInterrupt"),
    pytest.param(lambda: SystemExit(1), id="SystemExit"),
    pytest.param(lambda: AirflowTaskTimeout("Timeout, PID: 1"), id="AirflowTaskTimeout"),
    pytest.param(lambda: AirflowTaskTerminated("Task received SIGTERM"), id="AirflowTaskTerminated"),
    pytest.param(GeneratorExit, id="GeneratorExit"),
]


@pytest.fixture(params=["local", "memory"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The output path: a local file, or an object on fsspec's in-memory store through ObjectStoragePath."""
    if request.param == "local":
        return str(tmp_path / "lake" / NAME)
    request.getfixturevalue("memory_fs")
    return f"memory://bucket/{uuid.uuid4().hex}/lake/{NAME}"


def listing(path: str) -> list[str]:
    """The names beside ``path`` (local directory or object-storage prefix), sorted."""
    parent = path.rpartition("/")[0]
    if "://" in path:
        return sorted(child.name for child in ObjectStoragePath(parent).iterdir())
    return sorted(os.listdir(parent))


def put(path: str, data: bytes) -> None:
    if "://" in path:
        ObjectStoragePath(path.rpartition("/")[0]).mkdir(parents=True, exist_ok=True)
        ObjectStoragePath(path).write_bytes(data)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)


def sibling(path: str, name: str) -> str:
    return f"{path.rpartition('/')[0]}/{name}"


def write_then_fail(path: str, error: BaseException, *chunks: bytes) -> None:
    """Write ``chunks`` to ``path`` through atomic_writer, then end the block with ``error``."""
    with atomic_writer(path) as handle:
        for chunk in chunks:
            handle.write(chunk)
        assert any(is_temporary_of(name, NAME) for name in listing(path))  # the temporary is there
        raise error


# -- endings ---------------------------------------------------------------------------------------


def test_success_writes_the_target_and_nothing_else(target):
    with atomic_writer(target) as handle:
        handle.write(b"[1,2]")
    assert read_bytes(target) == b"[1,2]"
    assert listing(target) == [NAME]


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_ending_removes_the_temporary_and_keeps_the_old_file(target, ending):
    put(target, b"old")
    error = ending()
    with pytest.raises(type(error)) as info:
        write_then_fail(target, error, b"[partial")
    assert info.value is error  # passed on unchanged
    assert read_bytes(target) == b"old"
    assert listing(target) == [NAME]


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_ending_leaves_no_file_when_there_was_none(target, ending):
    error = ending()
    with pytest.raises(type(error)):
        write_then_fail(target, error, b"[partial")
    assert listing(target) == []


def test_a_generator_failing_mid_write_leaves_nothing(target):
    def chunks() -> Iterator[bytes]:
        yield b'[{"a":1}'
        yield b',{"a":2}'
        raise RuntimeError("the source broke")

    def write() -> None:
        with atomic_writer(target) as handle:
            for chunk in chunks():
                handle.write(chunk)

    with pytest.raises(RuntimeError, match="the source broke"):
        write()
    assert listing(target) == []


# -- named errors ----------------------------------------------------------------------------------


def test_disk_full_names_the_target(target):
    full = OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OSError, match="No space left") as info:
        write_then_fail(target, full, b"[")  # what the file object raises when the disk is full
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == f"[Errno {errno.ENOSPC}] could not write {target}: No space left on device"
    assert info.value.__cause__ is full
    assert listing(target) == []


def test_a_failing_rename_names_the_target(tmp_path, monkeypatch):
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", src)

    monkeypatch.setattr(os, "replace", refuse)
    path = str(tmp_path / NAME)
    with pytest.raises(PermissionError) as info, atomic_writer(path) as handle:
        handle.write(b"[]")
    message = str(info.value)
    assert message.startswith(f"[Errno {errno.EACCES}] could not write {path}: Permission denied (")
    assert f"{tmp_path}/.{NAME}." in message  # the temporary it was renaming, for the curious
    assert os.listdir(tmp_path) == []


def test_an_unwritable_directory_names_the_target(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    path = str(tmp_path / "file" / NAME)
    with pytest.raises(OSError, match=f"could not write {path}: ") as info, atomic_writer(path):
        pass
    assert info.value.errno in (errno.ENOTDIR, errno.EEXIST)


def test_a_library_oserror_passes_unchanged(tmp_path):
    error = requests.ConnectionError("refused")  # requests' errors are OSErrors, but not about the file
    with pytest.raises(requests.ConnectionError) as info, atomic_writer(str(tmp_path / NAME)):
        raise error
    assert info.value is error
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("error", "message"),
    [
        pytest.param(OSError("quota exceeded"), "quota exceeded", id="no-errno"),
        pytest.param(OSError(), "OSError", id="no-message"),
        pytest.param(BlockingIOError(), "BlockingIOError", id="subclass-no-message"),
    ],
)
def test_an_oserror_without_errno_is_named_and_keeps_its_type(tmp_path, error, message):
    path = str(tmp_path / NAME)
    with pytest.raises(OSError, match=r"^could not write ") as info, atomic_writer(path):
        raise error
    assert type(info.value) is type(error)  # the same class, so the same handlers catch it
    assert info.value.errno is None
    assert str(info.value) == f"could not write {path}: {message}"
    assert info.value.__cause__ is error


def test_an_oserror_about_the_target_itself_names_it_once(tmp_path):
    path = str(tmp_path / NAME)
    with pytest.raises(IsADirectoryError) as info, atomic_writer(path):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    assert str(info.value) == f"[Errno {errno.EISDIR}] could not write {path}: Is a directory"


def test_new_files_get_the_usual_permissions_under_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_writer(str(tmp_path / NAME)) as handle:
            handle.write(b"[]")
    finally:
        os.umask(old)
    assert (tmp_path / NAME).stat().st_mode & 0o777 == 0o644  # 0o666 under the umask, never executable


def test_a_file_system_without_locks_still_gets_the_file(tmp_path, monkeypatch):
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    stale = tmp_path / temporary_name(NAME)
    stale.write_bytes(b"partial")
    with atomic_writer(str(tmp_path / NAME)) as handle:
        handle.write(b"[]")
    assert (tmp_path / NAME).read_bytes() == b"[]"
    assert sorted(os.listdir(tmp_path)) == sorted([NAME, stale.name])  # no lock to prove it stale: kept


def test_a_failing_lock_is_named_and_leaves_nothing(tmp_path, monkeypatch):
    import fcntl

    def broken(fd: int, operation: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(fcntl, "flock", broken)
    path = str(tmp_path / NAME)
    with pytest.raises(OSError, match="Input/output error") as info, atomic_writer(path):
        pytest.fail("the block must not run without its temporary file")
    assert str(info.value) == f"[Errno {errno.EIO}] could not write {path}: Input/output error"
    assert os.listdir(tmp_path) == []


def test_a_file_planted_at_the_temporarys_name_is_never_written_through(tmp_path, monkeypatch):
    # The temporary is created exclusively: a symlink planted under its (here predictable) name
    # makes the write fail instead of overwriting what the link points to.
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=0))
    os.symlink(victim, tmp_path / temporary_name(NAME))
    path = str(tmp_path / NAME)
    with pytest.raises(FileExistsError, match=f"could not write {path}: File exists"), atomic_writer(path):
        pytest.fail("the block must not run")
    assert victim.read_bytes() == b"precious"
    assert not (tmp_path / NAME).exists()


def test_a_temporary_taken_by_a_cleaner_before_its_lock_is_created_again(tmp_path, monkeypatch):
    import fcntl

    real_flock, taken = fcntl.flock, []

    def cleaner_first(fd: int, operation: int) -> None:
        if not taken:  # another run's cleaner removes the fresh file before this run locks it
            (name,) = os.listdir(tmp_path)
            os.unlink(tmp_path / name)
            taken.append(name)
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", cleaner_first)
    opened_before = len(os.listdir("/proc/self/fd"))
    with atomic_writer(str(tmp_path / NAME)) as handle:
        handle.write(b"[]")
    assert (tmp_path / NAME).read_bytes() == b"[]"
    assert os.listdir(tmp_path) == [NAME]
    assert is_temporary_of(taken[0], NAME)
    assert len(os.listdir("/proc/self/fd")) == opened_before  # the first descriptor was closed


# -- stale temporaries -----------------------------------------------------------------------------

HEX = "0123456789abcdef" * 2


def look_alikes() -> list[str]:
    """Names a run may not remove: other targets' temporaries and files that merely look similar."""
    return [
        f".other.json.{HEX}.tmp",  # another target's temporary
        f".{NAME}.bak.{HEX}.tmp",  # the temporary of "2024-01-01.json.bak"
        f".x{NAME}.{HEX}.tmp",
        f".{NAME}.tmp",
        f".{NAME}.{HEX[:31]}.tmp",
        f".{NAME}.{HEX}0.tmp",
        f".{NAME}.{HEX.upper()}.tmp",
        f".{NAME}.{HEX}.tmp.keep",
        f".{NAME}.{HEX}.tmpx",
        f".{NAME}.{HEX}.bak",  # the right prefix and length, another suffix
        f"x{NAME}.{HEX}.tmp",  # the right suffix and length, another prefix
        f"{NAME}.{HEX}.tmp",  # not hidden
        f".{NAME}.{'g' * 32}.tmp",
        f"{NAME}.tmp",
    ]


def test_the_next_write_removes_stale_temporaries_of_the_same_target_only(tmp_path, caplog):
    caplog.set_level("INFO", logger="airflow_movielens.storage")
    path = str(tmp_path / NAME)
    stale = [temporary_name(NAME), temporary_name(NAME), f".{NAME}.k2x_9abc.tmp"]  # and mkstemp's form
    keep = look_alikes()
    for name in stale + keep:
        (tmp_path / name).write_bytes(b"partial")
    (tmp_path / temporary_name(NAME)).mkdir()  # a directory is never ours
    os.symlink(tmp_path / "other.json", tmp_path / temporary_name(NAME))  # nor a symlink
    (tmp_path / "other.json").write_bytes(b"other")
    before = set(os.listdir(tmp_path))

    with atomic_writer(path) as handle:
        handle.write(b"[]")

    assert (tmp_path / NAME).read_bytes() == b"[]"
    assert set(os.listdir(tmp_path)) == (before - set(stale)) | {NAME}
    assert (tmp_path / "other.json").read_bytes() == b"other"
    removed = sorted(r.getMessage() for r in caplog.records if r.name == "airflow_movielens.storage")
    assert removed == sorted(
        f"Removed {tmp_path / name}, left behind by an earlier run that did not finish" for name in stale
    )


def test_a_failed_write_removes_no_stale_temporary(tmp_path):
    stale = tmp_path / temporary_name(NAME)
    stale.write_bytes(b"partial")
    with pytest.raises(ValueError, match="no"), atomic_writer(str(tmp_path / NAME)):
        raise ValueError("no")
    assert os.listdir(tmp_path) == [stale.name]


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    path = str(tmp_path / NAME)
    with atomic_writer(path) as first:  # a concurrent run of the same target, still writing
        first.write(b"[1]")
        with atomic_writer(path) as second:
            second.write(b"[2]")
        assert (tmp_path / NAME).read_bytes() == b"[2]"
        assert [n for n in os.listdir(tmp_path) if is_temporary_of(n, NAME)]  # first's, still there
    assert (tmp_path / NAME).read_bytes() == b"[1]"
    assert os.listdir(tmp_path) == [NAME]


def test_object_storage_removes_stale_temporaries_of_the_same_target_only(memory_fs, caplog):
    caplog.set_level("INFO", logger="airflow_movielens.storage")
    path = f"memory://bucket/{uuid.uuid4().hex}/{NAME}"
    stale = [temporary_name(NAME), temporary_name(NAME)]
    keep = [*look_alikes(), f".{NAME}.k2x_9abc.tmp"]  # mkstemp's form: only local files ever had it
    for name in stale + keep:
        put(sibling(path, name), b"partial")
    with atomic_writer(path) as handle:
        handle.write(b"[]")
    assert read_bytes(path) == b"[]"
    assert listing(path) == sorted([*keep, NAME])
    assert sorted(r.getMessage() for r in caplog.records) == sorted(
        f"Removed {ObjectStoragePath(sibling(path, name))}, left behind by an earlier run that did not finish"
        for name in stale
    )


def debug_records(caplog: pytest.LogCaptureFixture) -> list[tuple[str, bool]]:
    """(message, has a traceback) of the storage module's DEBUG records."""
    return [
        (r.getMessage(), bool(r.exc_info))
        for r in caplog.records
        if r.name == "airflow_movielens.storage" and r.levelname == "DEBUG"
    ]


def test_object_storage_that_cannot_list_still_gets_the_object(memory_fs, monkeypatch, caplog):
    caplog.set_level("DEBUG", logger="airflow_movielens.storage")
    path = f"memory://bucket/{uuid.uuid4().hex}/{NAME}"

    def refuse(self):
        raise PermissionError("s3:ListBucket denied")

    monkeypatch.setattr(ObjectStoragePath, "iterdir", refuse)
    with atomic_writer(path) as handle:
        handle.write(b"[]")
    assert read_bytes(path) == b"[]"
    directory = ObjectStoragePath(path.rpartition("/")[0])
    assert debug_records(caplog) == [(f"Could not list {directory} for stale temporaries of {NAME}", True)]


def test_a_stale_object_that_cannot_be_removed_does_not_stop_the_others(memory_fs, monkeypatch, caplog):
    caplog.set_level("DEBUG", logger="airflow_movielens.storage")
    path = f"memory://bucket/{uuid.uuid4().hex}/{NAME}"
    stuck, stale = sorted([temporary_name(NAME), temporary_name(NAME)])
    for name in (stuck, stale):
        put(sibling(path, name), b"partial")
    real_unlink = ObjectStoragePath.unlink

    def unlink(self, *args, **kwargs):
        if self.name == stuck:
            raise PermissionError("s3:DeleteObject denied")
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(ObjectStoragePath, "unlink", unlink)
    with atomic_writer(path) as handle:
        handle.write(b"[]")
    assert listing(path) == sorted([stuck, NAME])
    assert debug_records(caplog) == [(f"Could not remove {ObjectStoragePath(sibling(path, stuck))}", True)]


# -- killed writers --------------------------------------------------------------------------------

SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from airflow_movielens.storage import atomic_writer

    with atomic_writer(sys.argv[1]) as handle:
        while True:  # never finishes: the parent kills it mid-write
            handle.write(b"x" * 65536)
            handle.flush()
            time.sleep(0.05)
    """
)


def start_slow_writer(path: str, directory: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start a child writing ``path`` forever; return it and its temporary file once that has data."""
    before = set(os.listdir(directory))
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 180  # the child imports Airflow; the machine may be busy
    while time.monotonic() < deadline:
        new = [directory / name for name in set(os.listdir(directory)) - before]
        found = [p for p in new if p.name.startswith(f".{NAME}.") and p.stat().st_size > 0]
        if found:
            return child, found[0]
        if child.poll() is not None:
            raise AssertionError(f"the writer exited early: {child.stderr.read().decode()}")  # type: ignore[union-attr]
        time.sleep(0.1)
    child.kill()
    raise AssertionError("the writer's temporary file never appeared")


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stderr:
            child.stderr.close()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("uri", [False, True], ids=["local", "file-uri"])
def test_a_killed_writer_leaves_a_temporary_the_next_write_removes(tmp_path, children, how, uri):
    directory = tmp_path / "lake"
    directory.mkdir()
    path = f"file://{directory}/{NAME}" if uri else str(directory / NAME)
    for name in look_alikes():
        (directory / name).write_bytes(b"keep")
    (directory / NAME).write_bytes(b"old")

    child, temporary = start_slow_writer(path, directory)
    children.append(child)
    if not uri:  # a local write while the child lives does not take its temporary (it holds a lock)
        with atomic_writer(path) as handle:
            handle.write(b"[0]")
        assert temporary.exists()
    child.send_signal(how)
    assert child.wait() == -how

    assert temporary.exists()  # what the killed run left: a hidden partial file
    assert temporary.stat().st_size >= 65536
    assert (directory / NAME).read_bytes() in (b"old", b"[0]")  # the target is whole

    with atomic_writer(path) as handle:
        handle.write(b"[1]")

    assert not temporary.exists()
    assert (directory / NAME).read_bytes() == b"[1]"
    assert sorted(os.listdir(directory)) == sorted([*look_alikes(), NAME])
    assert all((directory / name).read_bytes() == b"keep" for name in look_alikes())
