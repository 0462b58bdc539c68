"""The emulator's precise latency model: never answers before the modelled deadline."""

from __future__ import annotations

import asyncio

import pytest

from partcopy.emulator.server import SPIN, precise_sleep


@pytest.mark.anyio
@pytest.mark.parametrize("ahead", [0.0, SPIN / 2, SPIN * 3])
async def test_precise_sleep_returns_at_or_after_the_deadline(ahead: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ahead
    await precise_sleep(deadline)
    assert loop.time() >= deadline


@pytest.mark.anyio
async def test_a_past_deadline_does_not_wait() -> None:
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    other = loop.call_soon(ran.append, "other")
    await precise_sleep(loop.time() - 1.0)
    # returned without handing the loop over: the callback scheduled before has not run
    assert ran == []
    other.cancel()
