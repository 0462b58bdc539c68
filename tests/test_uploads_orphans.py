"""Orphaned uploads: paging through ListMultipartUploads, age filter, abort outcomes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio
import pytest

from partcopy.engine.orphans import abort_uploads, list_uploads, parse_prefix_url
from partcopy.errors import UsageError
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import UploadsPage
from partcopy.transports.errormap import service_error
from partcopy.transports.memory import MemoryTransport

T = TypeVar("T")
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def run(fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await fn()

    return anyio.run(main)


def store_with_uploads(count: int, *, prefix: str = "dir/") -> tuple[MemoryStore, list[str]]:
    store = MemoryStore()
    store.create_bucket("bkt")
    ids = []
    for i in range(count):
        upload = store.create_upload("bkt", f"{prefix}k{i % 3}")
        upload.initiated = NOW - timedelta(hours=i)
        ids.append(upload.upload_id)
    store.create_upload("bkt", "other/k").initiated = NOW - timedelta(days=30)
    return store, ids


class CountingTransport(MemoryTransport):
    """A memory transport that counts ListMultipartUploads pages."""

    pages = 0

    async def list_uploads(self, bucket: str, **kw: object) -> UploadsPage:  # type: ignore[override]
        self.pages += 1
        return await super().list_uploads(bucket, **kw)  # type: ignore[arg-type]


def test_list_pages_through_every_upload_under_the_prefix() -> None:
    store, ids = store_with_uploads(7)
    t = CountingTransport(store)
    found = run(lambda: list_uploads(t, "bkt", "dir/", page_size=2))
    assert sorted(u.upload_id for u in found) == sorted(ids)
    assert t.pages == 4
    assert all(u.key.startswith("dir/") for u in found)


def test_abort_older_than_keeps_young_uploads() -> None:
    store, ids = store_with_uploads(6)
    t = MemoryTransport(store)
    out = run(lambda: abort_uploads(t, "bkt", "dir/", older_than=2.5 * 3600, now=NOW, page_size=2))
    assert sorted(u.upload_id for u in out.aborted) == sorted(ids[3:])
    assert sorted(u.upload_id for u in out.kept) == sorted(ids[:3])
    assert out.failed == ()
    left = run(lambda: list_uploads(t, "bkt", "dir/"))
    assert sorted(u.upload_id for u in left) == sorted(ids[:3])
    assert store.open_uploads() == 4


def test_abort_everything_with_no_age() -> None:
    store, _ = store_with_uploads(3)
    t = MemoryTransport(store)
    out = run(lambda: abort_uploads(t, "bkt"))
    assert len(out.aborted) == 4 and store.open_uploads() == 0


def test_an_upload_gone_meanwhile_counts_as_aborted() -> None:
    store, ids = store_with_uploads(2)

    class Racing(MemoryTransport):
        async def abort(self, bucket: str, key: str, upload_id: str) -> None:
            await super().abort(bucket, key, upload_id)
            if upload_id == ids[0]:
                await super().abort(bucket, key, upload_id)  # NoSuchUpload the second time

    out = run(lambda: abort_uploads(Racing(store), "bkt", "dir/"))
    assert out.failed == ()


def test_a_failing_abort_is_reported_not_raised() -> None:
    store, ids = store_with_uploads(3)

    class Denied(MemoryTransport):
        async def abort(self, bucket: str, key: str, upload_id: str) -> None:
            if upload_id == ids[1]:
                raise service_error(403, "AccessDenied", "no", operation="abort")
            await super().abort(bucket, key, upload_id)

    out = run(lambda: abort_uploads(Denied(store), "bkt", "dir/"))
    assert [u.upload_id for u, _ in out.failed] == [ids[1]]
    assert "AccessDenied" in out.failed[0][1]
    assert len(out.aborted) == 2


def test_negative_age_is_a_usage_error() -> None:
    store, _ = store_with_uploads(1)
    with pytest.raises(UsageError, match="-1"):
        run(lambda: abort_uploads(MemoryTransport(store), "bkt", older_than=-1))


@pytest.mark.parametrize(
    ("text", "bucket", "prefix"),
    [("s3://bkt", "bkt", ""), ("s3://bkt/", "bkt", ""), ("qs://bkt/a/b/", "bkt", "a/b/")],
)
def test_parse_prefix_url(text: str, bucket: str, prefix: str) -> None:
    loc = parse_prefix_url(text)
    assert (loc.bucket, loc.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    "text", ["bkt/key", "ftp://bkt/", "s3://", "s3://Bad_Bucket/", "s3://b/k?x"]
)
def test_parse_prefix_url_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="invalid"):
        parse_prefix_url(text)
