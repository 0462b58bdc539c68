"""Reconciling journaled parts with ListParts, and detecting a changed source."""

from __future__ import annotations

from pathlib import Path

import anyio

from partcopy.engine.journal import JobRecord, Journal, PartRecord, PlanRecord
from partcopy.engine.reconcile import list_all_parts, reconcile, source_unchanged
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import CopySource, ObjectInfo, PartInfo
from partcopy.transports.memory import MemoryTransport

MiB = 1024**2
A = "a" * 32
PLAN = PlanRecord(part_size=5 * MiB, part_count=3, first_part_number=1, mode="copy")


def job_record(tmp_path: Path, **kw: object) -> JobRecord:
    with Journal(tmp_path / "j.db") as j:
        fields: dict[str, object] = {
            "source": "s3://src/k",
            "destination": "s3://dst/k",
            "source_size": 12 * MiB,
            "source_etag": f'"{A}"',
            "source_version": None,
            "plan": PLAN,
        }
        fields.update(kw)
        return j.create_job(**fields)  # type: ignore[arg-type]


def test_reconcile_keeps_only_confirmed_parts(tmp_path: Path) -> None:
    job = job_record(tmp_path)
    journaled = {
        1: PartRecord(1, f'"{A}"', 5 * MiB),
        2: PartRecord(2, '"e2"', 5 * MiB),
        3: PartRecord(3, '"e3"', 2 * MiB),
    }
    listed = {
        1: PartInfo(1, f'"{A.upper()}"', 5 * MiB),  # same ETag, other case and quoting: kept
        3: PartInfo(3, '"other"', 2 * MiB),  # another ETag: recopied
    }
    out = reconcile(job, journaled, listed)
    assert dict(out.kept) == {1: f'"{A}"'}
    assert out.recopy == (2, 3)


def test_reconcile_refuses_wrong_size_and_unplanned_numbers(tmp_path: Path) -> None:
    job = job_record(tmp_path)
    journaled = {1: PartRecord(1, '"e1"', 4 * MiB), 9: PartRecord(9, '"e9"', 5 * MiB)}
    listed = {1: PartInfo(1, '"e1"', 4 * MiB), 9: PartInfo(9, '"e9"', 5 * MiB)}
    out = reconcile(job, journaled, listed)
    assert dict(out.kept) == {} and out.recopy == (1, 9)


def test_source_unchanged(tmp_path: Path) -> None:
    job = job_record(tmp_path, source_version="v1")
    same = ObjectInfo("src", "k", 12 * MiB, f'"{A.upper()}"', version_id="v1")
    assert source_unchanged(job, same)
    assert not source_unchanged(job, ObjectInfo("src", "k", 12 * MiB, f'"{"b" * 32}"', "v1"))
    assert not source_unchanged(job, ObjectInfo("src", "k", 12 * MiB, f'"{A}"', "v2"))
    assert not source_unchanged(job, ObjectInfo("src", "k", 11 * MiB, f'"{A}"', "v1"))


def test_list_all_parts_reads_every_page() -> None:
    store = MemoryStore()
    store.create_bucket("src")
    store.create_bucket("dst")
    store.put_virtual("src", "k", 40 * MiB)
    t = MemoryTransport(store)

    async def main() -> dict[int, PartInfo]:
        upload_id = await t.create_multipart("dst", "k", store.get("src", "k").attrs)
        for n in range(1, 8):
            first = (n - 1) * 5 * MiB
            await t.upload_part_copy(
                "dst", "k", upload_id, n, CopySource("src", "k"), first, first + 5 * MiB - 1
            )
        return await list_all_parts(t, "dst", "k", upload_id, page_size=3)

    parts = anyio.run(main)
    assert sorted(parts) == list(range(1, 8))
    assert all(p.size == 5 * MiB for p in parts.values())
