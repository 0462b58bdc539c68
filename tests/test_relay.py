"""Relay over the memory store: ranged GET streamed into UploadPart, same job as a copy."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

import anyio
import pytest

from partcopy.engine.budget import BudgetStatistics
from partcopy.engine.copier import Copier
from partcopy.engine.events import Event, PartCompleted
from partcopy.engine.job import Mode
from partcopy.engine.parts import Endpoint
from partcopy.engine.relay import RelayPart, copy_or_relay, etag_is_md5, is_copy_refused
from partcopy.engine.result import CopyResult
from partcopy.errors import ConnectError, PartFailed, ServiceError, SourceChanged, UsageError
from partcopy.planners import RangeTask
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import (
    ObjectAttributes,
    PartResult,
    SSECustomerKey,
    Transport,
)
from partcopy.transports.errormap import service_error
from partcopy.transports.memory import MemoryTransport
from partcopy.units import MiB

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def no_sleep(_: float) -> None:
    await anyio.lowlevel.checkpoint()


def stores(
    data: bytes, *, src_dialect: str = "s3", dst_dialect: str = "cos"
) -> tuple[MemoryStore, MemoryStore, MemoryTransport, MemoryTransport]:
    src, dst = MemoryStore(src_dialect), MemoryStore(dst_dialect)
    src.create_bucket("src-bkt")
    dst.create_bucket("dst-1250000000")
    src.put_object("src-bkt", "big.bin", data)
    return (
        src,
        dst,
        MemoryTransport(src, src_dialect),  # type: ignore[arg-type]
        MemoryTransport(dst, dst_dialect),  # type: ignore[arg-type]
    )


def dst_bytes(store: MemoryStore, key: str = "big.bin") -> bytes:
    content = store.get("dst-1250000000", key).content
    assert content is not None
    return content.read()


class CutGet:
    """A transport whose chosen GETs stop mid-body with a connection reset, once each."""

    def __init__(self, inner: Transport, cut_firsts: set[int], after: int) -> None:
        self.inner = inner
        self.cut = set(cut_firsts)
        self.after = after
        self.gets: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def get_range(
        self, bucket: str, key: str, first: int, last: int, **kw: object
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self._get(bucket, key, first, last, kw)

    @asynccontextmanager
    async def _get(
        self, bucket: str, key: str, first: int, last: int, kw: dict[str, object]
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        self.gets.append(first)
        cut = first in self.cut
        self.cut.discard(first)
        async with self.inner.get_range(bucket, key, first, last, **kw) as chunks:  # type: ignore[arg-type]

            async def body() -> AsyncIterator[bytes]:
                sent = 0
                async for chunk in chunks:
                    if cut and sent + len(chunk) > self.after:
                        yield chunk[: self.after - sent]
                        raise ConnectError("connection reset mid-body", operation="get_range")
                    sent += len(chunk)
                    yield chunk

            yield body()


class WrongEtagOnce:
    """A destination whose first UploadPart of one part answers a wrong ETag."""

    def __init__(self, inner: Transport, part_number: int) -> None:
        self.inner = inner
        self.part_number = part_number
        self.fired = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def upload_part(self, *args: object, **kw: object) -> PartResult:
        result: PartResult = await self.inner.upload_part(*args, **kw)  # type: ignore[arg-type]
        if result.part_number == self.part_number and not self.fired:
            self.fired = True
            return replace(result, etag='"0123456789abcdef0123456789abcdef"')
        return result


class RefusesCopy:
    """A store that will not copy server-side (like GCS or a cross-zone QingStor copy)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def upload_part_copy(self, *args: object, **kw: object) -> PartResult:
        raise service_error(501, "NotImplemented", "copy is not supported", operation="copy")

    async def copy_object(self, *args: object, **kw: object) -> PartResult:
        raise service_error(501, "NotImplemented", "copy is not supported", operation="copy")


