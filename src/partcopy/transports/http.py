"""The HTTP core every dialect shares: one aiohttp session, timeouts, capped reads, errors.

This is the boundary where aiohttp's exceptions become :mod:`partcopy.errors` (once,
``raise X(...) from exc``). Nothing here knows a dialect: URLs arrive built and signed.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import aiohttp
import anyio
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from partcopy.errors import (
    ConnectError,
    ProtocolError,
    ResponseTimeout,
    TransportError,
)
from partcopy.providers import S3_ERRORS, ErrorCodes
from partcopy.transports.errormap import service_error
from partcopy.transports.network import SKIP_AUTO_HEADERS, Network
from partcopy.transports.verdict import ErrorBody

__all__ = [
    "MAX_BODY",
    "BodyStream",
    "HttpCore",
    "Reply",
    "Timeouts",
    "map_client_error",
    "parse_retry_after",
    "raise_service_error",
    "safe_cause",
]

MAX_BODY = 1 << 20
"""The most bytes read of an XML/JSON answer: a larger body is refused (``ProtocolError``)."""

Body = bytes | AsyncIterable[bytes] | None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait. ``read`` bounds the silence between bytes of an ordinary answer.

    A server-side copy sends nothing until it is done, so its read timeout grows with the
    bytes copied: ``copy_base + size / copy_min_rate`` (a 5 GiB part at 16 MiB/s: ~6 min).
    """

    connect: float = 10.0
    read: float = 60.0
    copy_base: float = 60.0
    copy_min_rate: float = 16 * 1024 * 1024

    def copy_read(self, size: int) -> float:
        """The read timeout for a server-side copy of ``size`` bytes."""
        return self.copy_base + max(size, 0) / self.copy_min_rate

    def upload_total(self, size: int) -> float:
        """The whole-request bound for sending ``size`` bytes: a server that stops reading
        a body stalls the write, which no read timeout sees."""
        return self.copy_base + self.read + max(size, 0) / self.copy_min_rate

    def deadline(self, read: float | None = None) -> float:
        """The whole-request bound: connecting, the answer's headers and its (capped) body.

        aiohttp's ``sock_read`` restarts on every byte, so a server trickling its headers
        would otherwise never be given up on; this bound cannot be restarted.
        """
        return self.connect + (read or self.read)

    def body_deadline(self, size: int) -> float:
        """The bound on streaming ``size`` bytes of a GET body: shorter than the upload it
        feeds (``upload_total``), so a trickling source fails on its own side first."""
        return self.copy_read(size)

    def client_timeout(
        self, read: float | None = None, total: float | None = None, *, silence: bool = True
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeout: connect, silence between bytes, and an optional whole bound.

        Without ``silence`` there is no bound on the gaps between bytes: for an answer read
        whole under ``deadline(read)``, which ends it anyway, a restarted timer per read is
        pure cost (two timer handles a request, about 5 % of a part copy's CPU).
        """
        return aiohttp.ClientTimeout(
            total=total,
            sock_connect=self.connect,
            connect=None,
            sock_read=(read or self.read) if silence else None,
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete answer: status, headers and the (capped) body."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


_CONNECTION_KEY = re.compile(r"Connection<ConnectionKey\(host='([^']*)', port=(\d+).*?\)>")
_SCRUBS = (
    (re.compile(r"BasicAuth\([^)]*\)"), "BasicAuth(***)"),
    (re.compile(r"(?<=//)[^/\s'\"@]*@"), "***@"),
    (re.compile(r"<ssl\.SSLContext object at 0x[0-9a-fA-F]+>"), "<TLS context>"),
)


def _timeouts_of(network: Network) -> Timeouts:
    """The timeouts a copier's network settings ask for (the defaults where they are None)."""
    connect, read = network.connect_timeout, network.read_timeout
    if connect is None and read is None:
        return Timeouts()
    base = Timeouts()
    return Timeouts(
        connect=base.connect if connect is None else connect,
        read=base.read if read is None else read,
        copy_base=base.copy_base if read is None else read,
    )


def scrub(text: str) -> str:
    """aiohttp's text for a connection error with the secrets it may hold taken out: its
    connection key carries the proxy URL with its password and the proxy's BasicAuth, so it
    becomes ``connection to host:port``; any other URL loses its user information."""
    text = _CONNECTION_KEY.sub(r"connection to \1:\2", text)
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def map_client_error(exc: BaseException, operation: str) -> TransportError:
    """The partcopy error for an aiohttp/asyncio failure (never carries headers, nor a
    proxy's credentials)."""
    if isinstance(exc, TimeoutError):
        return ResponseTimeout(
            f"{operation}: no answer in time ({type(exc).__name__})", operation=operation
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ConnectError(f"{operation}: connection closed mid-body", operation=operation)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        # A certificate that does not verify will not verify on the next attempt either.
        error = ConnectError(f"{operation}: TLS: {scrub(str(exc))}", operation=operation)
        error.retryable = False
        return error
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        text = scrub(str(exc))
        return ConnectError(f"{operation}: {type(exc).__name__}: {text}", operation=operation)
    if isinstance(exc, aiohttp.ClientResponseError):
        detail = " ".join(f"{type(exc).__name__} {exc.status}: {exc.message}".split())[:300]
        return ProtocolError(f"{operation}: {detail}", operation=operation)
    return ProtocolError(f"{operation}: {type(exc).__name__}", operation=operation)


def safe_cause(exc: BaseException) -> BaseException:
    """``exc`` fit to chain: aiohttp's response errors carry the request's headers
    (Authorization included) in their repr, so those are scrubbed first; a connection error
    whose text holds a proxy's credentials is replaced by one with the scrubbed text (a
    logged traceback prints the causes too)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        if exc.request_info is not None:
            info = exc.request_info
            exc.request_info = aiohttp.RequestInfo(
                info.url, info.method, CIMultiDictProxy(CIMultiDict()), info.real_url
            )
        return exc
    text = str(exc)
    clean = scrub(text)
    if clean != text or scrub(repr(exc)) != repr(exc):
        return ConnectionError(f"{type(exc).__name__}: {clean}")
    return exc


def raise_service_error(
    status: int,
    headers: Mapping[str, str],
    error: ErrorBody | None,
    operation: str,
    codes: ErrorCodes = S3_ERRORS,
) -> NoReturn:
    """Raise the typed ``ServiceError`` ``codes`` (the provider row's) map the answer to."""
    error = error or ErrorBody()
    request_id = (
        error.request_id
        or headers.get("x-amz-request-id")
        or headers.get("x-obs-request-id")
        or headers.get("x-cos-request-id")
        or headers.get("x-qs-request-id")
    )
    raise service_error(
        status,
        error.code,
        error.message,
        codes=codes,
        request_id=request_id,
        retry_after=parse_retry_after(headers.get("Retry-After")),
        operation=operation,
    )


_SLICE = 256 * 1024
_OWN_OPTIONS = {"skip_auto_headers": SKIP_AUTO_HEADERS, "auto_decompress": False}
"""What every request needs of its session; given per request only to a session (the
caller's) not made with them, since aiohttp rebuilds its skip set on each request."""


async def _slices(data: bytes) -> AsyncIterator[bytes]:
    """Feed a large in-memory body in slices (no copy) so the event loop keeps turning."""
    view = memoryview(data)
    for start in range(0, len(view), _SLICE):
        yield view[start : start + _SLICE]  # type: ignore[misc]


async def _read_capped(resp: aiohttp.ClientResponse, cap: int, operation: str) -> bytes:
    length = resp.content_length
    if length is not None and length > cap:
        resp.close()
        raise ProtocolError(f"{operation}: body of {length} bytes exceeds {cap}")
    if length is not None:  # declared and within the cap: aiohttp reads no more than that
        return await resp.read()
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.content.iter_any():
        total += len(chunk)
        if total > cap:
            resp.close()
            raise ProtocolError(f"{operation}: body exceeds {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class HttpCore:
    """Sends prepared requests on one session and maps every failure onto partcopy errors.

    A session passed in stays the caller's; without one, the core makes its own on first
    use and closes it in ``aclose``.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeouts: Timeouts | None = None,
        max_body: int = MAX_BODY,
        connector_limit: int = 256,
        network: Network | None = None,
    ) -> None:
        self._session = session
        self.network = network or Network()
        self._proxies: dict[tuple[str, str, int | None], str | None] = {}
        self._reached: set[str] = set()
        self._owned = session is None
        self.timeouts = timeouts or _timeouts_of(self.network)
        self.max_body = max_body
        self._limit = connector_limit
        self._default_timeout = self.timeouts.client_timeout()
        self._tls_context: ssl.SSLContext | bool | None = None
        self._options_for: aiohttp.ClientSession | None = None
        self._per_request: Mapping[str, Any] = _OWN_OPTIONS
        self._timeouts: dict[
            tuple[float | None, float | None], tuple[float, aiohttp.ClientTimeout]
        ] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session in use: the caller's, or one made (and owned) on first use."""
        if self._session is None:
            self._session = self.network.session(self._limit, self._limit)
        return self._session

    def _bounds(
        self, read_timeout: float | None, total_timeout: float | None
    ) -> tuple[float, aiohttp.ClientTimeout]:
        """The whole-request deadline and aiohttp's timeout for these bounds, made once per
        distinct pair (a job's parts share one or two) rather than once per request."""
        key = (read_timeout, total_timeout)
        known = self._timeouts.get(key)
        if known is None:
            deadline = (
                total_timeout if total_timeout is not None else self.timeouts.deadline(read_timeout)
            )
            timeout = self.timeouts.client_timeout(read_timeout, total_timeout, silence=False)
            if len(self._timeouts) >= 256:  # bounded whatever the sizes
                self._timeouts.clear()
            known = self._timeouts[key] = (deadline, timeout)
        return known

    def _tls(self, url: URL) -> ssl.SSLContext | bool:
        """aiohttp's ``ssl=`` for one request: the network's (its CA bundle parsed on the
        first https request), or True, the session's own, for plain http."""
        if url.scheme != "https":
            return True
        if self._tls_context is None:
            self._tls_context = self.network.ssl()
        return self._tls_context

    def _options(self) -> Mapping[str, Any]:
        """Per-request options the session lacks (none for a session ``Network`` made)."""
        session = self.session
        if session is not self._options_for:
            own = set(SKIP_AUTO_HEADERS) <= {str(h) for h in session.skip_auto_headers}
            self._per_request = {} if own and not session.auto_decompress else _OWN_OPTIONS
            self._options_for = session
        return self._per_request

    def _route(self, url: URL) -> str | None:
        """The proxy for ``url`` (cached per scheme, host and port)."""
        where = (url.scheme, url.host or "", url.port)
        if where not in self._proxies:
            self._proxies[where] = self.network.proxy_for(*where)
        return self._proxies[where]

    def _failed(self, exc: BaseException, url: URL, operation: str) -> TransportError:
        """Map ``exc``; a host never reached that refuses or does not resolve is marked
        ``unreachable`` (the retry policy gives it one more try, not ten)."""
        error = map_client_error(exc, operation)
        if (
            isinstance(error, ConnectError)
            and isinstance(exc, aiohttp.ClientConnectorError)
            and not isinstance(exc, aiohttp.ClientConnectorCertificateError)
            and f"{url.host}:{url.port}" not in self._reached
        ):
            error.unreachable = True
        return error

    async def aclose(self) -> None:
        """Close the session if this core made it."""
        if self._owned and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        body: Body = None,
        operation: str,
        read_timeout: float | None = None,
        total_timeout: float | None = None,
    ) -> Reply:
        """Send one request and read its whole answer (at most ``max_body`` bytes).

        The request as a whole (connect, headers, body) ends by ``total_timeout``, else by
        ``Timeouts.deadline(read_timeout)``, whatever the server trickles.
        """
        deadline, timeout = self._bounds(read_timeout, total_timeout)
        if isinstance(body, bytes) and len(body) > _SLICE:
            body = _slices(body)
        target = URL(url, encoded=True)
        try:
            # asyncio's own timeout: a third of anyio.fail_after's cost on every request
            async with asyncio.timeout(deadline):
                async with self.session.request(
                    method,
                    target,
                    headers=headers,
                    data=body,
                    timeout=timeout,
                    allow_redirects=False,
                    proxy=self._route(target),
                    ssl=self._tls(target),
                    **self._options(),
                ) as resp:
                    self._reached.add(f"{target.host}:{target.port}")
                    if method == "HEAD":  # Content-Length describes the object, not a body
                        return Reply(resp.status, resp.headers, b"")
                    data = await _read_capped(resp, self.max_body, operation)
                    return Reply(resp.status, resp.headers, data)
        except TransportError:
            raise
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise self._failed(exc, target, operation) from safe_cause(exc)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        operation: str,
        on_error: Callable[[Reply], NoReturn],
        chunk_size: int = 1 << 20,
    ) -> AsyncIterator[tuple[Reply, AsyncIterator[bytes]]]:
        """Open a request whose 2xx body is streamed; a non-2xx goes to ``on_error``.

        The headers (and an error body) come within ``Timeouts.deadline()``; the streamed
        body within ``Timeouts.body_deadline`` of its Content-Length.
        """
        target = URL(url, encoded=True)
        try:
            with anyio.fail_after(self.timeouts.deadline()):
                resp = await self.session.request(
                    method,
                    target,
                    headers=headers,
                    timeout=self._default_timeout,
                    allow_redirects=False,
                    ssl=self._tls(target),
                    skip_auto_headers=SKIP_AUTO_HEADERS,
                    auto_decompress=False,  # an object stored gzipped is copied as stored
                    proxy=self._route(target),
                )
                self._reached.add(f"{target.host}:{target.port}")
                try:
                    error = None
                    if not 200 <= resp.status < 300:
                        data = await _read_capped(resp, self.max_body, operation)
                        error = Reply(resp.status, resp.headers, data)
                except BaseException:
                    resp.close()
                    raise
        except TransportError:
            raise
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise self._failed(exc, target, operation) from safe_cause(exc)
        body = BodyStream(resp, chunk_size, operation, self.timeouts)
        try:
            if error is not None:
                on_error(error)
            yield Reply(resp.status, resp.headers, b""), body
        finally:
            body.aclose_now()  # a half-read stream is finalised here, not by GC


class BodyStream:
    """The chunks of a streamed answer, with a total deadline for the whole body.

    Not an async generator: the consumer may be another task (aiohttp's body writer reads
    it while the upload runs), and closing must then stop it, not fail with "asynchronous
    generator is already running". Closing closes the response, which ends any read.
    """

    def __init__(
        self, resp: aiohttp.ClientResponse, chunk_size: int, operation: str, timeouts: Timeouts
    ) -> None:
        self._resp = resp
        self._chunk_size = chunk_size
        self._operation = operation
        length = resp.content_length
        budget = timeouts.body_deadline(length if length is not None else 0)
        self._deadline = anyio.current_time() + budget
        self._budget = budget
        self._closed = False

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        op = self._operation
        remaining = self._deadline - anyio.current_time()
        try:
            if remaining <= 0:
                raise TimeoutError
            with anyio.fail_after(remaining):
                chunk = await self._resp.content.read(self._chunk_size)
        except TimeoutError:
            self.aclose_now()
            raise ResponseTimeout(
                f"{op}: body not received within {self._budget:.0f}s", operation=op
            ) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            self.aclose_now()
            raise map_client_error(exc, op) from safe_cause(exc)
        if not chunk:
            self._closed = True
            raise StopAsyncIteration
        return chunk

    def aclose_now(self) -> None:
        """Close the response (idempotent); a pending read ends with an error."""
        if not self._closed:
            self._closed = True
        self._resp.close()

    async def aclose(self) -> None:
        """Async form of :meth:`aclose_now`, for callers that ``await`` closing."""
        self.aclose_now()
