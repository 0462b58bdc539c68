"""``--verify-content``: seeded sample ranges, full read-back, and a wrong copy caught and
removed where no ETag or checksum could see it (memory store, no HTTP)."""

from __future__ import annotations

import itertools
import os

import anyio
import pytest

from partcopy import Copier, CopyResult
from partcopy.engine.content import full_ranges, sample_ranges
from partcopy.engine.fidelity import FidelityOptions
from partcopy.errors import VerificationFailed
from partcopy.store.memory import MemoryStore, StoreError
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.memory import MemoryTransport

MiB = 1024 * 1024


def test_sample_ranges_are_seeded_and_cover_both_ends() -> None:
    size = 100 * MiB
    one = sample_ranges(size, seed=7)
    assert one == sample_ranges(size, seed=7) != sample_ranges(size, seed=8)
    assert one[0][0] == 0 and one[-1][1] == size - 1
    assert all(a[1] < b[0] for a, b in itertools.pairwise(one))  # sorted, disjoint
    assert sum(last - first + 1 for first, last in one) <= 8 * MiB
    assert sample_ranges(3 * MiB, seed=1) == list(full_ranges(3 * MiB, MiB))  # small: all
    assert sample_ranges(0, seed=1) == []
    assert list(full_ranges(10, 4)) == [(0, 3), (4, 7), (8, 9)]


def _copy(store: MemoryStore, fidelity: FidelityOptions, *faults: Fault) -> CopyResult:
    transport = MemoryTransport(store)
    wrapped = FaultyTransport(transport, faults, seed=1) if faults else transport

    async def main() -> CopyResult:
        async with Copier(transport=wrapped, concurrency=1, hedge=None) as copier:
            return await copier.copy(
                "s3://bkt/src", "s3://bkt/dst", part_size="5MiB", fidelity=fidelity
            )

    return anyio.run(main)


def _store(size: int) -> tuple[MemoryStore, bytes]:
    data = os.urandom(size)
    store = MemoryStore("s3")
    store.create_bucket("bkt")
    store.put_object("bkt", "src", data)
    return store, data


@pytest.mark.parametrize("mode", ["sample", "full"])
def test_a_good_copy_reads_back_equal(mode: str) -> None:
    store, _ = _store(12 * MiB + 3)
    result = _copy(store, FidelityOptions(verify_content=mode, verify_seed=5))  # type: ignore[arg-type]
    check = result.content_check
    assert check is not None and check.mode == mode
    if mode == "full":
        assert (check.ranges, check.bytes) == (2, 12 * MiB + 3)
        assert str(result.verification) == "content-full"
        assert result.as_dict()["content_check"] == {
            "mode": "full",
            "ranges": 2,
            "bytes": 12 * MiB + 3,
            "seed": None,
        }
    else:
        assert check.seed == 5 and 0 < check.bytes <= 8 * MiB
        assert str(result.verification) == "composite-etag"  # a sample proves no more


def test_wrong_bytes_no_etag_sees_are_caught_and_the_destination_removed() -> None:
    store, _ = _store(12 * MiB)
    corrupt = Fault("corrupt", 1.0, limit=1)
    # Without a content check the ETags prove the copy: the store answered each part's
    # ETag for the bytes it copied, and those were the wrong ones.
    fooled = _copy(store, FidelityOptions(checksum="off"), corrupt)
    assert str(fooled.verification) == "composite-etag"
    dst = store.get("bkt", "dst").content
    src = store.get("bkt", "src").content
    assert dst is not None and src is not None and dst.read() != src.read()
    with pytest.raises(VerificationFailed, match=r"content differs.*destination was deleted"):
        _copy(store, FidelityOptions(checksum="off", verify_content="sample"), corrupt)
    with pytest.raises(StoreError, match="NoSuchKey"):
        store.get("bkt", "dst")
    assert store.open_uploads() == 0


def test_memory_transport_keeps_layouts_and_proves_by_checksum_before_complete() -> None:
    from partcopy.checksums import checksum_of
    from partcopy.planners import get_profile
    from partcopy.store.records import StoredChecksum

    store, data = _store(16 * MiB)
    value = checksum_of("CRC64NVME", data)
    store.put_object("bkt", "src", data, checksum=StoredChecksum("CRC64NVME", value))
    good = _copy(store, FidelityOptions())
    assert good.checksum == f"crc64nvme:{value}" and str(good.verification) == "checksum"
    with pytest.raises(VerificationFailed, match="nothing was completed"):
        _copy(store, FidelityOptions(), Fault("corrupt", 1.0, limit=1))
    assert store.open_uploads() == 0
    upload = store.create_upload("bkt", "irregular", limits=get_profile("s3"))
    parts = [
        (n, store.upload_part("bkt", "irregular", upload.upload_id, n, os.urandom(size)).etag)
        for n, size in enumerate([6 * MiB, 5 * MiB, 3], 1)
    ]
    etag = store.complete("bkt", "irregular", upload.upload_id, parts).etag

    async def keep() -> CopyResult:
        async with Copier(transport=MemoryTransport(store), concurrency=2) as copier:
            return await copier.copy(
                "s3://bkt/irregular",
                "s3://bkt/kept",
                fidelity=FidelityOptions(preserve_layout=True),
            )

    kept = anyio.run(keep)
    assert kept.etag is not None and kept.etag.strip('"') == etag and kept.parts == 3


def test_a_resumed_copy_keeps_the_checksums_of_the_parts_done_before() -> None:
    from partcopy.checksums import checksum_of
    from partcopy.engine.hooks import ResumePoint
    from partcopy.store.records import StoredChecksum
    from partcopy.transports.base import CopySource, ObjectAttributes

    store, data = _store(16 * MiB)
    value = checksum_of("CRC64NVME", data)
    store.put_object("bkt", "src", data, checksum=StoredChecksum("CRC64NVME", value))
    transport = MemoryTransport(store)
    source_etag = store.get("bkt", "src").etag

    async def main() -> None:
        attrs = ObjectAttributes(checksum_algorithm="CRC64NVME")
        upload = await transport.create_multipart("bkt", "dst", attrs)
        src = CopySource("bkt", "src", if_match=f'"{source_etag}"')
        done = {}
        for n, (a, b) in enumerate([(0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1)], 1):
            done[n] = (await transport.upload_part_copy("bkt", "dst", upload, n, src, a, b)).etag
        listed = (await transport.list_parts("bkt", "dst", upload)).parts
        point = ResumePoint(
            upload,
            f'"{source_etag}"',
            None,
            5 * MiB,
            done={n: e for n, e in done.items() if e is not None},
            checksums={p.part_number: p.checksum for p in listed if p.checksum},
        )
        assert len(point.checksums) == 2
        faulty = FaultyTransport(transport, [Fault("corrupt", 1.0, limit=1)], seed=1)
        async with Copier(transport=faulty, concurrency=1, hedge=None) as copier:
            # Part 3 comes back wrong: with the kept parts' checksums the combination
            # over all parts is checked here, before Complete.
            with pytest.raises(VerificationFailed, match="combine to"):
                await copier.copy("s3://bkt/src", "s3://bkt/dst", part_size="5MiB", resume=point)

    anyio.run(main)
    assert store.open_uploads() == 0
