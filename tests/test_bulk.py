"""The bulk runner over the memory store: streamed, bounded, resumable, never stopped."""

from __future__ import annotations

import asyncio
import io
import json
import random
import sqlite3
from pathlib import Path

import anyio
import pytest

from partcopy.engine.bulk import BulkOptions, run_bulk
from partcopy.engine.copier import Copier
from partcopy.engine.ledger import BulkLedger, FinishedObject
from partcopy.engine.report import ObjectOutcome, ReportWriter, read_report
from partcopy.errors import ConfigError, JournalError, UsageError
from partcopy.store.memory import MemoryStore
from partcopy.transports.memory import MemoryTransport
from partcopy.units import MiB

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def no_sleep(_: float) -> None:
    await anyio.lowlevel.checkpoint()


def make_store(count: int, *, large: int = 0, seed: int = 7) -> MemoryStore:
    """``count`` small objects (1-64 KiB) and ``large`` virtual ones (6-20 MiB)."""
    store = MemoryStore("s3")
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    rng = random.Random(seed)
    for i in range(count):
        store.put_virtual("src-bkt", f"small/{i:05d}", rng.randint(1024, 64 * 1024))
    for i in range(large):
        store.put_virtual("src-bkt", f"large/{i:02d}", rng.randint(6 * MiB, 20 * MiB))
    return store


