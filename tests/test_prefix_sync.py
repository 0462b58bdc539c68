"""Prefix copy and sync end to end, on the emulator of every dialect and on moto.

2,500 keys under a prefix (three listing pages of 1,000), nested "directories", keys with
spaces, unicode, '+' and '%'. A recursive copy copies exactly those keys; a second sync
copies nothing (the store counts no CopyObject/UploadPartCopy); changing 3 objects makes
the next sync copy exactly 3; ``delete`` removes exactly the extra keys; a dry run sends no
write. Moto has no request counters: there the proof is that the destination objects did
not change (same LastModified) when nothing was to be copied.

The sync test starts from a destination the store itself copied (2,500 keys, listed and
compared in full); the recursive copy copies all 2,500 keys through partcopy on every store.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

import boto3
import pytest
from botocore.config import Config
from moto.s3.models import s3_backends

from partcopy import Copier, PrefixOptions
from partcopy.config import Credentials
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator
from partcopy.engine.filters import KeyFilter
from partcopy.engine.report import BulkSummary, ObjectOutcome, ReportWriter

pytestmark = pytest.mark.anyio

ODD = (" space", "ü", "+plus", "%25pct", "漢字")


def relative_keys(count: int) -> list[str]:
    """``count`` relative keys in nested directories, each with an awkward character."""
    return sorted(f"d{i % 4}/s{i % 3}/{ODD[i % 5]} {i:04d}.bin" for i in range(count))


class Store(Protocol):
    """One backend: buckets and objects set up its own way, and what it can prove."""

    scheme: str
    src: str
    dst: str
    relative: list[str]

    def copier(self) -> Copier: ...

    def put(self, bucket: str, key: str, size: int) -> None: ...

    def keys(self, bucket: str) -> list[str]: ...

    def mirror(self, key: str, dst_key: str) -> None:
        """Make ``dst_key`` in the destination bucket a store-side copy of a source key."""
        ...

    def stamps(self, bucket: str) -> dict[str, tuple[int, datetime]]:
        """Size and LastModified of every object."""
        ...

    def copies(self) -> int | None:
        """CopyObject + UploadPartCopy requests so far (None: the store cannot count)."""
        ...

    def writes(self) -> int | None: ...

    def heads(self) -> int | None:
        """HEAD requests so far (None: the store cannot count)."""
        ...


class EmulatorStore:
    def __init__(self, emulator: Emulator, scheme: str, suffix: str, region: str) -> None:
        self.emulator = emulator
        self.scheme = scheme
        self.src, self.dst = "src" + suffix, "dst" + suffix
        self.region = region
        for bucket in (self.src, self.dst):
            emulator.store.create_bucket(bucket)

    def copier(self) -> Copier:
        creds = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
        return Copier(
            endpoint_url=self.emulator.url, region=self.region, credentials=creds, concurrency=32
        )

    def put(self, bucket: str, key: str, size: int) -> None:
        self.emulator.store.put_virtual(bucket, key, size)

    def keys(self, bucket: str) -> list[str]:
        return self.emulator.store.keys(bucket)

    def mirror(self, key: str, dst_key: str) -> None:
        self.emulator.store.copy_object(self.src, key, self.dst, dst_key, None)

    def stamps(self, bucket: str) -> dict[str, tuple[int, datetime]]:
        store = self.emulator.store
        return {
            k: (v.size, v.last_modified) for k in store.keys(bucket) for v in [store.get(bucket, k)]
        }

    def copies(self) -> int:
        ops = self.emulator.store.stats().ops
        return ops.get("copy_object", 0) + ops.get("copy_part", 0)

    def writes(self) -> int:
        return self.emulator.store.stats().writes()

    def heads(self) -> int:
        return self.emulator.store.stats().ops.get("head", 0)


class MotoStore:
    scheme = "s3"
    made = itertools.count()

    def __init__(self, url: str) -> None:
        self.url = url
        n = next(self.made)  # one moto server serves the module: fresh buckets each time
        self.src, self.dst = f"src-{n}", f"dst-{n}"
        client: Any = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
            config=Config(s3={"addressing_style": "path"}),
        )
        for bucket in (self.src, self.dst):
            client.create_bucket(Bucket=bucket)
        self.backend: Any = s3_backends["123456789012"]["aws"]

    def copier(self) -> Copier:
        return Copier(endpoint_url=self.url, credentials=Credentials("a", "b"), concurrency=32)

    def put(self, bucket: str, key: str, size: int) -> None:
        self.backend.put_object(bucket, key, bytes(size % 251 for _ in range(size)))

    def keys(self, bucket: str) -> list[str]:
        return sorted(self.backend.get_bucket(bucket).keys.keys())

    def mirror(self, key: str, dst_key: str) -> None:
        self.backend.put_object(self.dst, dst_key, self.backend.get_object(self.src, key).value)

    def stamps(self, bucket: str) -> dict[str, tuple[int, datetime]]:
        objects = self.backend.get_bucket(bucket).keys
        return {k: (objects[k].size, objects[k].last_modified) for k in objects}

    def copies(self) -> None:
        return None

    def remove(self) -> None:
        """Drop this store's buckets (other tests share the in-process moto backend)."""
        for bucket in (self.src, self.dst):
            for key in list(self.backend.get_bucket(bucket).keys.keys()):
                self.backend.delete_object(bucket, key)
            self.backend.delete_bucket(bucket)

    def writes(self) -> None:
        return None

    def heads(self) -> None:
        return None


