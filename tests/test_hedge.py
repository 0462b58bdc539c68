"""Hedged part requests over the real CopyPart and memory store, on a manual clock.

A ``Gate`` holds chosen attempts of a part (a stuck request) until the test releases them;
the ``ManualTimer`` decides when the hedge threshold has elapsed, so nothing waits for real.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import anyio
import anyio.lowlevel
import pytest
from anyio import wait_all_tasks_blocked
from hypothesis import given
from hypothesis import strategies as st

from partcopy.engine.adaptive import AdaptiveLimiter
from partcopy.engine.hedge import HedgedPart, HedgePolicy, HedgeTracker
from partcopy.engine.parts import CopyPart, Endpoint
from partcopy.errors import ServiceError, UsageError
from partcopy.planners import RangeTask
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import CopySource, PartResult
from partcopy.transports.errormap import service_error
from partcopy.transports.memory import MemoryTransport

MiB = 1024**2


def run(fn: Callable[[], Awaitable[None]]) -> None:
    anyio.run(fn)


@dataclass
class ManualTimer:
    """A clock the test moves: ``fire()`` jumps to the pending deadline and wakes it."""

    now: float = 0.0
    requested: list[float] = field(default_factory=list)
    _fired: anyio.Event | None = None
    _deadline: float = math.inf

    def clock(self) -> float:
        return self.now

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        self.requested.append(seconds)
        self._fired = fired = anyio.Event()
        self._deadline = self.now + seconds
        async with anyio.create_task_group() as tg:

            async def until(e: anyio.Event) -> None:
                await e.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(until, event)
            tg.start_soon(until, fired)

    def fire(self) -> None:
        """Time passes until the pending (finite) wait's deadline."""
        assert self._fired is not None and math.isfinite(self._deadline), "no timed wait"
        self.now = self._deadline
        self._fired.set()


@dataclass
class Gate:
    """Wraps a part operation: attempt ``k`` (1-based) can be held, failed or damaged."""

    inner: CopyPart
    hold: set[int] = field(default_factory=set)
    fail: set[int] = field(default_factory=set)
    no_etag: set[int] = field(default_factory=set)
    calls: int = 0
    cancelled: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    release: dict[int, anyio.Event] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.inner.name

    async def __call__(self, upload_id: str, task: RangeTask) -> PartResult:
        self.calls += 1
        k = self.calls
        try:
            if k in self.hold:
                self.release[k] = anyio.Event()
                await self.release[k].wait()
            else:
                await anyio.lowlevel.checkpoint()
        except anyio.get_cancelled_exc_class():
            self.cancelled.append(k)
            raise
        if k in self.fail:
            raise service_error(503, "SlowDown", "Please reduce your request rate.")
        result = await self.inner(upload_id, task)
        self.finished.append(k)
        return replace(result, etag=None, detail="empty body") if k in self.no_etag else result


@dataclass
class World:
    store: MemoryStore
    upload_id: str
    task: RangeTask
    gate: Gate
    timer: ManualTimer
    tracker: HedgeTracker
    hedges: list[tuple[int, float]]
    op: HedgedPart


def make_world(policy: HedgePolicy | None = None, learnt: bool = True) -> World:
    store = MemoryStore()
    store.create_bucket("bkt")
    src = store.put_virtual("bkt", "src", 12 * MiB)
    upload = store.create_upload("bkt", "dst")
    transport = MemoryTransport(store)
    part = CopyPart(
        Endpoint(transport, anyio.CapacityLimiter(4)),
        "bkt",
        "dst",
        CopySource("bkt", "src", if_match=f'"{src.etag}"'),
    )
    tracker = HedgeTracker(policy or HedgePolicy(min_samples=4, window=8))
    if learnt:
        for _ in range(tracker.policy.min_samples):
            tracker.record(1.0)
    gate, timer = Gate(part), ManualTimer()
    hedges: list[tuple[int, float]] = []
    op = HedgedPart(
        gate,
        tracker,
        timer=timer,
        clock=timer.clock,
        on_hedge=lambda n, s: hedges.append((n, s)),
    )
    task = RangeTask(1, 0, 5 * MiB - 1)
    return World(store, upload.upload_id, task, gate, timer, tracker, hedges, op)


