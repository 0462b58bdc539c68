"""Hedged part requests: re-issue a straggling part, keep the first verified answer.

A part request that runs past a threshold learnt from the parts seen so far (a quantile of
recent part times, times a multiplier, never below a floor) gets a second, identical
request. Both copy the same source range into the same part number, so either answer is
as good as the other: the first one that the verifier accepts wins and the other request
is cancelled. Hedges are rationed (a share of the parts started) so a slow store is not
sent twice the load. ``HedgedPart`` wraps any ``PartOperation``, so the job is unchanged.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from partcopy.engine.parts import PartOperation
from partcopy.engine.verify import verify_part
from partcopy.errors import TransportError, UsageError
from partcopy.planners import RangeTask
from partcopy.transports.base import PartResult

__all__ = [
    "DEFAULT_HEDGE",
    "HedgePolicy",
    "HedgeStats",
    "HedgeTracker",
    "HedgedPart",
    "RealTimer",
    "Timer",
]


@dataclass(frozen=True, slots=True)
class HedgePolicy:
    """When to hedge: after ``quantile`` of recent part times × ``multiplier``.

    No hedge is sent before ``min_samples`` parts have finished, nor earlier than
    ``min_delay`` seconds into a request, nor beyond ``max_fraction`` of the parts started
    (at least one).
    """

    quantile: float = 0.95
    multiplier: float = 1.25
    min_samples: int = 16
    min_delay: float = 0.05
    max_fraction: float = 0.1
    window: int = 512
    """How many recent part times the quantile is taken over."""

    def __post_init__(self) -> None:
        if not 0.0 < self.quantile <= 1.0:
            raise UsageError(f"invalid hedge quantile {self.quantile!r}: must be in (0, 1]")
        if self.multiplier < 1.0:
            raise UsageError(f"invalid hedge multiplier {self.multiplier!r}: must be >= 1")
        if self.min_samples < 1 or self.window < self.min_samples:
            raise UsageError(
                f"invalid hedge samples {self.min_samples!r} / window {self.window!r}: "
                "need 1 <= min_samples <= window"
            )
        if self.min_delay < 0 or not 0.0 <= self.max_fraction <= 1.0:
            raise UsageError(
                f"invalid hedge limits: min_delay {self.min_delay!r} must not be negative, "
                f"max_fraction {self.max_fraction!r} must be in [0, 1]"
            )


DEFAULT_HEDGE = HedgePolicy()
"""What a ``Copier`` hedges with unless told otherwise."""


@dataclass(frozen=True, slots=True)
class HedgeStats:
    """How much hedging one job did: hedges sent, hedges that answered first, threshold."""

    started: int
    hedged: int
    won: int
    threshold: float | None


class Timer(Protocol):
    """Waits for ``event`` at most ``seconds`` (injectable so tests never wait for real)."""

    async def wait(self, event: anyio.Event, seconds: float) -> None: ...


class RealTimer:
    """The wall clock: ``move_on_after``."""

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        with anyio.move_on_after(seconds):
            await event.wait()


class HedgeTracker:
    """Recent part times of one job and the hedge budget; the threshold once learnt."""

    def __init__(self, policy: HedgePolicy) -> None:
        self.policy = policy
        self._samples: deque[float] = deque(maxlen=policy.window)
        self._threshold: float | None = None
        self._waiters: list[anyio.Event] = []
        self.started = 0
        self.hedged = 0
        self.won = 0

    def record(self, seconds: float) -> None:
        """A verified part took ``seconds``: learn from it."""
        self._samples.append(seconds)
        n = len(self._samples)
        if n < self.policy.min_samples:
            return
        # Re-sorting a few hundred floats per part is microseconds; do it every 8 parts.
        if self._threshold is None or n % 8 == 0 or n == self.policy.window:
            ordered = sorted(self._samples)
            index = min(n - 1, max(0, math.ceil(self.policy.quantile * n) - 1))
            self._threshold = max(self.policy.min_delay, ordered[index] * self.policy.multiplier)
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for event in waiters:
                event.set()

    @property
    def threshold(self) -> float | None:
        """Seconds after which a part request is hedged, or None while still learning."""
        return self._threshold

    def notify_when_learnt(self, event: anyio.Event) -> None:
        """Set ``event`` once the threshold is known."""
        if self._threshold is not None:
            event.set()
        else:
            self._waiters.append(event)

    def may_hedge(self) -> bool:
        """Whether the budget allows one more hedge (``max_fraction`` 0 turns hedging off)."""
        fraction = self.policy.max_fraction
        return fraction > 0 and self.hedged < max(1, math.floor(fraction * self.started))

    def stats(self) -> HedgeStats:
        return HedgeStats(self.started, self.hedged, self.won, self._threshold)


@dataclass(slots=True)
class _Race:
    """The attempts at one part: who answered what, and whether it is decided."""

    wake: anyio.Event
    decided: anyio.Event
    launched: int = 1
    finished: int = 0
    winner: PartResult | None = None
    won_by_hedge: bool = False
    first_failure: PartResult | Exception | None = None
    hedge_possible: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class HedgedPart:
    """A ``PartOperation`` that hedges straggling requests of the operation it wraps.

    ``on_hedge(part_number, seconds_waited)`` is called when a hedge is sent.
    """

    inner: PartOperation
    tracker: HedgeTracker
    timer: Timer = field(default_factory=RealTimer)
    clock: Callable[[], float] = time.monotonic
    on_hedge: Callable[[int, float], None] | None = None

    @property
    def name(self) -> str:
        return self.inner.name

    async def __call__(self, upload_id: str, task: RangeTask) -> PartResult:
        tracker = self.tracker
        tracker.started += 1
        race = _Race(anyio.Event(), anyio.Event())
        start = self.clock()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._attempt, race, upload_id, task, False)
            if await self._hedge_due(race, start):
                race.hedge_possible = False  # one hedge per request, never more
                race.launched += 1
                tracker.hedged += 1
                if self.on_hedge is not None:
                    self.on_hedge(task.part_number, self.clock() - start)
                tg.start_soon(self._attempt, race, upload_id, task, True)
            else:
                race.hedge_possible = False
                if race.finished >= race.launched:
                    race.decided.set()
            await race.decided.wait()
            tg.cancel_scope.cancel()
        if race.winner is not None:
            if race.won_by_hedge:
                tracker.won += 1
            return race.winner
        failure = race.first_failure
        if isinstance(failure, Exception):
            raise failure
        assert failure is not None  # decided without a winner means every attempt failed
        return failure

    async def _hedge_due(self, race: _Race, start: float) -> bool:
        """Wait until a hedge is due (True) or the race is over without one (False)."""
        tracker = self.tracker
        while not race.decided.is_set() and race.finished == 0:
            threshold = tracker.threshold
            if threshold is None:
                tracker.notify_when_learnt(race.wake)
                await race.wake.wait()
                race.wake = anyio.Event()
                continue
            remaining = start + threshold - self.clock()
            if remaining > 0:
                await self.timer.wait(race.wake, remaining)
                if race.wake.is_set():
                    race.wake = anyio.Event()
                continue
            return tracker.may_hedge()
        return False

    async def _attempt(self, race: _Race, upload_id: str, task: RangeTask, hedge: bool) -> None:
        started = self.clock()
        outcome: PartResult | Exception
        try:
            outcome = await self.inner(upload_id, task)
        except Exception as exc:  # kept, not raised: the other attempt may still succeed
            outcome = exc
        race.finished += 1
        if isinstance(outcome, PartResult) and _verified(outcome, task.part_number, self.name):
            if race.winner is None:
                race.winner = outcome
                race.won_by_hedge = hedge
                self.tracker.record(self.clock() - started)
            race.decided.set()
        else:
            if race.first_failure is None:
                race.first_failure = outcome
            if race.finished >= race.launched and not race.hedge_possible:
                race.decided.set()
        race.wake.set()


def _verified(result: PartResult, part_number: int, operation: str) -> bool:
    try:
        verify_part(result, part_number, operation)
    except TransportError:
        return False
    return True
