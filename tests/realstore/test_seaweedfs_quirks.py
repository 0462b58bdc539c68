"""SeaweedFS's departures from AWS S3, each checked against the live server with boto3
(the reference client) and against the ``seaweedfs`` provider row, so the row stays true."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from partcopy.engine.verify import composite_etag
from partcopy.providers import get_provider, provider_for_server
from partcopy.store.data import pattern_bytes

MiB = 1024 * 1024
ROW = get_provider("seaweedfs")


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_copy_part_etags_and_the_complete_etag(s3: Any, new_bucket: Callable[[str], str]) -> None:
    bucket = new_bucket("etags")
    data = pattern_bytes(3, 0, 9 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    ranges = [(0, 5 * MiB - 1), (5 * MiB, 9 * MiB - 1)]
    etags = []
    for number, (first, last) in enumerate(ranges, start=1):
        answer = s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload,
            PartNumber=number,
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceRange=f"bytes={first}-{last}",
        )
        etag = answer["CopyPartResult"]["ETag"]
        assert not etag.startswith('"')  # bare, where AWS quotes it (a row note)
        range_md5 = hashlib.md5(data[first : last + 1]).hexdigest()
        assert (etag == range_md5) is ROW.copy_part_etag_md5
        etags.append(etag)
    assert etags[0].endswith("-2")  # the source's two 4 MiB filer chunks under 0-5 MiB
    parts = [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    # Complete: S3's md5 over the parts' binary digests, "-n" suffixes of part ETags dropped
    # (the row's composite rule, once the suffixes are gone: it proves the chunks named,
    # not the bytes copied, hence copy_part_etag_md5=False).
    bare = [e.split("-")[0] for e in etags]
    assert done["ETag"] == f'"{composite_etag(bare, ROW.composite_etag)}"'
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == data


def test_list_uploads_pages_by_upload_id_without_next_key_marker(
    s3: Any, new_bucket: Callable[[str], str]
) -> None:
    bucket = new_bucket("upl-order")
    for key in ("c", "a", "b", "a", "c"):
        s3.create_multipart_upload(Bucket=bucket, Key=key)
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert page["IsTruncated"] and page["NextUploadIdMarker"]
    assert ("NextKeyMarker" in page) is ROW.quirks.list_uploads_next_key_marker
    everything = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    ids = [u["UploadId"] for u in everything]
    assert ids == sorted(ids)  # upload-id order, not (key, initiation) order


def test_bucket_names_need_the_rows_minimum(s3: Any) -> None:
    shortest = ROW.quirks.min_bucket_name
    for length in range(1, shortest):
        with pytest.raises(ClientError) as exc:
            s3.create_bucket(Bucket="b" * length)
        assert _code(exc) == (400, "InvalidBucketName")
    s3.create_bucket(Bucket="q" * shortest)
    s3.delete_bucket(Bucket="q" * shortest)


def test_copy_object_into_a_missing_bucket_is_a_500(
    s3: Any, new_bucket: Callable[[str], str]
) -> None:
    bucket = new_bucket("nobkt-src")
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(
            Bucket="no-such-bucket", Key="x", CopySource={"Bucket": bucket, "Key": "src"}
        )
    assert _code(exc) == (500, "InternalError")  # AWS: 404 NoSuchBucket (a row note)
    assert any("missing bucket answers 500" in note for note in ROW.quirks.notes)
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket="no-such-bucket", Key="x")
    assert _code(exc) == (404, "NoSuchBucket")


def test_abort_is_immediate(s3: Any, new_bucket: Callable[[str], str]) -> None:
    """Parts sent after Abort returns are refused, and the upload is gone from listings."""
    bucket = new_bucket("abort")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"x" * MiB)
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload)
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=2, Body=b"late")
    assert _code(exc) == (404, "NoSuchUpload")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_the_server_header_names_the_row(s3: Any) -> None:
    server = s3.list_buckets()["ResponseMetadata"]["HTTPHeaders"]["server"]
    assert provider_for_server("s3", server) is ROW
    assert provider_for_server("s3", "AmazonS3") is None
