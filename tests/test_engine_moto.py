"""The engine against moto's S3 server: a copy that looks like its source, byte for byte."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import anyio
import pytest

from partcopy import Copier, CopyResult
from partcopy.config import Credentials

MiB = 1024 * 1024
CREDS = Credentials("AKIDMOTO", "moto-secret")


def test_37_mib_with_metadata_in_5_mib_parts(moto_url: str, s3: Any) -> None:
    data = os.urandom(37 * MiB)
    s3.create_bucket(Bucket="engine-src")
    s3.create_bucket(Bucket="engine-dst")
    s3.put_object(
        Bucket="engine-src",
        Key="in/data.bin",
        Body=data,
        ContentType="application/x-partcopy-test",
        CacheControl="max-age=600",
        Metadata={"owner": "alice", "batch": "42"},
    )

    async def main() -> CopyResult:
        async with Copier(endpoint_url=moto_url, credentials=CREDS, concurrency=8) as copier:
            return await copier.copy(
                "s3://engine-src/in/data.bin", "s3://engine-dst/out/data.bin", part_size="5MiB"
            )

    result = anyio.run(main)
    got = s3.get_object(Bucket="engine-dst", Key="out/data.bin")
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(data).digest()
    assert got["ContentType"] == "application/x-partcopy-test"
    assert got["CacheControl"] == "max-age=600"
    assert got["Metadata"] == {"owner": "alice", "batch": "42"}
    assert got["ETag"].strip('"').endswith("-8")
    assert result.etag == got["ETag"] and (result.parts, result.mode) == (8, "copy")
    assert s3.list_multipart_uploads(Bucket="engine-dst").get("Uploads", []) == []


def test_missing_source_is_a_service_error_and_nothing_is_left(moto_url: str, s3: Any) -> None:
    from partcopy.errors import ServiceError

    s3.create_bucket(Bucket="engine-empty")

    async def main() -> None:
        async with Copier(endpoint_url=moto_url, credentials=CREDS) as copier:
            await copier.copy("s3://engine-empty/nope", "s3://engine-empty/copy")

    with pytest.raises(ServiceError) as caught:
        anyio.run(main)
    assert caught.value.status == 404 and not caught.value.retryable
    assert s3.list_multipart_uploads(Bucket="engine-empty").get("Uploads", []) == []
