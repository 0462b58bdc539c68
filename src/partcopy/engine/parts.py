"""Per-part operations: how one planned range becomes one part of the upload.

The job runs parts through a ``PartOperation`` and never cares how the bytes move:
``CopyPart`` sends one UploadPartCopy pinned to the source; a relay operation (ranged GET
streamed into UploadPart) plugs in the same way and reuses the pool, retries, verifier
and abort. An operation applies its endpoint's capacity limit around each request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from partcopy.engine.adaptive import AdaptiveLimiter
from partcopy.engine.budget import ByteBudget
from partcopy.planners import RangeTask
from partcopy.transports.base import (
    CompleteResult,
    CopySource,
    ObjectAttributes,
    PartResult,
    SSECustomerKey,
    Transport,
)

__all__ = ["CopyPart", "Endpoint", "ObjectPut", "PartOperation"]


@dataclass(frozen=True, slots=True, eq=False)
class Endpoint:
    """A transport and the adaptive concurrency limit shared by every job using its endpoint."""

    transport: Transport
    limiter: AdaptiveLimiter
    encrypts_by_default: dict[str, bool] = field(default_factory=dict)
    """Per bucket, what this run learned: whether a CopyObject that asked for no encryption
    came back encrypted (the bucket's default encryption) or not."""
    relay_buffer: ByteBudget = field(default_factory=ByteBudget)
    """What buffered relays into it may hold in memory at once (the copier's, shared)."""


class PartOperation(Protocol):
    """Moves one planned range into part ``task.part_number`` of ``upload_id``."""

    @property
    def name(self) -> str:
        """The operation's name in logs, events and errors (``upload_part_copy``)."""
        ...

    async def __call__(self, upload_id: str, task: RangeTask) -> PartResult: ...


class ObjectPut(Protocol):
    """Writes a whole object in one request (a relay's PutObject) instead of parts."""

    @property
    def streamed(self) -> bool:
        """Whether the answer's ETag was checked against the MD5 of the bytes sent (else
        they went with Content-MD5 and only a HEAD shows what the store kept)."""
        ...

    async def put(self, size: int, attrs: ObjectAttributes) -> CompleteResult: ...


@dataclass(frozen=True, slots=True)
class CopyPart:
    """Server-side copy of a range: UploadPartCopy with the source pinned (If-Match)."""

    destination: Endpoint
    bucket: str
    key: str
    source: CopySource
    sse_c: SSECustomerKey | None = None

    @property
    def name(self) -> str:
        return "upload_part_copy"

    async def __call__(self, upload_id: str, task: RangeTask) -> PartResult:
        limiter = self.destination.limiter
        async with limiter as ticket:
            result = await self.destination.transport.upload_part_copy(
                self.bucket,
                self.key,
                upload_id,
                task.part_number,
                self.source,
                task.first,
                task.last,
                sse_c=self.sse_c,
            )
            if result.throttled:  # a SlowDown inside a 200 throttles too
                limiter.record_throttle(ticket)
            return result
