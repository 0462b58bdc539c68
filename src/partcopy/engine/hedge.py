"""Hedged part requests: re-issue a straggling part, keep the first verified answer.

A part request that runs past a threshold learnt from the parts seen so far (a quantile of
recent part times, times a multiplier, never below a floor) gets a second, identical
request. Both copy the same source range into the same part number, so either answer is
as good as the other: the first one that the verifier accepts wins and the other request
is cancelled. Hedges are rationed (a share of the parts started) so a slow store is not
sent twice the load.

Near the end of a job (every part has started, so workers fall idle) the threshold drops
to ``tail_quantile`` × ``tail_multiplier`` (about the median part time): like MapReduce's
backup tasks, the last requests are hedged as soon as they run slower than a typical part,
because a straggler in the last wave would otherwise set the whole job's makespan.

``HedgedPart`` wraps any ``PartOperation``. The original request runs inline in the
worker that asked (no task per part: hedging must cost next to nothing when nothing
straggles); one monitor task per job, started by ``async with hedged.running():`` around
the part pool, watches the oldest request in flight and starts hedges in its own group.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

import anyio
from anyio.abc import TaskGroup

from partcopy.engine.adaptive import AdaptiveLimiter, Ticket
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
    "UnlimitedSlots",
]


@dataclass(frozen=True, slots=True)
class HedgePolicy:
    """When to hedge: after ``quantile`` of recent part times × ``multiplier``.

    No hedge is sent before ``min_samples`` parts have finished, nor earlier than
    ``min_delay`` seconds into a request, nor beyond ``max_fraction`` of the parts started
    (at least one; 0 turns hedging off).
    """

    quantile: float = 0.95
    multiplier: float = 1.25
    min_samples: int = 16
    min_delay: float = 0.05
    max_fraction: float = 0.1
    window: int = 512
    """How many recent part times the quantile is taken over."""
    tail_quantile: float = 0.5
    tail_multiplier: float = 1.1
    """Once every part has started: hedge after this quantile × multiplier instead."""
    max_hedges: int = 2
    """Hedges per request at most: a hedge that straggles too (one threshold after it was
    sent, the original still running) gets one successor."""

    def __post_init__(self) -> None:
        for q in (self.quantile, self.tail_quantile):
            if not 0.0 < q <= 1.0:
                raise UsageError(f"invalid hedge quantile {q!r}: must be in (0, 1]")
        if self.multiplier < 1.0 or self.tail_multiplier < 1.0:
            raise UsageError(
                f"invalid hedge multiplier {min(self.multiplier, self.tail_multiplier)!r}: "
                "must be >= 1"
            )
        if self.min_samples < 1 or self.window < self.min_samples:
            raise UsageError(
                f"invalid hedge samples {self.min_samples!r} / window {self.window!r}: "
                "need 1 <= min_samples <= window"
            )
        if self.max_hedges < 1:
            raise UsageError(f"invalid max hedges {self.max_hedges!r}: must be at least 1")
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
        self._ordered: list[float] = []
        """The same samples, kept sorted as they come and go (no sort per threshold)."""
        self._recorded = 0
        self._threshold: float | None = None
        self._tail_threshold: float | None = None
        self.started = 0
        self.hedged = 0
        self.won = 0

    def record(self, seconds: float) -> None:
        """A verified part took ``seconds``: learn from it."""
        samples, ordered = self._samples, self._ordered
        if len(samples) == samples.maxlen:  # the oldest leaves the window
            del ordered[bisect.bisect_left(ordered, samples[0])]
        samples.append(seconds)
        bisect.insort(ordered, seconds)
        self._recorded += 1
        n = len(samples)
        if n < self.policy.min_samples:
            return
        # The quantiles move slowly: once every 8 parts is plenty.
        if self._threshold is None or self._recorded % 8 == 0:
            policy = self.policy

            def at(q: float) -> float:
                return ordered[min(n - 1, max(0, math.ceil(q * n) - 1))]

            self._threshold = max(policy.min_delay, at(policy.quantile) * policy.multiplier)
            self._tail_threshold = max(
                policy.min_delay, at(policy.tail_quantile) * policy.tail_multiplier
            )

    @property
    def threshold(self) -> float | None:
        """Seconds after which a part request is hedged, or None while still learning."""
        return self._threshold

    @property
    def tail_threshold(self) -> float | None:
        """The threshold once every part has started (None while still learning)."""
        return self._tail_threshold

    def may_hedge(self) -> bool:
        """Whether the budget allows one more hedge (``max_fraction`` 0 turns hedging off)."""
        fraction = self.policy.max_fraction
        return fraction > 0 and self.hedged < max(1, math.floor(fraction * self.started))

    def stats(self) -> HedgeStats:
        return HedgeStats(self.started, self.hedged, self.won, self._threshold)


@dataclass(eq=False, slots=True)
class _Hedge:
    """One hedge of a request: its scope (to cancel it) and what it answered."""

    scope: anyio.CancelScope
    done: anyio.Event
    outcome: PartResult | Exception | None = None


@dataclass(eq=False, slots=True)
class _Flight:
    """One part request in flight, and its hedges once there are some."""

    upload_id: str
    task: RangeTask
    start: float
    scope: anyio.CancelScope
    due_from: float = 0.0
    """When the monitor's clock for this request started: its admission, then its last
    hedge (a hedge that straggles too gets a successor)."""
    primary_done: bool = False
    hedges: list[_Hedge] = field(default_factory=list)
    winner: PartResult | None = None


@dataclass(eq=False)
class HedgedPart:
    """A ``PartOperation`` that hedges straggling requests of the operation it wraps.

    Hedging happens only inside ``async with self.running():``; outside it, calls go
    straight through. ``on_hedge(part_number, seconds_waited)`` is told of each hedge.
    """

    inner: PartOperation
    tracker: HedgeTracker
    timer: Timer = field(default_factory=RealTimer)
    clock: Callable[[], float] = time.monotonic
    on_hedge: Callable[[int, float], None] | None = None
    limiter: AdaptiveLimiter | None = None
    """When set, every attempt (original and hedge) holds one of its slots, and ``inner``
    must not take one itself."""
    _group: TaskGroup | None = field(default=None, init=False, repr=False)
    _watch: dict[int, _Flight] = field(default_factory=dict, init=False, repr=False)
    _wake: anyio.Event | None = field(default=None, init=False, repr=False)
    _ids: int = field(default=0, init=False, repr=False)
    _parts: int | None = field(default=None, init=False, repr=False)
    _starved: bool = field(default=False, init=False, repr=False)
    _new_scope: Callable[[], anyio.CancelScope] = field(
        default=anyio.CancelScope, init=False, repr=False
    )

    @property
    def name(self) -> str:
        return self.inner.name

    @asynccontextmanager
    async def running(self, parts: int | None = None) -> AsyncIterator[HedgedPart]:
        """Hedge calls made inside this block (one monitor task watches them).

        ``parts`` is how many parts the block will copy: once that many calls have started,
        the tail threshold applies. An error raised in the block comes out as it is, not in
        an exception group.
        """
        error: Exception | None = None
        self._parts = parts
        # Every request gets a cancel scope (a winning hedge cancels it). anyio.CancelScope()
        # looks the running backend up on every call; the backend's own scope class, found
        # once here, makes the same scopes at a third of the cost.
        self._new_scope = type(anyio.CancelScope())
        async with anyio.create_task_group() as tg:
            self._group = tg
            self._wake = anyio.Event()
            tg.start_soon(self._monitor)
            try:
                yield self
            except Exception as exc:  # re-raised below, outside the task group
                error = exc
            finally:
                self._group = None
                tg.cancel_scope.cancel()
        if error is not None:
            raise error

    async def __call__(self, upload_id: str, task: RangeTask) -> PartResult:
        if self._group is None:
            return await self.inner(upload_id, task)
        tracker = self.tracker
        tracker.started += 1
        if self._starved and self._wake is not None:
            self._starved = False
            self._wake.set()  # the hedge budget grew with this start
        self._ids += 1
        key = self._ids
        flight = _Flight(upload_id, task, 0.0, self._new_scope())
        outcome: PartResult | Exception
        try:
            with flight.scope:
                outcome = await self._request(flight, key)
        except Exception as exc:  # decided below: a hedge in flight may still succeed
            outcome = exc
        finally:
            flight.primary_done = True
            self._watch.pop(key, None)
        if flight.winner is not None:  # a hedge answered (verified) first and cancelled us
            tracker.won += 1
            return flight.winner
        if flight.scope.cancelled_caught:
            raise RuntimeError("a hedged part request was cancelled without a winner")
        verified = isinstance(outcome, PartResult) and _verified(outcome, task, self.name)
        if flight.hedges and not verified:
            for hedge in flight.hedges:  # our answer proves nothing: is a hedge's better?
                await hedge.done.wait()
                got = hedge.outcome
                if isinstance(got, PartResult) and _verified(got, task, self.name):
                    self._cancel_hedges(flight)
                    tracker.won += 1
                    return got
        self._cancel_hedges(flight)
        if isinstance(outcome, Exception):
            raise outcome
        if verified:
            learning = tracker.threshold is None
            tracker.record(self.clock() - flight.start)
            if learning and tracker.threshold is not None and self._wake is not None:
                self._wake.set()  # learnt: the monitor can start watching
        return outcome

    @staticmethod
    def _cancel_hedges(flight: _Flight) -> None:
        for hedge in flight.hedges:
            hedge.scope.cancel()

    def _admitted(self, flight: _Flight, key: int) -> None:
        """An original request got its slot: its age counts from now, not from its wait for
        one (waiting for the limiter, a lowered AIMD limit or other jobs, is not straggling)."""
        flight.start = flight.due_from = self.clock()
        self._watch[key] = flight
        if self._wake is not None and (
            len(self._watch) == 1 or self.tracker.started == self._parts
        ):
            self._wake.set()  # the monitor was idle, or the tail begins: look again

    async def _request(self, flight: _Flight, key: int | None) -> PartResult:
        """One attempt, in a slot of ``limiter`` when there is one (throttles recorded).

        ``key`` names an original request (watched from its admission); None, a hedge."""
        limiter = self.limiter
        upload_id, task = flight.upload_id, flight.task
        if limiter is None:
            if key is not None:
                self._admitted(flight, key)
            return await self.inner(upload_id, task)
        ticket = await limiter.acquire()
        try:
            if key is not None:
                self._admitted(flight, key)
            result = await self.inner(upload_id, task)
        except BaseException as exc:
            limiter.finish(ticket, exc)
            raise
        if result.throttled:  # a SlowDown inside a 200 throttles too
            limiter.record_throttle(ticket)
        limiter.finish(ticket, None)
        return result

    async def _monitor(self) -> None:
        """Sleep until the oldest request in flight is due; hedge every due request."""
        tracker = self.tracker
        while True:
            assert self._wake is not None
            threshold = tracker.threshold
            if self._parts is not None and tracker.started >= self._parts:
                threshold = tracker.tail_threshold
            oldest = next(iter(self._watch.values()), None)
            if threshold is None or oldest is None:
                # Still learning, or nothing in flight: woken when either changes.
                await self.timer.wait(self._wake, math.inf)
            else:
                due = oldest.due_from + threshold - self.clock()
                if due > 0:
                    await self.timer.wait(self._wake, due)
                elif self._hedge_due(threshold):
                    continue
                else:  # out of budget: the next request to start widens it and wakes us
                    await self.timer.wait(self._wake, math.inf)
            if self._wake.is_set():
                self._wake = anyio.Event()

    def _hedge_due(self, threshold: float) -> bool:
        """Hedge every watched request past ``threshold``, oldest first; False when the
        budget ran out first (the requests left stay watched, to be hedged when it grows)."""
        now = self.clock()
        group = self._group
        for key, flight in list(self._watch.items()):
            if flight.due_from + threshold > now:
                break  # watched in the order their clocks started: the rest are younger
            if group is None:
                return True
            if not self.tracker.may_hedge():
                self._starved = True
                return False
            del self._watch[key]
            self.tracker.hedged += 1
            hedge = _Hedge(anyio.CancelScope(), anyio.Event())
            flight.hedges.append(hedge)
            if len(flight.hedges) < self.tracker.policy.max_hedges:
                flight.due_from = now  # watched again: this hedge may straggle too
                self._watch[key] = flight
            if self.on_hedge is not None:
                self.on_hedge(flight.task.part_number, now - flight.start)
            group.start_soon(self._hedge, flight, hedge)
        return True

    async def _hedge(self, flight: _Flight, hedge: _Hedge) -> None:
        outcome: PartResult | Exception | None = None
        try:
            with hedge.scope:
                outcome = await self._request(flight, None)
        except Exception as exc:  # the original may still succeed: it decides
            outcome = exc
        finally:
            hedge.outcome = outcome
            hedge.done.set()
        if (
            not flight.primary_done
            and flight.winner is None
            and isinstance(outcome, PartResult)
            and _verified(outcome, flight.task, self.name)
        ):
            flight.winner = outcome
            flight.scope.cancel()
            for other in flight.hedges:
                if other is not hedge:
                    other.scope.cancel()


class UnlimitedSlots(AdaptiveLimiter):
    """A limiter that never waits and records nothing, for an operation wrapped by a
    ``HedgedPart`` that holds the endpoint's real slots itself (no double bookkeeping)."""

    def __init__(self) -> None:
        super().__init__(1 << 30, adaptive=False)

    async def __aenter__(self) -> Ticket:
        return Ticket(epoch=0)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def record_throttle(
        self, ticket: Ticket | None = None, retry_after: float | None = None
    ) -> bool:
        return False


def _verified(result: PartResult, task: RangeTask, operation: str) -> bool:
    try:
        verify_part(result, task.part_number, operation)
    except TransportError:
        return False
    return True
