"""AdaptiveLimiter: AIMD on throttling, Retry-After pauses, fair waiting, no leaked slots.

Every test asserts on ``statistics()``; pauses run on a fake clock and sleep, so nothing
waits for real. Tests of the decrease mechanics (windows, halving, holding back) pass
``throttle_share=0.0`` (every throttle of a window lowers the limit); the default share
policy has its own tests below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import pytest

from partcopy.engine.adaptive import (
    AdaptiveLimiter,
    AdaptiveLimiters,
    ConcurrencySummary,
    Ticket,
    is_throttle,
    retry_after_of,
)
from partcopy.errors import ConnectError, ErrorKind, ServiceError, UnprovenSuccess, UsageError
from partcopy.transports.errormap import service_error


class FakeTime:
    """A clock that moves only when the limiter sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


def run(fn: Callable[[], Awaitable[None]]) -> None:
    anyio.run(fn)


async def admit(limiter: AdaptiveLimiter, n: int) -> list[Ticket]:
    return [await limiter.acquire() for _ in range(n)]


def throttle() -> ServiceError:
    return service_error(503, "SlowDown", "Please reduce your request rate.")


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"maximum": 0}, "0"),
        ({"maximum": -3}, "-3"),
        ({"maximum": True}, "True"),
        ({"maximum": 4, "initial": 0}, "0"),
        ({"maximum": 4, "decrease_factor": 1.0}, "1.0"),
        ({"maximum": 4, "increase_after": 0}, "0"),
        ({"maximum": 4, "throttle_share": 1.5}, "1.5"),
        ({"maximum": 4, "min_sample": 0}, "0"),
    ],
)
def test_bad_settings_are_usage_errors_naming_the_value(
    kwargs: dict[str, object], named: str
) -> None:
    with pytest.raises(UsageError, match=named):
        AdaptiveLimiter(**kwargs)  # type: ignore[arg-type]


def test_starts_at_initial_clamped_to_maximum() -> None:
    assert AdaptiveLimiter(16, initial=4).limit == 4
    assert AdaptiveLimiter(16, initial=99).limit == 16
    assert AdaptiveLimiter(16).limit == 16
    assert AdaptiveLimiter(16, initial=4, adaptive=False).limit == 16


# --- bounding and waiting -----------------------------------------------------------------


def test_in_flight_never_exceeds_the_limit_and_waiters_are_counted() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(3)
        gate = anyio.Event()
        done = 0

        async def worker() -> None:
            nonlocal done
            async with limiter.slot():
                await gate.wait()
            done += 1

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(worker)
            await anyio.wait_all_tasks_blocked()
            stats = limiter.statistics()
            assert (stats.in_flight, stats.waiters, stats.peak_in_flight) == (3, 7, 3)
            gate.set()
        stats = limiter.statistics()
        assert done == 10
        assert (stats.in_flight, stats.waiters, stats.peak_in_flight) == (0, 0, 3)
        assert stats.successes == 10

    run(main)


def test_waiters_are_admitted_in_arrival_order() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(1)
        first = await limiter.acquire()
        order: list[int] = []

        async def waiter(i: int) -> None:
            ticket = await limiter.acquire()
            order.append(i)
            limiter.release(ticket)

        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(waiter, i)
                await anyio.wait_all_tasks_blocked()
            limiter.release(first)
        assert order == [0, 1, 2, 3, 4]

    run(main)


def test_cancelled_waiters_leak_no_slot() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(2)
        held = await admit(limiter, 2)

        async def hold_forever() -> None:
            async with limiter.slot():
                await anyio.sleep_forever()

        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(hold_forever)
            await anyio.wait_all_tasks_blocked()
            assert limiter.statistics().waiters == 3
            # Hand one slot over, then cancel before the waiter runs: it must pass it on.
            limiter.release(held.pop())
            tg.cancel_scope.cancel()
        stats = limiter.statistics()
        assert (stats.in_flight, stats.waiters) == (1, 0)
        limiter.release(held.pop())
        assert limiter.statistics().in_flight == 0
        again = await admit(limiter, 2)
        assert limiter.statistics().in_flight == 2
        for t in again:
            limiter.release(t)

    run(main)


