"""Small objects by one CopyObject: the answer's ETag proves the copy where plain ETags
are MD5s (no HEAD of the destination); otherwise one HEAD checks it. The emulator's request
counter says how many requests each copy took."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.engine.report import BulkSummary
from partcopy.providers import get_provider, register, unregister
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import ObjectAttributes
from partcopy.transports.signing.common import Credentials

BODY = b"small object body " * 50


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    store = MemoryStore("s3")
    store.create_bucket("src")
    store.create_bucket("dst")
    store.put_object("src", "plain", BODY)
    store.put_object("src", "kms", BODY, ObjectAttributes(sse="aws:kms"))
    store.put_object("src", "parts", BODY, etag="0123456789abcdef0123456789abcdef-2")
    with EmulatorThread(dialect="s3", store=store) as emu:
        yield emu


def copy_counted(emu: EmulatorThread, key: str, profile: str | None = None) -> tuple[int, str]:
    """Copy ``src/key`` to ``dst/key``: the requests the store saw, and the copy's ETag."""

    async def go() -> str:
        creds = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
        async with Copier(endpoint_url=emu.url, credentials=creds, concurrency=4) as copier:
            result = await copier.copy(f"s3://src/{key}", f"s3://dst/{key}", provider=profile)
        assert result.mode == "single" and result.bytes == len(BODY)
        return result.etag

    before = emu.call(emu.emulator.stats).requests
    etag = anyio.run(go)
    return emu.call(emu.emulator.stats).requests - before, etag


def test_a_plain_copy_is_proven_by_its_answer(emulator: EmulatorThread) -> None:
    requests, etag = copy_counted(emulator, "plain")
    assert requests == 2  # HEAD of the source, CopyObject; no HEAD of the destination
    stored = emulator.call(lambda: emulator.emulator.store.get("dst", "plain").etag)
    assert etag.strip('"') == stored


def test_a_provider_row_without_md5_etags_has_the_copy_headed(emulator: EmulatorThread) -> None:
    row = dataclasses.replace(
        get_provider("s3"), name="opaque-etags", schemes=(), part_etag_md5=False
    )
    register(row)
    try:
        requests, _ = copy_counted(emulator, "plain", profile="opaque-etags")
    finally:
        unregister("opaque-etags")
    assert requests == 3  # the row says plain ETags prove nothing here: HEAD the copy


@pytest.mark.parametrize("key", ["kms", "parts"])
def test_a_copy_whose_etag_proves_nothing_is_headed(emulator: EmulatorThread, key: str) -> None:
    requests, _ = copy_counted(emulator, key)
    assert requests == 3  # the answer's ETag is not an MD5 of the bytes: HEAD the copy


def test_a_bulk_run_with_source_facts_heads_sources_where_the_bucket_has_no_default_sse(
    emulator: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy

    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    etag = emulator.call(lambda: emulator.emulator.store.get("src", "plain").etag)
    count = 40
    lines = [
        {"src": "s3://src/plain", "dst": f"s3://dst/many/{i}", "size": len(BODY), "etag": etag}
        for i in range(count)
    ]
    lines.append({"src": "s3://src/plain", "dst": "s3://dst/stale", "size": 1, "etag": "0" * 32})
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    settings = CopierSettings(endpoint_url=emulator.url, concurrency=8)

    async def go() -> BulkSummary:
        return await bulk_copy(manifest, options=BulkOptions(concurrency=8), settings=settings)

    before = emulator.call(emulator.emulator.stats).requests
    summary = anyio.run(go)
    requests = emulator.call(emulator.emulator.stats).requests - before
    assert (summary.ok, summary.failed) == (count, 1)  # the stale ETag fails its If-Match
    # This store does not encrypt by default, so a CopyObject naming no encryption could
    # leave an encrypted source unencrypted: once the first answers show it (each of them
    # then HEADs its source), sources are HEAD-ed before their copy (the stale ETag fails
    # at its HEAD). A bucket that encrypts by default takes one request per object:
    # tests/test_listed_encryption.py.
    assert requests == 2 * count + 1
