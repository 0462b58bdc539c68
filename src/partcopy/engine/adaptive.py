"""Adaptive concurrency: one AIMD limit per endpoint, shared by every job that uses it.

Under throttling, a fixed fan-out makes things worse: every throttled request costs a retry
and the store slows everyone down. :class:`AdaptiveLimiter` bounds the requests in flight to
one endpoint and moves that bound the way TCP moves its window:

* **additive increase** — after ``limit`` successes at the current limit, the limit grows by 1;
  the step back up to the level that was last throttled waits ``probe_windows`` windows, so
  the limit lingers just below a known ceiling instead of bumping into it every few windows;
* **multiplicative decrease** — when throttled answers (503, 429, ``SlowDown``…) are a
  significant share of the recent answers (``throttle_share`` of at least ``min_sample``
  answers, counts decayed by half as they grow: like DCTCP's marked fraction), the limit is
  multiplied by ``decrease_factor``, at most once per *congestion window*: a throttle reported
  by a request admitted before the last decrease belongs to the congestion already answered,
  so a burst of 50 throttles from 50 requests in flight halves the limit once. A store that
  throttles a few per cent of requests at random is not overloaded and keeps the limit; an
  overloaded one throttles every request beyond its capacity, so its share is high at once,
  and ``burst`` throttles in a row (no success between: the slots beyond the capacity
  churning) lower the limit before the share is known. Once a level was overloaded, one
  throttle at that level lowers the limit again, until a window of clean answers there
  shows the overload has passed. ``throttle_share=0`` lowers the limit on every throttle
  of the current window;
* **Retry-After** — a pause for every acquirer until the service's deadline has passed;
* the limit stays within ``[1, maximum]``; with ``adaptive=False`` it stays at ``maximum``
  (fixed concurrency) while throttles are still counted.

Built on anyio primitives only (events, checkpoints): no background tasks. The clock and the
sleep are injectable so tests drive pauses without waiting.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType

import anyio
import anyio.lowlevel

from partcopy.errors import ServiceError, UnprovenSuccess, UsageError

__all__ = [
    "AdaptiveLimiter",
    "AdaptiveLimiters",
    "ConcurrencySummary",
    "LimiterStatistics",
    "Ticket",
    "is_throttle",
    "retry_after_of",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
OnChange = Callable[["LimiterStatistics"], None]
"""Called (synchronously, cheaply) after every change of the limit."""

# A service asking for longer than this is capped: the pause is a courtesy, not a hang.
DEFAULT_MAX_PAUSE = 60.0
DEFAULT_THROTTLE_SHARE = 0.25
"""Share of recent answers that must be throttles before the limit is lowered."""
DEFAULT_MIN_SAMPLE = 20
"""Answers the share is taken of, at least (fewer count as this many): 5 throttles in a
store's first 20 answers lower the limit, 1 in 20 at random (5 %) practically never does."""
DEFAULT_BURST = 3
"""Throttles in a row that lower the limit whatever the share (5 % at random: 1 in 8 000)."""


def is_throttle(exc: BaseException) -> bool:
    """Whether an error is the service asking the client to slow down (503/429/SlowDown)."""
    return isinstance(exc, ServiceError | UnprovenSuccess) and exc.throttled


def retry_after_of(exc: BaseException) -> float | None:
    """The Retry-After (seconds) a throttling answer carried, if any."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class LimiterStatistics:
    """A snapshot of one limiter, for tests, events and the ``--json`` output."""

    limit: int
    """The current concurrency limit."""
    maximum: int
    """The configured ceiling (the ``--concurrency`` value)."""
    in_flight: int
    peak_in_flight: int
    min_limit: int
    """The lowest limit seen since the limiter was made."""
    throttled: int
    """Throttled answers reported (every one, including those that did not lower the limit)."""
    waiters: int
    """Tasks waiting for a slot."""
    successes: int
    decreases: int
    increases: int
    pauses: int
    """Retry-After pauses that moved the resume time later."""
    paused_until: float | None
    """Clock time before which no new request starts, or None."""
    adaptive: bool


@dataclass(frozen=True, slots=True)
class ConcurrencySummary:
    """What the end of a run says about concurrency: the ``"concurrency"`` JSON field."""

    max: int
    final: int
    min: int
    peak: int
    throttled: int
    adaptive: bool

    @classmethod
    def of(cls, stats: LimiterStatistics) -> ConcurrencySummary:
        return cls(
            max=stats.maximum,
            final=stats.limit,
            min=stats.min_limit,
            peak=stats.peak_in_flight,
            throttled=stats.throttled,
            adaptive=stats.adaptive,
        )

    @classmethod
    def merge(cls, summaries: list[ConcurrencySummary]) -> ConcurrencySummary | None:
        """One summary for several endpoints (sums of throttles, extremes of limits)."""
        if not summaries:
            return None
        return cls(
            max=max(s.max for s in summaries),
            final=min(s.final for s in summaries),
            min=min(s.min for s in summaries),
            peak=max(s.peak for s in summaries),
            throttled=sum(s.throttled for s in summaries),
            adaptive=any(s.adaptive for s in summaries),
        )

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "max": self.max,
            "final": self.final,
            "min": self.min,
            "peak": self.peak,
            "throttled": self.throttled,
            "adaptive": self.adaptive,
        }


@dataclass(eq=False, slots=True)
class Ticket:
    """One admitted request. ``epoch`` is the limiter's decrease count when it was admitted."""

    epoch: int
    released: bool = field(default=False)


