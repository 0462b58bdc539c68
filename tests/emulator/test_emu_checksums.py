"""Flexible checksums with boto3 on the emulator and on moto: per object, per part,
composite and full-object multipart, checksum mode on reads, BadDigest."""

from __future__ import annotations

import base64
import os
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from doubles import Target

from partcopy.checksums import checksum_of, combine_parts

MiB = 1024 * 1024
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_stores_the_checksum_and_reads_report_it(target: Target, algorithm: str) -> None:
    bucket = target.bucket()
    body = os.urandom(1000)
    put = target.s3.put_object(Bucket=bucket, Key="o", Body=body, ChecksumAlgorithm=algorithm)
    expected = checksum_of(algorithm, body)  # type: ignore[arg-type]
    assert put[f"Checksum{algorithm}"] == expected
    head = target.s3.head_object(Bucket=bucket, Key="o", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == expected
    got = target.s3.get_object(Bucket=bucket, Key="o", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == expected and got["Body"].read() == body
    plain = target.s3.head_object(Bucket=bucket, Key="o")
    assert f"Checksum{algorithm}" not in plain


def test_a_wrong_checksum_is_bad_digest_and_stores_nothing(target: Target) -> None:
    target.moto_gap("accepts a body whose x-amz-checksum-crc32 does not match it")
    bucket = target.bucket()
    with pytest.raises(ClientError) as bad:
        target.s3.put_object(Bucket=bucket, Key="o", Body=b"data", ChecksumCRC32=_crc32(b"other"))
    assert bad.value.response["Error"]["Code"] == "BadDigest"
    assert target.s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def _upload(target: Target, bucket: str, algorithm: str, kind: str | None) -> tuple[Any, str]:
    extra = {"ChecksumType": kind} if kind else {}
    created = target.s3.create_multipart_upload(
        Bucket=bucket, Key="mp", ChecksumAlgorithm=algorithm, **extra
    )
    return created, created["UploadId"]


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("CRC32", None), ("SHA256", None), ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", None)],
)
def test_multipart_checksums_per_part_and_for_the_object(
    target: Target, algorithm: str, kind: str | None
) -> None:
    target.moto_gap("CompleteMultipartUpload answers no checksum of the object")
    bucket = target.bucket()
    _, upload = _upload(target, bucket, algorithm, kind)
    bodies = [os.urandom(5 * MiB), os.urandom(777)]
    parts = []
    for number, body in enumerate(bodies, start=1):
        answer = target.s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=body,
            ChecksumAlgorithm=algorithm,
        )  # fmt: skip
        value = answer[f"Checksum{algorithm}"]
        assert value == checksum_of(algorithm, body)  # type: ignore[arg-type]
        parts.append({"PartNumber": number, "ETag": answer["ETag"], f"Checksum{algorithm}": value})
    done = target.s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    full = kind == "FULL_OBJECT" or algorithm == "CRC64NVME"
    if full:
        expected = combine_parts(
            algorithm,
            [(p[f"Checksum{algorithm}"], len(b)) for p, b in zip(parts, bodies, strict=True)],
        )
        assert expected == checksum_of(algorithm, b"".join(bodies))  # type: ignore[arg-type]
    else:
        joined = b"".join(base64.b64decode(p[f"Checksum{algorithm}"]) for p in parts)
        expected = f"{checksum_of(algorithm, joined)}-2"  # type: ignore[arg-type]
    assert done[f"Checksum{algorithm}"] == expected
    head = target.s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == expected
    assert head["ChecksumType"] == ("FULL_OBJECT" if full else "COMPOSITE")
    if not full:
        second = target.s3.head_object(
            Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED"
        )
        assert second[f"Checksum{algorithm}"] == parts[1][f"Checksum{algorithm}"]


def test_a_part_with_a_wrong_checksum_is_bad_digest(target: Target) -> None:
    target.moto_gap("accepts a part whose x-amz-checksum-crc32 does not match it")
    bucket = target.bucket()
    _, upload = _upload(target, bucket, "CRC32", None)
    with pytest.raises(ClientError) as bad:
        target.s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x",
            ChecksumCRC32=_crc32(b"y"),
        )  # fmt: skip
    assert bad.value.response["Error"]["Code"] == "BadDigest"


def test_upload_part_copy_answers_the_part_checksum(target: Target) -> None:
    target.moto_gap("CopyPartResult carries no checksum")
    bucket = target.bucket()
    body = os.urandom(6 * MiB)
    target.s3.put_object(Bucket=bucket, Key="src", Body=body)
    _, upload = _upload(target, bucket, "CRC32", None)
    copied = target.s3.upload_part_copy(
        Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=0-5242879",
    )  # fmt: skip
    assert copied["CopyPartResult"]["ChecksumCRC32"] == _crc32(body[: 5 * MiB])


def test_checksums_of_virtual_objects_are_computed_without_holding_them(
    target: Target,
) -> None:
    """A copied range of a virtual (pattern) object gets the checksum of its bytes."""
    if target.emulator is None:
        pytest.skip("virtual objects are the emulator's own (moto has none)")
    emu = target.emulator
    bucket = target.bucket()
    emu.call(lambda: emu.emulator.store.put_virtual(bucket, "big", 64 * MiB, seed=7))
    _, upload = _upload(target, bucket, "CRC64NVME", None)
    copied = target.s3.upload_part_copy(
        Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "big"}, CopySourceRange=f"bytes={MiB}-{33 * MiB - 1}",
    )  # fmt: skip
    data = target.s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={MiB}-{33 * MiB - 1}")
    assert copied["CopyPartResult"]["ChecksumCRC64NVME"] == checksum_of(
        "CRC64NVME", data["Body"].read()
    )
