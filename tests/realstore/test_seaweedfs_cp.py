"""``partcopy cp`` on SeaweedFS: awkward sizes within the store, and relay to and from the
emulator; bytes, Content-Type and user metadata compared with what boto3 reads back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from partcopy.cli import main
from partcopy.emulator import EmulatorThread
from partcopy.store.data import pattern_bytes
from realstore.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, s3_client

MiB = 1024 * 1024
PART = 5 * MiB
"""S3's smallest part; the sizes below sit on either side of it."""
CONTENT_TYPE = "application/x-partcopy-test"
METADATA = {"origin": "partcopy-suite", "colour": "blue"}
TAGS = [{"Key": "project", "Value": "partcopy"}, {"Key": "tier", "Value": "a b+c"}]


def put_source(s3: Any, bucket: str, key: str, size: int, seed: int) -> bytes:
    data = pattern_bytes(seed, 0, size)
    tagging = "&".join(f"{t['Key']}={quote(t['Value'])}" for t in TAGS)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        ContentType=CONTENT_TYPE,
        Metadata=METADATA,
        Tagging=tagging,
    )
    return data


def cp(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    status = main(["cp", *args, "--part-size", str(PART), "--json", "--quiet"])
    captured = capsys.readouterr()
    out: dict[str, Any] = json.loads(captured.out)
    assert status == 0, (out, captured.err)
    return out


def read_back(s3: Any, bucket: str, key: str) -> tuple[bytes, str, dict[str, str]]:
    got = s3.get_object(Bucket=bucket, Key=key)
    return got["Body"].read(), got["ContentType"], got["Metadata"]


@pytest.mark.parametrize(
    ("size", "mode", "parts"),
    [
        (0, "single", 0),
        (1, "single", 1),
        (PART - 1, "single", 1),
        (PART, "single", 1),
        (PART + 1, "copy", 2),
        (2 * PART + 12345, "copy", 3),
    ],
    ids=["0", "1", "5MiB-1", "5MiB", "5MiB+1", "3-parts"],
)
def test_cp_within_seaweedfs(
    size: int,
    mode: str,
    parts: int,
    seaweedfs: SeaweedFS,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """boto3 uploads the source with a CRC32, which SeaweedFS keeps: that checksum proves
    the copy (combined from the parts' checksums for a multipart copy)."""
    src, dst = new_bucket("cp-src"), new_bucket("cp-dst")
    data = put_source(s3, src, "dir/source object.bin", size, seed=size)

    out = cp(
        capsys,
        f"s3://{src}/dir/source object.bin",
        f"s3://{dst}/copy.bin",
        "--endpoint-url",
        seaweedfs.url,
        "--provider",
        "seaweedfs",  # the provider row
    )

    assert (out["status"], out["bytes"], out["parts"]) == ("completed", size, parts)
    assert (out["mode"], out["verification"]) == (mode, "checksum")
    body, content_type, metadata = read_back(s3, dst, "copy.bin")
    assert hashlib.md5(body).hexdigest() == hashlib.md5(data).hexdigest() and len(body) == size
    assert (content_type, metadata) == (CONTENT_TYPE, METADATA)
    assert s3.get_object_tagging(Bucket=dst, Key="copy.bin")["TagSet"] == TAGS
    head = s3.head_object(Bucket=dst, Key="copy.bin")
    assert head["ContentLength"] == size
    assert out["etag"].strip('"') == head["ETag"].strip('"')


@pytest.mark.parametrize("row", [[], ["--provider", "seaweedfs"]], ids=["s3-row", "own-row"])
@pytest.mark.parametrize(
    ("size", "how"),
    [(1, ("single", "source-md5")), (PART + 1, ("copy", "part-etags+size"))],
    ids=["single", "multipart"],
)
def test_cp_of_a_source_without_checksum(
    size: int,
    how: tuple[str, str],
    row: list[str],
    seaweedfs: SeaweedFS,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no checksum to compare, ETags prove the copy. SeaweedFS's UploadPartCopy ETags
    are not MD5s of the ranges: a server-side multipart copy never claims composite-etag,
    whether the copy names the seaweedfs provider row or takes the plain s3 one."""
    s3 = s3_client(seaweedfs.url, checksums=False)
    src, dst = new_bucket("plain-src"), new_bucket("plain-dst")
    data = put_source(s3, src, "plain.bin", size, seed=size)
    assert "ChecksumCRC32" not in s3.head_object(
        Bucket=src, Key="plain.bin", ChecksumMode="ENABLED"
    )

    out = cp(
        capsys,
        f"s3://{src}/plain.bin",
        f"s3://{dst}/plain.bin",
        "--endpoint-url",
        seaweedfs.url,
        *row,
    )

    assert (out["status"], out["bytes"], out["mode"], out["verification"]) == (
        "completed",
        size,
        *how,
    )
    assert read_back(s3, dst, "plain.bin") == (data, CONTENT_TYPE, METADATA)


def test_a_one_chunk_source_does_not_pass_its_copy_part_etags_for_md5s(
    seaweedfs: SeaweedFS,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SeaweedFS stores a PutObject sent with a SHA-256 checksum as one chunk, so both copy
    parts answer that chunk's plain MD5, and Complete's ETag is S3's composite of them: a
    copy that took them for the ranges' MD5s claimed "composite-etag" (the plain s3 row,
    before the row was taken from the ``Server`` header). SHA-256 does not combine over
    parts, so nothing but ETags and size proves this copy."""
    s3 = s3_client(seaweedfs.url, checksums=False)
    src, dst = new_bucket("onechunk-src"), new_bucket("onechunk-dst")
    data = pattern_bytes(21, 0, PART + 4321)
    s3.put_object(Bucket=src, Key="one.bin", Body=data, ChecksumAlgorithm="SHA256")

    out = cp(capsys, f"s3://{src}/one.bin", f"s3://{dst}/one.bin", "--endpoint-url", seaweedfs.url)

    assert (out["status"], out["mode"], out["parts"]) == ("completed", "copy", 2)
    assert out["verification"] == "part-etags+size"
    assert s3.get_object(Bucket=dst, Key="one.bin")["Body"].read() == data


@pytest.fixture
def emulator(emulator_thread: Callable[..., EmulatorThread]) -> EmulatorThread:
    """An S3 emulator that accepts the SeaweedFS identity (one credential pair for both)."""
    emu = emulator_thread(dialect="s3", access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    emu.call(lambda: emu.emulator.store.create_bucket("emu-bkt"))
    return emu


def emulator_object(emu: EmulatorThread, key: str) -> bytes:
    def read() -> bytes:
        content = emu.emulator.store.get("emu-bkt", key).content
        assert content is not None
        return content.read()

    return emu.call(read)


SIZE = 2 * PART + 777
"""Three parts of relay: two full 5 MiB parts and a short one."""


def test_relay_from_seaweedfs_to_the_emulator(
    seaweedfs: SeaweedFS,
    emulator: EmulatorThread,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = new_bucket("relay-src")
    data = put_source(s3, src, "big.bin", SIZE, seed=7)

    out = cp(
        capsys,
        f"s3://{src}/big.bin",
        "s3://emu-bkt/big.bin",
        "--endpoint-url",
        seaweedfs.url,
        "--dst-endpoint-url",
        emulator.url,
    )

    assert (out["status"], out["mode"], out["bytes"], out["parts"]) == (
        "completed",
        "relay",
        SIZE,
        3,
    )
    # The source's CRC32 (boto3's), recomputed over the relayed bytes and combined across
    # the parts, is the one the emulator computed: the checksum proves the relay.
    assert out["verification"] == "checksum"
    assert out["checksum"].startswith("crc32:")
    assert emulator_object(emulator, "big.bin") == data
    attrs = emulator.call(lambda: emulator.emulator.store.get("emu-bkt", "big.bin").attrs)
    assert (attrs.content_type, dict(attrs.metadata)) == (CONTENT_TYPE, METADATA)


def test_relay_from_the_emulator_to_seaweedfs(
    seaweedfs: SeaweedFS,
    emulator: EmulatorThread,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    dst = new_bucket("relay-dst")
    data = pattern_bytes(8, 0, SIZE)
    emulator.call(lambda: emulator.emulator.store.put_object("emu-bkt", "src.bin", data))

    out = cp(
        capsys,
        "s3://emu-bkt/src.bin",
        f"s3://{dst}/from-emulator.bin",
        "--endpoint-url",
        emulator.url,
        "--dst-endpoint-url",
        seaweedfs.url,
    )

    assert (out["status"], out["mode"], out["bytes"], out["parts"]) == (
        "completed",
        "relay",
        SIZE,
        3,
    )
    body, _, _ = read_back(s3, dst, "from-emulator.bin")
    assert body == data
    # Relayed parts are uploaded, so SeaweedFS's ETags are MD5s and the composite holds.
    md5s = [hashlib.md5(data[i : i + PART]).digest() for i in range(0, SIZE, PART)]
    composite = hashlib.md5(b"".join(md5s)).hexdigest() + "-3"
    assert s3.head_object(Bucket=dst, Key="from-emulator.bin")["ETag"] == f'"{composite}"'
    assert out["etag"].strip('"') == composite
    assert out["verification"] == "checksum"  # the relay's CRC64NVME of the streamed bytes


@pytest.mark.parametrize("size", [10, PART + 1], ids=["single", "multipart"])
def test_cp_into_a_missing_bucket_fails_at_once_naming_it(
    size: int,
    seaweedfs: SeaweedFS,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SeaweedFS answers CopyObject into a missing bucket with 500 InternalError (a row
    note): the copy asks the bucket once and stops, instead of retrying the 500."""
    src = new_bucket("missing-dst-src")
    s3.put_object(Bucket=src, Key="k", Body=pattern_bytes(5, 0, size))

    status = main(
        [
            "cp",
            f"s3://{src}/k",
            "s3://no-such-bucket/k",
            "--endpoint-url",
            seaweedfs.url,
            "--part-size",
            str(PART),
            "--json",
            "--quiet",
        ]
    )

    out = json.loads(capsys.readouterr().out)
    assert status == 1 and out["status"] == "failed" and out["retries"] == 0
    assert "NoSuchBucket" in out["error"]["message"]
    assert "no-such-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