@asynccontextmanager
async def _backend(name: str, moto_url: str) -> AsyncIterator[Store]:
    if name == "moto":
        moto = MotoStore(moto_url)
        try:
            yield moto
        finally:
            moto.remove()
        return
    suffix, region = ("-1250000000", "ap-guangzhou") if name == "cos" else ("", "ap-test-1")
    # Buckets encrypt by default with SSE-S3, as AWS's do (QingStor has SSE-C only): a
    # listed copy's one CopyObject then needs no HEAD of its source.
    default_sse = None if name == "qingstor" else "AES256"
    async with Emulator(name, default_sse=default_sse) as emu:
        yield EmulatorStore(emu, {"qingstor": "qs"}.get(name, name), suffix, region)


@pytest.fixture(params=["s3", "obs", "cos", "qingstor", "moto"])
async def store(request: pytest.FixtureRequest, moto_url: str) -> AsyncIterator[Store]:
    async with _backend(request.param, moto_url) as backend:
        backend.relative = relative_keys(2500)
        for index, rel in enumerate(backend.relative):
            backend.put(backend.src, "tree/" + rel, index % 97)
        backend.put(backend.src, "tree-sibling/outside.bin", 5)  # beside the prefix, not in it
        yield backend


def _url(store: Store, bucket: str, prefix: str) -> str:
    return f"{store.scheme}://{bucket}/{prefix}"


async def _run(
    store: Store, *, sync: bool, tree: str = "tree", page_size: int = 1000, **options: Any
) -> tuple[BulkSummary, list[Any]]:
    lines: list[ObjectOutcome] = []
    async with store.copier() as copier:
        run = copier.sync if sync else copier.copy_prefix
        summary = await run(
            _url(store, store.src, tree),
            _url(store, store.dst, "copy"),
            options=PrefixOptions(page_size=page_size, **options),
            report=ReportWriter(),
            on_outcome=lines.append,
        )
    return summary, lines


def _copied(store: Store) -> list[str]:
    return [k[len("copy/") :] for k in store.keys(store.dst) if k.startswith("copy/")]


async def test_recursive_copy_copies_exactly_the_keys(store: Store) -> None:
    keys = store.relative  # 2,500 keys: three listing pages of 1,000
    summary, _ = await _run(store, sync=False)
    n = len(keys)
    assert (summary.listed, summary.ok, summary.failed, summary.modes) == (n, n, 0, {"single": n})
    assert _copied(store) == keys
    assert store.copies() in (None, n)
    assert store.heads() in (None, 0)  # the listing's size and ETag were enough


async def test_sync_copies_only_what_differs_and_deletes_extras(store: Store) -> None:
    RELATIVE, n = store.relative, len(store.relative)
    for rel in RELATIVE:  # the destination as a finished copy left it, made by the store
        store.mirror("tree/" + rel, "copy/" + rel)
    first_copies = store.copies()
    stamps = store.stamps(store.dst)
    summary, _ = await _run(store, sync=True)
    assert (summary.listed, summary.skipped_same, summary.ok) == (n, n, 0)
    assert store.copies() == first_copies  # not one CopyObject or UploadPartCopy
    assert store.stamps(store.dst) == stamps

    changed = RELATIVE[7], RELATIVE[n // 2], RELATIVE[-1]
    for rel in changed:
        store.put(store.src, "tree/" + rel, 500)
    summary, lines = await _run(store, sync=True)
    assert (summary.ok, summary.skipped_same) == (3, n - 3)
    assert sorted(o.dst for o in lines) == sorted(
        _url(store, store.dst, "copy/" + r) for r in changed
    )
    if first_copies is not None:
        assert store.copies() == first_copies + 3
    after = store.stamps(store.dst)
    assert [k for k in after if after[k][0] == 500] == sorted("copy/" + r for r in changed)

    extras = ("copy/zz-extra.bin", "copy/d0/extra 1.bin", "copy/d9/s9/ü extra.bin")
    for key in extras:
        store.put(store.dst, key, 3)
    store.put(store.dst, "elsewhere/keep.bin", 3)
    store.put(store.src, "tree/" + RELATIVE[0], 501)
    writes = store.writes()
    summary, lines = await _run(store, sync=True, delete=True, dry_run=True)
    assert (summary.would_copy, summary.would_delete, summary.ok, summary.deleted) == (1, 3, 0, 0)
    assert store.writes() == writes  # a dry run sends no write
    assert len(_copied(store)) == n + 3

    summary, lines = await _run(store, sync=True, delete=True)
    assert (summary.deleted, summary.ok, summary.skipped_same) == (3, 1, n - 1)
    assert sorted(o.dst for o in lines if o.status == "deleted") == sorted(
        _url(store, store.dst, k) for k in extras
    )
    assert _copied(store) == RELATIVE
    assert "elsewhere/keep.bin" in store.keys(store.dst)


async def test_filters_and_max_objects_select_what_is_copied(moto_url: str) -> None:
    async with _backend("s3", moto_url) as store:
        store.relative = relative_keys(400)
        for rel in store.relative:
            store.put(store.src, "tree/" + rel, 1)
        keys = KeyFilter.of([("exclude", "*"), ("include", "d1/*"), ("exclude", "*/s2/*")])
        summary, _ = await _run(store, sync=False, keys=keys, max_objects=40, page_size=100)
    expected = [r for r in store.relative if r.startswith("d1/") and "/s2/" not in r][:40]
    assert summary.listed == summary.ok == 40
    assert _copied(store) == expected
