"""The emulator: an aiohttp server on loopback, one ``MemoryStore``, one wire dialect.

Every request is authenticated with the dialect's signature, parsed into a ``Call``,
offered to the fault injector, executed against the store (with the latency model:
``latency_ms + bytes / gbps`` per data request, an injectable sleep) and rendered back.
With the real sleep the model is kept precisely: each request's modelled time is measured
from its arrival (when its first bytes were read, see ``httpserver``), not from when the
handler got round to sleeping (see ``precise_sleep``).
``async with Emulator(dialect="s3") as emu: emu.url`` binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from types import TracebackType
from typing import Protocol

from aiohttp import web
from multidict import CIMultiDictProxy

from partcopy.emulator.admin import ADMIN_PREFIX, handle_admin
from partcopy.emulator.auth import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
    Clock,
    KeyLookup,
    SignedRequest,
    StoredKey,
    verifier_for,
)
from partcopy.emulator.faults import PERFORMING_KINDS, FaultInjector, FaultSpec, parse_fault
from partcopy.emulator.httpserver import ArrivalHandler, ArrivalServer, answer_expect
from partcopy.emulator.objects import ObjectSpec, create_object, parse_object
from partcopy.emulator.ops import Call, Executor, Outcome
from partcopy.emulator.qingstor import QingStorWire
from partcopy.emulator.s3like import XmlWire
from partcopy.emulator.wire import Answer
from partcopy.emulator.xmldialects import COS, OBS, S3, cos_bucket_of_host
from partcopy.errors import UsageError
from partcopy.store.data import Content
from partcopy.store.memory import MemoryStore, StoreError, StoreStats
from partcopy.transports.memory import memory_provider

__all__ = ["DIALECTS", "Emulator", "SleepUntil", "Wire"]

DIALECTS = ("s3", "obs", "cos", "qingstor")
MAX_BODY = 5 * 1024**3 + 1024**2
"""Largest request body accepted: one 5 GiB part plus room for headers' worth of slack."""
STREAM_CHUNK = 1024 * 1024
SHUTDOWN_TIMEOUT = 1.0
"""Seconds a stopping emulator lets in-flight answers finish (a client that stopped reading
a body must not hold a test's teardown)."""

Sleep = Callable[[float], Awaitable[None]]
SleepUntil = Callable[[float], Awaitable[None]]
"""Sleep until a deadline on the model's clock (the loop's time unless one is injected)."""

SPIN = 0.0015
"""Seconds before a deadline at which a timer sleep hands over to yielding: asyncio rounds
epoll timeouts up to whole milliseconds and a sleeping process takes a while to wake, so a
plain ``asyncio.sleep`` answers 1-2 ms late."""

_MODEL_TIME: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "partcopy_emulator_model_time", default=None
)
"""The loop time the current request's modelled work has reached (its arrival, at first)."""


async def precise_sleep(deadline: float) -> None:
    """Sleep until loop time ``deadline``: a timer sleep to ``SPIN`` before it, then yield
    to the loop (serving other requests meanwhile) until it has passed."""
    loop = asyncio.get_running_loop()
    remaining = deadline - loop.time()
    if remaining > SPIN:
        await asyncio.sleep(remaining - SPIN)
    # a bounded spin (at most SPIN seconds), not a wait for an event
    while loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0)


class Wire(Protocol):
    """What a dialect adapter provides to the server."""

    def parse(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: CIMultiDictProxy[str],
        body: bytes,
    ) -> Call: ...

    def render(self, out: Outcome, *, etag: bool = True) -> Answer: ...

    def error(
        self, err: StoreError, *, head: bool = False, status: int | None = None
    ) -> Answer: ...

    def error_in_200(self) -> Answer: ...

    omit_next_key_marker: bool
    default_owner: str


QUIRKS = frozenset({"uploads-no-key-marker"})
"""Behaviours of other stores the emulator can take on: ``uploads-no-key-marker`` lists
multipart uploads without NextKeyMarker, continued by the upload id alone (SeaweedFS)."""


def _wire_for(dialect: str) -> Wire:
    if dialect == "qingstor":
        return QingStorWire()
    return XmlWire({"s3": S3, "obs": OBS, "cos": COS}[dialect])


