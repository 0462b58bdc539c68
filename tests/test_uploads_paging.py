"""ListMultipartUploads paging when a store names fewer markers than AWS (SeaweedFS: only
NextUploadIdMarker) or gives no way on; the SeaweedFS run is in realstore/."""

from __future__ import annotations

from dataclasses import replace

import anyio
import pytest

from partcopy.engine.orphans import list_uploads
from partcopy.logs import capture_events
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import UploadInfo, UploadsPage
from partcopy.transports.memory import MemoryTransport

A = UploadInfo("bkt", "a", "id-a")
B = UploadInfo("bkt", "b", "id-b")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (UploadsPage((A, B), True, "b", "id-b"), ("b", "id-b")),  # AWS: both markers
        (UploadsPage((A, B), True, "b", None), ("b", None)),
        (UploadsPage((A, B), True, None, "id-b"), (None, "id-b")),  # SeaweedFS: the id alone
        (UploadsPage((A, B), True), ("b", "id-b")),  # no markers: after the last upload
        (UploadsPage((), True, None, "id-z"), (None, "id-z")),  # an empty page may go on
        (UploadsPage((), True), None),  # nothing to go on with
    ],
)
def test_continuation(page: UploadsPage, expected: tuple[str | None, str | None] | None) -> None:
    assert page.continuation() == expected


def _store(count: int) -> MemoryStore:
    store = MemoryStore()
    store.create_bucket("bkt")
    for i in range(count):
        store.create_upload("bkt", f"k{i % 4}")
    return store


class Markerless(MemoryTransport):
    """Answers pages without NextKeyMarker/NextUploadIdMarker."""

    async def list_uploads(self, bucket: str, **kw: object) -> UploadsPage:  # type: ignore[override]
        page = await super().list_uploads(bucket, **kw)  # type: ignore[arg-type]
        return replace(page, next_key_marker=None, next_upload_id_marker=None)


class StuckAfterFirstPage(MemoryTransport):
    """The second page says "truncated" yet is empty and names no marker."""

    async def list_uploads(self, bucket: str, **kw: object) -> UploadsPage:  # type: ignore[override]
        if kw.get("key_marker") is not None:
            return UploadsPage((), True)
        return await super().list_uploads(bucket, **kw)  # type: ignore[arg-type]


def test_a_store_without_markers_is_read_to_the_end() -> None:
    transport = Markerless(_store(11))
    found = anyio.run(lambda: list_uploads(transport, "bkt", page_size=3))
    assert len({u.upload_id for u in found}) == 11


def test_an_empty_truncated_page_without_markers_stops_with_a_warning() -> None:
    transport = StuckAfterFirstPage(_store(5))
    with capture_events() as logs:
        found = anyio.run(lambda: list_uploads(transport, "bkt", page_size=2))
    assert len(found) == 2
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert warning["seen"] == 2 and warning["bucket"] == "bkt"
    assert "incomplete" in warning["event"]
