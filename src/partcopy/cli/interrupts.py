"""SIGTERM handled like Ctrl-C, so ``kill PID`` cancels a copy as cleanly as Ctrl-C does.

Under ``anyio.run`` (asyncio) the first SIGINT cancels the main task: every job then runs
its shielded cleanup (abort the upload, or keep it when journaled) before
``KeyboardInterrupt`` reaches the command. SIGTERM is forwarded to the same handler.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

from partcopy.engine.events import Aborting, Event, Failed

__all__ = ["AbortNotice", "interrupt_exit_status", "sigterm_as_sigint"]

_received: list[int] = []


def _forward(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


@contextmanager
def sigterm_as_sigint() -> Iterator[None]:
    """While the block runs (main thread only), SIGTERM acts as SIGINT."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = signal.signal(signal.SIGTERM, _forward)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_exit_status() -> int:
    """128 + the signal that interrupted the block (SIGTERM or, by default, SIGINT)."""
    return 128 + (_received[-1] if _received else int(signal.SIGINT))


class AbortNotice:
    """A run of many copies (``bulk``, ``cp --recursive``, ``sync``) says once, on its first
    interrupt's ``Aborting`` event, that it is aborting the open uploads: the aborts may
    wait for the store, and a second Ctrl-C leaves what is still open. Then it counts them:
    ``Failed`` names an upload an interrupted job could not abort."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._aborting: set[str] = set()
        self._left: set[str] = set()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Aborting) and event.cancelled:
            if not self._aborting:
                out = self._stream or sys.stderr
                out.write(
                    "partcopy: interrupted; aborting the open uploads of this run (each waits "
                    f"up to {event.timeout:g}s for the store); Ctrl-C again stops waiting "
                    "and leaves them open\n"
                )
                out.flush()
            self._aborting.add(event.upload_id)
        elif isinstance(event, Failed) and event.upload_id in self._aborting:
            self._left.add(event.upload_id)

    def outcome(self) -> str | None:
        """What the aborts left, in words; None when no upload was aborted."""
        if not self._aborting:
            return None
        aborted = len(self._aborting - self._left)
        said = f"{aborted} open upload(s) aborted"
        if self._left:
            said += f", {len(self._left)} may be left open ('partcopy uploads list' shows them)"
        return said
