"""SIGTERM handled like Ctrl-C, so ``kill PID`` cancels a copy as cleanly as Ctrl-C does.

Under ``anyio.run`` (asyncio) the first SIGINT cancels the main task: every job then runs
its shielded cleanup (abort the upload, or keep it when journaled) before
``KeyboardInterrupt`` reaches the command. SIGTERM is forwarded to the same handler.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["interrupt_exit_status", "sigterm_as_sigint"]

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
