"""The engine over the memory store: lifecycle, verification, abort, cancellation, events."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from partcopy import Copier, CopyResult
from partcopy.engine.events import (
    Completed,
    Event,
    Failed,
    PartCompleted,
    PartRetried,
    PartStarted,
    Planned,
)
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import (
    AbortFailed,
    PartFailed,
    SourceChanged,
    VerificationFailed,
)
from partcopy.logs import capture_events
from partcopy.store.memory import MemoryStore, StoreError
from partcopy.transports.base import ObjectAttributes, ObjectInfo, SSECustomerKey
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.memory import MemoryTransport
from partcopy.units import GiB, MiB

SRC = "s3://src-bkt/obj"
DST = "s3://dst-bkt/obj"


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    return anyio.run(fn)


def new_store() -> MemoryStore:
    store = MemoryStore(seed=1)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    return store


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def fast_retry(attempts: int = 10) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, initial=0.01, cap=0.05)


def copier(transport: Any, **kwargs: Any) -> Copier:
    kwargs.setdefault("sleep", no_sleep)
    kwargs.setdefault("retry", fast_retry())
    kwargs.setdefault("seed", 3)
    return Copier(transport=transport, **kwargs)


def dst_bytes(store: MemoryStore, key: str = "obj") -> bytes:
    content = store.get("dst-bkt", key).content
    assert content is not None
    return content.read()


def test_multipart_copy_keeps_bytes_metadata_and_composite_etag() -> None:
    store = new_store()
    data = os.urandom(37 * MiB)
    attrs = ObjectAttributes(
        content_type="application/x-test",
        cache_control="max-age=60",
        metadata={"owner": "alice", "purpose": "test"},
        storage_class="STANDARD_IA",
    )
    store.put_object("src-bkt", "obj", data, attrs)

    async def main() -> CopyResult:
        async with copier(MemoryTransport(store)) as c:
            return await c.copy(SRC, DST, part_size="5MiB")

    result = run(main)
    assert dst_bytes(store) == data
    copied = store.get("dst-bkt", "obj").attrs
    assert copied.content_type == "application/x-test"
    assert copied.cache_control == "max-age=60"
    assert dict(copied.metadata) == {"owner": "alice", "purpose": "test"}
    assert copied.storage_class == "STANDARD_IA"
    assert result.etag is not None and result.etag.strip('"').endswith("-8")
    assert (result.parts, result.part_size, result.mode) == (8, 5 * MiB, "copy")
    assert result.bytes == 37 * MiB and result.retries == 0
    # The composite ETag is md5 of the binary part md5s, "-8".
    digests = b"".join(
        hashlib.md5(data[i : i + 5 * MiB]).digest() for i in range(0, len(data), 5 * MiB)
    )
    assert result.etag.strip('"') == hashlib.md5(digests).hexdigest() + "-8"
    assert store.open_uploads() == 0
    assert store.stats().every_complete_issued


@pytest.mark.parametrize(
    ("size", "mode", "parts"),
    [
        (0, "single", 0),
        (1, "single", 1),
        (5 * MiB - 1, "single", 1),
        (5 * MiB, "single", 1),
        (5 * MiB + 1, "copy", 2),
    ],
)
def test_edge_sizes_copy_correctly(size: int, mode: str, parts: int) -> None:
    store = new_store()
    data = os.urandom(size)
    store.put_object("src-bkt", "obj", data, ObjectAttributes(content_type="text/plain"))

    async def main() -> CopyResult:
        async with copier(MemoryTransport(store)) as c:
            return await c.copy(SRC, DST, part_size="5MiB")

    result = run(main)
    assert (result.mode, result.parts, result.bytes) == (mode, parts, size)
    assert dst_bytes(store) == data
    assert store.get("dst-bkt", "obj").attrs.content_type == "text/plain"
    assert store.open_uploads() == 0


def test_object_needing_more_than_10000_parts_at_the_requested_size() -> None:
    store = new_store()
    size = 10_000 * 5 * MiB + 12345  # 10001 parts at 5 MiB: the planner must grow the part
    store.put_virtual("src-bkt", "obj", size)

    async def main() -> CopyResult:
        async with copier(MemoryTransport(store), concurrency=32) as c:
            return await c.copy(SRC, DST, part_size="5MiB")

    result = run(main)
    assert result.parts <= 10_000 and result.part_size > 5 * MiB
    assert result.bytes == size
    src = store.get("src-bkt", "obj").content
    dst = store.get("dst-bkt", "obj").content
    assert src is not None and dst is not None and dst.size == size
    for first in (0, 5 * MiB - 3, size // 2, size - 4096):
        assert dst.read(first, first + 4095) == src.read(first, first + 4095)
    assert store.open_uploads() == 0


def test_fault_mix_twenty_copies_all_complete_with_only_issued_etags() -> None:
    store = new_store()
    for i in range(20):
        store.put_virtual("src-bkt", f"obj{i}", GiB)
    part_ops = frozenset({"upload_part_copy"})
    answer_ops = frozenset({"upload_part_copy", "complete"})
    faults = [
        Fault("slowdown", 0.05, ops=answer_ops),
        Fault("noetag", 0.02, ops=answer_ops),
        Fault("error200", 0.02, ops=answer_ops),
        Fault("reset", 0.01, ops=part_ops),
        Fault("delay", 0.01, arg=2.0, ops=part_ops),
    ]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        await anyio.lowlevel.checkpoint()

    transport = FaultyTransport(MemoryTransport(store), faults, seed=11, sleep=fake_sleep)
    results: list[CopyResult] = []

    async def one(c: Copier, i: int) -> None:
        results.append(
            await c.copy(f"s3://src-bkt/obj{i}", f"s3://dst-bkt/obj{i}", part_size="8MiB")
        )

    async def main() -> None:
        async with copier(transport, concurrency=16) as c, anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(one, c, i)

    run(main)
    assert len(results) == 20
    assert all(r.parts == 128 and r.bytes == GiB for r in results)
    stats = store.stats()
    assert len(stats.completes) >= 20
    assert stats.every_complete_issued
    assert stats.open_uploads == 0
    assert set(transport.fired) == {"slowdown", "noetag", "error200", "reset", "delay"}
    reasons: dict[str, int] = {}
    for r in results:
        for reason, n in r.retries_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + n
    assert {"SlowDown", "NoETag", "ErrorBody:InternalError", "ConnectionError"} <= set(reasons)
    assert sum(r.retries for r in results) == sum(reasons.values())
    assert 2.0 in slept  # the injected delay went through the fake sleep, not the clock
    for i in range(20):
        assert store.get("dst-bkt", f"obj{i}").size == GiB


def test_source_overwritten_mid_copy_aborts_and_raises_source_changed() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 100 * MiB)
    done = 0

    def on_event(event: Event) -> None:
        nonlocal done
        if isinstance(event, PartCompleted):
            done += 1
            if done == 3:
                store.put_virtual("src-bkt", "obj", 100 * MiB)  # new bytes, new ETag

    async def main() -> None:
        async with copier(MemoryTransport(store), concurrency=2, on_event=on_event) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(SourceChanged) as caught:
        run(main)
    assert caught.value.upload_id is None  # aborted, nothing left open
    assert store.open_uploads() == 0
    with pytest.raises(StoreError):
        store.get("dst-bkt", "obj")


def test_part_failure_aborts_the_upload() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 20 * MiB)
    transport = FaultyTransport(MemoryTransport(store), [Fault("500", 1.0)])

    async def main() -> None:
        async with copier(transport, retry=fast_retry(3)) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(PartFailed) as caught:
        run(main)
    assert caught.value.attempts == 3
    assert store.open_uploads() == 0


def test_failed_abort_carries_the_upload_id() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 20 * MiB)
    faults = [Fault("slowdown", 1.0), Fault("500", 1.0, ops=frozenset({"abort"}))]
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def main() -> None:
        async with copier(transport, retry=fast_retry(2)) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(AbortFailed) as caught:
        run(main)
    uploads, _ = store.list_uploads("dst-bkt")
    assert [u.upload_id for u in uploads] == [caught.value.upload_id]
    assert caught.value.upload_id is not None and caught.value.upload_id in str(caught.value)
    assert isinstance(caught.value.__cause__, PartFailed)


class _PausingTransport(MemoryTransport):
    """Memory transport whose part copies yield to the scheduler, so others overlap."""

    in_flight = 0
    peak = 0

    async def upload_part_copy(self, *args: Any, **kwargs: Any) -> Any:
        type(self).in_flight += 1
        type(self).peak = max(type(self).peak, type(self).in_flight)
        try:
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
            return await super().upload_part_copy(*args, **kwargs)
        finally:
            type(self).in_flight -= 1


@pytest.mark.parametrize("abort_on_cancel", [True, False])
def test_cancelling_a_running_copy(abort_on_cancel: bool) -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 200 * MiB)
    seen: list[Event] = []
    scopes: list[anyio.CancelScope] = []

    def on_event(event: Event) -> None:
        seen.append(event)
        if sum(isinstance(e, PartCompleted) for e in seen) == 5:
            scopes[0].cancel()

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with copier(
                _PausingTransport(store),
                concurrency=4,
                on_event=on_event,
                abort_on_cancel=abort_on_cancel,
            ) as c:
                await c.copy(SRC, DST, part_size="5MiB")

    run(main)
    assert scopes[0].cancelled_caught
    assert sum(isinstance(e, PartCompleted) for e in seen) < 40
    assert store.open_uploads() == (0 if abort_on_cancel else 1)
    with pytest.raises(StoreError):
        store.get("dst-bkt", "obj")


def test_capacity_limit_is_shared_by_all_jobs_of_a_copier() -> None:
    store = new_store()
    for i in range(3):
        store.put_virtual("src-bkt", f"obj{i}", 60 * MiB)
    _PausingTransport.peak = 0

    async def main() -> None:
        async with (
            copier(_PausingTransport(store), concurrency=5) as c,
            anyio.create_task_group() as tg,
        ):
            for i in range(3):
                tg.start_soon(
                    lambda i=i: c.copy(
                        f"s3://src-bkt/obj{i}", f"s3://dst-bkt/obj{i}", part_size="5MiB"
                    )
                )

    run(main)
    assert _PausingTransport.peak == 5
    assert store.open_uploads() == 0


class _LyingHead(MemoryTransport):
    """Reports one byte less for the destination: the verifier must notice."""

    async def head(self, bucket: str, key: str, **kwargs: Any) -> ObjectInfo:
        info = await super().head(bucket, key, **kwargs)
        if bucket == "dst-bkt":
            return ObjectInfo(info.bucket, info.key, info.size - 1, info.etag)
        return info


def test_destination_size_mismatch_is_verification_failed() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 12 * MiB)

    async def main() -> None:
        async with copier(_LyingHead(store)) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(VerificationFailed, match="bytes"):
        run(main)


def test_events_tell_the_whole_story_with_one_job_id() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 23 * MiB)
    events: list[Event] = []
    transport = FaultyTransport(MemoryTransport(store), [Fault("slowdown", 1.0, limit=2)], seed=5)

    async def main() -> CopyResult:
        async with copier(transport, on_event=events.append) as c:
            return await c.copy(SRC, DST, part_size="5MiB")

    result = run(main)
    assert isinstance(events[0], Planned) and events[0].part_count == 5
    assert isinstance(events[-1], Completed) and events[-1].etag == result.etag
    assert sum(isinstance(e, PartStarted) for e in events) == 5
    assert sum(isinstance(e, PartCompleted) for e in events) == 5
    retried = [e for e in events if isinstance(e, PartRetried)]
    assert [e.reason for e in retried] == ["SlowDown", "SlowDown"]
    assert result.retries == 2 and result.retries_by_reason == {"SlowDown": 2}
    assert {e.job_id for e in events} == {result.job_id}
    assert not any(isinstance(e, Failed) for e in events)


def test_failed_event_and_logs_carry_job_id_and_part_number_but_no_secret() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 12 * MiB)
    secret_key = SSECustomerKey(b"k" * 32)
    events: list[Event] = []
    transport = FaultyTransport(MemoryTransport(store), [Fault("slowdown", 1.0)])

    async def main() -> None:
        async with copier(transport, retry=fast_retry(2), on_event=events.append) as c:
            await c.copy(SRC, DST, part_size="5MiB", destination_sse_c=secret_key)

    with (
        capture_events() as logs,
        pytest.raises(PartFailed),
    ):
        run(main)
    failed = [e for e in events if isinstance(e, Failed)]
    assert len(failed) == 1 and failed[0].error_type == "PartFailed"
    retries = [entry for entry in logs if entry["event"] == "retry"]
    assert retries and all(entry["job_id"] == failed[0].job_id for entry in retries)
    assert {entry["part_number"] for entry in retries} <= {1, 2, 3}
    text = repr(logs) + repr(events)
    assert secret_key.key_b64 not in text and "kkkk" not in text


def test_one_shot_copy_convenience() -> None:
    import partcopy

    store = new_store()
    data = os.urandom(6 * MiB)
    store.put_object("src-bkt", "obj", data)

    async def main() -> CopyResult:
        return await partcopy.copy(
            SRC, DST, part_size="5MiB", transport=MemoryTransport(store), retry=fast_retry()
        )

    result = run(main)
    assert (result.parts, result.bytes) == (2, 6 * MiB) and dst_bytes(store) == data


class _Recorder:
    """Job hooks that write down every transition, as a journal would."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def on_planned(self, job: Any) -> None:
        self.calls.append(("planned", job.plan.part_count, job.source_info.etag))

    async def on_upload_created(self, upload_id: str) -> None:
        self.calls.append(("created", upload_id))

    async def on_part_done(self, part_number: int, etag: str, size: int) -> None:
        self.calls.append(("part", part_number, etag, size))

    async def on_completed(self, result: CopyResult) -> None:
        self.calls.append(("completed", result.etag))

    async def on_failed(self, error: BaseException, upload_id: str | None) -> None:
        self.calls.append(("failed", type(error).__name__, upload_id))


def test_hooks_see_every_transition_in_order() -> None:
    store = new_store()
    store.put_virtual("src-bkt", "obj", 12 * MiB)
    hooks = _Recorder()

    async def main() -> CopyResult:
        async with copier(MemoryTransport(store)) as c:
            return await c.copy(SRC, DST, part_size="5MiB", hooks=hooks)

    result = run(main)
    kinds = [call[0] for call in hooks.calls]
    assert kinds == ["planned", "created", "part", "part", "part", "completed"]
    assert hooks.calls[1][1] == result.upload_id
    assert sorted(call[1] for call in hooks.calls if call[0] == "part") == [1, 2, 3]
    assert sum(call[3] for call in hooks.calls if call[0] == "part") == 12 * MiB