def test_threshold_is_a_quantile_of_recent_times_with_a_floor() -> None:
    tracker = HedgeTracker(HedgePolicy(quantile=0.9, multiplier=2.0, min_samples=10, window=10))
    for tenth in range(10, 1, -1):
        tracker.record(tenth / 10)
    assert tracker.threshold is None  # 9 samples: still learning
    tracker.record(0.1)
    assert tracker.threshold == pytest.approx(0.9 * 2.0)  # 0.9 quantile of 0.1 .. 1.0, × 2
    floored = HedgeTracker(HedgePolicy(min_samples=1, window=1, min_delay=0.5))
    floored.record(0.01)
    assert floored.threshold == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kwargs",
    [{"quantile": 0.0}, {"multiplier": 0.5}, {"min_samples": 0}, {"max_fraction": 1.5}],
)
def test_bad_policies_are_usage_errors(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        HedgePolicy(**kwargs)  # type: ignore[arg-type]


async def _call_into(w: World, result: list[PartResult]) -> None:
    result.append(await w.op(w.upload_id, w.task))


def test_a_straggler_is_hedged_and_the_hedge_answer_wins() -> None:
    w = make_world()
    w.gate.hold = {1}

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)
            await wait_all_tasks_blocked()
            assert w.timer.requested[-1] == pytest.approx(1.25)  # 1.0 s × 1.25
            assert w.gate.calls == 1
            w.timer.fire()
        assert w.gate.calls == 2
        assert w.gate.cancelled == [1]  # the straggler was cancelled, not left running
        assert result[0].etag is not None
        assert w.hedges == [(1, pytest.approx(1.25))]
        stats = w.tracker.stats()
        assert (stats.hedged, stats.won) == (1, 1)
        parts = w.store.upload("bkt", "dst", w.upload_id).parts
        assert parts[1].etag.strip('"') == result[0].etag.strip('"')

    run(main)


def test_the_first_verified_answer_wins_even_when_it_is_the_original() -> None:
    w = make_world()
    w.gate.hold = {1, 2}

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)
            await wait_all_tasks_blocked()
            w.timer.fire()
            await wait_all_tasks_blocked()
            assert w.gate.calls == 2
            w.gate.release[1].set()  # the original answers first
        assert w.gate.finished == [1]
        assert w.gate.cancelled == [2]
        assert result[0].etag is not None
        assert (w.tracker.hedged, w.tracker.won) == (1, 0)

    run(main)


def test_an_unproven_answer_does_not_win_the_race() -> None:
    w = make_world()
    w.gate.hold = {1, 2}
    w.gate.no_etag = {1}

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)
            await wait_all_tasks_blocked()
            w.timer.fire()
            await wait_all_tasks_blocked()
            w.gate.release[1].set()  # answers first, but with no ETag
            await wait_all_tasks_blocked()
            assert not result
            w.gate.release[2].set()
        assert w.gate.finished == [1, 2]
        assert result[0].etag is not None
        assert w.tracker.won == 1

    run(main)


def test_when_both_attempts_fail_the_first_failure_is_raised() -> None:
    w = make_world()
    w.gate.hold = {1, 2}
    w.gate.fail = {1, 2}

    async def main() -> None:
        async def call() -> None:
            with pytest.raises(ServiceError) as info:
                await w.op(w.upload_id, w.task)
            assert info.value.code == "SlowDown"

        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(call)
            await wait_all_tasks_blocked()
            w.timer.fire()
            await wait_all_tasks_blocked()
            w.gate.release[2].set()
            await wait_all_tasks_blocked()
            w.gate.release[1].set()
        assert w.gate.calls == 2

    run(main)


