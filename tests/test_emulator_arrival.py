"""The latency model counts from a request's arrival (its first bytes read), on an injected
clock: never from when the event loop got round to the handler, and never from bytes that
belonged to another request (pipelining, an unread body)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from emulator_helpers import RawClient, copy_part_args, prepared_upload
from partcopy.emulator import Emulator
from partcopy.emulator.httpserver import Arrivals

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


@asynccontextmanager
async def _modelled(
    session: aiohttp.ClientSession, clock: Ticks, deadlines: Deadlines
) -> AsyncIterator[tuple[Emulator, RawClient, str]]:
    """An emulator on the test's model clock and deadline recorder, a client, an upload."""
    async with Emulator(
        "s3", latency_ms=20, gbps=8, model_clock=clock, sleep_until=deadlines
    ) as emu:
        raw = RawClient(session, emu.url, "s3")
        yield emu, raw, await prepared_upload(emu, raw)


@pytest.mark.anyio
async def test_the_deadline_counts_from_the_arrival_not_the_handler(
    session: aiohttp.ClientSession,
) -> None:
    clock, deadlines = Ticks(), Deadlines()
    async with _modelled(session, clock, deadlines) as (_, raw, upload_id):
        answer = await raw.request("PUT", "dst-bkt", "out.bin", **copy_part_args(upload_id, 1))
        assert answer.status == 200
    # the part copy's clock readings: its first bytes, then its handler's start
    arrival, handler_start = clock.said[-2:]
    assert deadlines.seen == [pytest.approx(arrival + SECONDS)]
    assert handler_start > arrival


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
    async with _modelled(session, clock, deadlines) as (emu, raw, upload_id):
        both = b"".join(
            raw.wire("PUT", "dst-bkt", "out.bin", **copy_part_args(upload_id, n)) for n in (1, 2)
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
async def test_expect_100_continue_is_answered_before_the_body_is_sent(
    session: aiohttp.ClientSession,
) -> None:
    async with Emulator("s3") as emu:
        emu.store.create_bucket("bkt")
        body = b"x" * 1000
        raw = RawClient(session, emu.url, "s3")
        request = raw.wire("PUT", "bkt", "obj", headers={"Expect": "100-continue"}, body=body)
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
async def test_an_unknown_expectation_is_refused_with_417(
    session: aiohttp.ClientSession,
) -> None:
    async with Emulator("s3") as emu:
        emu.store.create_bucket("bkt")
        raw = RawClient(session, emu.url, "s3")
        request = raw.wire("PUT", "bkt", "obj", headers={"Expect": "teapot"}, body=b"x")
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        try:
            writer.write(request)
            assert (await _read_answer(reader))[0] == 417
        finally:
            writer.close()
            await writer.wait_closed()
