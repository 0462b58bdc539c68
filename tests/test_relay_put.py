"""A relayed object that fits one request is one PutObject: one GET of the source pinned to
its ETag streamed into one PUT carrying the destination's attributes, proven by the MD5 of
the bytes relayed (or Content-MD5 and a HEAD where ETags are not MD5s). Counted with the
emulator's per-operation counters, in several dialect pairs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from partcopy.emulator import EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.engine.fidelity import FidelityOptions
from partcopy.engine.verify import Verification
from partcopy.errors import SourceChanged, UsageError, VerificationFailed
from partcopy.store.memory import MemoryStore, StoreError
from partcopy.transports.base import ObjectAttributes, Transport
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.memory import MemoryTransport
from test_relay_emulator import BUCKETS, env, url

StartEmulator = Callable[..., EmulatorThread]
BODY = b"relayed in one request " * 300
ATTRS = ObjectAttributes(
    content_type="text/x-relay", metadata={"colour": "blue"}, tagging="team=data&tier=hot"
)


async def no_sleep(_: float) -> None:
    return None


def ops_of(emu: EmulatorThread) -> dict[str, int]:
    return dict(emu.call(emu.emulator.stats).ops)


def emulators(
    start: StartEmulator, src_dialect: str, dst_dialect: str, **dst_kwargs: Any
) -> tuple[EmulatorThread, EmulatorThread, MemoryStore]:
    src_store, dst_store = MemoryStore(src_dialect), MemoryStore(dst_dialect)
    src_store.create_bucket(BUCKETS[src_dialect])
    dst_store.create_bucket(BUCKETS[dst_dialect])
    src_store.put_object(BUCKETS[src_dialect], "small.txt", BODY, ATTRS)
    src_store.put_object(BUCKETS[src_dialect], "empty", b"", ATTRS)
    src = start(dialect=src_dialect, store=src_store)
    dst = start(dialect=dst_dialect, store=dst_store, **dst_kwargs)
    return src, dst, dst_store


async def relay(src: EmulatorThread, dst: EmulatorThread, s: str, d: str, key: str) -> Any:
    async with Copier(
        endpoint_url=src.url, dst_endpoint_url=dst.url, env=env(), sleep=no_sleep
    ) as copier:
        return await copier.copy(url(s, key), url(d, key))


@pytest.mark.parametrize(
    ("src_dialect", "dst_dialect"), [("s3", "obs"), ("cos", "qingstor"), ("s3", "cos")]
)
def test_a_small_object_is_one_get_and_one_put(
    emulator_thread: StartEmulator, src_dialect: str, dst_dialect: str
) -> None:
    src, dst, dst_store = emulators(emulator_thread, src_dialect, dst_dialect)
    result = anyio.run(relay, src, dst, src_dialect, dst_dialect, "small.txt")
    assert (result.mode, result.parts, result.bytes) == ("relay", 1, len(BODY))
    assert result.verification == Verification.SOURCE_MD5
    assert result.etag.strip('"') == hashlib.md5(BODY).hexdigest()  # plain: no "-1"
    stored = dst_store.get(BUCKETS[dst_dialect], "small.txt")
    assert stored.content is not None and stored.content.read() == BODY
    assert stored.attrs.content_type == "text/x-relay"
    assert dict(stored.attrs.metadata) == {"colour": "blue"}
    src_ops, dst_ops = ops_of(src), ops_of(dst)
    carries_tags = dst_dialect == "cos"  # obs and qingstor rows carry no tags
    if carries_tags:
        assert stored.attrs.tagging == "team=data&tier=hot"
        assert src_ops.pop("get_tagging") == 1  # the tags a PUT carries are read first
    assert src_ops == {"head": 1, "get": 1}
    assert dst_ops == {"put": 1}  # no Create, UploadPart, Complete or HEAD


def test_an_empty_object_is_one_put_without_a_get(emulator_thread: StartEmulator) -> None:
    src, dst, dst_store = emulators(emulator_thread, "cos", "qingstor")
    result = anyio.run(relay, src, dst, "cos", "qingstor", "empty")
    assert (result.mode, result.parts, result.bytes) == ("relay", 1, 0)
    assert result.etag.strip('"') == hashlib.md5(b"").hexdigest()
    stored = dst_store.get(BUCKETS["qingstor"], "empty")
    assert stored.size == 0 and stored.attrs.content_type == "text/x-relay"
    assert ops_of(src) == {"head": 1} and ops_of(dst) == {"put": 1}


def test_a_put_answered_without_an_etag_is_retried(emulator_thread: StartEmulator) -> None:
    src, dst, dst_store = emulators(emulator_thread, "s3", "obs", faults=["noetag:1@put#1"])
    result = anyio.run(relay, src, dst, "s3", "obs", "small.txt")
    assert result.retries == 1 and result.verification == Verification.SOURCE_MD5
    assert dst_store.get(BUCKETS["obs"], "small.txt").content.read() == BODY  # type: ignore[union-attr]
    assert ops_of(src)["get"] == 2 and ops_of(dst) == {"put": 2}  # a fresh GET per attempt


def test_a_source_changed_after_its_head_is_source_changed(
    emulator_thread: StartEmulator,
) -> None:
    src, dst, dst_store = emulators(emulator_thread, "s3", "qingstor")

    class ChangesAfterHead:
        def __init__(self, inner: Transport) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def head(self, *a: Any, **kw: Any) -> object:
            info = await self.inner.head(*a, **kw)
            src.call(lambda: src.emulator.store.put_object("bkt", "small.txt", b"changed"))
            return info

    async def main() -> None:
        from partcopy.engine.copier import _default_factory

        def factory(config: Any, session: Any) -> Any:
            made = _default_factory(config, session)
            return ChangesAfterHead(made) if config.dialect == "s3" else made

        async with Copier(
            endpoint_url=src.url,
            dst_endpoint_url=dst.url,
            env=env(),
            sleep=no_sleep,
            transport_factory=factory,
        ) as copier:
            await copier.copy(url("s3", "small.txt"), url("qingstor", "small.txt"))

    with pytest.raises(SourceChanged):
        anyio.run(main)
    assert ops_of(dst).get("put", 0) == 0  # the If-Match GET failed before any write
    with pytest.raises(StoreError):  # NoSuchKey: nothing was written
        dst_store.get(BUCKETS["qingstor"], "small.txt")


def memory_pair() -> tuple[MemoryStore, MemoryStore, MemoryTransport, MemoryTransport]:
    src, dst = MemoryStore("s3"), MemoryStore("s3")
    src.create_bucket("src")
    dst.create_bucket("dst")
    src.put_object("src", "small", BODY, ATTRS)
    return src, dst, MemoryTransport(src, "s3"), MemoryTransport(dst, "s3")


async def copy_memory(src_t: Transport, dst_t: Transport, **kwargs: Any) -> Any:
    async with Copier(transport=src_t, dst_transport=dst_t, sleep=no_sleep, seed=1) as copier:
        return await copier.copy("s3://src/small", "s3://dst/small", mode="relay", **kwargs)


@pytest.mark.anyio
async def test_a_put_whose_etag_is_not_the_md5_is_retried() -> None:
    _, dst, src_t, dst_t = memory_pair()

    class WrongEtagOnce:
        def __init__(self, inner: Transport) -> None:
            self.inner, self.calls = inner, 0

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def put_object(self, *a: Any, **kw: Any) -> Any:
            result = await self.inner.put_object(*a, **kw)
            self.calls += 1
            return result if self.calls > 1 else type(result)('"' + "0" * 32 + '"', 200)

    wrapped = WrongEtagOnce(dst_t)
    result = await copy_memory(src_t, wrapped)  # type: ignore[arg-type]
    assert wrapped.calls == 2 and result.retries == 1
    assert dst.stats().open_uploads == 0 and dst.stats().parts_uploaded == 0


@pytest.mark.anyio
async def test_faulty_transport_noetag_applies_to_put_object() -> None:
    _, _, src_t, dst_t = memory_pair()
    faulty = FaultyTransport(dst_t, [Fault("noetag", 1.0, ops=frozenset({"put_object"}), limit=2)])
    result = await copy_memory(src_t, faulty)
    assert faulty.fired == {"noetag": 2} and result.retries == 2


@pytest.mark.anyio
async def test_sse_kms_destination_sends_content_md5_and_heads_the_copy() -> None:
    _, dst, src_t, dst_t = memory_pair()
    sent: list[str | None] = []

    class Records:
        def __init__(self, inner: Transport) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def put_object(self, *a: Any, **kw: Any) -> Any:
            sent.append(kw.get("content_md5"))
            return await self.inner.put_object(*a, **kw)

    result = await copy_memory(src_t, Records(dst_t), fidelity=FidelityOptions(sse="aws:kms"))  # type: ignore[arg-type]
    assert result.verification == Verification.ETAG_SIZE and result.parts == 1
    assert sent and sent[0] is not None  # buffered: the store checks the bytes' MD5
    assert dst.get("dst", "small").attrs.sse == "aws:kms"


@pytest.mark.anyio
async def test_an_asked_checksum_keeps_the_one_part_upload() -> None:
    _, dst, src_t, dst_t = memory_pair()
    result = await copy_memory(src_t, dst_t, fidelity=FidelityOptions(checksum="crc32"))
    assert result.verification == Verification.CHECKSUM and result.parts == 1
    assert dst.stats().parts_uploaded == 1  # Create + UploadPart + Complete, as before


def test_a_recursive_relay_of_small_objects_is_three_requests_each(
    emulator_thread: StartEmulator,
) -> None:
    src_store, dst_store = MemoryStore("s3"), MemoryStore("obs")
    src_store.create_bucket("bkt")
    dst_store.create_bucket("bkt")
    count = 30
    for i in range(count):
        src_store.put_object("bkt", f"many/{i:03}", BODY + bytes([i]), ATTRS)
    src = emulator_thread(dialect="s3", store=src_store)
    dst = emulator_thread(dialect="obs", store=dst_store)

    async def main() -> Any:
        async with Copier(
            endpoint_url=src.url, dst_endpoint_url=dst.url, env=env(), concurrency=8
        ) as copier:
            return await copier.copy_prefix("s3://bkt/many/", "obs://bkt/copy/")

    summary = anyio.run(main)
    assert (summary.ok, summary.failed, dict(summary.modes)) == (count, 0, {"relay": count})
    src_ops, dst_ops = ops_of(src), ops_of(dst)
    assert src_ops.pop("list_objects") == 1
    # The listing gives size and ETag but not Content-Type or metadata, which a PUT must
    # carry (a CopyObject keeps them itself): one HEAD, then one GET and one PUT.
    assert src_ops == {"head": count, "get": count}
    assert dst_ops == {"put": count}
    for i in range(count):
        stored = dst_store.get("bkt", f"copy/{i:03}")
        assert stored.content is not None and stored.content.read() == BODY + bytes([i])
        assert stored.attrs.content_type == "text/x-relay"


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzip-bytes", "plain-bytes"])
def test_a_content_encoded_object_arrives_as_the_bytes_it_is(
    emulator_thread: StartEmulator, gzipped: bool
) -> None:
    """Content-Encoding: gzip is the object's metadata: the PUT's body is stored as sent
    (the store unpacks nothing), whether or not the bytes really are gzip."""
    import gzip

    body = gzip.compress(BODY) if gzipped else BODY
    encoded = ObjectAttributes(content_type="application/json", content_encoding="gzip")
    src_store, dst_store = MemoryStore("s3"), MemoryStore("obs")
    src_store.create_bucket(BUCKETS["s3"])
    dst_store.create_bucket(BUCKETS["obs"])
    src_store.put_object(BUCKETS["s3"], "enc.json", body, encoded)
    src = emulator_thread(dialect="s3", store=src_store)
    dst = emulator_thread(dialect="obs", store=dst_store)
    result = anyio.run(relay, src, dst, "s3", "obs", "enc.json")
    assert result.verification == Verification.SOURCE_MD5
    stored = dst_store.get(BUCKETS["obs"], "enc.json")
    assert stored.content is not None and stored.content.read() == body
    assert stored.attrs.content_encoding == "gzip"


def test_an_encrypted_source_goes_to_a_store_without_sse_only_when_told(
    emulator_thread: StartEmulator,
) -> None:
    """cos (SSE-S3 source) -> qingstor, which has no server-side encryption: refused before
    any write, naming --sse none; with it, the copy is made unencrypted."""
    src_store, dst_store = MemoryStore("cos"), MemoryStore("qingstor")
    src_store.create_bucket(BUCKETS["cos"])
    dst_store.create_bucket(BUCKETS["qingstor"])
    src_store.put_object(BUCKETS["cos"], "sealed", BODY, ObjectAttributes(sse="AES256"))
    src = emulator_thread(dialect="cos", store=src_store)
    dst = emulator_thread(dialect="qingstor", store=dst_store)

    async def copy(fidelity: FidelityOptions | None) -> Any:
        async with Copier(
            endpoint_url=src.url, dst_endpoint_url=dst.url, env=env(), sleep=no_sleep
        ) as copier:
            return await copier.copy(
                url("cos", "sealed"), url("qingstor", "sealed"), fidelity=fidelity
            )

    with pytest.raises(UsageError, match="--sse none"):
        anyio.run(copy, None)
    assert ops_of(dst).get("put", 0) == 0
    result = anyio.run(copy, FidelityOptions(sse="none"))
    assert result.bytes == len(BODY)
    stored = dst_store.get(BUCKETS["qingstor"], "sealed")
    assert stored.content is not None and stored.content.read() == BODY
    assert stored.attrs.sse is None


@pytest.mark.anyio
async def test_a_put_never_proven_leaves_no_object_behind() -> None:
    """Every PUT is answered 200 with another ETag than the MD5 of the bytes relayed (a
    store that changed them): the copy fails, and what the PUT stored is deleted, as a
    proven-wrong multipart copy is."""
    _, dst, src_t, dst_t = memory_pair()

    class AlwaysWrong:
        def __init__(self, inner: Transport) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def put_object(self, *a: Any, **kw: Any) -> Any:
            result = await self.inner.put_object(*a, **kw)  # stored: then the answer lies
            return type(result)('"' + "0" * 32 + '"', 200)

    with pytest.raises(VerificationFailed, match="the destination was deleted"):
        await copy_memory(src_t, AlwaysWrong(dst_t))  # type: ignore[arg-type]
    assert "small" not in dst.keys("dst")