def test_a_failure_before_the_threshold_is_raised_at_once_without_a_hedge() -> None:
    w = make_world()
    w.gate.fail = {1}

    async def main() -> None:
        async with w.op.running():
            with pytest.raises(ServiceError):
                await w.op(w.upload_id, w.task)
        assert w.gate.calls == 1
        assert w.tracker.hedged == 0

    run(main)


def test_no_hedge_while_still_learning_and_the_answer_teaches() -> None:
    w = make_world(HedgePolicy(min_samples=2, window=4), learnt=False)
    w.gate.hold = {1}

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)
            await wait_all_tasks_blocked()
            assert all(math.isinf(s) for s in w.timer.requested)  # no deadline to wait for
            w.gate.release[1].set()
        assert result[0].etag is not None
        assert w.gate.calls == 1
        assert w.tracker.hedged == 0
        assert w.tracker.threshold is None  # one sample of the two needed

    run(main)


def test_the_budget_rations_hedges() -> None:
    w = make_world(HedgePolicy(min_samples=4, window=8, max_fraction=0.0))
    w.gate.hold = {1}

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)
            await wait_all_tasks_blocked()
            w.timer.fire()
            await wait_all_tasks_blocked()
            assert w.gate.calls == 1  # the budget is zero: no hedge
            w.gate.release[1].set()
        assert w.tracker.hedged == 0
        assert result[0].etag is not None

    run(main)


def test_outside_running_calls_go_straight_through() -> None:
    w = make_world()

    async def main() -> None:
        result = await w.op(w.upload_id, w.task)
        assert result.etag is not None
        assert w.tracker.started == 0  # not watched, not counted

    run(main)


def test_an_error_in_the_running_block_comes_out_unwrapped() -> None:
    w = make_world()

    async def main() -> None:
        with pytest.raises(ServiceError):
            async with w.op.running():
                raise service_error(412, "PreconditionFailed")

    run(main)


def test_once_every_part_has_started_the_tail_threshold_applies() -> None:
    w = make_world()
    w.gate.hold = {1}

    async def main() -> None:
        result: list[PartResult] = []
        assert w.tracker.tail_threshold == pytest.approx(1.1)  # median 1.0 s × 1.1
        async with w.op.running(parts=1), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)  # the only part: the tail from the start
            await wait_all_tasks_blocked()
            assert w.timer.requested[-1] == pytest.approx(1.1)
            w.timer.fire()
        assert w.hedges == [(1, pytest.approx(1.1))]
        assert result[0].etag is not None

    run(main)


def test_before_the_tail_the_ordinary_threshold_applies() -> None:
    w = make_world()
    w.gate.hold = {1}

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(parts=2), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)  # one of two parts started
            await wait_all_tasks_blocked()
            assert w.timer.requested[-1] == pytest.approx(1.25)
            w.gate.release[1].set()
        assert w.hedges == []

    run(main)


def test_waiting_for_a_slot_is_not_straggling() -> None:
    store = MemoryStore()
    store.create_bucket("bkt")
    src = store.put_virtual("bkt", "src", 12 * MiB)
    upload = store.create_upload("bkt", "dst")
    limiter = AdaptiveLimiter(1, adaptive=False)
    part = CopyPart(
        Endpoint(MemoryTransport(store), AdaptiveLimiter(1 << 20, adaptive=False)),
        "bkt",
        "dst",
        CopySource("bkt", "src", if_match=f'"{src.etag}"'),
    )
    tracker = HedgeTracker(HedgePolicy(min_samples=4, window=8))
    for _ in range(4):
        tracker.record(1.0)
    timer = ManualTimer()
    op = HedgedPart(part, tracker, timer=timer, clock=timer.clock, limiter=limiter)
    task = RangeTask(1, 0, 5 * MiB - 1)

    async def main() -> None:
        release = anyio.Event()
        result: list[PartResult] = []

        async def hold_the_only_slot() -> None:
            async with limiter.slot():
                await release.wait()

        async def call() -> None:
            result.append(await op(upload.upload_id, task))

        async with op.running(), anyio.create_task_group() as tg:
            tg.start_soon(hold_the_only_slot)
            await wait_all_tasks_blocked()
            tg.start_soon(call)
            await wait_all_tasks_blocked()
            assert all(math.isinf(s) for s in timer.requested)  # queued: nothing to watch
            timer.now = 100.0  # however long it waits for the slot
            release.set()
        assert result[0].etag is not None
        assert tracker.hedged == 0
        assert limiter.statistics().in_flight == 0

    run(main)


