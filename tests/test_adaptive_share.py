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


def test_throttles_lower_the_limit_once_they_are_a_share_of_the_sample() -> None:
    limiter = AdaptiveLimiter(16, burst=100)  # the share alone decides here
    needed = round(DEFAULT_THROTTLE_SHARE * DEFAULT_MIN_SAMPLE)  # 5 of at least 20 answers
    lowered = []
    for _ in range(needed):
        limiter.record_success()
        lowered.append(limiter.record_throttle())
    assert lowered == [False] * (needed - 1) + [True]
    stats = limiter.statistics()
    assert (stats.limit, stats.decreases, stats.throttled) == (8, 1, needed)


def test_a_share_below_the_threshold_keeps_the_limit() -> None:
    limiter = AdaptiveLimiter(16, throttle_share=0.25, min_sample=20, burst=100)
    for _ in range(16):
        limiter.record_success()
    lowered = [limiter.record_throttle() for _ in range(5)]  # 5 of 21 answers: 24 %
    assert lowered == [False] * 5
    assert limiter.record_throttle() is True  # 6 of 22: 27 %
    assert limiter.limit == 8


def test_a_burst_of_throttles_in_a_row_lowers_the_limit_before_the_share_is_known() -> None:
    limiter = AdaptiveLimiter(16, burst=3)
    for _ in range(200):
        limiter.record_success()
    assert [limiter.record_throttle() for _ in range(3)] == [False, False, True]
    limiter.record_success()  # a success between throttles breaks the run
    assert limiter.limit == 8


def test_one_throttle_at_a_level_already_overloaded_lowers_it_until_a_clean_window() -> None:
    limiter = AdaptiveLimiter(4, initial=3, burst=2, increase_after=1, probe_windows=1)
    limiter.record_throttle()
    assert limiter.record_throttle() is True  # 3 -> 1; 3 was overloaded
    limiter.record_success()
    limiter.record_success()  # 1 -> 2 -> 3
    assert limiter.limit == 3
    assert limiter.record_throttle() is True  # a single throttle at the overloaded level
    assert limiter.limit == 1
    for _ in range(3):  # 1 -> 2 -> 3 -> 4 (one clean answer at or above the old level)
        limiter.record_success()
    assert limiter.limit == 4
    for _ in range(3):  # a clean window (4 answers) at or above the overloaded level
        limiter.record_success()
    assert limiter.record_throttle() is False  # back to needing a share or a burst
    assert limiter.limit == 4


def test_the_overloaded_level_stays_remembered_until_its_clean_window() -> None:
    limiter = AdaptiveLimiter(4, initial=3, burst=2, increase_after=1, probe_windows=1)
    limiter.record_throttle()
    limiter.record_throttle()  # 3 -> 1
    for _ in range(4):  # up to 4, with fewer clean answers at or above 3 than a window (4)
        limiter.record_success()
    assert limiter.limit == 4
    assert limiter.record_throttle() is True


def test_five_percent_random_throttles_almost_never_lower_the_limit() -> None:
    outcomes = []
    for seed in range(20):
        limiter = AdaptiveLimiter(10)
        feed(limiter, 0.05, 1000, seed)
        stats = limiter.statistics()
        assert stats.throttled > 25  # the throttles did arrive
        outcomes.append((stats.decreases, stats.min_limit, stats.limit))
    untouched = [o for o in outcomes if o == (0, 10, 10)]
    assert len(untouched) >= 16, outcomes  # 3 in a row at 5 %: about 1 run in 8
    assert all(limit == 10 for _, _, limit in outcomes)  # and it recovers


@pytest.mark.parametrize("seed", range(5))
def test_half_the_answers_throttled_drives_the_limit_to_one(seed: int) -> None:
    limiter = AdaptiveLimiter(64)
    feed(limiter, 0.5, 400, seed)
    stats = limiter.statistics()
    assert stats.min_limit == 1
    assert stats.limit <= 8
    assert stats.decreases > 40


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
