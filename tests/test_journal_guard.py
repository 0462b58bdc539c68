"""The journal under misuse: two processes, a FIFO, a typo, a full disk, a crash just
after Complete (issue 15, items 5 and 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from partcopy import Copier
from partcopy.cli import main
from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread
from partcopy.engine.journal import Journal, PlanRecord
from partcopy.engine.retry import RetryPolicy
from partcopy.engine.verify import Verification
from partcopy.errors import CopyError, JobBusy, JournalWriteError
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import CompleteResult
from partcopy.transports.memory import MemoryTransport
from partcopy.units import MiB

SRC = "s3://src-bkt/obj"
DST = "s3://dst-bkt/obj"
ENV = {"PARTCOPY_ACCESS_KEY_ID": "AKIDTEST", "PARTCOPY_SECRET_ACCESS_KEY": "not-a-secret"}
EMULATOR_ENV = {
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def new_store(size: int = 40 * MiB) -> MemoryStore:
    store = MemoryStore(seed=1)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    store.put_virtual("src-bkt", "obj", size)
    return store


def copy(transport: Any, journal: Path | Journal) -> Any:
    async def run() -> Any:
        async with Copier(
            transport=transport,
            journal=journal,
            sleep=no_sleep,
            seed=3,
            concurrency=4,
            retry=RetryPolicy(max_attempts=2, initial=0.0, cap=0.0),
        ) as c:
            return await c.copy(SRC, DST, part_size="5MiB")

    return anyio.run(run)


# --- one process per job --------------------------------------------------------------------

HOLD = (
    "import sys, time; from partcopy.engine.journal import Journal; "
    "j = Journal(sys.argv[1]); j.locks.acquire(int(sys.argv[2])); "
    "print('held', flush=True); time.sleep(120)"
)


@pytest.fixture
def running_job(tmp_path: Path) -> Iterator[tuple[Path, int, subprocess.Popen[str]]]:
    """A journal with one unfinished job whose lock another live process holds."""
    path = tmp_path / "state.db"
    with Journal(path) as j:
        record = j.create_job(
            source=SRC,
            destination=DST,
            source_size=40 * MiB,
            source_etag='"e"',
            source_version=None,
            plan=PlanRecord(5 * MiB, 8, 1, "copy"),
        )
        j.set_upload(record.id, "UPLOAD-OF-THE-OTHER-PROCESS")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(record.id)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield path, record.id, holder
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_second_process_on_a_running_job_is_refused_with_exit_2(
    running_job: tuple[Path, int, subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, job_id, holder = running_job
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    # A closed port: the refusal must come before any request.
    args = ["cp", SRC, DST, "--endpoint-url", "http://127.0.0.1:9", "--journal", str(path)]
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and f"job {job_id} is running in process {holder.pid}" in err
    with Journal(path) as j:  # the other process's job is left exactly as it was
        (job,) = j.unfinished_jobs()
        assert (job.state, job.upload_id) == ("running", "UPLOAD-OF-THE-OTHER-PROCESS")


def test_resume_goes_on_past_a_job_another_process_runs_and_names_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator_thread: Callable[..., EmulatorThread],
) -> None:
    """A journal of two jobs, the first held by a live process: the second is resumed, the
    first is left as it was and reported with its holder, and the exit says not all were
    resumed (1: requests went out, so no bad input)."""
    for name, value in EMULATOR_ENV.items():
        monkeypatch.setenv(name, value)
    emu = emulator_thread(dialect="s3", objects=["src-bkt/obj=12MiB", "src-bkt/free=12MiB"])
    emu.call(lambda: emu.emulator.store.create_bucket("dst-bkt"))
    path = tmp_path / "state.db"
    with Journal(path) as j:
        held, free = (
            j.create_job(
                source=f"s3://src-bkt/{key}",
                destination=f"s3://dst-bkt/{key}",
                source_size=12 * MiB,
                source_etag=None,
                source_version=None,
                plan=PlanRecord(5 * MiB, 3, 1, "copy"),
                options={"endpoint_url": emu.url, "concurrency": 4},
            )
            for key in ("obj", "free")
        )
        j.set_upload(held.id, "UPLOAD-OF-THE-OTHER-PROCESS")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(held.id)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        status = main(["resume", "--journal", str(path), "--json"])
        doc = json.loads(capsys.readouterr().out)
        assert status == 1
        busy = f"job {held.id} is running in process {holder.pid}"
        first, second = doc["jobs"]
        assert (first["job"], first["status"], first["error"]["type"]) == (
            held.id,
            "failed",
            "JobBusy",
        )
        assert first["error"]["message"] == busy and first["source"] == "s3://src-bkt/obj"
        assert (second["job"], second["status"]) == (free.id, "completed")
        assert emu.call(lambda: emu.emulator.store.get("dst-bkt", "free").size) == 12 * MiB
        with Journal(path) as j:  # the held job is left exactly as it was
            (job,) = j.unfinished_jobs()
            assert (job.id, job.state, job.upload_id) == (
                held.id,
                "running",
                "UPLOAD-OF-THE-OTHER-PROCESS",
            )
        assert main(["resume", "--journal", str(path)]) == 1  # the text report names it too
        err = capsys.readouterr().err
        assert err == (
            f"partcopy: job {held.id} s3://src-bkt/obj -> s3://dst-bkt/obj not resumed: "
            f"{busy} (left to it)\n"
        )
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


def test_copier_resume_reports_a_job_another_process_runs_instead_of_raising(
    running_job: tuple[Path, int, subprocess.Popen[str]],
) -> None:
    path, job_id, holder = running_job
    store = new_store()

    async def run() -> Any:
        async with Copier(transport=MemoryTransport(store), journal=path, sleep=no_sleep) as c:
            return await c.resume()

    (outcome,) = anyio.run(run)
    assert outcome.job_id == job_id and outcome.result is None
    assert isinstance(outcome.error, JobBusy)
    assert str(outcome.error) == f"job {job_id} is running in process {holder.pid}"
    assert store.open_uploads() == 0  # nothing was sent for it


def test_the_lock_of_a_process_that_is_gone_is_free(
    running_job: tuple[Path, int, subprocess.Popen[str]],
) -> None:
    path, job_id, holder = running_job
    with Journal(path) as j:
        with pytest.raises(JobBusy):
            j.locks.acquire(job_id)
        holder.kill()  # kill -9: the kernel drops its locks
        holder.wait()
        j.locks.acquire(job_id)


# --- files that are no journal ---------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_journal_is_bad_input_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    args = [sys.executable, "-m", "partcopy", "cp", SRC, DST, "--journal", str(fifo)]
    args += ["--endpoint-url", "http://127.0.0.1:9"]
    done = subprocess.run(
        args, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2 and "not a regular file" in done.stderr
    assert done.stderr.count("\n") == 1


def test_resume_of_a_journal_that_does_not_exist_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.db"
    assert main(["resume", "--journal", str(typo)]) == 2
    assert "no journal at" in capsys.readouterr().err
    assert not typo.exists()


def test_a_journal_that_fills_its_disk_fails_the_copy_and_aborts(tmp_path: Path) -> None:
    store = new_store(1024 * 5 * MiB)  # 1024 part rows: more than the pages it has
    journal = Journal(tmp_path / "state.db", flush_parts=1, flush_seconds=None)
    try:
        db = journal._db()  # the fault: the file may not grow (SQLITE_FULL)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(JournalWriteError) as caught:
            copy(MemoryTransport(store), journal)
    finally:
        journal.close()
    assert isinstance(caught.value, CopyError)  # exit 1 with its JSON, not bad input
    assert "full" in str(caught.value)
    assert store.open_uploads() == 0


# --- a crash just after Complete -------------------------------------------------------------


class _DiesAfterComplete(MemoryTransport):
    """Complete goes through, then the process "dies" (the job is cancelled)."""

    async def complete(self, *args: Any, **kwargs: Any) -> CompleteResult:
        await super().complete(*args, **kwargs)
        anyio.get_current_task()  # the answer is lost with the process
        raise anyio.get_cancelled_exc_class()()


def test_a_rerun_after_a_crash_just_past_complete_records_the_job_done(tmp_path: Path) -> None:
    store = new_store()
    journal = tmp_path / "state.db"
    with pytest.raises(BaseException):  # noqa: B017 - the simulated death
        copy(_DiesAfterComplete(store), journal)
    assert store.get("dst-bkt", "obj").size == 40 * MiB
    copied = store.stats().parts_copied

    result = copy(MemoryTransport(store), journal)

    assert store.stats().parts_copied == copied  # nothing copied again
    assert result.verification is Verification.COMPOSITE_ETAG
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["completed"]


class _ChecksJournalAtComplete(MemoryTransport):
    """At Complete, reads the journal from a second connection (as a rerun would)."""

    def __init__(self, store: MemoryStore, path: Path) -> None:
        super().__init__(store)
        self.path = path
        self.seen: int | None = None

    async def complete(self, *args: Any, **kwargs: Any) -> CompleteResult:
        with Journal(self.path) as other:
            (job,) = other.unfinished_jobs()
            self.seen = len(other.parts(job.id))
        return await super().complete(*args, **kwargs)


def test_every_part_is_committed_before_complete_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    transport = _ChecksJournalAtComplete(new_store(), path)
    journal = Journal(path, flush_parts=10_000, flush_seconds=None)  # never by itself
    try:
        copy(transport, journal)
    finally:
        journal.close()
    assert transport.seen == 8


class _DiesInCreate(MemoryTransport):
    """The upload is created, then the process dies before the answer arrives."""

    async def create_multipart(self, *args: Any, **kwargs: Any) -> str:
        await super().create_multipart(*args, **kwargs)
        raise anyio.get_cancelled_exc_class()()


def test_an_interrupt_while_create_is_unanswered_leaves_no_upload(tmp_path: Path) -> None:
    store = new_store()
    with pytest.raises(BaseException):  # noqa: B017 - the cancellation
        copy(_DiesInCreate(store), tmp_path / "state.db")
    assert store.open_uploads() == 0


def test_a_rerun_aborts_the_upload_of_a_create_whose_answer_never_came(tmp_path: Path) -> None:
    """kill -9 while CreateMultipartUpload was in flight: the journal has the job (planned,
    no upload id), the store has an upload nobody knows. The rerun aborts it."""
    store = new_store()
    path = tmp_path / "state.db"
    with Journal(path) as j:
        j.create_job(
            source=SRC,
            destination=DST,
            source_size=40 * MiB,
            source_etag=store.get("src-bkt", "obj").etag,
            source_version=None,
            plan=PlanRecord(5 * MiB, 8, 1, "copy"),
        )
    store.create_upload("dst-bkt", "obj")

    copy(MemoryTransport(store), path)

    assert store.open_uploads() == 0
    assert store.get("dst-bkt", "obj").size == 40 * MiB


def test_a_journaled_upload_the_rerun_cannot_plan_is_kept_and_named_in_the_json(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator_thread: Callable[..., EmulatorThread],
) -> None:
    """A job journaled with 1 MiB parts (an OBS profile's), rerun and resumed under S3's
    limits: its parts cannot be planned again. Both say which upload is kept, and keep it
    open and journaled (exit 1: requests went out)."""
    for name, value in EMULATOR_ENV.items():
        monkeypatch.setenv(name, value)
    emu = emulator_thread(dialect="s3", objects=["src-bkt/obj=12MiB"])
    emu.call(lambda: emu.emulator.store.create_bucket("dst-bkt"))
    upload_id = emu.call(lambda: emu.emulator.store.create_upload("dst-bkt", "obj").upload_id)
    etag = emu.call(lambda: emu.emulator.store.get("src-bkt", "obj").etag)
    source, destination = "s3://src-bkt/obj", "s3://dst-bkt/obj"
    path = tmp_path / "state.db"
    with Journal(path) as j:
        job = j.create_job(
            source=source,
            destination=destination,
            source_size=12 * MiB,
            source_etag=etag,
            source_version=None,
            plan=PlanRecord(MiB, 12, 1, "copy"),
            options={"endpoint_url": emu.url, "concurrency": 4},
        )
        j.set_upload(job.id, upload_id)
    kept = (
        f"the upload {upload_id} is kept: resume it with the settings it was started with "
        f"(partcopy resume --journal {path}), or abort it (partcopy uploads abort "
        f"{destination} --upload-id {upload_id})"
    )

    args = ["cp", source, destination, "--endpoint-url", emu.url, "--journal", str(path)]
    assert main([*args, "--json"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["upload_id"] == upload_id and error["message"].endswith(kept)
    assert error["message"].startswith(f"cannot resume: part size {MiB} is not valid")

    assert main(["resume", "--journal", str(path), "--json"]) == 1
    (failed,) = json.loads(capsys.readouterr().out)["jobs"]
    assert failed["error"]["upload_id"] == upload_id
    assert failed["error"]["message"].endswith(kept)

    assert emu.call(lambda: emu.emulator.store.open_uploads()) == 1
    with Journal(path) as j:
        (left,) = j.unfinished_jobs()
        assert (left.id, left.state, left.upload_id) == (job.id, "failed", upload_id)
