"""The reads and checks behind copy fidelity: the source's tags and part layout, and the
checksum proof before and after Complete.

Functions over an ``Endpoint`` and a retried-call function (the job's), so the job keeps
the lifecycle and this module the rules. Checksum proof obligations:

* before Complete, the parts' checksums (kept from UploadPartCopy, or computed by a relay)
  combine into the whole object's (CRCs); if that differs from the source's full-object
  checksum a part holds other bytes, and nothing is completed;
* Complete names every known part checksum and the full-object value, which the store
  compares with its own before completing;
* after Complete, HEAD in checksum mode must show the same full-object checksum (CRCs), or
  the composite of the parts' values (SHA-256, SHA-1: ``checksum(digest_1 ‖ … ‖ digest_n)-n``).

Whether such an equality proves the copy is the job's to say: it does where the values
compared come from the source (its full-object checksum) or from the bytes a relay read
from it; in a server-side copy without a source value the parts' checksums are the
store's own, and the checksum is recorded, not a proof.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from partcopy.checksums import ObjectChecksum, combine_parts, composite_of
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
    """What Complete sends, and the checksum (wire form) the destination must show: a
    CRC's full-object value, or a SHA's composite ``…-N`` of the parts' values (None when
    a part's value is unknown).

    Raises ``VerificationFailed`` (before anything is completed) when the parts' combined
    checksum differs from the source's.
    """
    algorithm = plan.algorithm
    if algorithm is None:
        return None, None
    numbers = list(chosen.part_numbers)
    known = {n: part_checksums[n] for n in numbers if n in part_checksums}
    everything = len(known) == len(numbers)
    if not plan.combinable:  # SHA: a multipart object gets a composite of the parts'
        try:
            composite = composite_of(algorithm, [known[n] for n in numbers]) if everything else None
        except ValueError as exc:
            raise VerificationFailed(f"a part's checksum is unreadable: {exc}") from None
        return CompleteChecksums(algorithm, known), composite
    full: str | None = None
    if everything:
        try:
            full = combine_parts(algorithm, [(known[n], chosen.task(n).size) for n in numbers])
        except ValueError as exc:
            raise VerificationFailed(f"a part's checksum is unreadable: {exc}") from None
    source = plan.source.value if plan.source is not None else None
    if full is not None and source is not None and full != source:
        raise VerificationFailed(
            f"the parts' {algorithm} checksums combine to {full}, the source's is {source}: "
            "a part holds other bytes than the source's range; nothing was completed"
        )
    expected = full or source
    return CompleteChecksums(algorithm, known, expected), expected


def _wire(checksum: ObjectChecksum) -> str:
    """A recorded checksum's value as the store sends it (``…-N`` for a composite)."""
    return f"{checksum.value}-{checksum.parts}" if checksum.parts else checksum.value


def check_destination_checksum(
    plan: ChecksumPlan, expected: str | None, head: ObjectInfo
) -> tuple[ObjectChecksum | None, bool]:
    """The checksum the destination records in the plan's algorithm (None: none), and
    whether it equals ``expected`` (a full-object value, or a composite ``…-N``);
    ``VerificationFailed`` when the two are of one type and differ."""
    got = head.checksum
    if plan.algorithm is None:
        return None, False
    if got is None or got.algorithm != plan.algorithm:
        _log.info("the destination reports no checksum in the algorithm", asked=plan.algorithm)
        return None, False
    if expected is None:
        return got, False
    if got.full_object != ("-" not in expected):  # one is composite, the other is not
        _log.info("the destination's checksum is of another type", got=str(got))
        return got, False
    if _wire(got) != expected:
        raise VerificationFailed(
            f"destination {head.bucket}/{head.key} has {got.algorithm} {_wire(got)}, "
            f"expected {expected}"
        )
    return got, True
