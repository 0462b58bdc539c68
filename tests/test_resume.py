"""Journaled copies over the memory store: interrupt, resume, reconcile, source changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from partcopy import Copier
from partcopy.engine.events import Event, PartCompleted
from partcopy.engine.fidelity import FidelityOptions
from partcopy.engine.journal import Journal
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import CopyError, PartFailed, SourceChanged, UsageError
from partcopy.store.memory import MemoryStore
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.memory import MemoryTransport
from partcopy.units import MiB

SRC = "s3://src-bkt/obj"
DST = "s3://dst-bkt/obj"
SIZE = 100 * MiB
PART = 5 * MiB
PARTS = 20


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    return anyio.run(fn)


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def new_store(size: int = SIZE) -> MemoryStore:
    store = MemoryStore(seed=1)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    store.put_virtual("src-bkt", "obj", size)
    return store


def copier(transport: Any, journal: Path | Journal, **kw: Any) -> Copier:
    kw.setdefault("retry", RetryPolicy(max_attempts=3, initial=0.0, cap=0.0))
    return Copier(transport=transport, journal=journal, sleep=no_sleep, seed=3, **kw)


def interrupted_copy(store: MemoryStore, journal: Path, after: int, **kw: Any) -> None:
    """Start a journaled copy and cancel it once ``after`` parts are done."""
    done = 0
    scopes: list[anyio.CancelScope] = []

    def on_event(event: Event) -> None:
        nonlocal done
        if isinstance(event, PartCompleted):
            done += 1
            if done == after:
                scopes[0].cancel()

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            size = kw.pop("part_size", PART)
            transport = kw.pop("transport", None) or MemoryTransport(store)
            async with copier(transport, journal, concurrency=4) as c:
                await c.copy(SRC, DST, part_size=size, on_event=on_event, **kw)

    run(main)
    assert scopes[0].cancelled_caught


def finish(store: MemoryStore, journal: Path, **kw: Any) -> Any:
    async def main() -> Any:
        async with copier(MemoryTransport(store), journal, concurrency=4, **kw) as c:
            return await c.copy(SRC, DST, part_size=PART)

    return run(main)


def test_cancelled_copy_keeps_its_upload_and_the_rerun_copies_only_the_rest(
    tmp_path: Path,
) -> None:
    store = new_store()
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=7)
    assert store.open_uploads() == 1
    with Journal(journal) as j:
        (job,) = j.unfinished_jobs()
        kept = len(j.parts(job.id))
        assert job.upload_id is not None and job.plan.part_count == PARTS
    assert kept >= 7
    before = store.stats().parts_copied

    result = finish(store, journal)

    assert store.stats().parts_copied - before == PARTS - kept
    assert result.parts == PARTS and result.bytes == SIZE
    assert store.open_uploads() == 0
    assert store.get("dst-bkt", "obj").content.read() == store.get("src-bkt", "obj").content.read()  # type: ignore[union-attr]
    assert store.stats().every_complete_issued
    with Journal(journal) as j:
        (job,) = j.jobs()
        assert job.state == "completed" and job.result_etag == result.etag


def test_a_part_missing_on_the_server_is_copied_again(tmp_path: Path) -> None:
    store = new_store()
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=6)
    with Journal(journal) as j:
        (job,) = j.unfinished_jobs()
        journaled = sorted(j.parts(job.id))
    assert job.upload_id is not None
    upload = store.upload("dst-bkt", "obj", job.upload_id)
    missing = journaled[2]
    del upload.parts[missing]  # the store lost (or never kept) one journaled part
    before = store.stats().parts_copied

    finish(store, journal)

    assert store.stats().parts_copied - before == PARTS - len(journaled) + 1
    assert store.open_uploads() == 0
    assert store.get("dst-bkt", "obj").content.read() == store.get("src-bkt", "obj").content.read()  # type: ignore[union-attr]


def test_source_changed_between_runs_aborts_the_old_upload(tmp_path: Path) -> None:
    store = new_store()
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=5)
    store.put_virtual("src-bkt", "obj", SIZE)  # overwritten: new ETag, same size
    with pytest.raises(SourceChanged, match="was aborted") as info:
        finish(store, journal)
    assert info.value.upload_id is None
    assert store.open_uploads() == 0
    with Journal(journal) as j:
        (job,) = j.jobs()
        assert job.state == "aborted" and job.error is not None
        assert job.error.startswith("SourceChanged")
        assert j.unfinished_jobs() == []


def test_a_one_part_relay_of_an_object_under_the_minimum_part_resumes(tmp_path: Path) -> None:
    # A small object relayed with a CRC is one multipart part of its own size (1 MiB,
    # under S3's 5 MiB minimum, allowed for a last part); the rerun keeps that plan.
    src, dst = new_store(MiB), MemoryStore(seed=2)
    dst.create_bucket("dst-bkt")
    journal = tmp_path / "j.db"
    crc = FidelityOptions(checksum="crc32")
    scopes: list[anyio.CancelScope] = []

    def on_event(event: Event) -> None:
        if isinstance(event, PartCompleted):
            scopes[0].cancel()

    async def first() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with copier(
                MemoryTransport(src), journal, dst_transport=MemoryTransport(dst)
            ) as c:
                await c.copy(SRC, DST, mode="relay", fidelity=crc, on_event=on_event)

    run(first)
    assert scopes[0].cancelled_caught and dst.open_uploads() == 1

    async def rerun() -> Any:
        async with copier(MemoryTransport(src), journal, dst_transport=MemoryTransport(dst)) as c:
            return await c.copy(SRC, DST, mode="relay", fidelity=crc)

    result = run(rerun)
    assert (result.mode, result.parts, result.part_size, result.bytes) == ("relay", 1, MiB, MiB)
    assert dst.open_uploads() == 0
    assert dst.get("dst-bkt", "obj").content.read() == src.get("src-bkt", "obj").content.read()  # type: ignore[union-attr]


def test_restart_on_change_starts_over(tmp_path: Path) -> None:
    store = new_store()
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=5)
    store.put_virtual("src-bkt", "obj", SIZE + MiB)
    before = store.stats().parts_copied
    result = finish(store, journal, restart_on_change=True)
    assert result.bytes == SIZE + MiB
    assert store.stats().parts_copied - before == result.parts
    assert store.open_uploads() == 0
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["aborted", "completed"]


def test_upload_gone_meanwhile_starts_afresh(tmp_path: Path) -> None:
    store = new_store()
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=5)
    with Journal(journal) as j:
        (job,) = j.unfinished_jobs()
    assert job.upload_id is not None
    store.abort("dst-bkt", "obj", job.upload_id)
    before = store.stats().parts_copied
    finish(store, journal)
    assert store.stats().parts_copied - before == PARTS
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["aborted", "completed"]


def test_a_failed_journaled_copy_aborts_and_is_not_resumed(tmp_path: Path) -> None:
    store = new_store()
    journal = tmp_path / "j.db"
    always = FaultyTransport(MemoryTransport(store), [Fault("500", 1.0)], seed=1)

    async def main() -> None:
        async with copier(always, journal, concurrency=2) as c:
            await c.copy(SRC, DST, part_size=PART)

    with pytest.raises(PartFailed):
        run(main)
    assert store.open_uploads() == 0
    with Journal(journal) as j:
        (job,) = j.jobs()
        assert job.state == "aborted" and "PartFailed" in (job.error or "")
    finish(store, journal)
    assert store.open_uploads() == 0


def test_a_rerun_whose_plan_cannot_take_the_upload_keeps_it_and_names_it(
    tmp_path: Path,
) -> None:
    """Started with 1 MiB parts under OBS's limits, rerun under S3's (5 MiB at least): the
    journaled parts cannot be planned again. The upload is kept for a resume with the
    job's own settings, and the error names it and how to resume or abort it."""
    store = new_store(20 * MiB)
    obs = MemoryTransport(store, profile="obs")  # a store that takes OBS's 100 KiB parts
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=3, provider="obs", part_size=MiB, transport=obs)
    with Journal(journal) as j:
        (job,) = j.unfinished_jobs()
    assert job.upload_id is not None and store.open_uploads() == 1

    async def rerun() -> Any:
        async with copier(obs, journal) as c:
            return await c.copy(SRC, DST, part_size=PART, provider="s3")

    with pytest.raises(CopyError) as failed:
        run(rerun)
    assert failed.value.upload_id == job.upload_id
    assert str(failed.value) == (
        f"cannot resume: part size {MiB} is not valid for {20 * MiB} bytes under profile "
        f"'s3'; the upload {job.upload_id} is kept: resume it with the settings it was "
        f"started with (partcopy resume --journal {journal}), or abort it (partcopy "
        f"uploads abort {DST} --upload-id {job.upload_id})"
    )
    assert store.open_uploads() == 1
    with Journal(journal) as j:
        (kept,) = j.unfinished_jobs()
        assert kept.id == job.id and kept.upload_id == job.upload_id

    async def resume() -> Any:  # with its own settings (OBS's limits) it finishes
        async with copier(obs, journal) as c:
            return await c.resume()

    (outcome,) = run(resume)
    assert outcome.error is None and outcome.result.parts == 20
    assert store.open_uploads() == 0


