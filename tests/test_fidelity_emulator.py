"""Copy fidelity against the emulator over HTTP: tags and KMS key ids on every path, a
checksum-proven copy and a corrupted part caught before Complete, a kept irregular layout
with the source's ETag, a relay's CRC64NVME equal to the store's, and a layout the
destination cannot take refused (exit 2) before any write."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator

import anyio
import pytest

from partcopy import Copier, CopyResult, checksums
from partcopy.cli import main
from partcopy.emulator.thread import EmulatorThread
from partcopy.engine.fidelity import FidelityOptions
from partcopy.errors import VerificationFailed
from partcopy.planners import get_profile
from partcopy.store.memory import MemoryStore, StoreError
from partcopy.store.records import StoredChecksum
from partcopy.transports.base import ObjectAttributes

MiB = 1024 * 1024
ENV = {"PARTCOPY_ACCESS_KEY_ID": "partcopy", "PARTCOPY_SECRET_ACCESS_KEY": "partcopy-secret"}
KMS = ObjectAttributes(tagging="team=data%20eng&tier=gold", sse="aws:kms", sse_kms_key_id="k-1")


@pytest.fixture(autouse=True)
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PARTCOPY_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def two() -> Iterator[tuple[EmulatorThread, EmulatorThread]]:
    a, b = MemoryStore("s3"), MemoryStore("s3")
    a.create_bucket("bkt")
    b.create_bucket("bkt")
    with EmulatorThread(dialect="s3", store=a) as src, EmulatorThread(dialect="s3", store=b) as dst:
        yield src, dst


def copy(src: EmulatorThread, dst: EmulatorThread | None, **kw: object) -> CopyResult:
    async def main() -> CopyResult:
        async with Copier(
            endpoint_url=src.url, dst_endpoint_url=dst.url if dst else None, concurrency=4
        ) as copier:
            return await copier.copy("s3://bkt/src", "s3://bkt/dst", **kw)  # type: ignore[arg-type]

    return anyio.run(main)


@pytest.mark.parametrize(
    ("size", "relay", "mode"),
    [(1000, False, "single"), (11 * MiB, False, "copy"), (11 * MiB, True, "relay")],
)
def test_tags_and_kms_key_ids_survive_every_path(
    two: tuple[EmulatorThread, EmulatorThread], size: int, relay: bool, mode: str
) -> None:
    src, dst = two
    src.emulator.store.put_object("bkt", "src", os.urandom(size), KMS)
    result = copy(src, dst if relay else None, part_size="5MiB")
    assert result.mode == mode
    store = (dst if relay else src).emulator.store
    attrs = store.get("bkt", "dst").attrs
    assert (attrs.tagging, attrs.sse, attrs.sse_kms_key_id) == (
        KMS.tagging,
        "aws:kms",
        "k-1",
    )


def _with_checksum(store: MemoryStore, data: bytes) -> str:
    value = checksums.checksum_of("CRC64NVME", data)
    store.put_object("bkt", "src", data, checksum=StoredChecksum("CRC64NVME", value))
    return value


def test_checksum_proves_a_copy_and_a_corrupted_part_stops_before_complete(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, _ = two
    store = src.emulator.store
    value = _with_checksum(store, os.urandom(16 * MiB))
    good = copy(src, None, part_size="5MiB")
    assert (str(good.verification), good.checksum) == ("checksum", f"crc64nvme:{value}")
    assert store.get("bkt", "dst").checksum == StoredChecksum("CRC64NVME", value)
    store.delete_object("bkt", "dst")
    completes = len(store.stats().completes)
    src.emulator.set_faults(["corrupt:1@copy_part#1"])
    with pytest.raises(VerificationFailed, match="nothing was completed"):
        copy(src, None, part_size="5MiB")
    stats = store.stats()
    assert stats.faults == {"corrupt": 1}
    assert len(stats.completes) == completes  # no Complete was sent
    assert stats.open_uploads == 0
    with pytest.raises(StoreError, match="NoSuchKey"):
        store.get("bkt", "dst")


def _irregular(store: MemoryStore, sizes: list[int], *, profile: str = "s3") -> str:
    upload = store.create_upload("bkt", "src", limits=get_profile(profile))
    parts = [
        (n, store.upload_part("bkt", "src", upload.upload_id, n, os.urandom(size)).etag)
        for n, size in enumerate(sizes, 1)
    ]
    return store.complete("bkt", "src", upload.upload_id, parts).etag


def test_preserve_layout_of_5_7_5_mib_and_1_byte_keeps_the_etag(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, dst = two
    etag = _irregular(src.emulator.store, [5 * MiB, 7 * MiB, 5 * MiB, 1])
    kept = copy(src, None, fidelity=FidelityOptions(preserve_layout=True))
    assert kept.etag is not None and kept.etag.strip('"') == etag
    assert (kept.parts, kept.part_size) == (4, 7 * MiB)
    relayed = copy(src, dst, fidelity=FidelityOptions(preserve_layout=True))
    assert relayed.mode == "relay" and relayed.etag == kept.etag


@pytest.mark.parametrize("size", [3 * MiB, 1, 0])
def test_preserve_layout_of_one_part_of_at_most_5_mib_copies_it_without_a_range(
    two: tuple[EmulatorThread, EmulatorThread], size: int
) -> None:
    # S3 copies a byte range only from a source over 5 MiB (and an empty one has no range
    # at all): a one-part source (ETag "...-1") is kept by one UploadPartCopy of the whole
    # object, with no range.
    src, _ = two
    store = src.emulator.store
    etag = _irregular(store, [size])
    kept = copy(src, None, fidelity=FidelityOptions(preserve_layout=True))
    assert kept.etag is not None and kept.etag.strip('"') == etag
    assert (kept.mode, kept.parts, kept.bytes) == ("copy", 1, size)
    assert store.get("bkt", "dst").content.read() == store.get("bkt", "src").content.read()
    assert store.stats().open_uploads == 0


def test_a_relay_computes_the_stores_full_object_crc64nvme(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, dst = two
    data = os.urandom(13 * MiB + 7)
    src.emulator.store.put_object("bkt", "src", data)  # no checksum of its own
    result = copy(src, dst, part_size="5MiB")
    stored = dst.emulator.store.get("bkt", "dst").checksum
    assert stored == StoredChecksum("CRC64NVME", checksums.checksum_of("CRC64NVME", data))
    assert result.checksum == f"crc64nvme:{stored.value}"
    assert str(result.verification) == "checksum"


def test_a_layout_the_destination_cannot_take_is_exit_2_before_any_write(
    two: tuple[EmulatorThread, EmulatorThread], capsys: pytest.CaptureFixture[str]
) -> None:
    src, _ = two
    store = src.emulator.store
    _irregular(store, [MiB, MiB, 1], profile="cos")  # 1 MiB parts: fine on COS, not S3
    before = store.stats().ops
    status = main(
        ["cp", "s3://bkt/src", "s3://bkt/dst", "--preserve-layout", "--endpoint-url", src.url]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "part 1 has 1048576 bytes, below the destination's (s3) minimum part" in err
    after = store.stats().ops
    writes = ("create", "copy_part", "upload_part", "complete", "copy_object", "put")
    assert all(after.get(op, 0) == before.get(op, 0) for op in writes)


def test_corrupt_faults_apply_to_part_writes_only() -> None:
    from partcopy.emulator.faults import parse_fault
    from partcopy.errors import UsageError

    assert parse_fault("corrupt:0.5@copy_part#2").kind == "corrupt"
    with pytest.raises(UsageError, match="copy_part and upload_part only"):
        parse_fault("corrupt:1@complete")


def _sha256_composite(data: bytes, part: int) -> str:
    """S3's composite SHA-256 of ``data`` cut in ``part``-byte parts, computed here."""
    digests = b"".join(
        hashlib.sha256(data[i : i + part]).digest() for i in range(0, len(data), part)
    )
    count = -(-len(data) // part)
    return f"{base64.b64encode(hashlib.sha256(digests).digest()).decode()}-{count}"


def test_sha256_on_a_server_side_copy_is_carried_and_reported_not_claimed(
    two: tuple[EmulatorThread, EmulatorThread], capsys: pytest.CaptureFixture[str]
) -> None:
    src, _ = two
    data = os.urandom(11 * MiB)
    src.emulator.store.put_object("bkt", "src", data)
    status = main(
        [
            *("cp", "s3://bkt/src", "s3://bkt/dst", "--endpoint-url", src.url),
            *("--part-size", "5MiB", "--checksum", "sha256", "--json"),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out)
    want = _sha256_composite(data, 5 * MiB)
    stored = src.emulator.store.get("bkt", "dst")
    assert stored.checksum is not None and not stored.checksum.full_object
    assert stored.checksum.value == want and len(stored.part_checksums) == 3
    assert (doc["mode"], doc["checksum"]) == ("copy", f"sha256:{want}")
    # The parts' SHA-256s are the store's own: the composite ETag proved the copy.
    assert doc["verification"] == "composite-etag"


def test_a_crc_without_a_source_value_is_reported_not_claimed(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, _ = two
    data = os.urandom(11 * MiB)
    src.emulator.store.put_object("bkt", "src", data)  # no checksum of its own
    result = copy(src, None, part_size="5MiB", fidelity=FidelityOptions(checksum="crc32c"))
    assert result.mode == "copy"
    assert result.checksum == "crc32c:" + checksums.checksum_of("CRC32C", data)
    assert str(result.verification) == "composite-etag"


def test_a_single_copyobject_reports_the_asked_checksum(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, _ = two
    data = os.urandom(1000)
    src.emulator.store.put_object("bkt", "src", data)
    for name in ("sha256", "crc32"):
        result = copy(src, None, fidelity=FidelityOptions(checksum=name))
        algorithm = name.upper()
        assert result.mode == "single"
        assert result.checksum == f"{name}:" + checksums.checksum_of(algorithm, data)  # type: ignore[arg-type]
        assert str(result.verification) == "source-md5"  # the MD5 ETag proved it


def test_a_sha256_relay_is_proven_by_the_composite_of_the_relayed_parts(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, dst = two
    data = os.urandom(13 * MiB + 7)
    src.emulator.store.put_object("bkt", "src", data)
    result = copy(src, dst, part_size="5MiB", fidelity=FidelityOptions(checksum="sha256"))
    want = _sha256_composite(data, 5 * MiB)
    stored = dst.emulator.store.get("bkt", "dst").checksum
    assert stored is not None and stored.value == want
    assert (result.mode, result.checksum) == ("relay", f"sha256:{want}")
    assert str(result.verification) == "checksum"


def test_a_small_sha256_relay_is_one_put_with_the_full_object_sha256(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, dst = two
    data = os.urandom(1000)
    value = checksums.checksum_of("SHA256", data)
    src.emulator.store.put_object("bkt", "src", data, checksum=StoredChecksum("SHA256", value))
    result = copy(src, dst, fidelity=FidelityOptions(checksum="sha256"))
    assert (result.mode, result.parts, result.checksum) == ("relay", 1, f"sha256:{value}")
    assert str(result.verification) == "checksum"
    assert dst.emulator.store.get("bkt", "dst").checksum == StoredChecksum("SHA256", value)
    assert dst.emulator.store.stats().ops.get("create", 0) == 0  # a PUT, no upload


def test_a_small_relay_whose_bytes_are_not_the_sources_sha256_is_deleted(
    two: tuple[EmulatorThread, EmulatorThread],
) -> None:
    src, dst = two
    data = os.urandom(1000)
    wrong = checksums.checksum_of("SHA256", data + b"!")
    src.emulator.store.put_object("bkt", "src", data, checksum=StoredChecksum("SHA256", wrong))
    with pytest.raises(VerificationFailed, match="the destination was deleted"):
        copy(src, dst, fidelity=FidelityOptions(checksum="sha256"))
    with pytest.raises(StoreError, match="NoSuchKey"):
        dst.emulator.store.get("bkt", "dst")
