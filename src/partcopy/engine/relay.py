"""Relay: a planned range moved as a ranged GET streamed into UploadPart.

Used where the store cannot copy server-side (another provider, another zone, another
endpoint) or when asked (``mode="relay"``). It is only a :class:`PartOperation`: the job's
plan, pool, retries, verifier, journal hooks and abort are the same as for a copy. Every
attempt starts from a fresh GET pinned to the source's ETag (If-Match), so a retried part
never reuses bytes of a failed attempt.

Two ways to carry a part, chosen per job:

* **streamed** (the destination's ETag of a plain upload is the MD5 of its bytes: S3, OBS,
  COS and QingStor without SSE-KMS or SSE-C): bytes flow from the GET to the PUT in
  chunks while their MD5 is computed; the returned ETag must equal it, else the part is
  unproven and retried. Memory per part in flight: one chunk.
* **buffered** (otherwise): the range is read into one part-sized buffer, its MD5 sent as
  Content-MD5 so the store itself rejects damaged bytes. Memory: the copier's relay buffer
  (``Copier(relay_buffer=...)``, 1 GiB by default) bounds the bytes buffered at once, or one
  part where a part is larger (:mod:`partcopy.engine.budget`).

An object the plan copies in one request (``mode == "single"``) is relayed the same way
by :meth:`RelayPart.put`: one GET streamed (or buffered) into one PutObject carrying the
destination's attributes, with no multipart upload at all (see ``CopyJob._relay_put``).

With a flexible checksum (``checksum_algorithm``) the relay also computes it over the bytes
it streams: a part whose store-computed checksum differs is unproven and retried; the part
values combine into the object's, which Complete sends and the destination must show.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import TypeVar

from partcopy.checksums import Algorithm, Hasher
from partcopy.engine.job import CopyJob, Mode
from partcopy.engine.parts import Endpoint
from partcopy.engine.result import CopyResult
from partcopy.engine.verify import etag_is_md5, normalize_etag
from partcopy.errors import CopyRefused, ErrorKind, PartcopyError, ProtocolError, UnprovenSuccess
from partcopy.logs import get_logger
from partcopy.planners import RangeTask
from partcopy.transports.base import (
    CompleteResult,
    ObjectAttributes,
    ObjectInfo,
    PartResult,
    SSECustomerKey,
)

__all__ = [
    "RELAY_CHUNK",
    "RelayPart",
    "copy_or_relay",
    "etag_is_md5",
    "is_copy_refused",
    "relay_operation",
]

RELAY_CHUNK = 1024 * 1024
"""Largest slice of a buffered part handed to the transport at once."""

_log = get_logger("partcopy.relay")

R = TypeVar("R")
Body = bytes | AsyncIterable[bytes]
Checksum = tuple[str, str] | None
"""A flexible checksum sent with the bytes: ``(algorithm, wire value)``."""


def is_copy_refused(exc: BaseException) -> bool:
    """Whether a failed copy means "this store will not copy that source server-side".

    Looks through ``PartFailed``/``CopyError`` causes for a ``CopyRefused`` (or a 2xx whose
    body carried a refusal).
    """
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, CopyRefused):
            return True
        if isinstance(current, UnprovenSuccess) and current.error_kind is ErrorKind.COPY_REFUSED:
            return True
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else current.__cause__
        seen += 1
    return False


@dataclass(frozen=True, slots=True, eq=False)
class RelayPart:
    """Moves one range by ranged GET from ``source`` into UploadPart on ``destination``.

    Holds one slot of each endpoint's capacity limit while the bytes flow (taken in a fixed
    order, so relays in opposite directions cannot deadlock each other).
    """

    source: Endpoint
    destination: Endpoint
    src_bucket: str
    src_key: str
    bucket: str
    key: str
    version_id: str | None = None
    if_match: str | None = None
    source_sse_c: SSECustomerKey | None = None
    sse_c: SSECustomerKey | None = None
    streamed: bool = True
    """Stream and check the returned ETag (True), or buffer and send Content-MD5."""
    checksum_algorithm: Algorithm | None = None
    """Compute this flexible checksum of each part's bytes (None: none)."""

    @property
    def name(self) -> str:
        return "upload_part"

    async def __call__(self, upload_id: str, task: RangeTask) -> PartResult:
        transport = self.destination.transport
        number = task.part_number
        if task.size <= 0:  # the one empty part of an empty object: nothing to GET
            async with self.destination.limiter:
                return await transport.upload_part(
                    self.bucket, self.key, upload_id, number, b"", 0, sse_c=self.sse_c
                )

        def send(body: Body, content_md5: str | None, checksum: Checksum) -> Awaitable[PartResult]:
            return transport.upload_part(
                self.bucket,
                self.key,
                upload_id,
                number,
                body,
                task.size,
                content_md5=content_md5,
                sse_c=self.sse_c,
                checksum=checksum,
            )

        result, md5, hasher = await self._relay(task, f"part {number}", send)
        wrong = _wrong_etag(result.etag, result.error_code, md5)
        if wrong is not None:
            return PartResult(
                number, None, result.status, request_id=result.request_id, detail=wrong
            )
        return _with_checksum(result, hasher)

    async def put(self, size: int, attrs: ObjectAttributes) -> CompleteResult:
        """Relay the whole object (``size`` bytes) as one PutObject carrying ``attrs``.

        Streamed, an answer whose ETag is not the MD5 of the bytes relayed is returned as
        unproven (no ETag); buffered, the store checks the Content-MD5 sent. With a
        ``checksum_algorithm`` the object is buffered: a PUT names its checksum's value
        before the body, which the store checks and records as the object's full-object
        checksum; the answer carries that value (``CompleteResult.checksum``).
        """
        if self.checksum_algorithm is not None and self.streamed:
            return await replace(self, streamed=False).put(size, attrs)
        transport = self.destination.transport

        def send(
            body: Body, content_md5: str | None, checksum: Checksum
        ) -> Awaitable[CompleteResult]:
            return transport.put_object(
                self.bucket,
                self.key,
                body,
                size,
                attrs,
                content_md5=content_md5,
                sse_c=self.sse_c,
                checksum=checksum,
            )

        hasher: Hasher | None = None
        if size <= 0:  # nothing to GET: the empty body's MD5 is known
            async with self.destination.limiter:
                md5 = hashlib.md5(b"")
                if self.checksum_algorithm is not None:
                    hasher = Hasher(self.checksum_algorithm)
                checksum = None if hasher is None else (hasher.algorithm, hasher.value())
                if self.streamed:
                    result = await send(b"", None, checksum)
                else:
                    result = await send(b"", base64.b64encode(md5.digest()).decode(), checksum)
            expected = md5.hexdigest() if self.streamed else None
        else:
            result, expected, hasher = await self._relay(
                RangeTask(0, 0, size - 1), "the object", send
            )
        wrong = _wrong_etag(result.etag, result.error_code, expected)
        if wrong is not None:  # unproven: the verifier retries it from a fresh GET
            return replace(result, etag=None, detail=wrong)
        if hasher is not None and result.etag is not None and result.error_code is None:
            return replace(result, checksum=hasher.value())
        return result

    async def _relay(
        self, task: RangeTask, what: str, send: Callable[[Body, str | None, Checksum], Awaitable[R]]
    ) -> tuple[R, str | None, Hasher | None]:
        """GET ``task``'s range from the pinned source and hand it to ``send`` as its body.

        Streamed: chunks pass straight through, hashed; returns ``send``'s answer, the MD5
        (hex) of the bytes relayed for the caller to compare, and the flexible checksum's
        hasher. Buffered: the range is read whole, then sent with its Content-MD5 (and
        checksum) for the store to check; no MD5 is returned.
        """
        async with AsyncExitStack() as stack:
            if not self.streamed:  # held before the slots: waiting for memory holds none
                await stack.enter_async_context(self.destination.relay_buffer.hold(task.size))
            limiters = {id(e.limiter): e.limiter for e in (self.source, self.destination)}
            for key in sorted(limiters):
                await stack.enter_async_context(limiters[key])
            chunks = await stack.enter_async_context(
                self.source.transport.get_range(
                    self.src_bucket,
                    self.src_key,
                    task.first,
                    task.last,
                    version_id=self.version_id,
                    if_match=self.if_match,
                    sse_c=self.source_sse_c,
                )
            )
            hasher = None if self.checksum_algorithm is None else Hasher(self.checksum_algorithm)
            if self.streamed:
                digest = hashlib.md5()
                body = _counted(chunks, task.size, what, digest, hasher)
                return await send(body, None, None), digest.hexdigest(), hasher
            view = await _read_whole(chunks, task.size, what)
            content_md5 = base64.b64encode(hashlib.md5(view).digest()).decode("ascii")
            checksum = None
            if hasher is not None:
                hasher.update(view)
                checksum = (hasher.algorithm, hasher.value())
            return await send(_replay(view), content_md5, checksum), None, hasher
        raise AssertionError("unreachable")  # pragma: no cover - the stack never swallows


