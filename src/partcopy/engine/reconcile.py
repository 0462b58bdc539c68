"""Reconciling a journal with the store: which journaled parts can a resume keep?

A part is kept only when the store's ListParts shows it with the planned size and the
very ETag the journal recorded; anything else (missing, another size, another ETag) is
copied again. Pure decisions plus one paged ListParts reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from partcopy.engine.journal import JobRecord, PartRecord
from partcopy.engine.verify import normalize_etag
from partcopy.transports.base import ObjectInfo, PartInfo, Transport

__all__ = ["Reconciled", "list_all_parts", "reconcile", "source_unchanged"]

_MAX_PAGES = 10_001
"""ListParts pages at most: 10 000 parts fit in 10 pages of 1000; this stops a store that
keeps answering "truncated" from looping forever."""


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The parts a resume keeps (number -> ETag) and those it must copy again."""

    kept: Mapping[int, str]
    recopy: tuple[int, ...]
    """Journaled parts the store does not confirm (missing or different)."""


def source_unchanged(job: JobRecord, info: ObjectInfo) -> bool:
    """Whether HEAD of the source still shows the object the job started copying."""
    if info.size != job.source_size:
        return False
    if job.source_version is not None and info.version_id != job.source_version:
        return False
    if job.source_etag is None or info.etag is None:
        return job.source_etag == info.etag
    return normalize_etag(job.source_etag) == normalize_etag(info.etag)


async def list_all_parts(
    transport: Transport, bucket: str, key: str, upload_id: str, *, page_size: int = 1000
) -> dict[int, PartInfo]:
    """Every part of an open upload (all ListParts pages), by part number."""
    parts: dict[int, PartInfo] = {}
    marker: int | None = None
    for _ in range(_MAX_PAGES):
        page = await transport.list_parts(
            bucket, key, upload_id, marker=marker, max_parts=page_size
        )
        for part in page.parts:
            parts[part.part_number] = part
        if not page.is_truncated or not page.parts:
            break
        next_marker = page.next_marker or page.parts[-1].part_number
        if next_marker == marker:
            break
        marker = next_marker
    return parts


def reconcile(
    job: JobRecord, journaled: Mapping[int, PartRecord], listed: Mapping[int, PartInfo]
) -> Reconciled:
    """Keep the journaled parts the store lists with the planned size and the same ETag."""
    kept: dict[int, str] = {}
    recopy: list[int] = []
    planned = set(job.plan.part_numbers)
    for number, record in sorted(journaled.items()):
        on_store = listed.get(number)
        if (
            number in planned
            and on_store is not None
            and on_store.size == job.plan.part_size_of(number, job.source_size)
            and record.size == on_store.size
            and normalize_etag(on_store.etag) == normalize_etag(record.etag)
        ):
            kept[number] = record.etag
        else:
            recopy.append(number)
    return Reconciled(kept, tuple(recopy))
