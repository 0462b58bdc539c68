"""The throttle-share policy: the limit falls only when throttles are a real share of the
recent answers, so a store throttling a few per cent at random keeps the full limit while an
overloaded one (every request beyond its capacity throttled) is backed off at once."""

from __future__ import annotations

import random

import pytest

from partcopy.engine.adaptive import DEFAULT_MIN_SAMPLE, DEFAULT_THROTTLE_SHARE, AdaptiveLimiter


def feed(limiter: AdaptiveLimiter, rate: float, answers: int, seed: int) -> None:
    """``answers`` answers, each a throttle with probability ``rate`` (seeded)."""
    rng = random.Random(seed)
    for _ in range(answers):
        if rng.random() < rate:
            limiter.record_throttle()
        else:
            limiter.record_success()


def test_the_first_throttles_lower_the_limit_only_once_they_are_a_share_of_the_sample() -> None:
    limiter = AdaptiveLimiter(16)
    needed = round(DEFAULT_THROTTLE_SHARE * DEFAULT_MIN_SAMPLE)  # 5 of at least 20 answers
    lowered = [limiter.record_throttle() for _ in range(needed)]
    assert lowered == [False] * (needed - 1) + [True]
    stats = limiter.statistics()
    assert (stats.limit, stats.decreases, stats.throttled) == (8, 1, needed)


def test_a_share_below_the_threshold_keeps_the_limit() -> None:
    limiter = AdaptiveLimiter(16, throttle_share=0.25, min_sample=20)
    for _ in range(16):
        limiter.record_success()
    lowered = [limiter.record_throttle() for _ in range(5)]  # 5 of 21 answers: 24 %
    assert lowered == [False] * 5
    assert limiter.record_throttle() is True  # 6 of 22: 27 %
    assert limiter.limit == 8


@pytest.mark.parametrize("seed", range(10))
def test_five_percent_random_throttles_never_lower_the_limit(seed: int) -> None:
    limiter = AdaptiveLimiter(10)
    feed(limiter, 0.05, 2000, seed)
    stats = limiter.statistics()
    assert stats.throttled > 50  # the throttles did arrive
    assert (stats.decreases, stats.min_limit, stats.limit) == (0, 10, 10)


@pytest.mark.parametrize("seed", range(5))
def test_half_the_answers_throttled_drives_the_limit_to_one(seed: int) -> None:
    limiter = AdaptiveLimiter(64)
    feed(limiter, 0.5, 400, seed)
    stats = limiter.statistics()
    assert stats.min_limit == 1
    assert stats.limit <= 4


def test_old_counts_fade_so_a_later_burst_is_judged_on_recent_answers() -> None:
    limiter = AdaptiveLimiter(10, throttle_share=0.25, min_sample=20)
    for _ in range(1000):
        limiter.record_success()
    # a long clean history does not dilute a fresh burst below the share for long
    lowered = [limiter.record_throttle() for _ in range(20)]
    assert True in lowered
    assert lowered.index(True) < 15


def test_share_zero_lowers_on_every_throttle_of_the_window() -> None:
    limiter = AdaptiveLimiter(8, throttle_share=0.0)
    for _ in range(50):
        limiter.record_success()
    assert limiter.record_throttle() is True
    assert limiter.limit == 4