def test_copier_resume_picks_up_every_unfinished_job(tmp_path: Path) -> None:
    store = new_store()
    store.put_virtual("src-bkt", "two", 30 * MiB)
    journal = tmp_path / "j.db"
    interrupted_copy(store, journal, after=3)

    async def second() -> None:
        with anyio.CancelScope() as scope:

            def on_event(event: Event) -> None:
                if isinstance(event, PartCompleted):
                    scope.cancel()

            async with copier(MemoryTransport(store), journal, concurrency=1) as c:
                await c.copy(
                    "s3://src-bkt/two", "s3://dst-bkt/two", part_size=PART, on_event=on_event
                )

    run(second)
    assert store.open_uploads() == 2

    async def resume() -> Any:
        async with copier(MemoryTransport(store), journal) as c:
            return await c.resume()

    outcomes = run(resume)
    assert [(o.source, o.error) for o in outcomes] == [(SRC, None), ("s3://src-bkt/two", None)]
    assert [o.result.bytes for o in outcomes] == [SIZE, 30 * MiB]
    assert store.open_uploads() == 0
    with Journal(journal) as j:
        assert {job.state for job in j.jobs()} == {"completed"}
        assert j.unfinished_jobs() == []


def test_resume_without_a_journal_is_a_usage_error() -> None:
    async def main() -> None:
        async with Copier(transport=MemoryTransport(new_store())) as c:
            await c.resume()

    with pytest.raises(UsageError, match="no journal"):
        run(main)


def test_journal_options_hold_no_secrets(tmp_path: Path) -> None:
    store = new_store(20 * MiB)
    journal = tmp_path / "j.db"

    async def main() -> None:
        async with copier(MemoryTransport(store), journal, endpoint_url="http://127.0.0.1:9") as c:
            await c.copy(SRC, DST, part_size=PART)

    run(main)
    with Journal(journal) as j:
        (job,) = j.jobs()
    assert job.options["endpoint_url"] == "http://127.0.0.1:9"
    assert job.options["mode"] == "auto"
    assert not any("secret" in str(k).lower() for k in job.options)
