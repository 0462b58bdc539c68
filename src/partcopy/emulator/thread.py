"""Run an ``Emulator`` on its own event loop in a background thread, for sync clients
(botocore and the other SDKs) and sync tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from partcopy.emulator.server import Emulator

__all__ = ["EmulatorThread"]

T = TypeVar("T")


class EmulatorThread:
    """``with EmulatorThread(dialect="s3") as emu: emu.url`` — same arguments as ``Emulator``.

    The store lives on the emulator's loop: change it from another thread with ``call``.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._emulator: Emulator | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("the emulator thread is not running")
        return self._emulator

    @property
    def url(self) -> str:
        return self.emulator.url

    def start(self) -> EmulatorThread:
        """Start the thread and return once the emulator listens (errors re-raised here)."""
        ready: Future[Emulator] = Future()

        async def serve() -> None:
            try:
                emu = await Emulator(**self._kwargs).start()
            except BaseException as exc:
                ready.set_exception(exc)
                return
            self._stopped = asyncio.Event()
            ready.set_result(emu)
            try:
                await self._stopped.wait()
            finally:
                await emu.stop()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(serve())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="partcopy-emulator", daemon=True)
        self._thread.start()
        self._emulator = ready.result(timeout=30)
        return self

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the emulator's loop (thread-safe store changes) and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the emulator thread is not running")
        done: Future[T] = Future()

        def invoke() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        loop.call_soon_threadsafe(invoke)
        return done.result(timeout=30)

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, stopped, thread = self._loop, self._stopped, self._thread
        if loop is not None and stopped is not None and thread is not None:
            loop.call_soon_threadsafe(stopped.set)
            thread.join(timeout=30)
        self._thread = None
        self._emulator = None

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
