"""A loopback HTTP proxy in front of one store that can hold UploadPartCopy requests.

It forwards every request byte for byte (the Host header too, so SigV4 signatures still
verify upstream) and counts the UploadPartCopy requests. With ``allow=N`` the copies after
the N-th are held and never forwarded: a client can be killed at a known point of its
copy, deterministically, whatever the speed of the store.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from types import TracebackType

import aiohttp
from aiohttp import web
from yarl import URL

__all__ = ["StallingProxy"]

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te"}
)


class StallingProxy:
    """``with StallingProxy(upstream, allow=2) as proxy: ... proxy.stalled.wait(60)``."""

    def __init__(self, upstream: str, *, allow: int | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.allow = allow
        self.copies = 0
        """UploadPartCopy requests seen (held ones included)."""
        self.stalled = threading.Event()
        """Set when the first copy past ``allow`` arrives (and is held)."""
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    def pass_through(self) -> None:
        """From now on forward every copy (held ones are still dropped, never sent)."""
        self.allow = None

    async def _handle(self, request: web.Request, session: aiohttp.ClientSession) -> web.Response:
        body = await request.read()
        is_copy = (
            request.method == "PUT"
            and "partNumber" in request.query
            and "x-amz-copy-source" in request.headers
        )
        if is_copy:
            self.copies += 1
            if self.allow is not None and self.copies > self.allow:
                self.stalled.set()
                assert self._release is not None
                await self._release.wait()
                return web.Response(status=503, text="held by the test proxy")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        target = URL(self.upstream + request.raw_path, encoded=True)
        async with session.request(
            request.method,
            target,
            headers=headers,
            data=body or None,
            allow_redirects=False,
            skip_auto_headers=("Content-Type", "User-Agent", "Accept-Encoding"),
        ) as answer:
            payload = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            if request.method == "HEAD" and "Content-Length" in answer.headers:
                out["Content-Length"] = answer.headers["Content-Length"]  # of the object
                return web.Response(status=answer.status, headers=out)
            return web.Response(status=answer.status, headers=out, body=payload)

    async def _serve(self, ready: Future[str]) -> None:
        self._release = asyncio.Event()
        self._stop = asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:

            async def handle(request: web.Request) -> web.Response:
                return await self._handle(request, session)

            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", handle)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            ready.set_result(f"http://127.0.0.1:{port}")
            try:
                await self._stop.wait()
            finally:
                self._release.set()
                await runner.cleanup()

    def __enter__(self) -> StallingProxy:
        ready: Future[str] = Future()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._serve(ready))
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="stalling-proxy", daemon=True)
        self._thread.start()
        self.url = ready.result(timeout=30)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)
