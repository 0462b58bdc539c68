"""Shared fixtures: the anyio backend and emulators on loopback for sync clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from partcopy.emulator import EmulatorThread


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