def test_release_is_idempotent_per_ticket() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(2)
        ticket = await limiter.acquire()
        limiter.release(ticket)
        limiter.release(ticket)
        assert limiter.statistics().in_flight == 0

    run(main)


# --- multiplicative decrease --------------------------------------------------------------


def test_a_burst_of_throttles_in_one_window_lowers_the_limit_once() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(64)
        tickets = await admit(limiter, 50)
        lowered = [limiter.record_throttle(t) for t in tickets]
        stats = limiter.statistics()
        assert lowered.count(True) == 1
        assert (stats.limit, stats.decreases, stats.throttled, stats.min_limit) == (32, 1, 50, 32)
        for t in tickets:
            limiter.release(t)

    run(main)


def test_each_new_window_halves_again_down_to_one_never_below() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(8, throttle_share=0.0)
        limits = []
        for _ in range(6):
            ticket = await limiter.acquire()
            limiter.record_throttle(ticket)
            limiter.release(ticket)
            limits.append(limiter.limit)
        assert limits == [4, 2, 1, 1, 1, 1]
        stats = limiter.statistics()
        assert (stats.min_limit, stats.throttled, stats.decreases) == (1, 6, 6)

    run(main)


def test_a_lowered_limit_holds_back_new_requests_until_in_flight_drops() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(4, throttle_share=0.0)
        tickets = await admit(limiter, 4)
        limiter.record_throttle(tickets[0])  # 4 -> 2 with 4 still in flight
        admitted = 0

        async def late() -> None:
            nonlocal admitted
            ticket = await limiter.acquire()
            admitted += 1
            limiter.release(ticket)

        async with anyio.create_task_group() as tg:
            tg.start_soon(late)
            await anyio.wait_all_tasks_blocked()
            limiter.release(tickets[1])
            limiter.release(tickets[2])  # in flight 2: still at the limit
            await anyio.wait_all_tasks_blocked()
            assert admitted == 0
            assert limiter.statistics().waiters == 1
            limiter.release(tickets[3])  # in flight 1 < 2: admitted
        assert admitted == 1
        limiter.release(tickets[0])
        assert limiter.statistics().in_flight == 0

    run(main)


def test_fixed_mode_counts_throttles_but_keeps_its_limit() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(8, adaptive=False)
        for _ in range(3):
            ticket = await limiter.acquire()
            assert limiter.record_throttle(ticket) is False
            limiter.release(ticket)
        for _ in range(20):
            limiter.record_success()
        stats = limiter.statistics()
        assert (stats.limit, stats.min_limit, stats.throttled, stats.increases) == (8, 8, 3, 0)
        assert stats.adaptive is False

    run(main)


# --- additive increase --------------------------------------------------------------------


def test_a_window_of_successes_raises_the_limit_by_one_up_to_the_maximum() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(6, initial=4)
        grown = []
        for _ in range(4 + 5 + 6 + 6):
            async with limiter.slot():
                pass
            grown.append(limiter.limit)
        assert grown[3] == 5  # after 4 successes at limit 4
        assert grown[8] == 6  # after 5 more at limit 5
        assert grown[-1] == 6  # never above the maximum
        stats = limiter.statistics()
        assert (stats.increases, stats.successes) == (2, 21)

    run(main)


def test_successes_admitted_before_a_decrease_do_not_count_toward_growth() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(8, initial=4, throttle_share=0.0)
        old = await admit(limiter, 4)
        limiter.record_throttle(old[0])  # 4 -> 2
        for t in old:
            limiter.record_success(t)
            limiter.release(t)
        assert limiter.limit == 2
        new = await admit(limiter, 2)
        for t in new:
            limiter.record_success(t)
            limiter.release(t)
        assert limiter.limit == 3

    run(main)


def test_a_fixed_increase_window_is_honoured() -> None:
    limiter = AdaptiveLimiter(100, initial=10, increase_after=3)
    for _ in range(9):
        limiter.record_success()
    assert limiter.limit == 13


# --- Retry-After --------------------------------------------------------------------------


