"""Weak proofs are refused, and what proved a copy is named (issue 15, item 7)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from partcopy import Copier
from partcopy.engine.verify import Verification
from partcopy.errors import VerificationFailed
from partcopy.store.memory import MemoryStore
from partcopy.transports import parse
from partcopy.transports.base import CompleteResult, ObjectAttributes, ObjectInfo, PartResult
from partcopy.transports.memory import MemoryTransport
from partcopy.units import MiB

PROOF = b"<CopyPartResult><LastModified>2026-01-01T00:00:00Z</LastModified>"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html><body><ETag>abc</ETag></body></html>", "unexpected document <html>"),
        (b"<html><ETag>abc</ETag></html>", "unexpected document <html>"),
        (b'<CopyPartResult><ETag>"a"</ETag><ETag>"b"</ETag></CopyPartResult>', "2 ETags"),
        (b'<CopyPartResult><X><ETag>"b"</ETag></X><ETag>"a"</ETag></CopyPartResult>', "2 ETags"),
        (
            b'<CopyPartResult><ETag>"a"</ETag><Error><Code>InternalError</Code></Error>'
            b"</CopyPartResult>",
            "error document in a 2xx",
        ),
        (b'<CopyObjectResult><ETag>"a"</ETag></CopyObjectResult>', "unexpected document"),
        (
            b'<InitiateMultipartUploadResult><ETag>"a"</ETag></InitiateMultipartUploadResult>',
            "unexpected document",
        ),
    ],
)
def test_a_part_copy_is_proven_only_by_one_etag_in_its_own_result(body: bytes, detail: str) -> None:
    verdict = parse.copy_verdict(body, "CopyPartResult")
    assert verdict.etag is None
    assert verdict.detail is not None and verdict.detail.startswith(detail), verdict.detail


def test_the_error_nested_in_a_result_is_reported() -> None:
    body = b'<CopyPartResult><ETag>"a"</ETag><Error><Code>SlowDown</Code></Error></CopyPartResult>'
    verdict = parse.copy_verdict(body, "CopyPartResult")
    assert verdict.error is not None and verdict.error.code == "SlowDown"


def test_each_operation_accepts_its_own_result() -> None:
    for root in ("CopyPartResult", "CopyObjectResult", "CompleteMultipartUploadResult"):
        body = f'<{root}><ETag>"e"</ETag></{root}>'.encode()
        assert parse.copy_verdict(body, root).etag == '"e"'
    fast = PROOF + b"<ETag>&quot;e&quot;</ETag></CopyPartResult>"
    assert parse.copy_verdict(fast, "CopyPartResult").etag == '"e"'
    assert parse.copy_verdict(fast, "CopyObjectResult").etag is None


# --- the engine: HEAD without an ETag, and the verification named -------------------------

SRC = "s3://src-bkt/obj"
DST = "s3://dst-bkt/obj"


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def new_store(size: int) -> MemoryStore:
    store = MemoryStore(seed=1)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    if size:
        store.put_virtual("src-bkt", "obj", size)
    return store


class _EtaglessHead(MemoryTransport):
    """The destination's HEAD answers without an ETag (a lying or broken gateway)."""

    async def head(self, bucket: str, key: str, **kwargs: Any) -> ObjectInfo:
        info = await super().head(bucket, key, **kwargs)
        if bucket == "dst-bkt":
            return ObjectInfo(info.bucket, info.key, info.size, None)
        return info


class _OpaquePartEtags(MemoryTransport):
    """Part ETags that are not MD5s (SeaweedFS): the composite cannot be computed."""

    async def upload_part_copy(self, *args: Any, **kwargs: Any) -> PartResult:
        result = await super().upload_part_copy(*args, **kwargs)
        etag = f'"sw-{(result.etag or "").strip(chr(34))}"'
        return PartResult(result.part_number, etag, result.status)

    async def complete(self, bucket: str, key: str, upload_id: str, parts: Any) -> CompleteResult:
        plain = [(n, '"' + e.strip('"').removeprefix("sw-") + '"') for n, e in parts]
        return await super().complete(bucket, key, upload_id, plain)


def copy_with(transport: MemoryTransport, **kwargs: Any) -> Any:
    async def main() -> Any:
        async with Copier(transport=transport, sleep=no_sleep, seed=3) as c:
            return await c.copy(SRC, DST, **kwargs)

    return anyio.run(main)


def test_a_destination_head_without_an_etag_proves_nothing() -> None:
    with pytest.raises(VerificationFailed, match="without an ETag"):
        copy_with(_EtaglessHead(new_store(20 * MiB)), part_size="5MiB")
    kms = new_store(0)  # a single copy whose answer cannot prove it: the HEAD must
    kms.put_object("src-bkt", "obj", b"k" * MiB, ObjectAttributes(sse="aws:kms"))
    with pytest.raises(VerificationFailed, match="without an ETag"):
        copy_with(_EtaglessHead(kms))


def test_each_result_names_what_proved_it() -> None:
    store = new_store(20 * MiB)
    multipart = copy_with(MemoryTransport(store), part_size="5MiB")
    assert multipart.verification is Verification.COMPOSITE_ETAG
    assert multipart.as_dict()["verification"] == "composite-etag"
    opaque = copy_with(_OpaquePartEtags(new_store(20 * MiB)), part_size="5MiB")
    assert opaque.verification is Verification.PART_ETAGS_SIZE
    assert json.loads(json.dumps(opaque.as_dict()))["verification"] == "part-etags+size"
    single = copy_with(MemoryTransport(new_store(1 * MiB)))
    assert (single.mode, single.verification) == ("single", Verification.SOURCE_MD5)
    # A source whose ETag is not a plain MD5 (SSE-KMS): the destination's HEAD decides.
    kms = new_store(0)
    kms.put_object("src-bkt", "obj", b"k" * MiB, ObjectAttributes(sse="aws:kms"))
    single_kms = copy_with(MemoryTransport(kms))
    assert (single_kms.mode, single_kms.verification) == ("single", Verification.ETAG_SIZE)
