"""The SQLite journal: round trips, batching, crash durability, and hostile files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread
from partcopy.engine.journal import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Journal,
    PartRecord,
    PlanRecord,
)
from partcopy.errors import JournalError, UsageError

PLAN = PlanRecord(part_size=8 * 1024**2, part_count=5, first_part_number=1, mode="multipart")


def new_job(j: Journal, source: str = "s3://a/k", destination: str = "s3://b/k") -> int:
    job = j.create_job(
        source=source,
        destination=destination,
        source_size=36 * 1024**2,
        source_etag='"abc"',
        source_version="v1",
        plan=PLAN,
        options={"concurrency": 4, "endpoint_url": "http://127.0.0.1:1"},
    )
    return job.id


def test_job_round_trip_and_states(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        job_id = new_job(j)
        job = j.job(job_id)
        assert job.state == "planned" and job.upload_id is None and job.unfinished
        assert job.plan == PLAN and job.options["concurrency"] == 4
        j.set_upload(job_id, "UP-1")
        j.record_part(job_id, 1, '"e1"', PLAN.part_size)
    with Journal(path) as j:
        job = j.job(job_id)
        assert (job.state, job.upload_id, job.source_etag, job.source_version) == (
            "running",
            "UP-1",
            '"abc"',
            "v1",
        )
        assert j.parts(job_id) == {1: PartRecord(1, '"e1"', PLAN.part_size)}
        assert j.find_unfinished("s3://a/k", "s3://b/k") == job
        assert j.find_unfinished("s3://a/k", "s3://b/other") is None
        done = j.set_state(job_id, "completed", result_etag='"final-5"')
        assert done.result_etag == '"final-5"' and not done.unfinished
        assert j.unfinished_jobs() == []
        assert j.find_unfinished("s3://a/k", "s3://b/k") is None


def test_plan_part_sizes() -> None:
    plan = PlanRecord(part_size=10, part_count=3, first_part_number=0, mode="multipart")
    assert [plan.part_size_of(n, 25) for n in plan.part_numbers] == [10, 10, 5]
    with pytest.raises(IndexError):
        plan.part_size_of(3, 25)


def test_without_a_writer_parts_are_committed_in_batches(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", flush_parts=3, flush_seconds=None) as j:
        job_id = new_job(j)
        base = j.commits
        j.record_part(job_id, 1, '"e1"', 1)
        j.record_part(job_id, 2, '"e2"', 1)
        assert j.commits == base
        j.record_part(job_id, 3, '"e3"', 1)
        assert j.commits == base + 1
        j.record_part(job_id, 4, '"e4"', 1)
        assert j.commits == base + 1
        assert sorted(j.parts(job_id)) == [1, 2, 3, 4]  # a read commits the buffer first
        assert j.commits == base + 2


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_record_part_commits_a_full_or_old_batch_itself(tmp_path: Path) -> None:
    clock = FakeClock()
    with Journal(tmp_path / "j.db", flush_parts=4, flush_seconds=5.0, clock=clock) as j:
        job_id = new_job(j)
        base = j.commits
        for n in range(1, 5):
            j.record_part(job_id, n, f'"e{n}"', 1)
        assert j.commits == base + 1  # the fourth part filled the batch
        j.record_part(job_id, 5, '"e5"', 1)
        clock.now += 4.9
        j.record_part(job_id, 6, '"e6"', 1)
        assert j.commits == base + 1
        clock.now += 0.1  # part 5 has now waited flush_seconds
        j.record_part(job_id, 7, '"e7"', 1)
        assert j.commits == base + 2
        assert sorted(j.parts(job_id)) == list(range(1, 8))


def test_the_writer_commits_a_straggler(tmp_path: Path) -> None:
    """A part with no successor to commit it is committed by the writer thread."""
    path = tmp_path / "j.db"
    with Journal(path, flush_parts=1000, flush_seconds=0.01) as j:
        job_id = new_job(j)
        base = j.commits
        j.record_part(job_id, 1, '"e1"', 1)
        assert j.wait_committed(base + 1, timeout=30)
        other = sqlite3.connect(path)
        assert other.execute("SELECT part_number FROM parts").fetchall() == [(1,)]
        other.close()


def test_state_change_and_reads_flush_buffered_parts(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    j = Journal(path, flush_parts=1000, flush_seconds=3600.0)
    job_id = new_job(j)
    j.record_part(job_id, 2, '"e2"', 7)
    j.set_state(job_id, "failed", error="boom")
    # another connection sees it, though the first one is still open
    other = sqlite3.connect(path)
    assert other.execute("SELECT part_number, etag FROM parts").fetchall() == [(2, '"e2"')]
    other.close()
    j.close()
    j.close()  # harmless twice
    with pytest.raises(JournalError, match="closed"):
        j.job(job_id)
    with pytest.raises(JournalError, match="closed"):
        j.record_part(job_id, 3, '"e3"', 7)


def test_forget_parts(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        job_id = new_job(j)
        for n in (1, 2, 3):
            j.record_part(job_id, n, f'"e{n}"', 1)
        j.forget_parts(job_id, [2])
        assert sorted(j.parts(job_id)) == [1, 3]
        j.forget_parts(job_id)
        assert j.parts(job_id) == {}


def test_uses_wal_and_stamps_identity(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_committed_parts_survive_kill_9(tmp_path: Path) -> None:
    """A process killed without closing loses at most its unflushed buffer."""
    path = tmp_path / "j.db"
    script = textwrap.dedent(
        f"""
        import os, signal
        from partcopy.engine.journal import Journal, PlanRecord
        j = Journal({str(path)!r}, flush_parts=10, flush_seconds=None)
        job = j.create_job(source="s3://a/k", destination="s3://b/k", source_size=100,
            source_etag=None, source_version=None, plan=PlanRecord(1, 100, 1, "multipart"))
        j.set_upload(job.id, "U")
        for n in range(1, 26):
            j.record_part(job.id, n, f'"e{{n}}"', 1)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    with Journal(path) as j:
        (job,) = j.unfinished_jobs()
        assert job.upload_id == "U" and job.state == "running"
        assert sorted(j.parts(job.id)) == list(range(1, 21))