def write_manifest(path: Path, keys: list[str], bad: dict[int, str] | None = None) -> Path:
    """One JSON line per key; ``bad`` puts a malformed line at those 1-based line numbers."""
    bad = dict(bad or {})
    lines: list[str] = []
    pending = list(keys)
    while pending or bad:
        number = len(lines) + 1
        if number in bad:
            lines.append(bad.pop(number))
            continue
        if not pending:
            raise AssertionError("bad line numbers past the end")
        key = pending.pop(0)
        lines.append(json.dumps({"src": f"s3://src-bkt/{key}", "dst": f"s3://dst-bkt/{key}"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def keys_of(store: MemoryStore) -> list[str]:
    return sorted(store.keys("src-bkt"))


async def run(
    manifest: Path,
    store: MemoryStore,
    *,
    concurrency: int = 16,
    ledger: BulkLedger | None = None,
    report: io.StringIO | None = None,
    on_outcome: object = None,
) -> tuple[list[ObjectOutcome], object]:
    out = report or io.StringIO()
    async with Copier(
        transport=MemoryTransport(store),
        concurrency=concurrency,
        sleep=no_sleep,
        journal=None if ledger is None else ledger.journal,
    ) as copier:
        summary = await run_bulk(
            manifest,
            copier,
            options=BulkOptions(concurrency=concurrency, part_size=5 * MiB),
            report=ReportWriter(out),
            ledger=ledger,
            on_outcome=on_outcome,  # type: ignore[arg-type]
        )
    return list(read_report(out.getvalue().splitlines())), summary


async def test_every_object_is_copied_and_reported(tmp_path: Path) -> None:
    store = make_store(300, large=3)
    manifest = write_manifest(tmp_path / "m.jsonl", keys_of(store))
    outcomes, summary = await run(manifest, store)
    assert sorted(o.line for o in outcomes) == list(range(1, 304))
    assert {o.status for o in outcomes} == {"ok"}
    modes = {o.mode for o in outcomes if o.src and "/large/" in o.src}
    assert modes == {"copy"} and {o.mode for o in outcomes if "/small/" in str(o.src)} == {"single"}
    for key in keys_of(store):
        src, dst = store.get("src-bkt", key).content, store.get("dst-bkt", key).content
        assert src is not None and dst is not None and src.read() == dst.read()
    total = sum(store.get("src-bkt", k).size for k in keys_of(store))
    assert summary.as_dict()["bytes"] == total  # type: ignore[attr-defined]
    assert summary.as_dict()["ok"] == 303  # type: ignore[attr-defined]


async def test_bad_lines_and_failed_objects_never_stop_the_run(tmp_path: Path) -> None:
    store = make_store(40)
    keys = [*keys_of(store), "small/missing"]
    bad = {
        3: "{not json",
        17: '{"src": "s3://src-bkt/x"}',
        30: '{"src": "gs://a/b", "dst": "s3://b/c"}',
    }
    manifest = write_manifest(tmp_path / "m.jsonl", keys, bad)
    outcomes, summary = await run(manifest, store)
    invalid = sorted(o.line for o in outcomes if o.status == "invalid")
    assert invalid == [3, 17, 30]
    assert all(o.error and o.error.type == "ManifestError" for o in outcomes if o.line in bad)
    failed = [o for o in outcomes if o.status == "failed"]
    assert len(failed) == 1 and failed[0].src == "s3://src-bkt/small/missing"
    assert failed[0].error is not None and "NoSuchKey" in failed[0].error.message
    counts = summary.as_dict()  # type: ignore[attr-defined]
    assert (counts["ok"], counts["failed"], counts["invalid"], counts["status"]) == (
        40,
        1,
        3,
        "failed",
    )


async def test_rerun_with_the_ledger_skips_finished_objects(tmp_path: Path) -> None:
    store = make_store(200, large=2)
    manifest = write_manifest(tmp_path / "m.jsonl", keys_of(store))
    with BulkLedger(tmp_path / "state.db") as ledger:
        first, _ = await run(manifest, store, ledger=ledger)
        assert ledger.count() == 202
    requests = store.stats().requests
    with BulkLedger(tmp_path / "state.db") as ledger:
        second, summary = await run(manifest, store, ledger=ledger)
    assert {o.status for o in second} == {"skipped"}
    assert store.stats().requests == requests  # not one request: nothing was copied again
    by_line = {o.line: o for o in first}
    for o in second:
        assert (o.etag, o.bytes, o.parts, o.mode) == (
            by_line[o.line].etag,
            by_line[o.line].bytes,
            by_line[o.line].parts,
            by_line[o.line].mode,
        )
    assert summary.as_dict()["skipped"] == 202  # type: ignore[attr-defined]


async def test_interrupted_run_resumes_without_recopying(tmp_path: Path) -> None:
    store = make_store(400, large=4)
    store.set_versioning("dst-bkt", True)  # every copy makes a version: recopies would show
    manifest = write_manifest(tmp_path / "m.jsonl", keys_of(store))
    half = anyio.Event()
    seen = 0

    def count(_: ObjectOutcome) -> None:
        nonlocal seen
        seen += 1
        if seen == 202:
            half.set()

    with BulkLedger(tmp_path / "state.db") as ledger:
        async with anyio.create_task_group() as tg:

            async def stop_at_half() -> None:
                await half.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(stop_at_half)
            await run(manifest, store, ledger=ledger, on_outcome=count)
        done = [
            k
            for k in keys_of(store)
            if ledger.finished(f"s3://src-bkt/{k}", f"s3://dst-bkt/{k}") is not None
        ]
    assert 202 <= len(done) < 404
    before = {k: store.versions("dst-bkt", k) for k in done}
    with BulkLedger(tmp_path / "state.db") as ledger:
        outcomes, _ = await run(manifest, store, ledger=ledger)
        assert ledger.count() == 404
    statuses = [o.status for o in outcomes]
    assert statuses.count("skipped") == len(done) and statuses.count("ok") == 404 - len(done)
    # Every recorded object kept its one version: not one was copied again. Objects caught
    # in flight by the interruption (copied, not yet recorded) may be copied twice.
    assert {k: store.versions("dst-bkt", k) for k in done} == before
    assert all(len(v) == 1 for v in before.values())
    twice = [k for k in keys_of(store) if len(store.versions("dst-bkt", k)) > 1]
    assert len(twice) <= 16 and not set(twice) & set(done)
    assert store.open_uploads() == 0


async def test_workers_are_bounded_not_one_task_per_object(tmp_path: Path) -> None:
    store = make_store(600)
    manifest = write_manifest(tmp_path / "m.jsonl", keys_of(store))
    peak = 0

    def sample(_: ObjectOutcome) -> None:
        nonlocal peak
        peak = max(peak, len(asyncio.all_tasks()))

    outcomes, _ = await run(manifest, store, concurrency=8, on_outcome=sample)
    assert len(outcomes) == 600
    assert peak <= 8 + 2  # the workers, the test's own task and the group's host


async def test_bad_input_is_a_usage_error_before_any_request(tmp_path: Path) -> None:
    store = make_store(1)
    with pytest.raises(ConfigError, match="nope"):
        await run(tmp_path / "nope.jsonl", store)
    with pytest.raises(ConfigError, match="directory"):
        await run(tmp_path, store)
    with pytest.raises(UsageError):
        BulkOptions(concurrency=0)
    with pytest.raises(UsageError):
        BulkOptions(mode="teleport")  # type: ignore[arg-type]
    assert store.stats().requests == 0
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all")
    with pytest.raises(JournalError):
        BulkLedger(garbage)


async def test_ledger_lives_beside_the_job_journal(tmp_path: Path) -> None:
    with BulkLedger(tmp_path / "state.db") as ledger:
        assert ledger.finished("s3://a/k", "s3://b/k") is None
        ledger.record(FinishedObject("s3://a/k", "s3://b/k", 5, 1, '"e"', "single"))
        assert ledger.finished("s3://a/k", "s3://b/k") == FinishedObject(
            "s3://a/k", "s3://b/k", 5, 1, '"e"', "single"
        )
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "state.db").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"jobs", "parts", "bulk_objects"} <= tables


async def test_a_second_line_copying_to_the_same_destination_is_refused(tmp_path: Path) -> None:
    """Two lines writing one object raced (and a line reported ok could be overwritten):
    the later line is reported as a duplicate and copies nothing (issue 15, item 8)."""
    store = make_store(3)
    a, b, c = keys_of(store)
    lines = [
        {"src": f"s3://src-bkt/{a}", "dst": "s3://dst-bkt/target"},
        {"src": f"s3://src-bkt/{b}", "dst": f"s3://dst-bkt/{b}"},
        {"src": f"s3://src-bkt/{c}", "dst": "s3://dst-bkt/target"},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    outcomes, _ = await run(manifest, store)
    by_line = {o.line: o for o in outcomes}
    assert [by_line[n].status for n in (1, 2, 3)] == ["ok", "ok", "invalid"]
    error = by_line[3].error
    assert error is not None and "duplicate destination" in error.message
    assert "line 1" in error.message
    target = store.get("dst-bkt", "target").content
    assert target is not None and target.read() == store.get("src-bkt", a).content.read()  # type: ignore[union-attr]