def test_a_straggler_left_without_budget_is_hedged_once_the_budget_grows() -> None:
    w = make_world(HedgePolicy(min_samples=4, window=8, max_fraction=0.5))
    w.gate.hold = {1, 2, 4, 5}  # originals A, B, then C, D; 3 and 6 are the hedges

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)  # A
            tg.start_soon(_call_into, w, result)  # B
            await wait_all_tasks_blocked()
            w.timer.fire()  # both due; budget: 1 of 2 started
            await wait_all_tasks_blocked()
            assert len(w.hedges) == 1 and w.gate.cancelled == [1]  # A hedged and won
            tg.start_soon(_call_into, w, result)  # C: 3 started, budget still 1
            await wait_all_tasks_blocked()
            assert len(w.hedges) == 1
            tg.start_soon(_call_into, w, result)  # D: 4 started, budget 2
            await wait_all_tasks_blocked()
            assert len(w.hedges) == 2 and w.gate.cancelled == [1, 2]  # B was still watched
            w.gate.release[4].set()
            w.gate.release[5].set()
        assert len(result) == 4 and all(r.etag is not None for r in result)
        assert (w.tracker.hedged, w.tracker.won) == (2, 2)

    run(main)


def test_a_hedge_that_straggles_too_gets_one_successor() -> None:
    w = make_world()
    w.tracker.started = 20  # parts already copied: the budget (10 %) allows two hedges
    w.gate.hold = {1, 2}  # the original and its first hedge both hang

    async def main() -> None:
        result: list[PartResult] = []
        async with w.op.running(), anyio.create_task_group() as tg:
            tg.start_soon(_call_into, w, result)
            await wait_all_tasks_blocked()
            w.timer.fire()  # first hedge (held)
            await wait_all_tasks_blocked()
            assert w.gate.calls == 2 and not result
            w.timer.fire()  # one threshold later: a second hedge, which answers
            await wait_all_tasks_blocked()
        assert w.gate.calls == 3
        assert sorted(w.gate.cancelled) == [1, 2]
        assert result[0].etag is not None
        assert (w.tracker.hedged, w.tracker.won) == (2, 1)
        assert all(math.isinf(s) for s in w.timer.requested[-1:])  # nothing left to watch

    run(main)


@given(st.lists(st.floats(0.0, 5.0), max_size=60), st.integers(1, 4), st.integers(0, 8))
def test_thresholds_are_the_window_quantiles(
    times: list[float], min_samples: int, extra: int
) -> None:
    """The tracker keeps its window sorted as it slides: its thresholds are those of
    sorting the window's samples, each time they are recomputed."""
    policy = HedgePolicy(min_samples=min_samples, window=min_samples + extra, min_delay=0.0)
    tracker = HedgeTracker(policy)
    for count, seconds in enumerate(times, 1):
        before = tracker.threshold
        tracker.record(seconds)
        window = sorted(times[max(0, count - policy.window) : count])
        n = len(window)
        if n < policy.min_samples:
            assert tracker.threshold is None
            continue
        if before is not None and count % 8:
            assert tracker.threshold == before  # recomputed every 8 parts only
            continue

        def at(q: float, window: list[float] = window, n: int = n) -> float:
            return window[min(n - 1, max(0, math.ceil(q * n) - 1))]

        assert tracker.threshold == at(policy.quantile) * policy.multiplier
        assert tracker.tail_threshold == at(policy.tail_quantile) * policy.tail_multiplier
