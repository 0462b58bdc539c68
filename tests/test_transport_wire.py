"""Wire edge cases no emulator produces, against a raw asyncio HTTP server on 127.0.0.1.

The server records every request, so these tests also pin what each dialect puts on the
wire: copy-source encoding, pins, SSE-C, Content-MD5, COS's Host, QingStor's query names.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import pytest

from partcopy.errors import (
    ConnectError,
    PreconditionFailed,
    ProtocolError,
    ResponseTimeout,
    ServiceError,
    UsageError,
)
from partcopy.transports import make_transport
from partcopy.transports.base import CopySource, ObjectAttributes, SSECustomerKey
from partcopy.transports.http import Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.signing import Credentials

SECRET = "wire-secret-KEY-do-not-leak"
CREDS = Credentials("AKIDWIRE", SECRET)
SSE_KEY = SSECustomerKey(b"k" * 32)
COPY_OK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult>'
    b"<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
    b"<ETag>&quot;abc&quot;</ETag></CopyPartResult>"
)


@dataclass
class Req:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


Handler = Callable[[Req, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """One request per connection; the handler writes whatever bytes it likes."""

    handler: Handler
    requests: list[Req] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            req = Req(method, target, headers, body)
            self.requests.append(req)
            await self.handler(req, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def fixed(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    async def handle(req: Req, w: asyncio.StreamWriter) -> None:
        w.write(answer(status, body, headers))

    return handle


@asynccontextmanager
async def serving(
    handler: Handler, dialect: str = "s3", **options: object
) -> AsyncIterator[tuple[RawServer, HttpTransport]]:
    raw = RawServer(handler)
    server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # Generous by default: only the timeout tests ask for short ones (shared, loaded cores).
    options.setdefault("timeouts", Timeouts(connect=10, read=30, copy_base=30))
    session = options.pop("session", None)
    transport = make_transport(
        dialect,  # type: ignore[arg-type]
        f"http://127.0.0.1:{port}",
        "ap-test-1",
        CREDS,
        session,  # type: ignore[arg-type]
        **options,
    )
    assert isinstance(transport, HttpTransport)
    try:
        yield raw, transport
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()


def run(coro: Awaitable[None]) -> None:
    async def main() -> None:
        await coro

    asyncio.run(main())


def test_headers_then_silence_is_a_response_timeout() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def stall(req: Req, w: asyncio.StreamWriter) -> None:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            await w.drain()
            await release.wait()

        short = Timeouts(connect=10, read=0.3, copy_base=0.3)
        async with serving(stall, timeouts=short) as (_, t):
            try:
                with pytest.raises(ResponseTimeout) as info:
                    await t.upload_part_copy("dst", "k", "U", 1, CopySource("src", "k"), 0, 9)
                assert info.value.retryable and info.value.operation == "upload_part_copy"
            finally:
                release.set()

    run(main())


def test_a_connection_closed_mid_body_is_a_connect_error() -> None:
    async def cut(req: Req, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 206 Partial\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)

    async def main() -> None:
        async with serving(cut) as (_, t):
            with pytest.raises(ConnectError):
                async with t.get_range("b", "k", 0, 999) as chunks:
                    async for _chunk in chunks:
                        pass
            with pytest.raises(ConnectError):
                await t.upload_part_copy("dst", "k", "U", 1, CopySource("s", "k"), 0, 9)

    run(main())


def test_nothing_listening_is_a_connect_error() -> None:
    async def main() -> None:
        async with serving(fixed(200)) as (_, t):
            pass  # the server is closed now: its port refuses connections
        with pytest.raises(ConnectError):
            await t.head("b", "k")
        await t.aclose()

    run(main())


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        (
            b"<?xml version='1.0'?><Error><Code>InternalError</Code><Message>boom</Message>"
            b"<RequestId>R1</RequestId></Error>",
            "InternalError",
            "error document in a 2xx",
        ),
        (b"", None, "empty body"),
        (COPY_OK[:60], None, "truncated or malformed XML"),
        (b"<CopyPartResult><LastModified>x</LastModified></CopyPartResult>", None, "no ETag"),
    ],
)
def test_an_unproven_200_to_a_copy_part_is_returned_not_raised(
    body: bytes, code: str | None, detail: str
) -> None:
    async def main() -> None:
        async with serving(fixed(200, body)) as (_, t):
            result = await t.upload_part_copy("d", "k", "U", 7, CopySource("s", "k"), 0, 9)
            assert (result.part_number, result.etag, result.status) == (7, None, 200)
            assert result.error_code == code
            assert result.detail is not None and result.detail.startswith(detail)
            done = await t.complete("d", "k", "U", [(7, '"e"')])
            assert (done.etag, done.error_code) == (None, code)
            single = await t.copy_object(CopySource("s", "k"), "d", "k2", ObjectAttributes())
            assert (single.etag, single.error_code) == (None, code)

    run(main())


def test_a_huge_body_is_refused_with_memory_bounded() -> None:
    chunk = b"<" * (1 << 20)

    async def flood(req: Req, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(100):  # 100 MiB, never held by the server either
            w.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await w.drain()
        w.write(b"0\r\n\r\n")

    async def main() -> None:
        async with serving(flood) as (_, t):
            gc.collect()
            tracemalloc.start()
            try:
                with pytest.raises(ProtocolError, match="exceeds"):
                    await t.list_parts("b", "k", "U")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak < 16 * (1 << 20), peak
        async with serving(fixed(200, b"<" * (3 << 20))) as (_, t):
            with pytest.raises(ProtocolError, match="exceeds"):
                await t.upload_part_copy("d", "k", "U", 1, CopySource("s", "k"), 0, 9)

    run(main())


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Error><Code>&lol2;</Code></Error>'
)


def test_hostile_xml_is_a_protocol_error_on_every_path() -> None:
    async def main() -> None:
        async with serving(fixed(500, BOMB)) as (_, t):
            with pytest.raises(ProtocolError, match="hostile"):
                await t.abort("b", "k", "U")
        async with serving(fixed(200, BOMB)) as (_, t):
            with pytest.raises(ProtocolError, match="hostile"):
                await t.upload_part_copy("d", "k", "U", 1, CopySource("s", "k"), 0, 9)
            with pytest.raises(ProtocolError, match="hostile"):
                await t.create_multipart("d", "k", ObjectAttributes())

    run(main())


def test_service_errors_carry_status_code_request_id_and_retry_after() -> None:
    slow = (
        b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>easy</Message>"
        b"<RequestId>REQ9</RequestId></Error>"
    )
    html = b"<!DOCTYPE html><html><body>forbidden</body></html>"

    async def main() -> None:
        async with serving(fixed(503, slow, {"Retry-After": "3"})) as (_, t):
            with pytest.raises(ServiceError) as info:
                await t.list_parts("b", "k", "U")
            e = info.value
            assert (e.status, e.code, e.request_id, e.retry_after) == (503, "SlowDown", "REQ9", 3.0)
            assert e.retryable and e.throttled
        async with serving(fixed(403, html)) as (_, t):
            with pytest.raises(ServiceError) as denied:
                await t.abort("b", "k", "U")
            assert (denied.value.status, denied.value.code) == (403, None)
            assert not denied.value.retryable
        async with serving(fixed(412)) as (_, t):
            with pytest.raises(PreconditionFailed):
                await t.upload_part_copy(
                    "d", "k", "U", 1, CopySource("s", "k", if_match='"e"'), 0, 9
                )

    run(main())


def test_s3_copy_part_wire_headers() -> None:
    async def main() -> None:
        async with serving(fixed(200, COPY_OK)) as (raw, t):
            source = CopySource(
                "src-bkt", "a b/ü+%~.bin", version_id="v1+/=", if_match='"E1"', sse_c=SSE_KEY
            )
            result = await t.upload_part_copy(
                "dst", "x y.bin", "UP/ID=", 3, source, 5, 10, sse_c=SSE_KEY
            )
            assert result.etag == '"abc"' and result.status == 200
            req = raw.requests[0]
            assert (req.method, req.path) == ("PUT", "/dst/x%20y.bin")
            assert sorted(req.query.split("&")) == ["partNumber=3", "uploadId=UP%2FID%3D"]
            h = req.headers
            assert h["x-amz-copy-source"] == "src-bkt/a%20b/%C3%BC%2B%25~.bin?versionId=v1+/="
            assert h["x-amz-copy-source-range"] == "bytes=5-10"
            assert h["content-length"] == "0"  # S3 answers 411 to a PUT without one
            assert h["x-amz-copy-source-if-match"] == '"E1"'
            for prefix in ("x-amz-", "x-amz-copy-source-"):
                base = prefix + "server-side-encryption-customer-"
                assert h[base + "algorithm"] == "AES256"
                assert h[base + "key"] == SSE_KEY.key_b64
                assert h[base + "key-md5"] == SSE_KEY.key_md5_b64
            assert h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDWIRE/")
            assert "/ap-test-1/s3/aws4_request" in h["authorization"]

    run(main())


def test_copy_parts_of_interleaved_sources_and_keys_name_their_own() -> None:
    """The transport reuses a job's source headers and addressed key from part to part;
    parts of other jobs in between still carry their own source, pin and path."""

    async def main() -> None:
        async with serving(fixed(200, COPY_OK)) as (raw, t):
            one = CopySource("src", "one", if_match='"E1"')
            two = CopySource("src", "two", if_match='"E2"', sse_c=SSE_KEY)
            plan = [(one, "d1"), (two, "d2"), (one, "d1"), (two, "d1"), (one, "d2")]
            for number, (source, key) in enumerate(plan, 1):
                await t.upload_part_copy("dst", key, "U", number, source, 0, 9)
            for req, (source, key) in zip(raw.requests, plan, strict=True):
                h = req.headers
                assert req.path == f"/dst/{key}"
                assert h["x-amz-copy-source"] == f"src/{source.key}"
                assert h["x-amz-copy-source-if-match"] == source.if_match
                sse = "x-amz-copy-source-server-side-encryption-customer-key"
                assert h.get(sse) == (SSE_KEY.key_b64 if source.sse_c else None)

    run(main())


def test_upload_part_streams_with_length_and_md5() -> None:
    async def body() -> AsyncIterator[bytes]:
        for piece in (b"abc", b"def", b"g"):
            yield piece

    async def main() -> None:
        async with serving(fixed(200, headers={"ETag": '"p1"'})) as (raw, t):
            result = await t.upload_part("b", "k", "U", 1, body(), 7, content_md5="bWQ1")
            assert result.etag == '"p1"'
            big = bytes(range(256)) * 8192  # 2 MiB: sent in slices
            await t.upload_part("b", "k", "U", 2, big, len(big))
        first, second = raw.requests
        assert first.body == b"abcdefg" and first.headers["content-length"] == "7"
        assert first.headers["content-md5"] == "bWQ1"
        assert "transfer-encoding" not in first.headers
        assert first.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        assert second.body == big
        async with serving(fixed(200)) as (_, t):
            missing = await t.upload_part("b", "k", "U", 1, b"x", 1)
            assert (missing.etag, missing.detail) == (None, "no ETag header")
            with pytest.raises(UsageError):
                await t.upload_part("b", "k", "U", 1, b"xy", 1)

    run(main())


def test_create_multipart_sends_every_attribute() -> None:
    initiate = (
        b"<InitiateMultipartUploadResult><UploadId>U-1</UploadId></InitiateMultipartUploadResult>"
    )
    attrs = ObjectAttributes(
        content_type="text/csv",
        content_encoding="gzip",
        content_language="de",
        content_disposition="inline",
        cache_control="no-cache",
        expires="Wed, 01 Jul 2026 00:00:00 GMT",
        metadata={"Owner": "ops"},
        storage_class="STANDARD_IA",
        tagging="a=1&b=2",
        sse="aws:kms",
    )

    async def main() -> None:
        async with serving(fixed(200, initiate)) as (raw, t):
            assert await t.create_multipart("b", "k", attrs) == "U-1"
            with pytest.raises(UsageError, match="line break"):
                await t.create_multipart("b", "k", ObjectAttributes(metadata={"x": "a\r\nb"}))
            with pytest.raises(UsageError, match="token"):
                await t.create_multipart("b", "k", ObjectAttributes(metadata={"a b": "v"}))
        h = raw.requests[0].headers
        assert raw.requests[0].query == "uploads" and len(raw.requests) == 1
        assert (h["content-type"], h["content-encoding"], h["content-language"]) == (
            "text/csv",
            "gzip",
            "de",
        )
        assert (h["content-disposition"], h["cache-control"]) == ("inline", "no-cache")
        assert h["expires"] == "Wed, 01 Jul 2026 00:00:00 GMT"
        assert h["x-amz-meta-owner"] == "ops"
        assert (h["x-amz-storage-class"], h["x-amz-tagging"]) == ("STANDARD_IA", "a=1&b=2")
        assert h["x-amz-server-side-encryption"] == "aws:kms"

    run(main())


def test_head_parses_every_attribute_back() -> None:
    headers = {
        "ETag": '"0123-12"',
        "Content-Type": "text/csv",
        "Cache-Control": "no-cache",
        "Last-Modified": "Wed, 01 Jul 2026 05:28:27 GMT",
        "x-amz-meta-owner": "ops",
        "x-amz-version-id": "V7",
        "x-amz-storage-class": "GLACIER_IR",
        "x-amz-server-side-encryption": "AES256",
    }

    async def handle(req: Req, w: asyncio.StreamWriter) -> None:
        lines = ["HTTP/1.1 200 OK", "Content-Length: 123456", "Connection: close"]
        w.write(
            ("\r\n".join(lines + [f"{k}: {v}" for k, v in headers.items()]) + "\r\n\r\n").encode()
        )

    async def main() -> None:
        async with serving(handle) as (raw, t):
            info = await t.head("b", "k", version_id="V7", sse_c=SSE_KEY)
        assert (info.size, info.etag, info.parts_count, info.version_id) == (
            123456,
            '"0123-12"',
            12,
            "V7",
        )
        assert info.last_modified is not None and info.last_modified.year == 2026
        a = info.attributes
        assert (a.content_type, a.cache_control, dict(a.metadata)) == (
            "text/csv",
            "no-cache",
            {"owner": "ops"},
        )
        assert (a.storage_class, a.sse) == ("GLACIER_IR", "AES256")
        req = raw.requests[0]
        assert (req.method, req.query) == ("HEAD", "versionId=V7")
        assert req.headers["x-amz-server-side-encryption-customer-key"] == SSE_KEY.key_b64

    run(main())


def test_cos_connects_to_the_endpoint_but_sends_and_signs_the_bucket_host() -> None:
    async def main() -> None:
        async with serving(fixed(200, COPY_OK), "cos") as (raw, t):
            source = CopySource("src-1250000000", "a b.bin", if_match='"E"')
            await t.upload_part_copy("dst-1250000000", "k 1", "U", 2, source, 0, 9)
            await t.copy_object(source, "dst-1250000000", "k2", ObjectAttributes())
        req = raw.requests[0]
        assert req.headers["host"] == "dst-1250000000.cos.ap-test-1.myqcloud.com"
        assert req.path == "/k%201"
        assert req.headers["x-cos-copy-source"] == (
            "src-1250000000.cos.ap-test-1.myqcloud.com/a%20b.bin"
        )
        assert req.headers["x-cos-copy-source-range"] == "bytes=0-9"
        assert req.headers["x-cos-copy-source-if-match"] == '"E"'
        auth = req.headers["authorization"]
        assert auth.startswith("q-sign-algorithm=sha1&q-ak=AKIDWIRE&") and "host" in auth
        assert raw.requests[1].headers["x-cos-metadata-directive"] == "Replaced"

    run(main())


def test_obs_uses_obs_headers_and_signature() -> None:
    async def main() -> None:
        async with serving(fixed(200, COPY_OK), "obs") as (raw, t):
            source = CopySource("src", "k", version_id="v1", sse_c=SSE_KEY)
            result = await t.upload_part_copy("dst", "k", "U", 1, source, 0, 9)
            assert result.etag == '"abc"'
            with pytest.raises(UsageError, match="tagging"):
                await t.create_multipart("dst", "k", ObjectAttributes(tagging="a=1"))
        h = raw.requests[0].headers
        assert h["x-obs-copy-source"] == "src/k?versionId=v1"
        assert h["x-obs-copy-source-range"] == "bytes=0-9"
        assert h["x-obs-copy-source-server-side-encryption-customer-key"] == SSE_KEY.key_b64
        assert h["authorization"].startswith("OBS AKIDWIRE:") and "date" in h

    run(main())


def test_qingstor_names_and_its_201_copy_answer() -> None:
    async def handle(req: Req, w: asyncio.StreamWriter) -> None:
        if req.method == "PUT":
            w.write(answer(201, headers={"ETag": '"qs-etag"'}))
        elif "uploads" in req.query:
            w.write(answer(200, b'{"bucket":"b","key":"k","upload_id":"QU"}'))
        elif req.method == "POST":
            w.write(answer(201, headers={"ETag": '"done"'}))
        else:
            w.write(
                answer(
                    200,
                    b'{"count":1,"object_parts":[{"part_number":0,"size":5,'
                    b'"etag":"\\"qs-etag\\"","created":"2026-01-01T00:00:00Z"}]}',
                )
            )

    async def main() -> None:
        async with serving(handle, "qingstor") as (raw, t):
            assert await t.create_multipart("b", "k", ObjectAttributes()) == "QU"
            source = CopySource("src", "a b", if_match='"E"')
            part = await t.upload_part_copy("b", "k", "QU", 0, source, 0, 4)
            assert (part.part_number, part.etag, part.status) == (0, '"qs-etag"', 201)
            page = await t.list_parts("b", "k", "QU", max_parts=10)
            assert [(p.part_number, p.etag, p.size) for p in page.parts] == [(0, '"qs-etag"', 5)]
            assert not page.is_truncated
            done = await t.complete("b", "k", "QU", [(0, '"qs-etag"')])
            assert (done.etag, done.status) == ('"done"', 201)
            with pytest.raises(UsageError):
                await t.head("b", "k", version_id="v1")
        init, copy, listing, complete = raw.requests
        assert init.path == "/b/k" and init.query == "uploads"
        assert copy.query == "part_number=0&upload_id=QU"
        assert copy.headers["x-qs-copy-source"] == "/src/a%20b"
        assert copy.headers["x-qs-copy-range"] == "bytes=0-4"
        assert copy.headers["x-qs-copy-source-if-match"] == '"E"'
        assert copy.headers["authorization"].startswith("QS AKIDWIRE:")
        assert sorted(listing.query.split("&")) == ["limit=10", "upload_id=QU"]
        assert complete.body == b'{"object_parts":[{"part_number":0,"etag":"\\"qs-etag\\""}]}'
        assert complete.headers["content-type"] == "application/json"

    run(main())


def test_qingstor_json_errors_and_unproven_copies() -> None:
    err = b'{"code":"object_not_exists","message":"gone","request_id":"QR1","url":"u"}'

    async def main() -> None:
        async with serving(fixed(404, err), "qingstor") as (_, t):
            with pytest.raises(ServiceError) as info:
                await t.abort("b", "k", "U")
            assert (info.value.code, info.value.request_id) == ("object_not_exists", "QR1")
        async with serving(fixed(201), "qingstor") as (_, t):
            part = await t.upload_part_copy("b", "k", "U", 0, CopySource("s", "k"), 0, 4)
            assert (part.etag, part.detail) == (None, "no ETag header")
        async with serving(fixed(200, err), "qingstor") as (_, t):
            part = await t.upload_part_copy("b", "k", "U", 0, CopySource("s", "k"), 0, 4)
            assert (part.etag, part.error_code) == (None, "object_not_exists")

    run(main())


def test_secrets_never_reach_errors_or_reprs() -> None:
    async def main() -> None:
        async with serving(
            fixed(403, b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>")
        ) as (_, t):
            source = CopySource("s", "k", sse_c=SSE_KEY)
            with pytest.raises(ServiceError) as info:
                await t.upload_part_copy("d", "k", "U", 1, source, 0, 9, sse_c=SSE_KEY)
            text = f"{info.value!s} {info.value!r} {t!r} {source!r} {CREDS!r}"
            for secret in (SECRET, SSE_KEY.key_b64, "Signature=", "AWS4-HMAC"):
                assert secret not in text

    run(main())


def test_a_range_answered_with_the_wrong_length_is_a_protocol_error() -> None:
    async def main() -> None:
        async with serving(fixed(200, b"whole object, range ignored")) as (raw, t):
            with pytest.raises(ProtocolError, match="asked for 4 bytes"):
                async with t.get_range("b", "k", 10, 13):
                    pass
        assert raw.requests[0].headers["range"] == "bytes=10-13"
        async with serving(fixed(206, b"x" * (3 << 20))) as (_, t):
            chunks_cm = t.get_range("b", "k", 0, (3 << 20) - 1)
            async with chunks_cm as chunks:
                async for chunk in chunks:
                    assert chunk
                    break  # leaving early closes the stream without warnings

    run(main())


def test_a_callers_session_stays_open_and_an_own_session_is_closed() -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            async with serving(fixed(200, headers={"ETag": '"e"'}), session=session) as (_, t):
                assert t.core.session is session
                await t.upload_part("b", "k", "U", 1, b"x", 1)
            assert not session.closed  # serving() called aclose()
        async with serving(fixed(200, headers={"ETag": '"e"'})) as (_, t):
            await t.upload_part("b", "k", "U", 1, b"x", 1)
            own = t.core.session
        assert own.closed

    run(main())


def test_copy_read_timeouts_scale_with_the_part() -> None:
    timeouts = Timeouts(copy_base=30, copy_min_rate=1 << 20)
    assert timeouts.copy_read(0) == 30
    assert timeouts.copy_read(5 << 30) == 30 + 5 * 1024


def test_a_gzip_stored_object_is_streamed_as_stored() -> None:
    stored = gzip.compress(b"payload " * 100)
    headers = {"Content-Encoding": "gzip"}

    async def main() -> None:
        session = aiohttp.ClientSession()  # decompresses by default
        try:
            async with (
                serving(fixed(206, stored, headers), session=session) as (raw, t),
                t.get_range("b", "k", 0, len(stored) - 1) as chunks,
            ):
                got = b"".join([c async for c in chunks])
        finally:
            await session.close()
        assert got == stored
        assert "accept-encoding" not in raw.requests[0].headers

    run(main())


def test_a_server_that_stops_reading_the_body_is_a_response_timeout() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def deaf(reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")  # the head, then never another byte
            await release.wait()
            w.close()

        server = await asyncio.start_server(deaf, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        timeouts = Timeouts(connect=2, read=0.2, copy_base=0.2, copy_min_rate=1 << 40)
        t = make_transport("s3", f"http://127.0.0.1:{port}", "r", CREDS, timeouts=timeouts)
        size = 64 << 20  # more than loopback socket buffers absorb

        async def body() -> AsyncIterator[bytes]:
            chunk = bytes(1 << 20)
            for _ in range(64):
                yield chunk

        try:
            with pytest.raises(ResponseTimeout):
                await t.upload_part("b", "k", "U", 1, body(), size)
        finally:
            release.set()
            await t.aclose()
            server.close()
            await server.wait_closed()

    run(main())


def test_a_garbled_answer_is_a_protocol_error_that_carries_no_signature() -> None:
    async def garbage(req: Req, w: asyncio.StreamWriter) -> None:
        w.write(b"HELLO WORLD\r\n\r\n")

    async def main() -> None:
        async with serving(garbage) as (_, t):
            with pytest.raises(ProtocolError) as info:
                await t.head("b", "k")
        chain = []
        exc: BaseException | None = info.value
        while exc is not None:
            chain.append(f"{exc!s} {exc!r}")
            exc = exc.__cause__ or exc.__context__
        text = " ".join(chain)
        assert "Signature=" not in text and "Authorization" not in text

    run(main())
