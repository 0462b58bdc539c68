"""The four HTTP transports end to end against the emulator (signatures checked by it).

Every dialect runs the same scenarios; the dialect table below holds only what differs
(bucket names with a COS appid, QingStor's 0-based part numbers and 201 answers).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator
from partcopy.errors import ConnectError, PreconditionFailed, ServiceError
from partcopy.transports import make_transport
from partcopy.transports.base import CopySource, ObjectAttributes, SSECustomerKey
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.signing import Credentials

MiB = 1 << 20
CREDS = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)


@dataclass(frozen=True)
class Case:
    dialect: str
    src: str
    dst: str
    first_part: int
    ok: int  # status of a successful copy part / complete


CASES = [
    Case("s3", "src-bkt", "dst-bkt", 1, 200),
    Case("obs", "src-bkt", "dst-bkt", 1, 200),
    Case("cos", "src-1250000000", "dst-1250000000", 1, 200),
    Case("qingstor", "src-bkt", "dst-bkt", 0, 201),
]
by_dialect = pytest.mark.parametrize("case", CASES, ids=[c.dialect for c in CASES])


@asynccontextmanager
async def emulated(
    case: Case, creds: Credentials = CREDS
) -> AsyncIterator[tuple[Emulator, HttpTransport]]:
    async with Emulator(case.dialect, objects=[f"{case.src}/big.bin=11MiB"]) as emu:
        emu.store.create_bucket(case.dst)
        transport = make_transport(case.dialect, emu.url, "ap-test-1", creds)  # type: ignore[arg-type]
        assert isinstance(transport, HttpTransport)
        try:
            yield emu, transport
        finally:
            await transport.aclose()


def run(case: Case, body: Callable[[Emulator, HttpTransport], Awaitable[None]]) -> None:
    async def main() -> None:
        async with emulated(case) as (emu, t):
            await body(emu, t)

    asyncio.run(main())


async def read(t: HttpTransport, bucket: str, key: str, first: int, last: int) -> bytes:
    async with t.get_range(bucket, key, first, last) as chunks:
        return b"".join([c async for c in chunks])


RANGES = [(0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1), (10 * MiB, 11 * MiB - 1)]


@by_dialect
def test_multipart_copy_round_trip(case: Case) -> None:
    async def body(emu: Emulator, t: HttpTransport) -> None:
        src = await t.head(case.src, "big.bin")
        assert src.size == 11 * MiB and src.etag
        attrs = ObjectAttributes(content_type="application/x-part", metadata={"team": "data"})
        upload_id = await t.create_multipart(case.dst, "out/a b+c.bin", attrs)
        source = CopySource(case.src, "big.bin", if_match=src.etag)
        results = await asyncio.gather(
            *(
                t.upload_part_copy(
                    case.dst, "out/a b+c.bin", upload_id, case.first_part + i, source, a, b
                )
                for i, (a, b) in enumerate(RANGES)
            )
        )
        assert [r.status for r in results] == [case.ok] * 3
        assert all(r.etag and r.error_code is None for r in results)
        first = await t.list_parts(case.dst, "out/a b+c.bin", upload_id, max_parts=2)
        rest = await t.list_parts(
            case.dst, "out/a b+c.bin", upload_id, marker=first.next_marker, max_parts=2
        )
        listed = first.parts + rest.parts
        assert [p.part_number for p in listed] == [r.part_number for r in results]
        assert [p.etag for p in listed] == [r.etag for r in results]
        assert first.is_truncated and not rest.is_truncated
        uploads = await t.list_uploads(case.dst)
        assert [u.upload_id for u in uploads.uploads] == [upload_id]
        done = await t.complete(
            case.dst, "out/a b+c.bin", upload_id, [(r.part_number, r.etag or "") for r in results]
        )
        assert done.status == case.ok and done.etag and done.error_code is None
        info = await t.head(case.dst, "out/a b+c.bin")
        assert (info.size, info.parts_count) == (11 * MiB, 3)
        assert info.attributes.content_type == "application/x-part"
        assert dict(info.attributes.metadata) == {"team": "data"}
        copied = await read(t, case.dst, "out/a b+c.bin", 0, 11 * MiB - 1)
        original = await read(t, case.src, "big.bin", 0, 11 * MiB - 1)
        assert hashlib.sha256(copied).digest() == hashlib.sha256(original).digest()

    run(case, body)


@by_dialect
def test_upload_part_relay_and_abort(case: Case) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"r" * MiB

    async def body(emu: Emulator, t: HttpTransport) -> None:
        upload_id = await t.create_multipart(case.dst, "relay.bin", ObjectAttributes())
        r = await t.upload_part(
            case.dst, "relay.bin", upload_id, case.first_part, chunks(), 5 * MiB
        )
        assert r.etag == '"' + hashlib.md5(b"r" * 5 * MiB).hexdigest() + '"'
        await t.abort(case.dst, "relay.bin", upload_id)
        assert (await t.list_uploads(case.dst)).uploads == ()
        with pytest.raises(ServiceError) as gone:
            await t.list_parts(case.dst, "relay.bin", upload_id)
        assert gone.value.status == 404 and not gone.value.retryable

    run(case, body)


@by_dialect
def test_single_copy_replaces_attributes(case: Case) -> None:
    async def body(emu: Emulator, t: HttpTransport) -> None:
        attrs = ObjectAttributes(content_type="text/x-new", metadata={"k": "v"})
        result = await t.copy_object(CopySource(case.src, "big.bin"), case.dst, "one", attrs)
        assert result.etag == (await t.head(case.src, "big.bin")).etag
        info = await t.head(case.dst, "one")
        assert info.attributes.content_type == "text/x-new"
        assert dict(info.attributes.metadata) == {"k": "v"}

    run(case, body)


@by_dialect
def test_errors_map_onto_the_error_tree(case: Case) -> None:
    async def body(emu: Emulator, t: HttpTransport) -> None:
        upload_id = await t.create_multipart(case.dst, "e", ObjectAttributes())
        n = case.first_part
        stale = CopySource(case.src, "big.bin", if_match='"00000000000000000000000000000000"')
        with pytest.raises(PreconditionFailed) as pinned:
            await t.upload_part_copy(case.dst, "e", upload_id, n, stale, 0, MiB - 1)
        assert pinned.value.status == 412 and not pinned.value.retryable
        with pytest.raises(ServiceError) as missing:
            await t.upload_part_copy(
                case.dst, "e", upload_id, n, CopySource(case.src, "nope"), 0, MiB - 1
            )
        assert missing.value.status == 404 and missing.value.code
        with pytest.raises(ServiceError) as no_upload:
            await t.upload_part_copy(
                case.dst, "e", "no-such-upload", n, CopySource(case.src, "big.bin"), 0, MiB - 1
            )
        assert no_upload.value.status == 404 and no_upload.value.code
        with pytest.raises(ServiceError) as head:
            await t.head(case.src, "nope")
        assert head.value.status == 404

    run(case, body)


@by_dialect
def test_a_wrong_secret_is_refused_by_the_signature_check(case: Case) -> None:
    async def main() -> None:
        async with emulated(case, Credentials(DEFAULT_ACCESS_KEY, "not-the-secret")) as (_, t):
            with pytest.raises(ServiceError) as info:
                await t.head(case.src, "big.bin")
            assert info.value.status == 403

    asyncio.run(main())


@by_dialect
@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        ("noetag:1", "unproven"),
        ("error200:1", "unproven"),
        ("truncated:1", "unproven-or-reset"),
        ("reset:1", "reset"),
        ("slowdown:1", "throttled"),
        ("429:1:2", "throttled"),
        ("500:1", "retryable"),
    ],
)
def test_injected_faults_come_back_as_the_engine_expects(
    case: Case, fault: str, expect: str
) -> None:
    async def body(emu: Emulator, t: HttpTransport) -> None:
        upload_id = await t.create_multipart(case.dst, "f", ObjectAttributes())
        emu.set_faults([fault])
        source = CopySource(case.src, "big.bin")
        try:
            result = await t.upload_part_copy(
                case.dst, "f", upload_id, case.first_part, source, 0, MiB - 1
            )
        except ConnectError:
            assert expect in {"reset", "unproven-or-reset"}
            return
        except ServiceError as exc:
            assert expect in {"throttled", "retryable"} and exc.retryable
            assert exc.throttled == (expect == "throttled")
            if fault.startswith("429"):
                assert exc.retry_after == 2.0
            return
        assert expect.startswith("unproven"), result
        assert result.etag is None and result.detail
        if fault.startswith("error200"):
            assert result.error_code

    run(case, body)


def test_sse_c_keys_travel_to_the_emulator() -> None:
    key = SSECustomerKey(bytes(range(32)))
    case = CASES[0]

    async def body(emu: Emulator, t: HttpTransport) -> None:
        attrs = ObjectAttributes(sse_c=key)
        upload_id = await t.create_multipart(case.dst, "enc", attrs)
        r = await t.upload_part(case.dst, "enc", upload_id, 1, b"secret" * 10, 60, sse_c=key)
        done = await t.complete(case.dst, "enc", upload_id, [(1, r.etag or "")])
        assert done.etag
        info = await t.head(case.dst, "enc", sse_c=key)
        assert info.size == 60
        with pytest.raises(ServiceError) as keyless:
            await t.head(case.dst, "enc")
        assert keyless.value.status == 400
        copied = await t.copy_object(
            CopySource(case.dst, "enc", sse_c=key), case.dst, "enc2", attrs
        )
        assert copied.etag
        assert (await t.head(case.dst, "enc2", sse_c=key)).size == 60

    run(case, body)


@by_dialect
def test_keys_with_dot_segments_and_odd_characters_round_trip(case: Case) -> None:
    key = "a/./b/../c d+ü%~?#&=.bin"

    async def body(emu: Emulator, t: HttpTransport) -> None:
        upload_id = await t.create_multipart(case.dst, key, ObjectAttributes())
        r = await t.upload_part(case.dst, key, upload_id, case.first_part, b"odd", 3)
        done = await t.complete(case.dst, key, upload_id, [(r.part_number, r.etag or "")])
        assert done.etag
        assert emu.store.keys(case.dst) == [key]
        assert await read(t, case.dst, key, 0, 2) == b"odd"

    run(case, body)
