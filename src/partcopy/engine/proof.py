"""The reads and checks behind copy fidelity: the source's tags and part layout, and the
checksum proof before and after Complete.

Functions over an ``Endpoint`` and a retried-call function (the job's), so the job keeps
the lifecycle and this module the rules. Checksum proof obligations:

* before Complete, the parts' checksums (kept from UploadPartCopy, or computed by a relay)
  combine into the whole object's (CRCs); if that differs from the source's full-object
  checksum a part holds other bytes, and nothing is completed;
* Complete names every known part checksum and the full-object value, which the store
  compares with its own before completing;
* after Complete, HEAD in checksum mode must show the same full-object checksum.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from partcopy.checksums import ObjectChecksum, combine_parts
from partcopy.engine.fidelity import ChecksumPlan
from partcopy.engine.parts import Endpoint
from partcopy.engine.pool import run_pool
from partcopy.errors import (
    PlanError,
    ProtocolError,
    ServiceError,
    UsageError,
    VerificationFailed,
)
from partcopy.logs import get_logger
from partcopy.planners import CopyPlan
from partcopy.transports.base import CompleteChecksums, ObjectInfo, SSECustomerKey
from partcopy.urls import Location

__all__ = [
    "Retried",
    "check_destination_checksum",
    "complete_checksums",
    "read_layout",
    "read_tags",
]

T = TypeVar("T")
Retried = Callable[[str, Callable[[], Awaitable[T]]], Awaitable[T]]
"""Runs one request under the job's retry policy: ``await call(operation, fn)``."""

_log = get_logger("partcopy.engine")


async def read_tags(
    endpoint: Endpoint, source: Location, version_id: str | None, call: Retried[str | None]
) -> str | None:
    """The source's tag set (URL-encoded); None when the store refuses or cannot say
    (logged): the copy then goes on without tags rather than failing on a missing
    permission or a store without tagging (whose answer is no tag set: not retried)."""

    async def get() -> str | None:
        async with endpoint.limiter:
            try:
                return await endpoint.transport.get_tagging(
                    source.bucket, source.key, version_id=version_id
                )
            except ProtocolError as exc:
                _log.warning("source tags not readable: copied without tags", error=str(exc))
                return None

    try:
        return await call("get_tagging", get)
    except ServiceError as exc:
        if exc.status not in (400, 403, 405, 501):
            raise
        _log.warning("source tags not readable: copied without tags", error=str(exc))
        return None


async def read_layout(
    endpoint: Endpoint,
    source: Location,
    info: ObjectInfo,
    *,
    version_id: str | None,
    sse_c: SSECustomerKey | None,
    workers: int,
    call: Retried[ObjectInfo],
) -> tuple[int, ...] | None:
    """The source's part sizes, in order, from ``HEAD ?partNumber=N``; None for an object
    uploaded in one piece (its ETag has no ``-N``).

    The first HEAD says how many parts there are (``x-amz-mp-parts-count``); the rest are
    read ``workers`` at a time. The sizes must add up to the object's size.
    """
    if not info.parts_count:
        return None

    async def head(number: int) -> ObjectInfo:
        async def one() -> ObjectInfo:
            async with endpoint.limiter:
                return await endpoint.transport.head(
                    source.bucket,
                    source.key,
                    version_id=version_id,
                    sse_c=sse_c,
                    part_number=number,
                )

        return await call("head_part", one)

    try:
        first = await head(1)
    except (UsageError, ServiceError) as exc:
        if isinstance(exc, ServiceError) and exc.status not in (400, 405, 501):
            raise
        raise PlanError(
            f"cannot keep the source's part layout: the store does not answer part reads ({exc})"
        ) from exc
    count = first.parts_count or info.parts_count
    if count > 10_000:
        raise ProtocolError(f"head_part: the source claims {count} parts", operation="head")
    sizes = [first.size] + [0] * (count - 1)

    async def fill(number: int) -> None:
        sizes[number - 1] = (await head(number)).size

    await run_pool(range(2, count + 1), fill, workers)
    if sum(sizes) != info.size:
        raise PlanError(
            f"cannot keep the source's part layout: its {count} parts add up to "
            f"{sum(sizes)} bytes, the object has {info.size}"
        )
    return tuple(sizes)


def complete_checksums(
    plan: ChecksumPlan,
    part_checksums: Mapping[int, str],
    chosen: CopyPlan,
    upload_id: str,
) -> tuple[CompleteChecksums | None, str | None]:
    """What Complete sends, and the full-object value the destination must show.

    Raises ``VerificationFailed`` (before anything is completed) when the parts' combined
    checksum differs from the source's.
    """
    algorithm = plan.algorithm
    if algorithm is None:
        return None, None
    numbers = list(chosen.part_numbers)
    known = {n: part_checksums[n] for n in numbers if n in part_checksums}
    full: str | None = None
    if plan.combinable and len(known) == len(numbers):
        try:
            full = combine_parts(algorithm, [(known[n], chosen.task(n).size) for n in numbers])
        except ValueError as exc:
            raise VerificationFailed(f"a part's checksum is unreadable: {exc}") from None
    if not plan.combinable:  # SHA: a multipart object gets a composite, nothing to equal
        return CompleteChecksums(algorithm, known), None
    source = plan.source.value if plan.source is not None else None
    if full is not None and source is not None and full != source:
        raise VerificationFailed(
            f"the parts' {algorithm} checksums combine to {full}, the source's is {source}: "
            "a part holds other bytes than the source's range; nothing was completed"
        )
    expected = full or source
    return CompleteChecksums(algorithm, known, expected), expected


def check_destination_checksum(
    plan: ChecksumPlan, expected: str | None, head: ObjectInfo
) -> ObjectChecksum | None:
    """The destination's checksum when it proves the copy (equal to ``expected``); None
    when there is nothing to compare; ``VerificationFailed`` when they differ."""
    got = head.checksum
    if plan.algorithm is None or expected is None:
        return None
    if got is None or got.algorithm != plan.algorithm or not got.full_object:
        _log.info("the destination reports no full-object checksum", asked=plan.algorithm)
        return None
    if got.value != expected:
        raise VerificationFailed(
            f"destination {head.bucket}/{head.key} has {got.algorithm} {got.value}, "
            f"expected {expected}"
        )
    return got
