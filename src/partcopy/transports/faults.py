"""``FaultyTransport``: a seeded, deterministic fault-injecting wrapper around any Transport.

Each request draws from a hash of (seed, fault, operation, request identity, how often that
identity was seen), so which request fails never depends on the order concurrent requests
arrive in. Kinds (the emulator's names):

* ``slowdown`` — 503 ``SlowDown``; ``500`` — 500 ``InternalError``; ``429`` — 429
  ``TooManyRequests`` with ``Retry-After: arg`` seconds (refused: nothing happens);
* ``noetag`` — the operation happens but its 200 answer carries no ETag;
* ``error200`` — a 200 whose body is an ``<Error>`` (refused: nothing happens);
* ``reset`` — the operation happens, then the connection is reset (``ConnectError``);
* ``delay`` — the answer comes ``arg`` seconds late (through the injectable ``sleep``);
* ``corrupt`` — UploadPartCopy copies the wrong bytes (the range shifted by one byte, same
  size) and answers a valid ETag and checksum *of those bytes*: damage that no ETag check
  sees, only a checksum compared with the source's.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Literal, TypeVar, get_args

import anyio

from partcopy.errors import ConnectError, UsageError
from partcopy.transports.base import (
    BucketsPage,
    CompleteChecksums,
    CompleteResult,
    CopySource,
    Dialect,
    ObjectAttributes,
    ObjectInfo,
    ObjectsPage,
    PartResult,
    PartsPage,
    SSECustomerKey,
    Transport,
    UploadsPage,
)
from partcopy.transports.errormap import service_error

__all__ = ["Fault", "FaultKind", "FaultyTransport"]

T = TypeVar("T")
FaultKind = Literal["slowdown", "500", "429", "noetag", "error200", "reset", "delay", "corrupt"]
_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
_ANSWERING_OPS = frozenset(
    {"upload_part_copy", "upload_part", "complete", "copy_object", "put_object"}
)
"""Operations whose 200 answer carries an ETag (where ``noetag``/``error200`` make sense)."""
_OPS = _ANSWERING_OPS | {
    "head",
    "create_multipart",
    "abort",
    "list_parts",
    "list_uploads",
    "list_objects",
    "delete_object",
    "list_buckets",
}
_SERVICE_FAULTS: dict[str, tuple[int, str, str]] = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "429": (429, "TooManyRequests", "Too many requests."),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One kind of fault, the probability it fires per request, and where.

    ``arg`` is the delay in seconds for ``delay`` and the Retry-After for ``429``;
    ``limit`` caps how many times it fires in total.
    """

    kind: FaultKind
    rate: float
    arg: float | None = None
    ops: frozenset[str] = field(default_factory=lambda: frozenset({"upload_part_copy"}))
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise UsageError(f"invalid fault kind {self.kind!r}: expected one of {sorted(_KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise UsageError(f"invalid fault rate {self.rate!r}: must be between 0 and 1")
        unknown = self.ops - _OPS
        if unknown:
            raise UsageError(f"invalid fault operations {sorted(unknown)}: not Transport verbs")
        if self.kind in {"noetag", "error200"} and self.ops - _ANSWERING_OPS:
            raise UsageError(
                f"fault {self.kind!r} applies only to {sorted(_ANSWERING_OPS)}, "
                f"not {sorted(self.ops - _ANSWERING_OPS)}"
            )
        if self.kind == "corrupt" and self.ops != {"upload_part_copy"}:
            raise UsageError("fault 'corrupt' applies only to upload_part_copy")
        if self.kind == "delay" and (self.arg is None or self.arg < 0):
            raise UsageError("fault 'delay' needs a non-negative arg (seconds)")


class FaultyTransport:
    """Wraps ``inner``; injects ``faults`` deterministically from ``seed``.

    ``fired`` counts the faults injected per kind, so tests can check a mix really ran.
    """

    def __init__(
        self,
        inner: Transport,
        faults: Sequence[Fault],
        *,
        seed: int = 0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.inner = inner
        self.faults = tuple(faults)
        self.seed = seed
        self.fired: dict[str, int] = {}
        self._sleep = sleep if sleep is not None else anyio.sleep
        self._seen: dict[str, int] = {}
        self._counts: list[int] = [0] * len(self.faults)

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    def _draw(self, index: int, key: str, attempt: int) -> float:
        text = f"{self.seed}|{index}|{key}|{attempt}".encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") / 2.0**64

    def _decide(self, op: str, identity: str) -> tuple[float, Fault | None]:
        key = f"{op}|{identity}"
        attempt = self._seen.get(key, 0)
        self._seen[key] = attempt + 1
        delay = 0.0
        for index, fault in enumerate(self.faults):
            if op not in fault.ops:
                continue
            if fault.limit is not None and self._counts[index] >= fault.limit:
                continue
            if self._draw(index, key, attempt) >= fault.rate:
                continue
            self._counts[index] += 1
            self.fired[fault.kind] = self.fired.get(fault.kind, 0) + 1
            if fault.kind == "delay":
                delay += fault.arg or 0.0
                continue
            return delay, fault
        return delay, None

    async def _run(
        self,
        op: str,
        identity: str,
        call: Callable[[], Awaitable[T]],
        unproven: Callable[[str | None], T] | None = None,
        corrupt: Callable[[], Awaitable[T]] | None = None,
    ) -> T:
        """Run ``call`` under the faults drawn for (op, identity)."""
        delay, fault = self._decide(op, identity)
        if delay:
            await self._sleep(delay)
        if fault is None or fault.kind == "delay":
            return await call()
        kind = fault.kind
        if kind == "corrupt":
            assert corrupt is not None  # Fault() allows corrupt only on upload_part_copy
            return await corrupt()
        if kind in _SERVICE_FAULTS:
            status, code, message = _SERVICE_FAULTS[kind]
            retry_after = fault.arg if kind == "429" else None
            raise service_error(
                status,
                code,
                message,
                request_id="fault",
                retry_after=retry_after,
                operation=op,
            )
        if kind == "error200":
            assert unproven is not None  # Fault() allows error200 only on answering ops
            return unproven("InternalError")
        await call()  # noetag and reset: the operation happens, only its answer is lost
        if kind == "noetag":
            assert unproven is not None
            return unproven(None)
        raise ConnectError(f"{op}: connection reset by peer (injected)", operation=op)

    # --- the Transport verbs -----------------------------------------------------------

    async def head(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        sse_c: SSECustomerKey | None = None,
        part_number: int | None = None,
        checksum_mode: bool = False,
    ) -> ObjectInfo:
        return await self._run(
            "head",
            f"{bucket}/{key}/{part_number}",
            lambda: self.inner.head(
                bucket,
                key,
                version_id=version_id,
                sse_c=sse_c,
                part_number=part_number,
                checksum_mode=checksum_mode,
            ),
        )

    async def get_tagging(self, bucket: str, key: str, *, version_id: str | None = None) -> str:
        return await self.inner.get_tagging(bucket, key, version_id=version_id)

    async def create_multipart(self, bucket: str, key: str, attrs: ObjectAttributes) -> str:
        return await self._run(
            "create_multipart",
            f"{bucket}/{key}",
            lambda: self.inner.create_multipart(bucket, key, attrs),
        )

    async def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        source: CopySource,
        first: int,
        last: int,
        *,
        sse_c: SSECustomerKey | None = None,
    ) -> PartResult:
        def unproven(code: str | None) -> PartResult:
            message = "We encountered an internal error." if code else None
            detail = "error document in a 200" if code else "200 without an ETag"
            return PartResult(part_number, None, 200, code, message, "fault", detail)

        def copy(a: int, b: int) -> Awaitable[PartResult]:
            return self.inner.upload_part_copy(
                bucket, key, upload_id, part_number, source, a, b, sse_c=sse_c
            )

        def corrupt() -> Awaitable[PartResult]:
            # Same size, bytes one further along (or one back at the end): a store that
            # copied the wrong bytes and proved them with their own ETag and checksum.
            shift = 1 if first == 0 else -1
            return copy(first + shift, last + shift)

        return await self._run(
            "upload_part_copy",
            f"{upload_id}/{part_number}",
            lambda: copy(first, last),
            unproven,
            corrupt,
        )

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: bytes | AsyncIterable[bytes],
        size: int,
        *,
        content_md5: str | None = None,
        sse_c: SSECustomerKey | None = None,
        checksum: tuple[str, str] | None = None,
    ) -> PartResult:
        def unproven(code: str | None) -> PartResult:
            detail = "error document in a 200" if code else "200 without an ETag"
            return PartResult(part_number, None, 200, code, None, "fault", detail)

        return await self._run(
            "upload_part",
            f"{upload_id}/{part_number}",
            lambda: self.inner.upload_part(
                bucket,
                key,
                upload_id,
                part_number,
                body,
                size,
                content_md5=content_md5,
                sse_c=sse_c,
                checksum=checksum,
            ),
            unproven,
        )

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | AsyncIterable[bytes],
        size: int,
        attrs: ObjectAttributes,
        *,
        content_md5: str | None = None,
        sse_c: SSECustomerKey | None = None,
        checksum: tuple[str, str] | None = None,
    ) -> CompleteResult:
        def unproven(code: str | None) -> CompleteResult:
            detail = "error document in a 200" if code else "200 without an ETag"
            return CompleteResult(None, 200, None, code, None, "fault", detail)

        return await self._run(
            "put_object",
            f"{bucket}/{key}",
            lambda: self.inner.put_object(
                bucket,
                key,
                body,
                size,
                attrs,
                content_md5=content_md5,
                sse_c=sse_c,
                checksum=checksum,
            ),
            unproven,
        )

    def get_range(
        self,
        bucket: str,
        key: str,
        first: int,
        last: int,
        *,
        version_id: str | None = None,
        if_match: str | None = None,
        sse_c: SSECustomerKey | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self.inner.get_range(
            bucket, key, first, last, version_id=version_id, if_match=if_match, sse_c=sse_c
        )

    async def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        checksums: CompleteChecksums | None = None,
    ) -> CompleteResult:
        def unproven(code: str | None) -> CompleteResult:
            detail = "error document in a 200" if code else "200 without an ETag"
            return CompleteResult(None, 200, None, code, None, "fault", detail)

        return await self._run(
            "complete",
            upload_id,
            lambda: self.inner.complete(bucket, key, upload_id, parts, checksums=checksums),
            unproven,
        )

    async def abort(self, bucket: str, key: str, upload_id: str) -> None:
        await self._run("abort", upload_id, lambda: self.inner.abort(bucket, key, upload_id))

    async def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        marker: int | None = None,
        max_parts: int = 1000,
    ) -> PartsPage:
        return await self._run(
            "list_parts",
            f"{upload_id}/{marker}",
            lambda: self.inner.list_parts(
                bucket, key, upload_id, marker=marker, max_parts=max_parts
            ),
        )

    async def copy_object(
        self,
        source: CopySource,
        bucket: str,
        key: str,
        attrs: ObjectAttributes | None,
    ) -> CompleteResult:
        def unproven(code: str | None) -> CompleteResult:
            detail = "error document in a 200" if code else "200 without an ETag"
            return CompleteResult(None, 200, None, code, None, "fault", detail)

        return await self._run(
            "copy_object",
            f"{bucket}/{key}",
            lambda: self.inner.copy_object(source, bucket, key, attrs),
            unproven,
        )

    async def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = 1000,
    ) -> UploadsPage:
        return await self._run(
            "list_uploads",
            f"{bucket}/{prefix}/{key_marker}/{upload_id_marker}",
            lambda: self.inner.list_uploads(
                bucket,
                prefix=prefix,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=max_uploads,
            ),
        )

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        token: str | None = None,
        start_after: str | None = None,
        max_keys: int = 1000,
    ) -> ObjectsPage:
        return await self._run(
            "list_objects",
            f"{bucket}/{prefix}/{delimiter}/{token}/{start_after}",
            lambda: self.inner.list_objects(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                token=token,
                start_after=start_after,
                max_keys=max_keys,
            ),
        )

    async def delete_object(self, bucket: str, key: str, version_id: str | None = None) -> None:
        await self._run(
            "delete_object",
            f"{bucket}/{key}",
            lambda: self.inner.delete_object(bucket, key, version_id),
        )

    async def list_buckets(
        self, *, token: str | None = None, max_buckets: int = 1000
    ) -> BucketsPage:
        return await self._run(
            "list_buckets",
            f"/{token}",
            lambda: self.inner.list_buckets(token=token, max_buckets=max_buckets),
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
