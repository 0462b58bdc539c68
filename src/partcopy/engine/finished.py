"""Recognise a journaled job whose Complete went through before the process died.

A crash just after CompleteMultipartUpload leaves the journal saying "running" while the
upload is gone: the destination already is the copy. When the journal holds every planned
part and the destination has the source's size and the composite ETag of exactly those
parts, the job is recorded done instead of copying the whole object again.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from partcopy.engine.journal import JobRecord, Journal
from partcopy.engine.result import CopyResult
from partcopy.engine.verify import Verification, composite_etag, normalize_etag
from partcopy.errors import ServiceError, TransportError
from partcopy.logs import get_logger
from partcopy.transports.base import ObjectInfo

if TYPE_CHECKING:
    from partcopy.engine.job import CopyJob

__all__ = ["already_complete"]

_log = get_logger("partcopy.resume")


async def _head(job: CopyJob) -> ObjectInfo | None:
    """HEAD of the destination (retried); None when it is not there or cannot be read."""
    dst, end = job.destination, job.dst

    async def head() -> ObjectInfo:
        async with end.limiter:
            return await end.transport.head(dst.bucket, dst.key)

    try:
        return await job.retrier.call("head_destination", head)
    except (ServiceError, TransportError):
        return None


async def already_complete(
    job: CopyJob, journal: Journal, record: JobRecord, source: ObjectInfo
) -> CopyResult | None:
    """The job's result if the destination already holds its journaled parts, else None.

    Proof: every planned part journaled, the destination's size equals the source's and
    its ETag is ``md5(part md5s)-n`` of those parts. Anything less starts the copy afresh.
    """
    started = time.monotonic()
    plan = record.plan
    parts = journal.parts(record.id)
    if set(parts) != set(plan.part_numbers):
        return None
    composite = composite_etag([parts[n].etag for n in plan.part_numbers])
    if composite is None:
        return None
    info = await _head(job)
    if info is None or info.etag is None or info.size != source.size:
        return None
    if normalize_etag(info.etag) != normalize_etag(composite):
        return None
    _log.info("already_complete", job=record.id, etag=info.etag, parts=plan.part_count)
    return CopyResult(
        source=str(job.source),
        destination=str(job.destination),
        etag=info.etag,
        parts=plan.part_count,
        bytes=source.size,
        part_size=plan.part_size,
        mode=plan.mode,
        retries=job.counters.retries,
        seconds=time.monotonic() - started,
        upload_id=record.upload_id,
        version_id=info.version_id,
        job_id=job.job_id,
        verification=Verification.COMPOSITE_ETAG,
    )