async def test_relay_between_dialects_is_byte_identical() -> None:
    data = os.urandom(13 * MiB + 12345)
    _src, dst, src_t, dst_t = stores(data)
    events: list[Event] = []
    async with Copier(
        transport=src_t, dst_transport=dst_t, concurrency=3, sleep=no_sleep, seed=1
    ) as copier:
        result = await copier.copy(
            "s3://src-bkt/big.bin",
            "cos://dst-1250000000/big.bin",
            part_size="2MiB",
            on_event=events.append,
        )
    assert result.mode == "relay" and result.parts == 7 and result.bytes == len(data)
    assert dst_bytes(dst) == data
    stats = dst.stats()
    assert stats.parts_copied == 0 and stats.parts_uploaded == 7 and stats.open_uploads == 0
    assert stats.every_complete_issued
    moved = sum(e.size for e in events if isinstance(e, PartCompleted))
    assert moved == len(data)


async def test_qingstor_numbers_from_zero_and_small_objects_are_one_part() -> None:
    data = os.urandom(9 * MiB)
    src, dst, src_t, dst_t = stores(data, src_dialect="qingstor", dst_dialect="s3")
    src.put_object("src-bkt", "small.bin", b"tiny")
    async with Copier(transport=src_t, dst_transport=dst_t, sleep=no_sleep) as copier:
        big = await copier.copy(
            "qs://src-bkt/big.bin", "s3://dst-1250000000/big.bin", part_size="5MiB"
        )
        small = await copier.copy("qs://src-bkt/small.bin", "s3://dst-1250000000/small.bin")
    assert (big.mode, big.parts, small.mode, small.parts) == ("relay", 2, "relay", 1)
    assert dst_bytes(dst) == data and dst_bytes(dst, "small.bin") == b"tiny"


async def test_an_empty_object_relays_as_one_empty_part() -> None:
    src, dst, src_t, dst_t = stores(b"x" * MiB)
    src.put_object("src-bkt", "dir/", b"")  # a "directory marker", common in migrations
    async with Copier(transport=src_t, dst_transport=dst_t, sleep=no_sleep) as copier:
        result = await copier.copy("s3://src-bkt/dir/", "cos://dst-1250000000/dir/")
    assert (result.mode, result.parts, result.bytes) == ("relay", 1, 0)
    assert dst_bytes(dst, "dir/") == b""
    assert dst.stats().open_uploads == 0


async def test_part_cut_mid_body_is_retried_from_a_fresh_get() -> None:
    data = os.urandom(12 * MiB)
    _src, dst, src_t, dst_t = stores(data)
    cutting = CutGet(src_t, cut_firsts={5 * MiB}, after=MiB + 7)
    async with Copier(
        transport=cutting,  # type: ignore[arg-type]
        dst_transport=dst_t,
        concurrency=2,
        sleep=no_sleep,
    ) as copier:
        result = await copier.copy(
            "s3://src-bkt/big.bin", "cos://dst-1250000000/big.bin", part_size="5MiB"
        )
    assert result.retries == 1 and result.retries_by_reason == {"ConnectionError": 1}
    assert sorted(cutting.gets) == [0, 5 * MiB, 5 * MiB, 10 * MiB]  # part 2 read twice
    assert dst_bytes(dst) == data
    assert dst.stats().parts_uploaded == 3  # the cut attempt stored nothing


async def test_an_etag_that_is_not_the_md5_is_retried() -> None:
    data = os.urandom(11 * MiB)
    _src, dst, src_t, dst_t = stores(data)
    lying = WrongEtagOnce(dst_t, part_number=2)
    async with Copier(
        transport=src_t,
        dst_transport=lying,  # type: ignore[arg-type]
        sleep=no_sleep,
    ) as copier:
        result = await copier.copy(
            "s3://src-bkt/big.bin", "cos://dst-1250000000/big.bin", part_size="5MiB"
        )
    assert lying.fired and result.retries_by_reason == {"NoETag": 1}
    assert dst_bytes(dst) == data


