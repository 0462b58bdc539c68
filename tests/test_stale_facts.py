"""A manifest line's (or a listing's) ETag pins the source on every path: a source that
changed since is reported failed, never copied from its new bytes and reported ok, whether
the copy is one CopyObject (its If-Match fails), parts, or a relay between stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy
from partcopy.engine.report import BulkSummary
from partcopy.store.memory import MemoryStore

MiB = 1024 * 1024
SIZES = {"small": 3000, "large": 12 * MiB}  # one CopyObject; three 5 MiB parts


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    store = MemoryStore("s3")
    for bucket in ("src", "dst"):
        store.create_bucket(bucket)
    for key, size in SIZES.items():
        store.put_virtual("src", key, size)
    with EmulatorThread(dialect="s3", store=store, default_sse="AES256") as emu:
        yield emu


@pytest.mark.parametrize("key", sorted(SIZES))
@pytest.mark.parametrize("mode", ["copy", "relay"])
def test_a_stale_manifest_etag_fails_the_object_on_every_path(
    emulator: EmulatorThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    mode: str,
) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    etag = emulator.call(lambda: emulator.emulator.store.get("src", key).etag)
    dst = f"{mode}-{key}"
    lines = [
        {"src": f"s3://src/{key}", "dst": f"s3://dst/{dst}-ok", "size": SIZES[key], "etag": etag},
        {
            "src": f"s3://src/{key}",
            "dst": f"s3://dst/{dst}-stale",
            "size": SIZES[key],
            "etag": '"' + "0" * 32 + '"',
        },
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    settings = CopierSettings(endpoint_url=emulator.url, concurrency=4)
    options = BulkOptions(concurrency=2, mode=mode, part_size=5 * MiB)

    async def go() -> BulkSummary:
        return await bulk_copy(manifest, options=options, settings=settings)

    summary = anyio.run(go)
    assert (summary.ok, summary.failed) == (1, 1)
    keys = emulator.call(lambda: emulator.emulator.store.keys("dst"))
    assert f"{dst}-ok" in keys and f"{dst}-stale" not in keys
    assert emulator.call(lambda: emulator.emulator.stats().open_uploads) == 0
