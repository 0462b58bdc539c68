"""aiohttp's low-level server for the emulator, with the time each request arrived.

The latency model counts a request's time from its arrival: the moment its first bytes were
read from the connection, not the later moment the event loop got round to its handler
(behind other requests' work). HTTP/1.1 carries one request at a time per connection unless
the client pipelines, so the first bytes read after a request was handled belong to the next
one; a request whose bytes came while another was in flight (pipelining), or that follows a
request whose body was left unread, falls back to its handler's start. Either way the model
never starts before the request really arrived.

The low-level ``web.Server`` also skips the application router (the emulator has one
catch-all handler), so it answers ``Expect: 100-continue`` itself, as aiohttp's router would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import StreamReader, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import HttpVersion11, RawRequestMessage

__all__ = ["ArrivalHandler", "ArrivalServer", "Arrivals", "answer_expect"]

Clock = Callable[[], float]
Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class Arrivals:
    """When the request being served on one connection arrived (the rule in the module doc).

    ``bytes_read`` on every read, ``started`` at a handler's start, ``finished`` when the
    handler is done; pure, on an injected clock."""

    __slots__ = ("_clock", "_first", "_trusted")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._first: float | None = None
        self._trusted = True

    def bytes_read(self) -> None:
        if self._first is None:
            self._first = self._clock()

    def started(self, now: float) -> float:
        """The model start of the request whose handler starts at ``now``."""
        first = self._first
        if first is None or not self._trusted:
            return now
        return min(first, now)

    def finished(self, body_read: bool) -> None:
        """The handler is done: the next bytes read start the next request, unless this
        request's body was left unread (its tail would pose as the next arrival)."""
        self._first = None
        if not body_read:
            self._trusted = False


class ArrivalHandler(web.RequestHandler):
    """aiohttp's HTTP/1.1 protocol, noting when each request's first bytes are read."""

    __slots__ = ("arrivals",)

    def __init__(self, manager: web.Server, *, clock: Clock, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.arrivals = Arrivals(clock)

    def data_received(self, data: bytes) -> None:
        if data:
            self.arrivals.bytes_read()
        super().data_received(data)


class ArrivalServer(web.Server):
    """``web.Server`` whose connections are ``ArrivalHandler``s on ``clock``; requests may
    carry bodies up to ``client_max_size`` bytes."""

    def __init__(
        self, handler: Handler, *, clock: Clock, client_max_size: int, **handler_args: Any
    ) -> None:
        super().__init__(handler, request_factory=self._request, **handler_args)
        self._clock = clock
        self._client_max_size = client_max_size
        self._handler_args = handler_args

    def __call__(self) -> ArrivalHandler:
        loop = asyncio.get_running_loop()
        return ArrivalHandler(self, clock=self._clock, loop=loop, **self._handler_args)

    def _request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: web.RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        loop = asyncio.get_running_loop()
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=self._client_max_size
        )


async def answer_expect(request: web.BaseRequest) -> None:
    """Answer ``Expect: 100-continue`` before the body is read, as aiohttp's router does
    (417 for any other expectation); nothing for HTTP/1.0."""
    expect = request.headers.get("Expect", "")
    if request.version != HttpVersion11:
        return
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the answer's own size starts after the interim one
    await request.writer.drain()