class AdaptiveLimiter:
    """An async concurrency limit that grows on success and shrinks on throttling (AIMD).

    Use ``async with limiter.slot():`` around one request: a throttling exception leaving
    the block lowers the limit, a clean exit counts as a success. ``acquire``/``release``
    and ``record_success``/``record_throttle`` are the same steps, for callers that
    classify outcomes themselves (the retry layer).
    """

    def __init__(
        self,
        maximum: int,
        *,
        initial: int | None = None,
        adaptive: bool = True,
        decrease_factor: float = 0.5,
        increase_after: int | None = None,
        probe_windows: int = 4,
        max_pause: float = DEFAULT_MAX_PAUSE,
        throttle_share: float = DEFAULT_THROTTLE_SHARE,
        min_sample: int = DEFAULT_MIN_SAMPLE,
        burst: int = DEFAULT_BURST,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
        name: str = "",
        on_change: OnChange | None = None,
    ) -> None:
        if isinstance(maximum, bool) or not isinstance(maximum, int) or maximum < 1:
            raise UsageError(f"invalid concurrency {maximum!r}: must be at least 1")
        start = maximum if initial is None else initial
        if isinstance(start, bool) or not isinstance(start, int) or start < 1:
            raise UsageError(f"invalid initial concurrency {initial!r}: must be at least 1")
        if not 0.0 < decrease_factor < 1.0:
            raise UsageError(f"invalid decrease factor {decrease_factor!r}: must be in (0, 1)")
        if increase_after is not None and increase_after < 1:
            raise UsageError(f"invalid increase window {increase_after!r}: must be at least 1")
        if probe_windows < 1:
            raise UsageError(f"invalid probe windows {probe_windows!r}: must be at least 1")
        if not 0.0 <= throttle_share <= 1.0:
            raise UsageError(f"invalid throttle share {throttle_share!r}: must be in [0, 1]")
        if isinstance(min_sample, bool) or not isinstance(min_sample, int) or min_sample < 1:
            raise UsageError(f"invalid minimum sample {min_sample!r}: must be at least 1")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise UsageError(f"invalid throttle burst {burst!r}: must be at least 1")
        self.name = name
        self.on_change = on_change
        self._maximum = maximum
        self._adaptive = adaptive
        self._limit = min(start, maximum) if adaptive else maximum
        self._factor = decrease_factor
        self._increase_after = increase_after
        self._probe_windows = probe_windows
        self._ceiling: int | None = None
        self._max_pause = max_pause
        self._share = throttle_share
        self._min_sample = min_sample
        self._sample_answers = 0.0
        self._sample_throttles = 0.0
        self._burst = burst
        self._in_a_row = 0
        self._overloaded_at: int | None = None
        self._clean_at_overload = 0
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._peak = 0
        self._min_limit = self._limit
        self._throttled = 0
        self._successes = 0
        self._window_successes = 0
        self._decreases = 0
        self._increases = 0
        self._pauses = 0
        self._paused_until: float | None = None
        self._waiters: OrderedDict[object, anyio.Event] = OrderedDict()
        self._granted: set[object] = set()
        self._held: dict[int, list[Ticket]] = {}

    # --- properties -------------------------------------------------------------------

    @property
    def limit(self) -> int:
        """The current concurrency limit."""
        return self._limit

    @property
    def maximum(self) -> int:
        return self._maximum

    @property
    def adaptive(self) -> bool:
        return self._adaptive

    def statistics(self) -> LimiterStatistics:
        """A frozen snapshot of the limiter's state."""
        return LimiterStatistics(
            limit=self._limit,
            maximum=self._maximum,
            in_flight=self._in_flight,
            peak_in_flight=self._peak,
            min_limit=self._min_limit,
            throttled=self._throttled,
            waiters=len(self._waiters) - len(self._granted),
            successes=self._successes,
            decreases=self._decreases,
            increases=self._increases,
            pauses=self._pauses,
            paused_until=self._paused_until,
            adaptive=self._adaptive,
        )

    def summary(self) -> ConcurrencySummary:
        return ConcurrencySummary.of(self.statistics())

    # --- admission --------------------------------------------------------------------

    async def acquire(self) -> Ticket:
        """Wait for a slot (and for any Retry-After pause to pass); return its ticket."""
        if not self._waiters and self._in_flight < self._limit and self._paused_until is None:
            self._admit()  # the common case, paid per request: no yield, no pause to wait
            return Ticket(epoch=self._decreases)
        await anyio.lowlevel.checkpoint_if_cancelled()
        if not self._waiters and self._in_flight < self._limit:
            self._admit()
        else:
            token = object()
            event = anyio.Event()
            self._waiters[token] = event
            try:
                await event.wait()
            except BaseException:
                self._waiters.pop(token, None)
                if token in self._granted:
                    # The slot was handed to us as we were cancelled: pass it on.
                    self._granted.discard(token)
                    self._in_flight -= 1
                    self._grant()
                raise
            self._waiters.pop(token, None)
            self._granted.discard(token)
        ticket = Ticket(epoch=self._decreases)
        try:
            await self._wait_pause()
        except BaseException:
            self.release(ticket)
            raise
        # A decrease during the pause makes this request part of the new window.
        ticket.epoch = self._decreases
        return ticket

    def release(self, ticket: Ticket) -> None:
        """Give the slot back (idempotent per ticket)."""
        if ticket.released:
            return
        ticket.released = True
        self._in_flight -= 1
        self._grant()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Ticket]:
        """Hold one slot for the block; classify how the block ended (see the class doc)."""
        ticket = await self.acquire()
        try:
            yield ticket
        except BaseException as exc:
            self.finish(ticket, exc)
            raise
        else:
            self.finish(ticket, None)

    def finish(self, ticket: Ticket, exc: BaseException | None) -> None:
        """Record how the request ended (success, throttle or neither) and release it."""
        try:
            if exc is None:
                self.record_success(ticket)
            elif is_throttle(exc):
                self.record_throttle(ticket, retry_after_of(exc))
        finally:
            self.release(ticket)

    async def __aenter__(self) -> Ticket:
        """``async with limiter:`` works like ``anyio.CapacityLimiter`` (and classifies)."""
        ticket = await self.acquire()
        self._held.setdefault(anyio.get_current_task().id, []).append(ticket)
        return ticket

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = anyio.get_current_task().id
        stack = self._held[task]
        ticket = stack.pop()
        if not stack:
            del self._held[task]
        self.finish(ticket, exc)

    # --- feedback ---------------------------------------------------------------------

    def record_success(self, ticket: Ticket | None = None) -> None:
        """A request succeeded: after ``limit`` of them (this window) the limit grows by 1."""
        self._successes += 1
        self._in_a_row = 0
        if not self._adaptive or (ticket is not None and ticket.epoch != self._decreases):
            # A success admitted before the last decrease says nothing about the new limit.
            return
        self._window_successes += 1
        self._sample(0.0)
        if self._overloaded_at is not None and self._limit >= self._overloaded_at:
            self._clean_at_overload += 1
            if self._clean_at_overload >= self._limit:
                self._overloaded_at = None  # a clean window at that level: it has lifted
        needed = self._increase_after or self._limit
        if self._ceiling is not None and self._limit + 1 >= self._ceiling:
            needed *= self._probe_windows  # the next step returns to a throttled level
        if self._window_successes >= needed and self._limit < self._maximum:
            self._window_successes = 0
            self._limit += 1
            self._increases += 1
            if self._ceiling is not None and self._limit >= self._ceiling:
                self._ceiling = None  # probing the old ceiling again: it may have lifted
            self._grant()
            self._changed()

    def record_throttle(
        self, ticket: Ticket | None = None, retry_after: float | None = None
    ) -> bool:
        """The service throttled a request; returns whether the limit was lowered.

        Only a request admitted in the current congestion window counts toward the share
        that lowers the limit; others are counted in the statistics only. ``retry_after``
        (seconds) pauses every acquirer until it has passed.
        """
        self._throttled += 1
        if retry_after is not None:
            self.pause(retry_after)
        if not self._adaptive:
            return False
        if ticket is not None and ticket.epoch != self._decreases:
            return False
        self._sample(1.0)
        self._in_a_row += 1
        self._clean_at_overload = 0
        share = self._share * max(self._sample_answers, self._min_sample)
        known = self._overloaded_at is not None and self._limit >= self._overloaded_at
        if not known and self._sample_throttles < share and self._in_a_row < self._burst:
            return False  # too rare a share of the answers to say the store is overloaded
        self._sample_answers = self._sample_throttles = 0.0  # the new window judges anew
        self._in_a_row = 0
        self._overloaded_at = self._limit
        self._decreases += 1
        self._window_successes = 0
        self._ceiling = self._limit
        new = max(1, math.floor(self._limit * self._factor))
        self._limit = new
        self._min_limit = min(self._min_limit, new)
        self._changed()
        return True

    def record(self, exc: BaseException, ticket: Ticket | None = None) -> bool:
        """Feed an error seen by the retry layer; returns whether it was a throttle."""
        if not is_throttle(exc):
            return False
        self.record_throttle(ticket, retry_after_of(exc))
        return True

    def pause(self, seconds: float) -> None:
        """Hold back new requests for ``seconds`` (capped at ``max_pause``)."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        until = self._clock() + min(seconds, self._max_pause)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
            self._pauses += 1

    # --- internals --------------------------------------------------------------------

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.statistics())

    def _sample(self, throttle: float) -> None:
        """Count one answer of the current window; halve old counts as the sample grows."""
        self._sample_answers += 1.0
        self._sample_throttles += throttle
        if self._sample_answers >= 2 * max(self._min_sample, self._limit):
            self._sample_answers /= 2
            self._sample_throttles /= 2

    def _admit(self) -> None:
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)

    def _grant(self) -> None:
        """Hand free slots to waiters in arrival order."""
        for token, event in self._waiters.items():
            if self._in_flight >= self._limit:
                break
            if token in self._granted:
                continue
            self._granted.add(token)
            self._admit()
            event.set()

    async def _wait_pause(self) -> None:
        while self._paused_until is not None:
            remaining = self._paused_until - self._clock()
            if remaining <= 0:
                self._paused_until = None
                break
            await self._sleep(remaining)


class AdaptiveLimiters:
    """One :class:`AdaptiveLimiter` per endpoint, made on first use with shared settings.

    A Copier (or a bulk run) owns one of these so all its jobs share each endpoint's limit.
    """

    def __init__(
        self,
        maximum: int,
        *,
        adaptive: bool = True,
        initial: int | None = None,
        throttle_share: float = DEFAULT_THROTTLE_SHARE,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
        on_change: Callable[[str, LimiterStatistics], None] | None = None,
    ) -> None:
        # validate early
        AdaptiveLimiter(maximum, initial=initial, adaptive=adaptive, throttle_share=throttle_share)
        self._share = throttle_share
        self._maximum = maximum
        self._adaptive = adaptive
        self._initial = initial
        self._clock = clock
        self._sleep = sleep
        self._on_change = on_change
        self._limiters: dict[str, AdaptiveLimiter] = {}

    def get(self, endpoint: str) -> AdaptiveLimiter:
        """The limiter for ``endpoint`` (any stable key: URL, dialect+host)."""
        limiter = self._limiters.get(endpoint)
        if limiter is None:
            limiter = AdaptiveLimiter(
                self._maximum,
                initial=self._initial,
                adaptive=self._adaptive,
                throttle_share=self._share,
                clock=self._clock,
                sleep=self._sleep,
                name=endpoint,
                on_change=self._notifier(endpoint),
            )
            self._limiters[endpoint] = limiter
        return limiter

    def _notifier(self, endpoint: str) -> OnChange | None:
        hook = self._on_change
        if hook is None:
            return None

        def notify(stats: LimiterStatistics) -> None:
            hook(endpoint, stats)

        return notify

    def statistics(self) -> dict[str, LimiterStatistics]:
        return {name: lim.statistics() for name, lim in self._limiters.items()}

    def summary(self) -> ConcurrencySummary | None:
        """All endpoints folded into one summary; None before any endpoint was used."""
        return ConcurrencySummary.merge([lim.summary() for lim in self._limiters.values()])
