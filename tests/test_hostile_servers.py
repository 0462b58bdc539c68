"""Hostile and broken servers: every answer becomes a classified error, no hang, bounded memory.

Each test starts a tiny raw TCP server on 127.0.0.1 that misbehaves in one way and points
the real S3 transport at it with short injected timeouts. ``fail_after`` is only a guard
against a hang; the assertions are on the error classes and on how much the server sent.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

from partcopy.errors import (
    ConnectError,
    ProtocolError,
    ResponseTimeout,
    ServiceError,
    TransportError,
)
from partcopy.transports.base import CopySource
from partcopy.transports.http import Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.s3 import make_s3_transport
from partcopy.transports.signing import Credentials

TIMEOUTS = Timeouts(connect=2.0, read=0.3, copy_base=0.3, copy_min_rate=float(1 << 40))
GUARD = 20.0  # seconds: only catches a hang, never asserted on
MiB = 1024 * 1024

Behaviour = Callable[[anyio.abc.SocketStream, "Server"], Awaitable[None]]


@dataclass
class Server:
    """Counts what the misbehaving server received and sent."""

    port: int = 0
    requests: int = 0
    sent: int = 0
    request_heads: list[bytes] = field(default_factory=list)


async def _read_request(stream: anyio.abc.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive(65536)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        rest += await stream.receive(65536)
    return head


@asynccontextmanager
async def serve(behaviour: Behaviour) -> AsyncIterator[Server]:
    server = Server()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    server.port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                head = await _read_request(stream)
                server.requests += 1
                server.request_heads.append(head)
                await behaviour(stream, server)
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError, OSError):
                pass

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()


def transport(server: Server, timeouts: Timeouts = TIMEOUTS) -> HttpTransport:
    return make_s3_transport(
        f"http://127.0.0.1:{server.port}",
        "us-east-1",
        Credentials("AKIDHOSTILE", "hostile-secret-key"),
        timeouts=timeouts,
    )


async def send(stream: anyio.abc.SocketStream, server: Server, data: bytes) -> None:
    await stream.send(data)
    server.sent += len(data)


def response(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


SOURCE = CopySource("src-bkt", "big.bin", if_match='"abc"')


async def copy_part(t: HttpTransport) -> object:
    return await t.upload_part_copy("dst-bkt", "big.bin", "UP", 1, SOURCE, 0, 1023)


async def create(t: HttpTransport) -> object:
    from partcopy.transports.base import ObjectAttributes

    return await t.create_multipart("dst-bkt", "big.bin", ObjectAttributes())


async def list_parts(t: HttpTransport) -> object:
    return await t.list_parts("dst-bkt", "big.bin", "UP")


async def head(t: HttpTransport) -> object:
    return await t.head("src-bkt", "big.bin")


OPERATIONS = [copy_part, create, list_parts, head]


async def outcome(
    behaviour: Behaviour,
    op: Callable[[HttpTransport], Awaitable[object]],
    timeouts: Timeouts = TIMEOUTS,
) -> tuple[object, Server]:
    """Run ``op`` against a server behaving so; return the result or the error raised."""
    async with serve(behaviour) as server:
        t = transport(server, timeouts)
        try:
            with anyio.fail_after(GUARD):
                try:
                    result: object = await op(t)
                except TransportError as exc:
                    result = exc
        finally:
            await t.aclose()
    return result, server


# --- behaviours --------------------------------------------------------------------------


async def never_answers(stream: anyio.abc.SocketStream, server: Server) -> None:
    await anyio.sleep_forever()


async def headers_then_stall(stream: anyio.abc.SocketStream, server: Server) -> None:
    await send(stream, server, response("200 OK", {"Content-Length": "500"}, b"<Copy"))
    await anyio.sleep_forever()


async def trickle(stream: anyio.abc.SocketStream, server: Server) -> None:
    """A slowloris: one byte per tenth of a second, never silent for a whole read timeout."""
    await send(stream, server, response("200 OK", {"Content-Length": "100000"}))
    while True:
        await send(stream, server, b" ")
        await anyio.sleep(0.1)


async def truncated_body(stream: anyio.abc.SocketStream, server: Server) -> None:
    body = b"<CopyPartResult><ETag>&quot;abc&quot;</ETag></CopyPartResult>"
    await send(stream, server, response("200 OK", {"Content-Length": str(len(body) + 500)}))
    await send(stream, server, body[:30])


async def hundred_mib_body(stream: anyio.abc.SocketStream, server: Server) -> None:
    await send(stream, server, response("200 OK", {"Content-Length": str(100 * MiB)}))
    chunk = b"<" * 65536
    while server.sent < 100 * MiB:
        await send(stream, server, chunk)


async def hundred_mib_chunked(stream: anyio.abc.SocketStream, server: Server) -> None:
    await send(stream, server, response("200 OK", {"Transfer-Encoding": "chunked"}))
    piece = b"A" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    while server.sent < 100 * MiB:
        await send(stream, server, chunk)
    await send(stream, server, b"0\r\n\r\n")


async def html_page(stream: anyio.abc.SocketStream, server: Server) -> None:
    body = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
    headers = {"Content-Type": "text/html", "Content-Length": str(len(body)), "ETag": '"x"'}
    await send(stream, server, response("200 OK", headers, body))


async def json_in_xml_dialect(stream: anyio.abc.SocketStream, server: Server) -> None:
    body = b'{"upload_id": "U", "etag": "x"}'
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    await send(stream, server, response("200 OK", headers, body))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY l "lol">'
    + b"".join(
        f'<!ENTITY l{i} "{(f"&l{i - 1};" if i > 1 else "&l;") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><CopyPartResult><ETag>&l9;</ETag></CopyPartResult>"
)


async def xml_bomb(stream: anyio.abc.SocketStream, server: Server) -> None:
    headers = {"Content-Type": "application/xml", "Content-Length": str(len(BILLION_LAUGHS))}
    await send(stream, server, response("200 OK", headers, BILLION_LAUGHS))


async def garbage_status(stream: anyio.abc.SocketStream, server: Server) -> None:
    await send(stream, server, b"HTTP/1.1 two-hundred OK\r\nContent-Length: 0\r\n\r\n")


async def not_http(stream: anyio.abc.SocketStream, server: Server) -> None:
    await send(stream, server, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 50)


async def reset_after_request(stream: anyio.abc.SocketStream, server: Server) -> None:
    await stream.aclose()


async def slowdown_503(stream: anyio.abc.SocketStream, server: Server) -> None:
    body = b"<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>"
    headers = {"Content-Length": str(len(body)), "Retry-After": "3"}
    await send(stream, server, response("503 Slow Down", headers, body))


# --- the table ----------------------------------------------------------------------------


BROKEN: list[tuple[Behaviour, tuple[type[TransportError], ...]]] = [
    (never_answers, (ResponseTimeout,)),
    (headers_then_stall, (ResponseTimeout,)),
    (trickle, (ResponseTimeout,)),
    (truncated_body, (ConnectError,)),
    (garbage_status, (ProtocolError, ConnectError)),
    (not_http, (ProtocolError, ConnectError)),
    (reset_after_request, (ConnectError,)),
]
BODYLESS = {headers_then_stall, trickle, truncated_body}
"""A HEAD answer has no body: its headers alone are complete, so these do not apply."""


@pytest.mark.parametrize(
    ("behaviour", "expected", "op"),
    [
        pytest.param(b, e, op, id=f"{b.__name__}-{op.__name__}")
        for b, e in BROKEN
        for op in OPERATIONS
        if not (op is head and b in BODYLESS)
    ],
)
def test_broken_servers_become_classified_errors(
    behaviour: Behaviour,
    expected: tuple[type[TransportError], ...],
    op: Callable[[HttpTransport], Awaitable[object]],
) -> None:
    async def main() -> None:
        result, server = await outcome(behaviour, op)
        assert isinstance(result, expected), result
        assert result.retryable
        # aiohttp itself resends an idempotent request once when the connection closes
        # before any answer; never more.
        assert 1 <= server.requests <= (2 if behaviour is reset_after_request else 1)

    anyio.run(main)


@pytest.mark.parametrize("behaviour", [hundred_mib_body, hundred_mib_chunked])
@pytest.mark.parametrize("op", [copy_part, create, list_parts], ids=lambda f: f.__name__)
def test_a_100_mib_body_is_refused_with_bounded_memory(
    behaviour: Behaviour, op: Callable[[HttpTransport], Awaitable[object]]
) -> None:
    async def main() -> None:
        tracemalloc.start()
        try:
            result, server = await outcome(behaviour, op)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert isinstance(result, ProtocolError), result
        assert "exceeds" in str(result)
        assert peak < 16 * MiB
        assert server.sent < 100 * MiB  # the client hung up long before the end

    anyio.run(main)


def test_wrong_content_type_html_page() -> None:
    async def main() -> None:
        verdict, _ = await outcome(html_page, copy_part)
        # A 2xx copy answer without an ETag in its XML proves nothing: returned unproven.
        assert getattr(verdict, "etag", "missing") is None
        assert getattr(verdict, "detail", None)
        for op in (create, list_parts):
            result, _ = await outcome(html_page, op)
            assert isinstance(result, ProtocolError), result

    anyio.run(main)


def test_json_answer_to_an_xml_dialect() -> None:
    async def main() -> None:
        verdict, _ = await outcome(json_in_xml_dialect, copy_part)
        assert getattr(verdict, "etag", "missing") is None
        for op in (create, list_parts):
            result, _ = await outcome(json_in_xml_dialect, op)
            assert isinstance(result, ProtocolError), result

    anyio.run(main)


def test_an_xml_bomb_from_the_server_is_refused_without_expansion() -> None:
    async def main() -> None:
        tracemalloc.start()
        try:
            for op in (copy_part, create, list_parts):
                result, _ = await outcome(xml_bomb, op)
                assert isinstance(result, ProtocolError), result
                assert "hostile" in str(result)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16 * MiB

    anyio.run(main)


def test_a_throttling_answer_is_classified_with_its_retry_after() -> None:
    async def main() -> None:
        result, _ = await outcome(slowdown_503, copy_part)
        assert isinstance(result, ServiceError)
        assert (result.status, result.code, result.retry_after) == (503, "SlowDown", 3.0)
        assert result.throttled and result.retryable

    anyio.run(main)


def test_nothing_listening_is_a_connect_error() -> None:
    async def main() -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()  # the port is now closed: connections are refused
        t = transport(Server(port=port))
        try:
            with anyio.fail_after(GUARD), pytest.raises(ConnectError):
                await copy_part(t)
        finally:
            await t.aclose()

    anyio.run(main)


# --- total deadlines (a request as a whole, not each silence) ------------------------------

QUICK = Timeouts(connect=0.2, read=0.3, copy_base=0.3, copy_min_rate=float(1 << 40))


async def trickle_headers(stream: anyio.abc.SocketStream, server: Server) -> None:
    """Headers one byte at a time, never silent for a whole read timeout: only a bound on
    the request as a whole ends it (aiohttp's read timer restarts on every byte)."""
    await send(stream, server, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Pad: ")
    while True:  # one endless header line
        await send(stream, server, b"a")
        await anyio.sleep(0.05)


async def get_range(t: HttpTransport) -> object:
    async with t.get_range("src-bkt", "big.bin", 0, 1023) as chunks:
        return b"".join([chunk async for chunk in chunks])


async def trickle_range_body(stream: anyio.abc.SocketStream, server: Server) -> None:
    await send(stream, server, response("206 Partial Content", {"Content-Length": "1024"}))
    while True:
        await send(stream, server, b"x")
        await anyio.sleep(0.05)


@pytest.mark.parametrize("op", [*OPERATIONS, get_range], ids=lambda f: f.__name__)
def test_headers_trickled_one_byte_at_a_time_hit_the_total_deadline(
    op: Callable[[HttpTransport], Awaitable[object]],
) -> None:
    async def main() -> None:
        result, _ = await outcome(trickle_headers, op, QUICK)
        assert isinstance(result, ResponseTimeout), result

    anyio.run(main)


def test_a_trickled_range_body_hits_its_total_deadline() -> None:
    async def main() -> None:
        result, server = await outcome(trickle_range_body, get_range, QUICK)
        assert isinstance(result, ResponseTimeout), result
        assert server.sent < 1024 + 200  # given up on before the whole range came

    anyio.run(main)


def test_a_range_stream_closed_while_another_task_reads_it_ends_that_read_cleanly() -> None:
    """The relay's upload reads the GET stream in aiohttp's writer task: closing the stream
    under it must end that read with a transport error, not ``aclose(): asynchronous
    generator is already running``."""

    async def main() -> None:
        async with serve(trickle_range_body) as server:
            t = transport(server, QUICK)
            seen: list[BaseException] = []
            try:
                with anyio.fail_after(GUARD):
                    async with t.get_range("src-bkt", "big.bin", 0, 1023) as chunks:

                        async def reader() -> None:
                            try:
                                async for _ in chunks:
                                    pass
                            except Exception as exc:
                                seen.append(exc)

                        async with anyio.create_task_group() as tg:
                            tg.start_soon(reader)
                            await anyio.sleep(0.1)
                            await chunks.aclose()  # type: ignore[attr-defined]
            finally:
                await t.aclose()
        assert all(isinstance(e, TransportError) for e in seen), seen

    anyio.run(main)


async def head_then_trickle(stream: anyio.abc.SocketStream, server: Server) -> None:
    """A source that answers HEAD at once and then sends its GET body 2 bytes at a time."""
    request_line = server.request_heads[-1].split(b"\r\n", 1)[0]
    if request_line.startswith(b"HEAD"):
        headers = {"Content-Length": str(MiB), "ETag": '"0123456789abcdef0123456789abcdef"'}
        await send(stream, server, response("200 OK", headers))
        return
    if b"tagging" in request_line:  # the copy carries the source's tags: it has none
        body = b"<Tagging><TagSet></TagSet></Tagging>"
        await send(stream, server, response("200 OK", {"Content-Length": str(len(body))}, body))
        return
    await send(stream, server, response("206 Partial Content", {"Content-Length": str(MiB)}))
    while True:
        await send(stream, server, b"xx")
        await anyio.sleep(0.05)


def test_a_relay_from_a_trickling_source_fails_as_a_copy_error_not_a_traceback() -> None:
    """The relay's upload reads the GET in aiohttp's writer task: the source's deadline must
    end the part as a failed part (then the job's JSON), not ``RuntimeError: aclose()``."""
    from partcopy import Copier
    from partcopy.emulator.thread import EmulatorThread
    from partcopy.engine.retry import RetryPolicy
    from partcopy.errors import PartcopyError

    async def no_sleep(seconds: float) -> None:
        await anyio.lowlevel.checkpoint()

    async def main(emu_url: str) -> BaseException | None:
        async with serve(head_then_trickle) as server:
            source = transport(server, QUICK)
            destination = make_s3_transport(
                emu_url, "us-east-1", Credentials("partcopy", "partcopy-secret")
            )
            try:
                async with Copier(
                    transport=source,
                    dst_transport=destination,
                    retry=RetryPolicy(max_attempts=2),
                    sleep=no_sleep,
                ) as copier:
                    with anyio.fail_after(GUARD):
                        await copier.copy("s3://src/obj", "s3://dst/obj", mode="relay")
            except PartcopyError as exc:
                return exc
            finally:
                await source.aclose()
                await destination.aclose()
        return None

    with EmulatorThread(dialect="s3") as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))
        error = anyio.run(main, emu.url)
        assert emu.call(lambda: emu.emulator.store.open_uploads()) == 0
    assert error is not None and "get_range" in str(error)
