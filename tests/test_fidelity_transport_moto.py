"""The S3 transport's fidelity verbs against moto's HTTP server: tags, KMS key ids, canned
ACLs, flexible checksums (HEAD checksum mode, Create/Complete) and part-number HEADs."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from partcopy import checksums
from partcopy.transports.base import CompleteChecksums, CopySource, ObjectAttributes
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.s3 import make_s3_transport
from partcopy.transports.signing import Credentials

MiB = 1024 * 1024
CREDS = Credentials("AKIDMOTO", "moto-secret")
_names = itertools.count()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"fid-{os.getpid()}-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def run(moto_url: str, body: Callable[[HttpTransport], Awaitable[None]]) -> None:
    async def main() -> None:
        transport = make_s3_transport(moto_url, "us-east-1", CREDS)
        try:
            await body(transport)
        finally:
            await transport.aclose()

    asyncio.run(main())


def test_tags_read_and_written_on_create(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x" * 10, Tagging="team=a%20b&env=prod")
    s3.put_object(Bucket=bucket, Key="bare", Body=b"y")

    async def body(t: HttpTransport) -> None:
        tags = await t.get_tagging(bucket, "src")
        assert sorted(tags.split("&")) == ["env=prod", "team=a%20b"]
        assert await t.get_tagging(bucket, "bare") == ""
        attrs = ObjectAttributes(tagging=tags, sse="aws:kms", sse_kms_key_id="key-1", acl="private")
        upload = await t.create_multipart(bucket, "dst", attrs)
        source = CopySource(bucket, "src")
        part = await t.upload_part_copy(bucket, "dst", upload, 1, source, 0, 9)
        assert part.etag is not None
        done = await t.complete(bucket, "dst", upload, [(1, part.etag)])
        assert done.etag is not None
        info = await t.head(bucket, "dst")
        assert info.attributes.sse == "aws:kms"
        assert info.attributes.sse_kms_key_id == "key-1"

    run(moto_url, body)
    got = s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"]
    assert {t["Key"]: t["Value"] for t in got} == {"team": "a b", "env": "prod"}


def test_copy_object_replaces_tags(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"z" * 5, Tagging="old=1")

    async def body(t: HttpTransport) -> None:
        source = CopySource(bucket, "src")
        await t.copy_object(source, bucket, "new", ObjectAttributes(tagging="new=2"))
        await t.copy_object(source, bucket, "none", ObjectAttributes(tagging=""))

    run(moto_url, body)
    assert s3.get_object_tagging(Bucket=bucket, Key="new")["TagSet"] == [
        {"Key": "new", "Value": "2"}
    ]
    assert s3.get_object_tagging(Bucket=bucket, Key="none")["TagSet"] == []


def test_head_checksum_mode_reads_the_stored_checksum(moto_url: str, s3: Any, bucket: str) -> None:
    data = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm="CRC64NVME")
    expected = checksums.checksum_of("CRC64NVME", data)

    async def body(t: HttpTransport) -> None:
        plain = await t.head(bucket, "k")
        assert plain.checksum is None  # only asked for in checksum mode
        info = await t.head(bucket, "k", checksum_mode=True)
        assert info.checksum == checksums.ObjectChecksum("CRC64NVME", expected, "FULL_OBJECT")

    run(moto_url, body)


def test_full_object_crc64nvme_upload_matches_the_combined_parts(
    moto_url: str, s3: Any, bucket: str
) -> None:
    data = os.urandom(5 * MiB + 123)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    cut = 5 * MiB

    async def body(t: HttpTransport) -> None:
        attrs = ObjectAttributes(checksum_algorithm="CRC64NVME")
        upload = await t.create_multipart(bucket, "dst", attrs)
        source = CopySource(bucket, "src")
        one = await t.upload_part_copy(bucket, "dst", upload, 1, source, 0, cut - 1)
        two = await t.upload_part_copy(bucket, "dst", upload, 2, source, cut, len(data) - 1)
        assert one.etag and two.etag
        parts = {
            1: checksums.checksum_of("CRC64NVME", data[:cut]),
            2: checksums.checksum_of("CRC64NVME", data[cut:]),
        }
        full = checksums.combine_parts("CRC64NVME", [(parts[1], cut), (parts[2], len(data) - cut)])
        assert full == checksums.checksum_of("CRC64NVME", data)
        done = await t.complete(
            bucket,
            "dst",
            upload,
            [(1, one.etag), (2, two.etag)],
            checksums=CompleteChecksums("CRC64NVME", parts, full),
        )
        assert done.etag is not None
        info = await t.head(bucket, "dst", checksum_mode=True)
        assert info.checksum is not None
        assert (info.checksum.algorithm, info.checksum.value) == ("CRC64NVME", full)

    run(moto_url, body)


def test_head_part_number_gives_each_part_size_and_the_count(
    moto_url: str, s3: Any, bucket: str
) -> None:
    sizes = [5 * MiB, 6 * MiB, 1]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for number, size in enumerate(sizes, 1):
        etag = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=b"p" * size
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )

    async def body(t: HttpTransport) -> None:
        seen = [await t.head(bucket, "mp", part_number=n) for n in (1, 2, 3)]
        assert [i.size for i in seen] == sizes
        assert {i.parts_count for i in seen} == {3}

    run(moto_url, body)