class RecordsMd5:
    """Records the Content-MD5 each UploadPart carried."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.md5s: list[str | None] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def upload_part(self, *args: object, **kw: object) -> PartResult:
        self.md5s.append(kw.get("content_md5"))  # type: ignore[arg-type]
        return await self.inner.upload_part(*args, **kw)  # type: ignore[arg-type,no-any-return]


async def test_buffered_relay_sends_content_md5_when_the_etag_is_not_an_md5() -> None:
    data = os.urandom(6 * MiB + 1)
    _src, dst, src_t, dst_t = stores(data)
    recording = RecordsMd5(dst_t)
    kms = ObjectAttributes(sse="aws:kms")
    assert not etag_is_md5("s3", kms) and etag_is_md5("s3", ObjectAttributes(sse="AES256"))
    assert not etag_is_md5("s3", ObjectAttributes(sse_c=SSECustomerKey(b"k" * 32)))
    async with Copier(
        transport=src_t,
        dst_transport=recording,  # type: ignore[arg-type]
        sleep=no_sleep,
    ) as copier:
        plain = await copier.copy(
            "s3://src-bkt/big.bin", "cos://dst-1250000000/plain.bin", part_size="2MiB"
        )
        assert recording.md5s == [None] * 4  # streamed: the ETag is checked instead
        recording.md5s.clear()
        result = await copier.copy(
            "s3://src-bkt/big.bin", "cos://dst-1250000000/big.bin", part_size="2MiB", attributes=kms
        )
    assert plain.parts == result.parts == 4 and result.mode == "relay"
    chunks = [data[i : i + 2 * MiB] for i in range(0, len(data), 2 * MiB)]
    expected = [base64.b64encode(hashlib.md5(c).digest()).decode() for c in chunks]
    assert sorted(recording.md5s) == sorted(expected)  # type: ignore[type-var]
    assert dst_bytes(dst) == data


class HeldBytes:
    """Counts the bytes a relay holds: from the start of a part's GET to the end of its
    UploadPart, as the buffered relay keeps them; each UploadPart lets every other task run
    first, so every part that may start has started."""

    def __init__(self, src: Transport, dst: Transport) -> None:
        self.src, self.dst = src, dst
        self.held = self.peak = 0

    def source(self) -> Transport:
        outer = self

        class Source:
            def __getattr__(self, name: str) -> object:
                return getattr(outer.src, name)

            @asynccontextmanager
            async def get_range(
                self, bucket: str, key: str, first: int, last: int, **kw: object
            ) -> AsyncIterator[AsyncIterator[bytes]]:
                outer.held += last - first + 1
                outer.peak = max(outer.peak, outer.held)
                async with outer.src.get_range(bucket, key, first, last, **kw) as chunks:  # type: ignore[arg-type]
                    yield chunks

        return Source()  # type: ignore[return-value]

    def destination(self) -> Transport:
        outer = self

        class Destination:
            def __getattr__(self, name: str) -> object:
                return getattr(outer.dst, name)

            async def upload_part(self, *args: object, **kw: object) -> PartResult:
                size = args[5]
                assert isinstance(size, int)
                await anyio.wait_all_tasks_blocked()
                try:
                    return await outer.dst.upload_part(*args, **kw)  # type: ignore[arg-type]
                finally:
                    outer.held -= size

        return Destination()  # type: ignore[return-value]


async def _buffered_relay(
    data: bytes, concurrency: int, relay_buffer: str
) -> tuple[CopyResult, BudgetStatistics, HeldBytes, MemoryStore]:
    """Relay ``data`` in 5 MiB parts to an SSE-KMS destination (parts are buffered): the
    result, the relay buffer's statistics, the bytes held, and the destination store."""
    _src, dst, src_t, dst_t = stores(data)
    held = HeldBytes(src_t, dst_t)
    async with Copier(
        transport=held.source(),
        dst_transport=held.destination(),
        sleep=no_sleep,
        concurrency=concurrency,
        relay_buffer=relay_buffer,
    ) as copier:
        result = await copier.copy(
            "s3://src-bkt/big.bin",
            "cos://dst-1250000000/big.bin",
            part_size="5MiB",
            attributes=ObjectAttributes(sse="aws:kms"),
        )
        return result, copier.relay_buffer.statistics(), held, dst


async def test_a_buffered_relay_holds_at_most_its_relay_buffer() -> None:
    # 8 parts of 5 MiB at concurrency 16 would all be read into memory at once (40 MiB);
    # a 10 MiB relay buffer lets two be held at a time, and the copy is still whole.
    data = os.urandom(40 * MiB)
    result, budget, held, dst = await _buffered_relay(data, 16, "10MiB")
    assert (result.mode, result.parts) == ("relay", 8)
    assert dst_bytes(dst) == data
    assert held.peak == 10 * MiB and held.held == 0
    assert (budget.peak, budget.held, budget.waiting) == (10 * MiB, 0, 0)


