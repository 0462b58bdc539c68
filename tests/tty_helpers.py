"""Run a ``partcopy`` command the way a user sees it with ``> file``: stdout into a pipe,
stderr on a real terminal (a pseudo-terminal), to check where progress bars go."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TerminalRun:
    """A finished command: its status, what reached stdout, and what the terminal showed."""

    returncode: int
    stdout: bytes
    terminal: bytes


def run_with_terminal_stderr(
    argv: list[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> TerminalRun:
    """``python -m partcopy ARGV`` with stdout piped and stderr a terminal."""
    main_fd, term_fd = pty.openpty()
    chunks: list[bytes] = []

    def read_terminal() -> None:  # as it is written: a full terminal would stall the command
        with contextlib.suppress(OSError):  # EIO once the command has exited
            while chunk := os.read(main_fd, 65536):
                chunks.append(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "partcopy", *argv],
            stdout=subprocess.PIPE,
            stderr=term_fd,
            env=None if env is None else dict(env),
            timeout=timeout,
        )
    finally:
        os.close(term_fd)
        reader.join(timeout=10)
        os.close(main_fd)
    return TerminalRun(proc.returncode, proc.stdout, b"".join(chunks))
