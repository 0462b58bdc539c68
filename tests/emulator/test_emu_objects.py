"""Object conformance with boto3 on the emulator and on moto: tags, part-number reads,
conditional reads and writes, copy-source conditions, SSE answers, CopyObject semantics."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from doubles import Target

MiB = 1024 * 1024
PAST = datetime(2001, 1, 1, tzinfo=UTC)
FUTURE = datetime.now(UTC) + timedelta(days=1)


def _status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _tags(answer: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in answer["TagSet"]}


def _multipart(target: Target, bucket: str, key: str, sizes: list[int]) -> list[bytes]:
    upload = target.s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    bodies = [os.urandom(size) for size in sizes]
    parts = [
        {
            "PartNumber": n,
            "ETag": target.s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body
            )["ETag"],
        }
        for n, body in enumerate(bodies, start=1)
    ]
    target.s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )
    return bodies


# --- tags ---------------------------------------------------------------------------


def test_object_tags_put_get_delete_and_on_put(target: Target) -> None:
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    assert _tags(target.s3.get_object_tagging(Bucket=bucket, Key="t")) == {
        "a": "1",
        "b": "two words",
    }
    assert (
        target.s3.head_object(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-tagging-count"
        ]
        == "2"
    )
    etag = target.s3.head_object(Bucket=bucket, Key="t")["ETag"]
    target.s3.put_object_tagging(
        Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    assert _tags(target.s3.get_object_tagging(Bucket=bucket, Key="t")) == {"k": "v"}
    assert target.s3.head_object(Bucket=bucket, Key="t")["ETag"] == etag  # same object
    assert target.s3.get_object(Bucket=bucket, Key="t")["Body"].read() == b"x"
    target.s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert _tags(target.s3.get_object_tagging(Bucket=bucket, Key="t")) == {}


def test_multipart_upload_takes_tags_at_create(target: Target) -> None:
    bucket = target.bucket()
    upload = target.s3.create_multipart_upload(Bucket=bucket, Key="m", Tagging="x=y")
    etag = target.s3.upload_part(
        Bucket=bucket, Key="m", UploadId=upload["UploadId"], PartNumber=1, Body=b"z"
    )["ETag"]
    target.s3.complete_multipart_upload(
        Bucket=bucket,
        Key="m",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert _tags(target.s3.get_object_tagging(Bucket=bucket, Key="m")) == {"x": "y"}


def test_copy_object_tagging_directive(target: Target) -> None:
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="from=source")
    source = {"Bucket": bucket, "Key": "src"}
    target.s3.copy_object(Bucket=bucket, Key="kept", CopySource=source)
    assert _tags(target.s3.get_object_tagging(Bucket=bucket, Key="kept")) == {"from": "source"}
    target.s3.copy_object(
        Bucket=bucket, Key="new", CopySource=source, TaggingDirective="REPLACE", Tagging="n=1"
    )
    assert _tags(target.s3.get_object_tagging(Bucket=bucket, Key="new")) == {"n": "1"}


def test_too_many_tags_are_refused(target: Target) -> None:
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    with pytest.raises(ClientError) as refused:
        target.s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": tags})
    assert _status(refused) == 400


# --- part-number reads ----------------------------------------------------------------


def test_part_number_reads_one_part_and_says_how_many(target: Target) -> None:
    bucket = target.bucket()
    _multipart(target, bucket, "mp", [5 * MiB, 1000])
    head = target.s3.head_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert head["ContentLength"] == 1000 and head["PartsCount"] == 2


def test_part_number_get_answers_that_part_s_bytes(target: Target) -> None:
    target.moto_gap("a GET by part number answers a wrong Content-Length")
    bucket = target.bucket()
    bodies = _multipart(target, bucket, "mp", [5 * MiB, 1000])
    got = target.s3.get_object(Bucket=bucket, Key="mp", PartNumber=1)
    assert got["ContentLength"] == 5 * MiB and got["PartsCount"] == 2
    assert got["ContentRange"] == f"bytes 0-{5 * MiB - 1}/{5 * MiB + 1000}"
    assert got["Body"].read() == bodies[0]
    second = target.s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read()
    assert second == bodies[1]


def test_a_missing_part_number_is_416(target: Target) -> None:
    target.moto_gap("answers 200 with the whole object for a part number past the last part")
    bucket = target.bucket()
    _multipart(target, bucket, "mp", [5 * MiB, 10])
    with pytest.raises(ClientError) as missing:
        target.s3.get_object(Bucket=bucket, Key="mp", PartNumber=3)
    assert _status(missing) == 416
    target.s3.put_object(Bucket=bucket, Key="single", Body=b"abc")
    whole = target.s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert whole["Body"].read() == b"abc"
    with pytest.raises(ClientError) as beyond:
        target.s3.head_object(Bucket=bucket, Key="single", PartNumber=2)
    assert _status(beyond) == 416


# --- conditions -----------------------------------------------------------------------


def test_conditional_get_matching_if_none_match_is_304(target: Target) -> None:
    bucket = target.bucket()
    etag = target.s3.put_object(Bucket=bucket, Key="c", Body=b"x")["ETag"]
    with pytest.raises(ClientError) as not_modified:
        target.s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert _status(not_modified) == 304
    with pytest.raises(ClientError) as failed:
        target.s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert _status(failed) == 412
    assert target.s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"x"


def test_conditional_get_by_dates(target: Target) -> None:
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    with pytest.raises(ClientError) as not_modified:
        target.s3.get_object(Bucket=bucket, Key="d", IfModifiedSince=FUTURE)
    assert _status(not_modified) == 304
    assert target.s3.get_object(Bucket=bucket, Key="d", IfModifiedSince=PAST)["Body"].read()
    with pytest.raises(ClientError) as failed:
        target.s3.head_object(Bucket=bucket, Key="d", IfUnmodifiedSince=PAST)
    assert _status(failed) == 412


def test_conditional_get_if_match_wins_over_if_unmodified_since(target: Target) -> None:
    target.moto_gap("answers 412 when If-Match holds and If-Unmodified-Since does not")
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    # a matching If-Match wins over a failing If-Unmodified-Since (RFC 9110, S3)
    etag = target.s3.head_object(Bucket=bucket, Key="d")["ETag"]
    assert target.s3.head_object(Bucket=bucket, Key="d", IfMatch=etag, IfUnmodifiedSince=PAST)


def test_conditional_writes_if_none_match_star_and_if_match(target: Target) -> None:
    bucket = target.bucket()
    first = target.s3.put_object(Bucket=bucket, Key="w", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as exists:
        target.s3.put_object(Bucket=bucket, Key="w", Body=b"2", IfNoneMatch="*")
    assert _status(exists) == 412
    with pytest.raises(ClientError) as stale:
        target.s3.put_object(Bucket=bucket, Key="w", Body=b"2", IfMatch='"0000"')
    assert _status(stale) == 412
    target.s3.put_object(Bucket=bucket, Key="w", Body=b"3", IfMatch=first["ETag"])
    assert target.s3.get_object(Bucket=bucket, Key="w")["Body"].read() == b"3"


def test_conditional_complete(target: Target) -> None:
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="c", Body=b"there already")
    upload = target.s3.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    etag = target.s3.upload_part(
        Bucket=bucket, Key="c", UploadId=upload, PartNumber=1, Body=b"new"
    )["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    with pytest.raises(ClientError) as exists:
        target.s3.complete_multipart_upload(
            Bucket=bucket, Key="c", UploadId=upload, MultipartUpload=parts, IfNoneMatch="*"
        )
    assert _status(exists) == 412
    current = target.s3.head_object(Bucket=bucket, Key="c")["ETag"]
    target.s3.complete_multipart_upload(
        Bucket=bucket, Key="c", UploadId=upload, MultipartUpload=parts, IfMatch=current
    )
    assert target.s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"new"


def test_copy_source_date_conditions(target: Target) -> None:
    target.moto_gap("ignores x-amz-copy-source-if-(un)modified-since")
    bucket = target.bucket()
    target.s3.put_object(Bucket=bucket, Key="s", Body=b"x")
    source = {"Bucket": bucket, "Key": "s"}
    with pytest.raises(ClientError) as unmodified:
        target.s3.copy_object(
            Bucket=bucket, Key="d", CopySource=source, CopySourceIfModifiedSince=FUTURE
        )
    assert _status(unmodified) == 412
    with pytest.raises(ClientError) as modified:
        target.s3.copy_object(
            Bucket=bucket, Key="d", CopySource=source, CopySourceIfUnmodifiedSince=PAST
        )
    assert _status(modified) == 412
    target.s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfModifiedSince=PAST)
    upload = target.s3.create_multipart_upload(Bucket=bucket, Key="p")["UploadId"]
    with pytest.raises(ClientError) as part:
        target.s3.upload_part_copy(
            Bucket=bucket,
            Key="p",
            UploadId=upload,
            PartNumber=1,
            CopySource=source,
            CopySourceIfUnmodifiedSince=PAST,
        )
    assert _status(part) == 412
    etag = target.s3.head_object(Bucket=bucket, Key="s")["ETag"]
    # If-Match true with If-Unmodified-Since false: S3 copies
    target.s3.upload_part_copy(
        Bucket=bucket,
        Key="p",
        UploadId=upload,
        PartNumber=1,
        CopySource=source,
        CopySourceIfMatch=etag,
        CopySourceIfUnmodifiedSince=PAST,
    )


# --- SSE and CopyObject semantics ------------------------------------------------------


def test_sse_answer_headers_on_put_copy_create_and_part_copy(target: Target) -> None:
    bucket = target.bucket()
    put = target.s3.put_object(Bucket=bucket, Key="e", Body=b"x", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    copied = target.s3.copy_object(
        Bucket=bucket,
        Key="e2",
        CopySource={"Bucket": bucket, "Key": "e"},
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="key-1",
    )
    assert copied["ServerSideEncryption"] == "aws:kms" and copied["SSEKMSKeyId"] == "key-1"
    head = target.s3.head_object(Bucket=bucket, Key="e2")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "key-1"
    created = target.s3.create_multipart_upload(
        Bucket=bucket, Key="m", ServerSideEncryption="AES256"
    )
    assert created["ServerSideEncryption"] == "AES256"
    part = target.s3.upload_part_copy(
        Bucket=bucket,
        Key="m",
        UploadId=created["UploadId"],
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "e"},
    )
    assert part["ServerSideEncryption"] == "AES256"


def test_copy_object_takes_storage_class_and_sse_from_the_request(target: Target) -> None:
    bucket = target.bucket()
    target.s3.put_object(
        Bucket=bucket, Key="s", Body=b"x", StorageClass="STANDARD_IA",
        ServerSideEncryption="AES256", Metadata={"m": "1"},
    )  # fmt: skip
    target.s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "s"})
    head = target.s3.head_object(Bucket=bucket, Key="d")
    assert head.get("StorageClass", "STANDARD") == "STANDARD"
    assert "ServerSideEncryption" not in head or target.name == "moto"
    assert head["Metadata"] == {"m": "1"}
    target.s3.copy_object(
        Bucket=bucket, Key="s", CopySource={"Bucket": bucket, "Key": "s"},
        StorageClass="GLACIER_IR",
    )  # fmt: skip
    assert target.s3.head_object(Bucket=bucket, Key="s")["StorageClass"] == "GLACIER_IR"
    with pytest.raises(ClientError) as same:
        target.s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "d"})
    assert _code(same) == "InvalidRequest"