async def _read_whole(chunks: AsyncIterator[bytes], size: int, what: str) -> memoryview:
    """The whole range in one buffer of ``size`` bytes; a wrong length is an error."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    async for chunk in chunks:
        end = filled + len(chunk)
        if end > size:
            raise _overrun(what, size, end)
        view[filled:end] = chunk
        filled = end
    if filled != size:
        raise _short(what, size, filled)
    return view


async def _replay(view: memoryview) -> AsyncIterator[bytes]:
    """A buffered range handed to the transport in slices of ``RELAY_CHUNK``."""
    for start in range(0, len(view), RELAY_CHUNK):
        yield bytes(view[start : start + RELAY_CHUNK])


def _wrong_etag(etag: str | None, error_code: str | None, md5: str | None) -> str | None:
    """Why an answer to a streamed relay proves nothing: its ETag is not ``md5``, the MD5
    of the bytes relayed (None: it is, or there was nothing to compare)."""
    if md5 is None or etag is None or error_code is not None or normalize_etag(etag) == md5:
        return None
    return f"ETag {etag} is not the MD5 {md5} of the bytes relayed"


def _with_checksum(result: PartResult, hasher: Hasher | None) -> PartResult:
    """The answer with the checksum of the bytes relayed; unproven when the store computed
    another one (it stored other bytes than were sent)."""
    if hasher is None or result.etag is None or result.error_code is not None:
        return result
    ours = hasher.value()
    if result.checksum is not None and result.checksum.split("-", 1)[0] != ours:
        return PartResult(
            result.part_number,
            None,
            result.status,
            request_id=result.request_id,
            detail=f"the store's {hasher.algorithm} {result.checksum} is not {ours} of the "
            "bytes relayed",
        )
    return replace(result, checksum=ours)


async def _counted(
    chunks: AsyncIterator[bytes],
    size: int,
    what: str,
    digest: hashlib._Hash,
    hasher: Hasher | None = None,
) -> AsyncIterator[bytes]:
    """Pass the GET's chunks through, hashing and counting; a wrong length is an error."""
    sent = 0
    async for chunk in chunks:
        sent += len(chunk)
        if sent > size:
            raise _overrun(what, size, sent)
        digest.update(chunk)
        if hasher is not None:
            hasher.update(chunk)
        yield chunk
    if sent != size:
        raise _short(what, size, sent)


