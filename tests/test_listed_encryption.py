"""A copy planned from a listing (``cp --recursive``, ``sync``, a manifest with size and
ETag) sends CopyObject without attributes, and S3 then applies the destination bucket's
default encryption, never the source's. An encrypted source must still never be left
unencrypted: a copy whose answer shows no encryption, or SSE-S3 with an ETag that proves
nothing, has its source HEAD-ed and is copied again with the source's encryption (the
weaker version deleted where the bucket keeps versions); once a run has seen a bucket
without default encryption, its sources are HEAD-ed before they are copied. Where buckets
encrypt by default (AWS since 2023), one CopyObject stays the whole copy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.bulk import BulkOptions
from partcopy.engine.copier import Copier
from partcopy.engine.report import BulkSummary
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import ObjectAttributes
from partcopy.transports.signing.common import Credentials

BODY = b"listed object body " * 40
SOURCES = {
    "p/aes": ObjectAttributes(sse="AES256"),
    "p/kms": ObjectAttributes(sse="aws:kms", sse_kms_key_id="key-1"),
    "p/plain": ObjectAttributes(),
}


def _store() -> MemoryStore:
    store = MemoryStore("s3")
    store.create_bucket("src")
    store.create_bucket("dst")
    for key, attrs in SOURCES.items():
        store.put_object("src", key, BODY, attrs)
    return store


@pytest.fixture
def plain_store() -> Iterator[EmulatorThread]:
    """A store without default encryption (MinIO, Ceph, SeaweedFS as installed)."""
    with EmulatorThread(dialect="s3", store=_store()) as emu:
        yield emu


@pytest.fixture
def aws_store() -> Iterator[EmulatorThread]:
    """A store whose buckets encrypt by default with SSE-S3, as AWS S3 does."""
    with EmulatorThread(dialect="s3", store=_store(), default_sse="AES256") as emu:
        yield emu


def _copy_prefix(emu: EmulatorThread, concurrency: int = 4) -> tuple[BulkSummary, int]:
    async def go() -> BulkSummary:
        creds = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
        async with Copier(
            endpoint_url=emu.url, credentials=creds, concurrency=concurrency
        ) as copier:
            # one object at a time, so what the first answer taught applies to the next
            bulk = BulkOptions(concurrency=concurrency)
            return await copier.copy_prefix("s3://src/p/", "s3://dst/q/", bulk=bulk)

    before = emu.call(emu.emulator.stats).requests
    summary = anyio.run(go)
    return summary, emu.call(emu.emulator.stats).requests - before


def _stored(emu: EmulatorThread, key: str) -> tuple[str | None, str | None]:
    attrs = emu.call(lambda: emu.emulator.store.get("dst", key).attrs)
    return attrs.sse, attrs.sse_kms_key_id


def test_a_listed_copy_keeps_the_source_encryption_where_the_bucket_has_no_default(
    plain_store: EmulatorThread,
) -> None:
    summary, requests = _copy_prefix(plain_store, concurrency=1)
    assert (summary.ok, summary.failed) == (3, 0)
    assert _stored(plain_store, "q/aes") == ("AES256", None)
    assert _stored(plain_store, "q/kms") == ("aws:kms", "key-1")
    assert _stored(plain_store, "q/plain") == (None, None)
    # The listing. p/aes: CopyObject (answered unencrypted), HEAD of the source, CopyObject
    # again with AES256. The bucket has no default, so p/kms: HEAD, CopyObject, HEAD of the
    # copy (an SSE-KMS ETag is no MD5 of the bytes); p/plain: HEAD, CopyObject.
    assert requests == 1 + 3 + 3 + 2


def test_a_versioned_bucket_keeps_no_unencrypted_version_of_an_encrypted_source(
    plain_store: EmulatorThread,
) -> None:
    plain_store.call(lambda: plain_store.emulator.store.set_versioning("dst", True))
    summary, _ = _copy_prefix(plain_store, concurrency=1)
    assert (summary.ok, summary.failed) == (3, 0)
    versions = plain_store.call(lambda: plain_store.emulator.store.versions("dst", "q/aes"))
    assert [v.attrs.sse for v in versions] == ["AES256"]


def test_a_bucket_that_encrypts_by_default_keeps_one_request_per_object(
    aws_store: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partcopy.engine.bulk import CopierSettings, bulk_copy

    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    etag = aws_store.call(lambda: aws_store.emulator.store.get("src", "p/plain").etag)
    count = 20
    lines = [
        {"src": "s3://src/p/plain", "dst": f"s3://dst/many/{i}", "size": len(BODY), "etag": etag}
        for i in range(count)
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    settings = CopierSettings(endpoint_url=aws_store.url, concurrency=8)

    async def go() -> BulkSummary:
        return await bulk_copy(manifest, options=BulkOptions(concurrency=8), settings=settings)

    before = aws_store.call(aws_store.emulator.stats).requests
    summary = anyio.run(go)
    requests = aws_store.call(aws_store.emulator.stats).requests - before
    assert (summary.ok, summary.failed) == (count, 0)
    assert requests == count  # one CopyObject each: its AES256 answer proves the source's
    assert _stored(aws_store, "many/7") == ("AES256", None)


def test_a_source_whose_encryption_the_answer_leaves_in_doubt_is_copied_again_with_it(
    aws_store: EmulatorThread,
) -> None:
    # A multipart ETag proves nothing about the bytes' encryption: the answer says AES256
    # (the bucket's default), the source is under SSE-KMS, so it is copied again with it.
    aws_store.call(
        lambda: aws_store.emulator.store.put_object(
            "src",
            "p/kms-parts",
            BODY,
            ObjectAttributes(sse="aws:kms", sse_kms_key_id="key-2"),
            etag="0123456789abcdef0123456789abcdef-2",
        )
    )
    summary, _ = _copy_prefix(aws_store, concurrency=1)
    assert (summary.ok, summary.failed) == (4, 0)
    assert _stored(aws_store, "q/kms-parts") == ("aws:kms", "key-2")
    assert _stored(aws_store, "q/kms") == ("aws:kms", "key-1")
    assert _stored(aws_store, "q/aes") == ("AES256", None)
    assert _stored(aws_store, "q/plain") == ("AES256", None)  # the bucket's default