class Emulator:
    """One emulated service. Use as an async context manager, or ``start()``/``stop()``."""

    def __init__(
        self,
        dialect: str = "s3",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        users: Iterable[tuple[str, str]] = (),
        latency_ms: float = 0.0,
        gbps: float = 0.0,
        faults: Iterable[FaultSpec | str] = (),
        objects: Iterable[ObjectSpec | str] = (),
        store: MemoryStore | None = None,
        profile: str | None = None,
        seed: int = 0,
        sleep: Sleep = asyncio.sleep,
        sleep_until: SleepUntil | None = None,
        model_clock: Callable[[], float] | None = None,
        clock: Clock | None = None,
        access_log: bool = False,
        quirks: Iterable[str] = (),
        keys: KeyLookup | None = None,
        default_sse: str | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise UsageError(f"invalid dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
        if default_sse is not None and (default_sse != "AES256" or dialect == "qingstor"):
            raise UsageError(
                f"invalid default encryption {default_sse!r}: AES256 only, and not for "
                "qingstor (SSE-C only)"
            )
        for what, value in (("latency", latency_ms), ("bandwidth", gbps)):
            if not math.isfinite(value) or value < 0:  # inf: every data request would hang
                raise UsageError(f"invalid {what} {value!r}: expected a finite number >= 0")
        if not access_key:
            raise UsageError(f"invalid access key {access_key!r}: must not be empty")
        if not secret_key:
            raise UsageError("invalid secret key '': must not be empty")
        self.dialect = dialect
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.gbps = gbps
        self.sleep = sleep
        # the model's deadlines: loop time from each request's arrival, slept precisely,
        # unless injected (tests: ``model_clock`` with ``sleep_until``); an injected
        # ``sleep`` alone gets each request's modelled seconds instead
        self._sleep_until = sleep_until
        self._model_clock = model_clock
        self.access_log = access_log
        row = memory_provider(dialect, profile)  # type: ignore[arg-type]  # checked above
        self.store = store or MemoryStore(profile or row.name, seed=seed)
        self.faults = FaultInjector(seed=seed)
        self.set_faults(faults)
        self._wire = _wire_for(dialect)
        quirks = frozenset(quirks)
        unknown = quirks - QUIRKS
        if unknown:
            raise UsageError(
                f"invalid quirk {sorted(unknown)[0]!r}: expected one of {sorted(QUIRKS)}"
            )
        self._wire.omit_next_key_marker = "uploads-no-key-marker" in quirks
        # ``keys`` (tests of temporary credentials) replaces the one access key pair;
        # ``users`` adds permanent pairs beside it, each its own owner.
        users = tuple(users)
        for user_key, user_secret in users:
            if not user_key or not user_secret:
                raise UsageError(f"invalid user {user_key!r}: empty access key or secret key")
        self._main_key = access_key
        self._accounts = frozenset(user_key for user_key, _ in users)
        if keys is None and users:
            table = {access_key: StoredKey(secret_key)}
            for user_key, user_secret in users:
                if user_key in table and table[user_key].secret_key != user_secret:
                    raise UsageError(
                        f"invalid user {user_key!r}: given twice with different secrets"
                    )
                table[user_key] = StoredKey(user_secret)
            keys = table.get
        self._verify = (
            verifier_for(dialect, access_key, secret_key, keys=keys)
            if clock is None
            else verifier_for(dialect, access_key, secret_key, clock, keys=keys)
        )
        self._executor = Executor(
            self.store,
            pause=self._pause,
            range_min_source=row.range_copy_floor,
            clamp_copy_range=row.quirks.clamp_copy_range,
            default_owner=access_key,
            default_sse=default_sse,
        )
        self._wire.default_owner = access_key
        for obj in objects:
            create_object(self.store, parse_object(obj) if isinstance(obj, str) else obj)
        self._runner: web.BaseRunner | None = None
        self._sock: socket.socket | None = None

    # --- configuration ---------------------------------------------------------------

    def set_faults(self, faults: Iterable[FaultSpec | str], seed: int | None = None) -> None:
        """Replace the active faults (specs or ``KIND:RATE...`` strings)."""
        specs = [parse_fault(f) if isinstance(f, str) else f for f in faults]
        self.faults.configure(specs, seed)

    def fault_texts(self) -> list[str]:
        return [spec.as_text() for spec in self.faults.specs]

    def add_object(self, spec: ObjectSpec | str) -> None:
        """Create (or overwrite) a virtual object, creating its bucket."""
        create_object(self.store, parse_object(spec) if isinstance(spec, str) else spec)

    def reset(self) -> None:
        """Empty the store and drop every fault."""
        self.store.reset()
        self.faults.configure([])

    def stats(self) -> StoreStats:
        return self.store.stats()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- lifecycle -------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The emulator as an aiohttp application (for callers running their own site);
        ``start`` serves the same handler on the low-level server, with arrival times."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self) -> Emulator:
        """Bind and serve; ``port`` becomes the real port when 0 was asked for."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise UsageError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        log: dict[str, object] = {} if self.access_log else {"access_log": None}
        server = ArrivalServer(
            self._serve,
            clock=self._model_clock or loop.time,
            client_max_size=MAX_BODY,
            # A store keeps a body as sent: Content-Encoding: gzip is the object's own
            # metadata, never an instruction to unpack what is uploaded.
            auto_decompress=False,
            **log,
        )
        runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.SockSite(runner, sock, backlog=4096)
        await site.start()
        self._runner = runner
        self._sock = sock
        return self

    async def stop(self) -> None:
        """Stop serving and release the listening socket."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            # closed connections finish closing in the loop's next iterations: let them run
            # so no transport is left half-closed when the caller closes the loop
            for _ in range(3):
                await asyncio.sleep(0)
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- requests --------------------------------------------------------------------

    async def _pause(self, nbytes: int) -> None:
        seconds = self.latency_ms / 1000.0
        if self.gbps > 0:
            seconds += nbytes * 8 / (self.gbps * 1e9)
        if seconds <= 0:
            return
        start = _MODEL_TIME.get()
        sleep_until = self._sleep_until
        if sleep_until is None and self.sleep is asyncio.sleep:
            sleep_until = precise_sleep
        if sleep_until is None or start is None:
            await self.sleep(seconds)  # an injected sleep (tests) gets the model's seconds
            return
        deadline = start + seconds
        _MODEL_TIME.set(deadline)  # a second pause of the same request follows this one
        await sleep_until(deadline)

    def _refusal(self, spec: FaultSpec, head: bool) -> Answer:
        """The answer of a fault that refuses the request (nothing was done)."""
        wire = self._wire
        if spec.kind == "error200":
            return wire.error_in_200()
        if spec.kind == "500":
            err = StoreError(500, "InternalError", "We encountered an internal error.")
            return wire.error(err, head=head)
        if spec.kind == "429":
            err = StoreError(429, "TooManyRequests", "Please reduce your request rate.")
            answer = wire.error(err, head=head)
            retry_after = spec.arg if spec.arg is not None else 1.0
            headers = {**answer.headers, "Retry-After": f"{retry_after:g}"}
            return Answer(answer.status, headers, answer.body)
        # slowdown, throttle
        err = StoreError(503, "SlowDown", "Please reduce your request rate.")
        return wire.error(err, head=head)

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        """The low-level server's handler: what the router would do, then ``_handle``; the
        connection learns when the request is done (its next bytes are the next request)."""
        try:
            if request.headers.get("Expect"):
                await answer_expect(request)
            return await self._handle(request)
        finally:
            conn = request.protocol
            if isinstance(conn, ArrivalHandler):
                conn.arrivals.finished(request.content.is_eof())

    def _arrival(self, request: web.BaseRequest) -> float:
        """When the request arrived on the model's clock (its handler's start when unknown)."""
        now = (self._model_clock or asyncio.get_running_loop().time)()
        conn = request.protocol
        return conn.arrivals.started(now) if isinstance(conn, ArrivalHandler) else now

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.raw_path.startswith(ADMIN_PREFIX) and (
            self.dialect != "cos" or cos_bucket_of_host(request.host) is None
        ):
            return await handle_admin(self, request)
        self.store.count_request()
        _MODEL_TIME.set(self._arrival(request))
        body = await request.read()
        raw_path, _, raw_query = request.raw_path.partition("?")
        head = request.method == "HEAD"
        wire = self._wire
        try:
            signer = self._verify(
                SignedRequest(request.method, raw_path, raw_query, request.headers, body)
            )
            # a --user key is its own account; every other key (temporary ones included)
            # acts for the main access key's account; with one account nothing is checked
            owner = (
                "" if not self._accounts else signer if signer in self._accounts else self._main_key
            )
            call = wire.parse(
                request.method, request.host, raw_path, raw_query, request.headers, body
            )
            self.store.count_op(call.op)
        except StoreError as err:
            return await self._send(request, wire.error(err, head=head))
        verdict = self.faults.decide(call.op, call.identity, self.store.in_flight)
        for spec in verdict.delayed_by:
            self.store.count_fault(spec.kind)
        if verdict.delay > 0:
            model_time = _MODEL_TIME.get()
            if model_time is not None:
                _MODEL_TIME.set(model_time + verdict.delay)  # the model starts after the delay
            await self.sleep(verdict.delay)
        fault = verdict.fault
        if fault is not None:
            self.store.count_fault(fault.kind)
            if fault.kind not in PERFORMING_KINDS:
                return await self._send(request, self._refusal(fault, head))
        if fault is not None and fault.kind == "corrupt":
            call = _corrupted(call)
        try:
            outcome = await self._executor.run(call, owner)
        except StoreError as err:
            return await self._send(request, wire.error(err, head=head))
        kind = fault.kind if fault is not None else None
        answer = wire.render(outcome, etag=kind != "noetag")
        if kind == "truncated":
            answer = _truncate(answer)
        if kind == "reset":
            return await self._reset(request, answer)
        return await self._send(request, answer)

    async def _send(self, request: web.BaseRequest, answer: Answer) -> web.StreamResponse:
        if answer.stream is not None and request.method != "HEAD":
            content = answer.stream
            resp = web.StreamResponse(status=answer.status, headers=answer.headers)
            resp.content_length = content.size
            await resp.prepare(request)
            # A client that goes away mid-body has nothing left to be told.
            with contextlib.suppress(ConnectionError):
                for chunk in content.chunks(0, content.size - 1, STREAM_CHUNK):
                    await resp.write(chunk)
                await resp.write_eof()
            return resp
        resp = web.Response(status=answer.status, headers=answer.headers, body=answer.body)
        if answer.head_length is not None:
            resp.headers["Content-Length"] = str(answer.head_length)
        return resp

    async def _reset(self, request: web.BaseRequest, answer: Answer) -> web.StreamResponse:
        """Send the headers and half the body (nothing when there is none), then drop the
        connection: the client sees a reset mid-answer."""
        resp = web.StreamResponse(status=answer.status, headers=answer.headers)
        transport = request.transport
        body = answer.body
        resp.content_length = len(body)
        stream = answer.stream
        if stream is not None and stream.size and request.method != "HEAD":
            body = stream.read(0, min(stream.size, STREAM_CHUNK) - 1)  # the start is enough
            resp.content_length = stream.size
        if body and transport is not None:
            await resp.prepare(request)
            await resp.write(body[: max(len(body) // 2, 1)])
        if transport is not None:
            transport.abort()
        return resp


def _corrupted(call: Call) -> Call:
    """The request as a faulty store carries it out (fault ``corrupt``): a part copy of the
    range one byte further along (one back when that would run past the end), an upload
    with its first byte flipped. Same sizes, other bytes."""
    if call.op == "copy_part" and call.copy_range is not None:
        first, last = call.copy_range
        shift = -1 if first > 0 else 1
        return replace(call, copy_range=(first + shift, last + shift))
    if call.op == "upload_part" and call.body:
        return replace(call, body=bytes([call.body[0] ^ 0xFF]) + call.body[1:])
    return call


def _truncate(answer: Answer) -> Answer:
    """The answer cut short: half its body (a stream keeps its Content-Range claim but
    carries half the bytes), or no ETag header when it has no body."""
    if answer.stream is not None:
        size = answer.stream.size
        stream = answer.stream.slice(0, size // 2 - 1) if size >= 2 else Content.of([])
        return Answer(answer.status, answer.headers, stream=stream, head_length=answer.head_length)
    if answer.body:
        return Answer(answer.status, answer.headers, answer.body[: len(answer.body) // 2])
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "etag"}
    return Answer(answer.status, headers, head_length=answer.head_length)