async def test_a_part_larger_than_the_relay_buffer_is_held_alone() -> None:
    data = os.urandom(12 * MiB)
    result, _budget, held, dst = await _buffered_relay(data, 4, "1MiB")
    assert (result.mode, result.parts) == ("relay", 3)
    assert dst_bytes(dst) == data
    assert held.peak == 5 * MiB  # one part at a time, never two


async def test_a_relay_buffer_below_one_byte_is_refused() -> None:
    with pytest.raises(UsageError, match="invalid relay buffer 0"):
        Copier(relay_buffer=0)


async def test_relay_part_buffered_rejects_a_short_source() -> None:
    store = MemoryStore("s3")
    store.create_bucket("src-bkt")
    store.put_object("src-bkt", "k", b"x" * 100)
    transport = MemoryTransport(store)
    upload = await transport.create_multipart("src-bkt", "dst", ObjectAttributes())
    endpoint = Endpoint(transport, anyio.CapacityLimiter(1))
    for streamed in (True, False):
        part = RelayPart(endpoint, endpoint, "src-bkt", "k", "src-bkt", "dst", streamed=streamed)
        ok = await part(upload, RangeTask(1, 0, 99))
        assert ok.etag is not None
        with pytest.raises(ServiceError):  # the memory store refuses a range past the end
            await part(upload, RangeTask(1, 100, 199))


async def test_a_changed_source_stops_the_relay_and_aborts() -> None:
    data = os.urandom(11 * MiB)
    src, dst, src_t, dst_t = stores(data)

    class ChangesAfterHead:
        def __init__(self, inner: Transport) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def head(self, *a: object, **kw: object) -> object:
            info = await self.inner.head(*a, **kw)  # type: ignore[arg-type]
            src.put_object("src-bkt", "big.bin", os.urandom(11 * MiB))
            return info

    async with Copier(
        transport=ChangesAfterHead(src_t),  # type: ignore[arg-type]
        dst_transport=dst_t,
        sleep=no_sleep,
    ) as copier:
        with pytest.raises(SourceChanged):
            await copier.copy(
                "s3://src-bkt/big.bin", "cos://dst-1250000000/big.bin", part_size="5MiB"
            )
    assert dst.stats().open_uploads == 0 and not dst.keys("dst-1250000000")


async def test_a_refused_copy_falls_back_to_relay_in_auto_mode_only() -> None:
    data = os.urandom(11 * MiB)
    store = MemoryStore("s3")
    store.create_bucket("src-bkt")
    store.create_bucket("dst-1250000000")
    store.put_object("src-bkt", "big.bin", data)
    refusing = RefusesCopy(MemoryTransport(store))
    async with Copier(transport=refusing, sleep=no_sleep) as copier:  # type: ignore[arg-type]

        async def run(mode: Mode) -> CopyResult:
            return await copier.copy(
                "s3://src-bkt/big.bin", "s3://dst-1250000000/big.bin", part_size="5MiB", mode=mode
            )

        result = await copy_or_relay(run, "auto")
        assert result.mode == "relay" and store.open_uploads() == 0
        store.put_object("src-bkt", "small.bin", b"abc")  # refused as one CopyObject
        small = await copy_or_relay(
            lambda mode: copier.copy(
                "s3://src-bkt/small.bin", "s3://dst-1250000000/small.bin", mode=mode
            )
        )
        assert (small.mode, small.parts) == ("relay", 1)
        with pytest.raises(PartFailed) as info:
            await copy_or_relay(run, "copy")
        assert is_copy_refused(info.value)
    assert dst_bytes(store) == data
    assert not is_copy_refused(ConnectError("reset"))


async def test_an_empty_part_is_uploaded_without_a_get() -> None:
    store = MemoryStore("s3")
    store.create_bucket("bkt")
    transport = MemoryTransport(store)
    upload = await transport.create_multipart("bkt", "empty", ObjectAttributes())
    endpoint = Endpoint(transport, anyio.CapacityLimiter(1))
    part = RelayPart(endpoint, endpoint, "bkt", "no-such-source", "bkt", "empty")
    result = await part(upload, RangeTask(1, 0, -1))
    assert result.etag == f'"{hashlib.md5(b"").hexdigest()}"'
    assert store.stats().parts_uploaded == 1
