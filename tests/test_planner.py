"""Planner invariants (Hypothesis over every profile) and the edge sizes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partcopy.errors import PlanError, UsageError
from partcopy.planners import DEFAULT_PART_SIZE, PROFILES, CopyPlan, PartLimits, plan
from partcopy.units import GiB, KiB, MiB

PROFILE_NAMES = sorted(PROFILES)


def check_invariants(p: CopyPlan, size: int, limits: PartLimits) -> None:
    tasks = list(p.tasks())
    assert len(tasks) == p.part_count
    if size == 0:
        assert tasks == [] and p.mode == "single"
        return
    assert tasks[0].first == 0
    assert tasks[-1].last == size - 1
    assert len(tasks) <= limits.max_parts
    for i, t in enumerate(tasks):
        assert t.part_number == limits.first_part_number + i
        assert t.first <= t.last
        assert t.size <= limits.max_part
        if i:
            assert t.first == tasks[i - 1].last + 1
        if i < len(tasks) - 1:
            assert t.size >= limits.min_part
    if p.mode == "single":
        assert len(tasks) == 1 and size <= limits.single_max
    assert sum(t.size for t in tasks) == size


sizes = st.one_of(
    st.integers(0, 64 * MiB),
    st.integers(0, 5 * GiB * 10_000),
    st.sampled_from([0, 1, 5 * MiB, 5 * GiB, 5 * GiB + 1]),
)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(PROFILE_NAMES),
    size=sizes,
    part_size=st.one_of(st.none(), st.integers(1, 6 * GiB)),
    concurrency=st.one_of(st.none(), st.integers(1, 512)),
)
def test_plan_invariants(
    name: str, size: int, part_size: int | None, concurrency: int | None
) -> None:
    limits = PROFILES[name]
    if size > limits.max_object:
        with pytest.raises(PlanError):
            plan(size, limits, part_size, concurrency)
        return
    p = plan(size, limits, part_size, concurrency)
    check_invariants(p, size, limits)
    if part_size is not None and p.mode == "multipart" and p.part_size != part_size:
        assert p.adjustments, "a changed part size must be listed"
        assert p.adjustments[-1].chosen == p.part_size
        assert all(a.requested == part_size for a in p.adjustments)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(PROFILE_NAMES),
    size=st.integers(1, 2 * 1024 * GiB),
    concurrency=st.integers(1, 128),
)
def test_default_plan_prefers_full_waves(name: str, size: int, concurrency: int) -> None:
    limits = PROFILES[name]
    p = plan(size, limits, None, concurrency)
    check_invariants(p, size, limits)
    if p.mode == "multipart" and any("concurrency" in a.reason for a in p.adjustments):
        assert p.part_count % concurrency == 0


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_edge_sizes(name: str) -> None:
    limits = PROFILES[name]
    m = limits.min_part
    for size in [0, 1, m - 1, m, m + 1, 5 * GiB, 5 * GiB + 1, limits.max_object]:
        for part_size in [None, m, 1]:
            check_invariants(plan(size, limits, part_size), size, limits)
    with pytest.raises(PlanError, match="too large"):
        plan(limits.max_object + 1, limits)


def test_requested_sizes_from_the_issue() -> None:
    qs = plan(20 * MiB, PROFILES["qingstor"], 4 * MiB)
    assert [t.part_number for t in qs.tasks()] == [0, 1, 2, 3, 4]
    obs = plan(1 * MiB, PROFILES["obs"], 100 * KiB)
    assert [t.size for t in obs.tasks()] == [102400] * 10 + [24576]
    s3 = plan(10 * GiB, PROFILES["s3"], 1 * MiB)
    assert s3.part_size == 5 * MiB
    assert s3.adjustments[0].requested == 1 * MiB and s3.adjustments[0].chosen == 5 * MiB
    cos = plan(5 * 1024 * GiB, PROFILES["cos"])
    assert cos.part_count <= 10_000


def test_grows_to_smallest_fitting_size() -> None:
    size = 10_000 * 5 * MiB + 1
    p = plan(size, PROFILES["s3"], 5 * MiB)
    assert p.part_count == 10_000
    assert p.part_size == -(-size // 10_000)


def test_single_mode_and_threshold() -> None:
    s3 = PROFILES["s3"]
    assert plan(0, s3).mode == "single"
    assert plan(5 * MiB, s3, 5 * MiB).mode == "single"
    assert plan(5 * MiB + 1, s3, 5 * MiB).mode == "multipart"
    assert plan(100 * MiB, s3, 5 * MiB, single_threshold=100 * MiB).mode == "single"
    with pytest.raises(UsageError, match="threshold"):
        plan(1, s3, single_threshold=6 * GiB)


@pytest.mark.parametrize(
    ("size", "part_size", "concurrency"),
    [(-1, None, None), (10, 0, None), (10, None, 0)],
)
def test_bad_arguments(size: int, part_size: int | None, concurrency: int | None) -> None:
    with pytest.raises(UsageError):
        plan(size, PROFILES["s3"], part_size, concurrency)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(PROFILE_NAMES),
    size=st.integers(1, DEFAULT_PART_SIZE),
    concurrency=st.one_of(st.none(), st.integers(1, 128)),
)
def test_an_object_within_one_default_part_is_one_request(
    name: str, size: int, concurrency: int | None
) -> None:
    """Filling waves of workers shrinks parts of large objects only: 16 MiB on OBS with 64
    workers is one CopyObject, not 64 parts of 256 KiB."""
    p = plan(size, PROFILES[name], None, concurrency)
    assert p.mode == "single" and p.part_count == 1
    assert not any("concurrency" in a.reason for a in p.adjustments)