def test_retry_after_pauses_every_acquirer_on_the_injected_clock() -> None:
    async def main() -> None:
        ft = FakeTime()
        limiter = AdaptiveLimiter(4, clock=ft.clock, sleep=ft.sleep)
        ticket = await limiter.acquire()
        limiter.record_throttle(ticket, retry_after=2.5)
        limiter.release(ticket)
        assert limiter.statistics().paused_until == 1002.5
        got = await admit(limiter, 2)  # the limit is now 2
        # The first acquirer waits out the pause; the next finds it over.
        assert ft.sleeps == [2.5]
        stats = limiter.statistics()
        assert (stats.pauses, stats.paused_until, stats.in_flight) == (1, None, 2)
        for t in got:
            limiter.release(t)

    run(main)


def test_pauses_only_extend_and_are_capped() -> None:
    ft = FakeTime()
    limiter = AdaptiveLimiter(4, clock=ft.clock, sleep=ft.sleep, max_pause=10)
    limiter.pause(5)
    limiter.pause(1)  # shorter: no change
    limiter.pause(3600)  # capped
    limiter.pause(float("nan"))
    limiter.pause(-1)
    stats = limiter.statistics()
    assert (stats.pauses, stats.paused_until) == (2, 1010.0)


def test_a_request_cancelled_during_a_pause_gives_its_slot_back() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(2)  # real anyio.sleep: the pause is cancelled, never waited
        limiter.pause(30)
        with anyio.move_on_after(0):
            await limiter.acquire()
        assert limiter.statistics().in_flight == 0

    run(main)


# --- classification -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "throttled"),
    [
        (service_error(503, "SlowDown"), True),
        (service_error(429, None), True),
        (service_error(400, "Throttling"), True),
        (service_error(503, None), True),
        (service_error(500, "InternalError"), False),
        (service_error(404, "NoSuchKey"), False),
        (UnprovenSuccess("error body", code="SlowDown", error_kind=ErrorKind.THROTTLED), True),
        (UnprovenSuccess("no etag"), False),
        (ConnectError("reset"), False),
        (ValueError("x"), False),
    ],
)
def test_is_throttle(exc: BaseException, throttled: bool) -> None:
    assert is_throttle(exc) is throttled


def test_slot_classifies_how_the_block_ended() -> None:
    async def main() -> None:
        ft = FakeTime()
        limiter = AdaptiveLimiter(8, throttle_share=0.0, clock=ft.clock, sleep=ft.sleep)
        with pytest.raises(ServiceError):
            async with limiter.slot():
                raise service_error(503, "SlowDown", retry_after=4)
        with pytest.raises(ServiceError):
            async with limiter.slot():
                raise service_error(404, "NoSuchKey")
        async with limiter.slot():
            pass
        stats = limiter.statistics()
        assert (stats.limit, stats.throttled, stats.successes, stats.in_flight) == (4, 1, 1, 0)
        assert ft.sleeps == [4.0]
        assert limiter.record(service_error(429, None)) is True
        assert limiter.record(service_error(403, "AccessDenied")) is False
        assert limiter.statistics().throttled == 2

    run(main)


def test_retry_after_of() -> None:
    assert retry_after_of(service_error(503, "SlowDown", retry_after=3)) == 3.0
    assert retry_after_of(service_error(503, "SlowDown")) is None
    assert retry_after_of(ValueError()) is None


# --- per endpoint ---------------------------------------------------------------------------


def test_limiters_are_shared_per_endpoint_and_summarised() -> None:
    async def main() -> None:
        limiters = AdaptiveLimiters(16, throttle_share=0.0)
        a = limiters.get("s3 http://127.0.0.1:9000")
        assert limiters.get("s3 http://127.0.0.1:9000") is a
        b = limiters.get("cos http://127.0.0.1:9001")
        ticket = await a.acquire()
        a.record_throttle(ticket)
        a.release(ticket)
        async with b.slot():
            pass
        summary = limiters.summary()
        assert summary == ConcurrencySummary(
            max=16, final=8, min=8, peak=1, throttled=1, adaptive=True
        )
        assert summary.as_dict() == {
            "max": 16,
            "final": 8,
            "min": 8,
            "peak": 1,
            "throttled": 1,
            "adaptive": True,
        }
        assert set(limiters.statistics()) == {
            "s3 http://127.0.0.1:9000",
            "cos http://127.0.0.1:9001",
        }
        assert AdaptiveLimiters(4).summary() is None

    run(main)


