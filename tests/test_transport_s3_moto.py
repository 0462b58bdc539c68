"""The S3 transport against moto's real HTTP server on 127.0.0.1 (SigV4, XML, errors)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from partcopy.errors import PreconditionFailed, ServiceError
from partcopy.transports.base import CopySource, ObjectAttributes
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.s3 import make_s3_transport
from partcopy.transports.signing import Credentials

MiB = 1024 * 1024
CREDS = Credentials("AKIDMOTO", "moto-secret")
_names = itertools.count()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"bkt-{os.getpid()}-{next(_names)}"
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


async def read_range(t: HttpTransport, bucket: str, key: str, first: int, last: int) -> bytes:
    async with t.get_range(bucket, key, first, last) as chunks:
        return b"".join([c async for c in chunks])


def test_head_reads_content_headers_and_metadata(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="dir/a b+ü.txt",
        Body=b"hello",
        ContentType="text/plain",
        CacheControl="max-age=60",
        ContentDisposition="attachment",
        Metadata={"owner": "ops", "Color": "blue"},
        StorageClass="STANDARD_IA",
    )

    async def body(t: HttpTransport) -> None:
        info = await t.head(bucket, "dir/a b+ü.txt")
        assert info.size == 5
        assert info.etag == '"' + hashlib.md5(b"hello").hexdigest() + '"'
        assert info.parts_count is None
        assert info.last_modified is not None
        a = info.attributes
        assert (a.content_type, a.cache_control, a.content_disposition) == (
            "text/plain",
            "max-age=60",
            "attachment",
        )
        assert dict(a.metadata) == {"owner": "ops", "color": "blue"}
        assert a.storage_class == "STANDARD_IA"

    run(moto_url, body)


def test_multipart_copy_by_ranges_then_complete(moto_url: str, s3: Any, bucket: str) -> None:
    data = os.urandom(11 * MiB + 123)
    s3.put_object(Bucket=bucket, Key="src.bin", Body=data)
    etag = s3.head_object(Bucket=bucket, Key="src.bin")["ETag"]
    ranges = [(1, 0, 5 * MiB - 1), (2, 5 * MiB, 10 * MiB - 1), (3, 10 * MiB, len(data) - 1)]

    async def body(t: HttpTransport) -> None:
        attrs = ObjectAttributes(content_type="application/x-test", metadata={"k": "v"})
        upload_id = await t.create_multipart(bucket, "dst.bin", attrs)
        source = CopySource(bucket, "src.bin", if_match=etag)
        results = await asyncio.gather(
            *(
                t.upload_part_copy(bucket, "dst.bin", upload_id, n, source, a, b)
                for n, a, b in ranges
            )
        )
        assert all(r.etag and r.status == 200 and r.error_code is None for r in results)
        listed = await t.list_parts(bucket, "dst.bin", upload_id)
        assert [p.part_number for p in listed.parts] == [1, 2, 3]
        assert [p.size for p in listed.parts] == [b - a + 1 for _, a, b in ranges]
        done = await t.complete(
            bucket, "dst.bin", upload_id, [(r.part_number, r.etag or "") for r in results]
        )
        assert done.etag is not None and done.etag.endswith('-3"'), done
        info = await t.head(bucket, "dst.bin")
        assert (info.size, info.parts_count) == (len(data), 3)
        assert info.attributes.content_type == "application/x-test"
        assert dict(info.attributes.metadata) == {"k": "v"}
        assert await read_range(t, bucket, "dst.bin", 0, len(data) - 1) == data
        assert (
            await read_range(t, bucket, "dst.bin", 5 * MiB - 3, 5 * MiB + 2)
            == (data[5 * MiB - 3 : 5 * MiB + 3])
        )

    run(moto_url, body)


def test_upload_part_with_bodies_and_list_parts_across_pages(moto_url: str, bucket: str) -> None:
    first = os.urandom(5 * MiB)
    second = os.urandom(3 * MiB + 7)

    async def stream(data: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(data), 256 * 1024):
            yield data[i : i + 256 * 1024]

    async def body(t: HttpTransport) -> None:
        upload_id = await t.create_multipart(bucket, "up.bin", ObjectAttributes())
        md5 = base64.b64encode(hashlib.md5(first).digest()).decode()
        r1 = await t.upload_part(bucket, "up.bin", upload_id, 1, first, len(first), content_md5=md5)
        r2 = await t.upload_part(bucket, "up.bin", upload_id, 2, stream(second), len(second))
        assert r1.etag == '"' + hashlib.md5(first).hexdigest() + '"'
        assert r2.etag == '"' + hashlib.md5(second).hexdigest() + '"'
        page1 = await t.list_parts(bucket, "up.bin", upload_id, max_parts=1)
        assert [p.part_number for p in page1.parts] == [1] and page1.is_truncated
        page2 = await t.list_parts(
            bucket, "up.bin", upload_id, marker=page1.next_marker, max_parts=1
        )
        assert [p.part_number for p in page2.parts] == [2] and not page2.is_truncated
        assert page2.parts[0].etag == r2.etag and page2.parts[0].size == len(second)
        uploads = await t.list_uploads(bucket)
        assert [(u.key, u.upload_id) for u in uploads.uploads] == [("up.bin", upload_id)]
        done = await t.complete(bucket, "up.bin", upload_id, [(1, r1.etag), (2, r2.etag)])
        assert done.etag is not None
        assert await read_range(t, bucket, "up.bin", 0, len(first) + len(second) - 1) == (
            first + second
        )

    run(moto_url, body)


def test_abort_then_the_upload_is_gone(moto_url: str, bucket: str) -> None:
    async def body(t: HttpTransport) -> None:
        upload_id = await t.create_multipart(bucket, "ab.bin", ObjectAttributes())
        await t.abort(bucket, "ab.bin", upload_id)
        with pytest.raises(ServiceError) as info:
            await t.list_parts(bucket, "ab.bin", upload_id)
        assert (info.value.status, info.value.code) == (404, "NoSuchUpload")
        assert (await t.list_uploads(bucket)).uploads == ()

    run(moto_url, body)


def test_single_copy_replaces_attributes(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="one", Body=b"x" * 1000, ContentType="text/old")

    async def body(t: HttpTransport) -> None:
        attrs = ObjectAttributes(content_type="text/new", metadata={"m": "1"})
        result = await t.copy_object(CopySource(bucket, "one"), bucket, "two", attrs)
        assert result.etag == '"' + hashlib.md5(b"x" * 1000).hexdigest() + '"'
        info = await t.head(bucket, "two")
        assert info.attributes.content_type == "text/new"
        assert dict(info.attributes.metadata) == {"m": "1"}

    run(moto_url, body)


def test_a_missing_key_is_404_no_such_key(moto_url: str, bucket: str) -> None:
    async def body(t: HttpTransport) -> None:
        with pytest.raises(ServiceError) as head:
            await t.head(bucket, "nope")
        assert head.value.status == 404 and not head.value.retryable
        with pytest.raises(ServiceError) as get:
            await read_range(t, bucket, "nope", 0, 9)
        assert (get.value.status, get.value.code) == (404, "NoSuchKey")
        upload_id = await t.create_multipart(bucket, "d", ObjectAttributes())
        with pytest.raises(ServiceError) as copy:
            await t.upload_part_copy(bucket, "d", upload_id, 1, CopySource(bucket, "nope"), 0, 9)
        assert copy.value.status == 404  # moto answers this one with an empty body

    run(moto_url, body)


def test_a_missing_upload_is_404_no_such_upload(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="s", Body=b"abc")

    async def body(t: HttpTransport) -> None:
        # moto crashes (500) on UploadPartCopy into a missing upload; ListParts and abort
        # answer like S3.
        for call in (t.list_parts(bucket, "d", "no-such-upload"), t.abort(bucket, "d", "gone")):
            with pytest.raises(ServiceError) as info:
                await call
            assert (info.value.status, info.value.code) == (404, "NoSuchUpload")
            assert info.value.request_id and not info.value.retryable

    run(moto_url, body)


def test_a_versioned_source_is_copied_at_its_version(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"first version")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"second")

    async def body(t: HttpTransport) -> None:
        old = await t.head(bucket, "v", version_id=v1)
        assert (old.size, old.version_id) == (len(b"first version"), v1)
        result = await t.copy_object(
            CopySource(bucket, "v", version_id=v1), bucket, "w", ObjectAttributes()
        )
        assert result.etag is not None
        assert await read_range(t, bucket, "w", 0, 12) == b"first version"

    run(moto_url, body)


def test_a_failed_if_match_is_precondition_failed(moto_url: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="p", Body=b"z" * 100)

    async def body(t: HttpTransport) -> None:
        # moto ignores x-amz-copy-source-if-match; the emulator and the raw-server tests
        # cover it. A ranged GET pinned to a stale ETag is the same contract here.
        stale = '"0123456789abcdef0123456789abcdef"'
        with pytest.raises(PreconditionFailed) as info:
            async with t.get_range(bucket, "p", 0, 99, if_match=stale):
                pass
        assert (info.value.status, info.value.code) == (412, "PreconditionFailed")
        assert not info.value.retryable

    run(moto_url, body)