# --- hostile files ------------------------------------------------------------------


def test_garbage_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    path.write_bytes(b"this is not a journal\n" * 50)
    with pytest.raises(JournalError, match="not a partcopy journal") as info:
        Journal(path)
    assert isinstance(info.value, UsageError) and info.value.exit_status == 2
    assert "\n" not in str(info.value)
    assert path.read_bytes() == b"this is not a journal\n" * 50  # untouched


def test_an_empty_file_starts_a_new_journal(tmp_path: Path) -> None:
    """A 0-byte file (``mktemp``'s) is a new SQLite database: a new journal starts in it."""
    path = tmp_path / "j.db"
    path.write_bytes(b"")
    with Journal(path) as j:
        job_id = new_job(j)
    with Journal(path, create=False) as j:
        assert [job.id for job in j.unfinished_jobs()] == [job_id]


def test_an_empty_file_is_no_journal_to_resume(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    path.write_bytes(b"")
    with pytest.raises(JournalError, match="is empty: it records no job") as info:
        Journal(path, create=False)
    assert str(path) in str(info.value)
    assert path.read_bytes() == b""  # resume never makes a journal


def test_an_empty_file_with_a_log_beside_it_is_refused(tmp_path: Path) -> None:
    """SQLite deletes a write-ahead log whose database is empty: that is no new journal."""
    path = tmp_path / "j.db"
    path.write_bytes(b"")
    wal = tmp_path / "j.db-wal"
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(60))
    with pytest.raises(JournalError, match="empty but its log") as info:
        Journal(path)
    assert "\n" not in str(info.value)
    assert wal.stat().st_size == 64 and path.read_bytes() == b""


def test_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE jobs (x)")
    conn.commit()
    conn.close()
    with pytest.raises(JournalError, match="another application"):
        Journal(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="schema version"):
        Journal(path)


@pytest.mark.parametrize("keep", [0.0003, 0.001, 0.1, 0.5, 0.998])
def test_truncated_journal(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        job_id = new_job(j)
        for n in range(1, 400):
            j.record_part(job_id, n, f'"{"e" * 30}{n}"', 1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    assert len(data) > 8192
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(JournalError) as info:
        Journal(path)
    assert "\n" not in str(info.value)


def test_directory_and_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="directory"):
        Journal(tmp_path)
    with pytest.raises(JournalError, match="cannot open"):
        Journal(tmp_path / "missing" / "j.db")


def test_cp_journal_in_a_file_made_by_mktemp(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    emulator_thread: Callable[..., EmulatorThread],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from partcopy.cli import main

    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    emu = emulator_thread(dialect="s3", objects=["src/k=12MiB", "dst/x=1"])
    fd, name = tempfile.mkstemp(dir=tmp_path)  # what mktemp makes: an empty file
    os.close(fd)
    argv = ["cp", "s3://src/k", "s3://dst/k", "--endpoint-url", emu.url, "--journal", name]
    assert main([*argv, "--part-size", "5MiB", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    with Journal(name, create=False) as j:
        (job,) = j.jobs()
    assert (job.source, job.destination, job.state) == ("s3://src/k", "s3://dst/k", "completed")