# --- a throttling store, simulated in memory --------------------------------------------------


class ThrottlingStore:
    """Answers SlowDown whenever more than ``capacity`` requests are in flight."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_flight = 0
        self.throttled = 0
        self.served = 0

    async def request(self) -> None:
        self.in_flight += 1
        try:
            if self.in_flight > self.capacity:
                self.throttled += 1
                await anyio.lowlevel.checkpoint()
                raise throttle()
            for _ in range(3):  # the work takes a few scheduler turns
                await anyio.lowlevel.checkpoint()
            self.served += 1
        finally:
            self.in_flight -= 1


async def copy_parts(limiter: AdaptiveLimiter, store: ThrottlingStore, parts: int) -> None:
    async def part() -> None:
        while True:
            try:
                async with limiter.slot():
                    await store.request()
                return
            except ServiceError:
                await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        for _ in range(parts):
            tg.start_soon(part)


@pytest.mark.parametrize("capacity", [2, 5])
def test_adaptive_converges_and_throttles_far_less_than_fixed_4n(capacity: int) -> None:
    async def main() -> None:
        fixed_store, adaptive_store = ThrottlingStore(capacity), ThrottlingStore(capacity)
        fixed = AdaptiveLimiter(4 * capacity, adaptive=False)
        adaptive = AdaptiveLimiter(4 * capacity)
        await copy_parts(fixed, fixed_store, 200)
        await copy_parts(adaptive, adaptive_store, 200)
        assert fixed_store.served == adaptive_store.served == 200
        stats = adaptive.statistics()
        assert stats.min_limit <= capacity
        assert stats.limit <= capacity + 1
        assert adaptive_store.throttled * 4 < fixed_store.throttled
        assert stats.throttled == adaptive_store.throttled
        assert fixed.statistics().throttled == fixed_store.throttled

    run(main)


def test_async_with_is_a_drop_in_for_a_capacity_limiter_and_classifies() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(8, throttle_share=0.0)
        async with limiter as outer:
            async with limiter as inner:  # nesting in one task keeps tickets apart
                assert limiter.statistics().in_flight == 2
            assert inner.released and not outer.released
        with pytest.raises(ServiceError):
            async with limiter:
                raise throttle()
        stats = limiter.statistics()
        assert (stats.in_flight, stats.successes, stats.throttled, stats.limit) == (0, 2, 1, 4)

    run(main)


def test_every_change_of_the_limit_is_reported_with_its_endpoint() -> None:
    async def main() -> None:
        seen: list[tuple[str, int, int]] = []
        limiters = AdaptiveLimiters(
            4,
            initial=2,
            throttle_share=0.0,
            on_change=lambda name, s: seen.append((name, s.limit, s.throttled)),
        )
        limiter = limiters.get("s3 http://127.0.0.1:1")
        for _ in range(2):
            async with limiter.slot():
                pass
        ticket = await limiter.acquire()
        limiter.record_throttle(ticket)
        limiter.release(ticket)
        assert seen == [("s3 http://127.0.0.1:1", 3, 0), ("s3 http://127.0.0.1:1", 1, 1)]

    run(main)


def test_the_step_back_to_a_throttled_level_waits_probe_windows() -> None:
    async def main() -> None:
        limiter = AdaptiveLimiter(16, initial=6, probe_windows=3, throttle_share=0.0)
        ticket = await limiter.acquire()
        limiter.record_throttle(ticket)  # throttled at 6 -> 3; the ceiling is 6
        limiter.release(ticket)
        steps = []
        for _ in range(3 + 4 + 3 * 5 + 6):
            async with limiter.slot():
                pass
            steps.append(limiter.limit)
        assert steps[2] == 4  # 3 successes at 3
        assert steps[6] == 5  # 4 successes at 4
        assert steps[20] == 5 and steps[21] == 6  # 3 windows of 5 before returning to 6
        assert steps[-1] == 7  # past the old ceiling: one window per step again
        with pytest.raises(UsageError, match="0"):
            AdaptiveLimiter(4, probe_windows=0)

    run(main)
