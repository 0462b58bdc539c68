"""Shared fixtures: the anyio backend and emulators on loopback for sync clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from partcopy.emulator import EmulatorThread


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """``cp`` points structlog at the stderr of its test (a capture that is then closed)."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emulator_thread() -> Iterator[Callable[..., EmulatorThread]]:
    """Start emulators (``Emulator`` arguments) in background threads; stopped at teardown."""
    started: list[EmulatorThread] = []

    def start(**kwargs: Any) -> EmulatorThread:
        emu = EmulatorThread(**kwargs).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()