def _overrun(what: str, size: int, got: int) -> ProtocolError:
    return ProtocolError(
        f"get_range: {what} asked for {size} bytes, got more ({got})", operation="get_range"
    )


def _short(what: str, size: int, got: int) -> ProtocolError:
    return ProtocolError(
        f"get_range: {what} asked for {size} bytes, got {got}", operation="get_range"
    )


async def copy_or_relay(
    copy: Callable[[Mode], Awaitable[CopyResult]], mode: Mode = "auto"
) -> CopyResult:
    """Run ``copy(mode)``; in ``auto`` mode, a server-side copy the store refuses (see
    :func:`is_copy_refused`) is done again as a relay, so the result says ``"relay"``."""
    try:
        return await copy(mode)
    except PartcopyError as exc:
        if mode != "auto" or not is_copy_refused(exc):
            raise
        _log.info("copy refused by the store; relaying instead", error=str(exc))
    return await copy("relay")


def relay_operation(job: CopyJob, info: ObjectInfo) -> RelayPart:
    """The relay part operation for ``job`` (the copier gives it to relaying jobs)."""
    source = job.copy_source(info)
    attrs = job.attributes(info)
    return RelayPart(
        source=job.src,
        destination=job.dst,
        src_bucket=source.bucket,
        src_key=source.key,
        bucket=job.destination.bucket,
        key=job.destination.key,
        version_id=source.version_id,
        if_match=source.if_match,
        source_sse_c=source.sse_c,
        sse_c=job.options.destination_sse_c or attrs.sse_c,
        streamed=etag_is_md5(job.provider, attrs),
        checksum_algorithm=job.checksum_plan.algorithm,
    )
