"""Copy fidelity end to end against moto's S3 server: tags and KMS key ids survive single,
multipart and relay copies; checksums prove copies; a kept layout keeps the ETag."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
from typing import Any

import anyio
import boto3
import pytest
from botocore.config import Config

from partcopy import Copier, CopyResult, checksums
from partcopy.config import Credentials
from partcopy.engine.fidelity import FidelityOptions
from partcopy.errors import VerificationFailed
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.s3 import make_s3_transport

MiB = 1024 * 1024
CREDS = Credentials("AKIDMOTO", "moto-secret")
_names = itertools.count()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"fidm-{os.getpid()}-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def copy(moto_url: str, src: str, dst: str, **kw: Any) -> CopyResult:
    async def main() -> CopyResult:
        async with Copier(endpoint_url=moto_url, credentials=CREDS, concurrency=4) as copier:
            return await copier.copy(src, dst, **kw)

    return anyio.run(main)


def tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


@pytest.mark.parametrize(
    ("mode", "size", "expect"),
    [("auto", 1000, "single"), ("auto", 11 * MiB, "copy"), ("relay", 11 * MiB, "relay")],
)
def test_tags_and_kms_key_survive_every_path(
    moto_url: str, s3: Any, bucket: str, mode: str, size: int, expect: str
) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="src",
        Body=os.urandom(size),
        Tagging="team=data%20eng&tier=gold",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="customer-key-1",
    )
    result = copy(moto_url, f"s3://{bucket}/src", f"s3://{bucket}/dst", mode=mode, part_size="5MiB")
    assert result.mode == expect
    assert tags(s3, bucket, "dst") == {"team": "data eng", "tier": "gold"}
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == "customer-key-1"


def test_given_tags_replace_and_no_tags_drop(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=os.urandom(6 * MiB), Tagging="old=1")
    src = f"s3://{bucket}/src"
    copy(moto_url, src, f"s3://{bucket}/a", part_size="5MiB", fidelity=FidelityOptions(tags="n=2"))
    copy(moto_url, src, f"s3://{bucket}/b", part_size="5MiB", fidelity=FidelityOptions(tags=""))
    copy(moto_url, src, f"s3://{bucket}/c", fidelity=FidelityOptions(tags="n=3"))  # single
    assert tags(s3, bucket, "a") == {"n": "2"}
    assert tags(s3, bucket, "b") == {}
    assert tags(s3, bucket, "c") == {"n": "3"}


@pytest.mark.parametrize("mode", ["auto", "relay"])
def test_crc64nvme_proves_a_multipart_copy(moto_url: str, s3: Any, bucket: str, mode: str) -> None:
    data = os.urandom(11 * MiB + 5)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="CRC64NVME")
    result = copy(moto_url, f"s3://{bucket}/src", f"s3://{bucket}/dst", mode=mode, part_size="5MiB")
    want = checksums.checksum_of("CRC64NVME", data)
    assert str(result.verification) == "checksum"
    assert result.checksum == f"crc64nvme:{want}"
    got = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert got["ChecksumCRC64NVME"] == want


def test_relay_without_a_source_checksum_proves_the_streamed_bytes(
    moto_url: str, s3: Any, bucket: str
) -> None:
    data = os.urandom(6 * MiB)
    bare = boto3.client(  # boto3 adds a CRC32 to every PUT unless told not to
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        config=Config(
            s3={"addressing_style": "path"}, request_checksum_calculation="when_required"
        ),
    )
    bare.put_object(Bucket=bucket, Key="src", Body=data)
    assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="src", ChecksumMode="ENABLED")
    result = copy(
        moto_url, f"s3://{bucket}/src", f"s3://{bucket}/dst", mode="relay", part_size="5MiB"
    )
    # The relay computed CRC64NVME of what it streamed; the store computed the same.
    assert result.checksum == "crc64nvme:" + checksums.checksum_of("CRC64NVME", data)
    assert str(result.verification) == "checksum"


def test_auto_takes_the_sources_algorithm(moto_url: str, s3: Any, bucket: str) -> None:
    data = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=data)  # boto3's default: CRC32
    result = copy(moto_url, f"s3://{bucket}/src", f"s3://{bucket}/dst", part_size="5MiB")
    assert result.checksum == "crc32:" + checksums.checksum_of("CRC32", data)


def test_a_copy_of_wrong_bytes_is_caught_and_not_left(moto_url: str, s3: Any, bucket: str) -> None:
    data = os.urandom(11 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="CRC64NVME")

    async def main() -> None:
        inner = make_s3_transport(moto_url, "us-east-1", CREDS)
        faulty = FaultyTransport(inner, [Fault("corrupt", 1.0, limit=1)], seed=3)
        try:
            async with Copier(transport=faulty, concurrency=2) as copier:
                await copier.copy(f"s3://{bucket}/src", f"s3://{bucket}/dst", part_size="5MiB")
        finally:
            await inner.aclose()

    with pytest.raises(VerificationFailed, match="destination was deleted"):
        anyio.run(main)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="dst")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_preserve_layout_keeps_an_irregular_sources_etag(
    moto_url: str, s3: Any, bucket: str
) -> None:
    sizes = [5 * MiB, 7 * MiB, 5 * MiB, 1]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="src")["UploadId"]
    parts = []
    for number, size in enumerate(sizes, 1):
        body = os.urandom(size)
        etag = s3.upload_part(
            Bucket=bucket, Key="src", UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    source_etag = s3.complete_multipart_upload(
        Bucket=bucket, Key="src", UploadId=upload, MultipartUpload={"Parts": parts}
    )["ETag"]
    kept = copy(
        moto_url,
        f"s3://{bucket}/src",
        f"s3://{bucket}/dst",
        fidelity=FidelityOptions(preserve_layout=True),
    )
    plain = copy(moto_url, f"s3://{bucket}/src", f"s3://{bucket}/other")
    assert kept.etag == source_etag == s3.head_object(Bucket=bucket, Key="dst")["ETag"]
    assert kept.parts == 4 and kept.source_etag == source_etag
    assert plain.etag != source_etag  # the default plan cuts other ranges


def _sha256_composite(data: bytes, part: int) -> str:
    digests = b"".join(
        hashlib.sha256(data[i : i + part]).digest() for i in range(0, len(data), part)
    )
    count = -(-len(data) // part)
    return f"{base64.b64encode(hashlib.sha256(digests).digest()).decode()}-{count}"


@pytest.mark.parametrize("mode", ["auto", "relay"])
def test_sha256_is_carried_as_the_composite_and_never_claimed_against_the_source(
    moto_url: str, s3: Any, bucket: str, mode: str
) -> None:
    data = os.urandom(11 * MiB + 5)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256")
    result = copy(
        moto_url,
        f"s3://{bucket}/src",
        f"s3://{bucket}/dst",
        mode=mode,
        part_size="5MiB",
        fidelity=FidelityOptions(checksum="sha256"),
    )
    want = _sha256_composite(data, 5 * MiB)
    got = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")["ChecksumSHA256"]
    # moto's HEAD names the composite without its "-3" (and without ChecksumType): the
    # value is the composite of the parts' SHA-256s all the same, and what is reported.
    assert got == want.removesuffix("-3")
    assert result.checksum == f"sha256:{got}"
    # Shown as a full-object value, it is compared with nothing and proves nothing here:
    # the source's full-object SHA-256 is not it, and the ETag proved the copy.
    assert str(result.verification) == "composite-etag"
