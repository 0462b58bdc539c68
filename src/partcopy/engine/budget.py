"""A byte budget: how much a copier's buffered relays may hold in memory at once.

A relay that cannot stream (its destination's ETags are not MD5s: SSE-KMS, SSE-C, GCS) reads
each part whole before sending it with its Content-MD5. Bounded only by the workers, that is
concurrency x part size: 64 parts of 64 MiB hold 4 GiB, most of a 5 GiB object. Each such
part holds its size from this budget first, so the bytes buffered at once stay within the
limit (a part larger than the limit waits until it is alone). Waiters are served in order,
so a large part is never starved by smaller ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from partcopy.errors import UsageError
from partcopy.units import GiB

__all__ = ["DEFAULT_RELAY_BUFFER", "BudgetStatistics", "ByteBudget"]

DEFAULT_RELAY_BUFFER = 1 * GiB
"""Bytes a copier's buffered relays hold at once unless told otherwise: 16 parts of 64 MiB."""


@dataclass(frozen=True, slots=True)
class BudgetStatistics:
    """What a :class:`ByteBudget` holds now and the most it held at once."""

    limit: int
    held: int
    peak: int
    waiting: int


class ByteBudget:
    """At most ``limit`` bytes held at once, in first-come order."""

    def __init__(self, limit: int = DEFAULT_RELAY_BUFFER) -> None:
        if isinstance(limit, bool) or limit < 1:
            raise UsageError(f"invalid relay buffer {limit!r}: must be at least 1 byte")
        self.limit = limit
        self._held = 0
        self._peak = 0
        self._waiting = 0
        self._turn: anyio.Lock | None = None  # made on first use, inside the event loop
        self._room: anyio.Event | None = None

    def statistics(self) -> BudgetStatistics:
        return BudgetStatistics(self.limit, self._held, self._peak, self._waiting)

    @asynccontextmanager
    async def hold(self, size: int) -> AsyncIterator[None]:
        """Hold ``size`` bytes (at most the whole limit) while the block runs."""
        need = min(max(size, 0), self.limit)
        if self._turn is None:
            self._turn = anyio.Lock()
        self._waiting += 1
        try:
            async with self._turn:  # one waiter at a time, in order, waits for room
                while self._held + need > self.limit:
                    if self._room is None:
                        self._room = anyio.Event()
                    await self._room.wait()
                self._held += need
                self._peak = max(self._peak, self._held)
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._held -= need
            if self._room is not None:
                self._room.set()
                self._room = None
