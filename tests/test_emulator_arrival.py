"""The latency model counts from a request's arrival (its first bytes read), on an injected
clock: never from when the event loop got round to the handler, and never from bytes that
belonged to another request (pipelining, an unread body)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from emulator_helpers import RawClient
from partcopy.emulator import Emulator
from partcopy.emulator.httpserver import Arrivals
from partcopy.transports.signing import sigv4
from partcopy.transports.signing.common import Credentials

MiB = 1024**2
SECONDS = 0.020 + 5 * MiB * 8 / 8e9
"""What one 5 MiB part copy takes at 20 ms + 8 Gb/s."""


class Ticks:
    """A model clock that moves 1000 s per reading and remembers what it said."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self.said: list[float] = []

    def __call__(self) -> float:
        self.said.append(1000.0 * next(self._n))
        return self.said[-1]


class Deadlines:
    """An injected deadline sleep: records each deadline, returns at once."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    async def __call__(self, deadline: float) -> None:
        self.seen.append(deadline)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


# --- the rule, alone -------------------------------------------------------------------


def test_first_bytes_stamp_the_request() -> None:
    clock = Ticks()
    arrivals = Arrivals(clock)
    arrivals.bytes_read()
    arrivals.bytes_read()  # more of the same request: the stamp stays
    assert arrivals.started(now=5000.0) == 1000.0
    assert clock.said == [1000.0]


def test_bytes_read_while_a_request_is_in_flight_do_not_stamp_the_next() -> None:
    arrivals = Arrivals(Ticks())
    arrivals.bytes_read()  # request 1 (and, pipelined, request 2 behind it)
    assert arrivals.started(now=3000.0) == 1000.0
    arrivals.finished(body_read=True)
    assert arrivals.started(now=4000.0) == 4000.0  # request 2: its handler's start


def test_keep_alive_requests_each_count_from_their_own_bytes() -> None:
    arrivals = Arrivals(Ticks())
    arrivals.bytes_read()
    assert arrivals.started(now=1500.0) == 1000.0
    arrivals.finished(body_read=True)
    arrivals.bytes_read()
    assert arrivals.started(now=2500.0) == 2000.0


def test_an_unread_body_makes_the_connection_fall_back_to_handler_starts() -> None:
    arrivals = Arrivals(Ticks())
    arrivals.bytes_read()
    arrivals.started(now=1500.0)
    arrivals.finished(body_read=False)  # its tail, read later, is no arrival
    arrivals.bytes_read()
    assert arrivals.started(now=9000.0) == 9000.0
    arrivals.finished(body_read=True)
    arrivals.bytes_read()
    assert arrivals.started(now=9500.0) == 9500.0


def test_a_stamp_never_lies_in_the_future() -> None:
    arrivals = Arrivals(lambda: 7000.0)
    arrivals.bytes_read()
    assert arrivals.started(now=6000.0) == 6000.0


# --- the rule, served -------------------------------------------------------------------


async def _prepared(emu: Emulator, raw: RawClient) -> str:
    emu.add_object("src-bkt/big.bin=12MiB")
    assert (await raw.request("PUT", "dst-bkt")).status == 200
    answer = await raw.request("POST", "dst-bkt", "out.bin", query=[("uploads", None)])
    assert answer.status == 200
    return answer.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()


def _copy_part_query(upload_id: str, number: int) -> list[tuple[str, str | None]]:
    return [("partNumber", str(number)), ("uploadId", upload_id)]


def _copy_part_headers(number: int) -> dict[str, str]:
    first = (number - 1) * 5 * MiB
    return {
        "x-amz-copy-source": "src-bkt/big.bin",
        "x-amz-copy-source-range": f"bytes={first}-{first + 5 * MiB - 1}",
    }


@pytest.mark.anyio
async def test_the_deadline_counts_from_the_arrival_not_the_handler(
    session: aiohttp.ClientSession,
) -> None:
    clock, deadlines = Ticks(), Deadlines()
    async with Emulator(
        "s3", latency_ms=20, gbps=8, model_clock=clock, sleep_until=deadlines
    ) as emu:
        raw = RawClient(session, emu.url, "s3")
        upload_id = await _prepared(emu, raw)
        answer = await raw.request(
            "PUT",
            "dst-bkt",
            "out.bin",
            query=_copy_part_query(upload_id, 1),
            headers=_copy_part_headers(1),
        )
        assert answer.status == 200
    # the part copy's clock readings: its first bytes, then its handler's start
    arrival, handler_start = clock.said[-2:]
    assert deadlines.seen == [pytest.approx(arrival + SECONDS)]
    assert handler_start > arrival


def _raw_request(
    host: str,
    method: str,
    path: str,
    query: list[tuple[str, str | None]],
    headers: dict[str, str],
    body: bytes = b"",
) -> bytes:
    """One signed HTTP/1.1 request as bytes on the wire."""
    sent = {"Host": host, **headers, "Content-Length": str(len(body))}
    sent.update(
        sigv4.sign(
            method=method,
            path=path,
            query=query,
            headers=sent,
            credentials=Credentials("partcopy", "partcopy-secret"),
            now=datetime.now(UTC),
            region="us-east-1",
            payload_hash=hashlib.sha256(body).hexdigest(),
        )
    )
    target = path + ("?" + sigv4.encode_query(query) if query else "")
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in sent.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


@pytest.mark.anyio
async def test_a_pipelined_request_counts_from_no_earlier_than_the_one_before_it_ended(
    session: aiohttp.ClientSession,
) -> None:
    clock, deadlines = Ticks(), Deadlines()
    async with Emulator(
        "s3", latency_ms=20, gbps=8, model_clock=clock, sleep_until=deadlines
    ) as emu:
        upload_id = await _prepared(emu, RawClient(session, emu.url, "s3"))
        host = f"127.0.0.1:{emu.port}"
        both = b"".join(
            _raw_request(
                host,
                "PUT",
                "/dst-bkt/out.bin",
                _copy_part_query(upload_id, n),
                _copy_part_headers(n),
            )
            for n in (1, 2)
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        try:
            writer.write(both)  # the second request is sent before the first is answered
            assert (await _read_answer(reader))[0] == 200
            assert (await _read_answer(reader))[0] == 200
        finally:
            writer.close()
            await writer.wait_closed()
    first, second = (deadline - SECONDS for deadline in deadlines.seen)
    first_handler_start = min(t for t in clock.said if t > first)
    assert first < first_handler_start < second  # the second did not take the first's stamp


@pytest.mark.anyio
async def test_expect_100_continue_is_answered_before_the_body_is_sent() -> None:
    async with Emulator("s3") as emu:
        emu.store.create_bucket("bkt")
        body = b"x" * 1000
        request = _raw_request(
            f"127.0.0.1:{emu.port}", "PUT", "/bkt/obj", [], {"Expect": "100-continue"}, body
        )
        head = request[: -len(body)]
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        try:
            writer.write(head)
            interim = await reader.readuntil(b"\r\n\r\n")
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(body)
            assert (await _read_answer(reader))[0] == 200
        finally:
            writer.close()
            await writer.wait_closed()
        assert emu.store.get("bkt", "obj").size == len(body)


@pytest.mark.anyio
async def test_an_unknown_expectation_is_refused_with_417() -> None:
    async with Emulator("s3") as emu:
        emu.store.create_bucket("bkt")
        request = _raw_request(
            f"127.0.0.1:{emu.port}", "PUT", "/bkt/obj", [], {"Expect": "teapot"}, b"x"
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        try:
            writer.write(request)
            assert (await _read_answer(reader))[0] == 417
        finally:
            writer.close()
            await writer.wait_closed()
