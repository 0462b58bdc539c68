"""Retry schedule, verifier rules and the pool's bound, with injected sleeps (no waiting)."""

from __future__ import annotations

import hashlib
import random

import anyio
import anyio.lowlevel
import pytest

from partcopy.engine.pool import run_pool
from partcopy.engine.retry import Retrier, RetryPolicy, reason_of
from partcopy.engine.verify import (
    composite_etag,
    verify_complete,
    verify_destination,
    verify_part,
)
from partcopy.errors import (
    ConnectError,
    ErrorKind,
    PreconditionFailed,
    UnprovenSuccess,
    UsageError,
    VerificationFailed,
)
from partcopy.transports.base import CompleteResult, ObjectInfo, PartResult
from partcopy.transports.errormap import service_error


class Flaky:
    """Fails with the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _retrier(policy: RetryPolicy, seed: int = 7) -> tuple[Retrier, list[float], list[tuple]]:
    slept: list[float] = []
    hooked: list[tuple] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await anyio.lowlevel.checkpoint()

    retrier = Retrier(
        policy,
        sleep=sleep,
        rng=random.Random(seed),
        on_retry=lambda *args: hooked.append(args),
    )
    return retrier, slept, hooked


def test_backoff_is_full_jitter_under_an_exponential_ceiling_with_a_cap() -> None:
    policy = RetryPolicy(max_attempts=7, initial=1.0, multiplier=2.0, cap=10.0)
    retrier, slept, hooked = _retrier(policy)
    fn = Flaky(*[service_error(503, "SlowDown") for _ in range(6)])
    assert anyio.run(retrier.call, "upload_part_copy", fn, 4) == "ok"
    assert fn.calls == 7
    rng = random.Random(7)
    ceilings = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert slept == [rng.uniform(0.0, c) for c in ceilings]
    assert [h[2] for h in hooked] == [1, 2, 3, 4, 5, 6]
    assert {(h[0], h[1], h[3]) for h in hooked} == {("upload_part_copy", 4, "SlowDown")}
    assert [h[4] for h in hooked] == slept


def test_retry_after_is_honoured_and_clamped() -> None:
    policy = RetryPolicy(max_attempts=3, initial=0.01, cap=0.02, max_retry_after=30.0)
    retrier, slept, _ = _retrier(policy)
    fn = Flaky(
        service_error(429, "TooManyRequests", retry_after=3.0),
        service_error(503, "SlowDown", retry_after=3600.0),
    )
    assert anyio.run(retrier.call, "complete", fn) == "ok"
    assert slept == [3.0, 30.0]


def test_attempts_run_out_and_the_last_error_is_raised() -> None:
    retrier, slept, _ = _retrier(RetryPolicy(max_attempts=3, initial=0.0))
    fn = Flaky(*[ConnectError("reset") for _ in range(5)])
    with pytest.raises(ConnectError):
        anyio.run(retrier.call, "head", fn)
    assert fn.calls == 3 and len(slept) == 2


@pytest.mark.parametrize(
    "error",
    [
        PreconditionFailed(412, "PreconditionFailed"),
        service_error(403, "AccessDenied"),
        service_error(404, "NoSuchUpload"),
        UnprovenSuccess(
            "200 with AccessDenied inside", code="AccessDenied", error_kind=ErrorKind.ACCESS_DENIED
        ),
        ValueError("a bug, not a transport error"),
    ],
)
def test_non_retryable_errors_are_not_retried(error: Exception) -> None:
    retrier, slept, _ = _retrier(RetryPolicy(max_attempts=5))
    fn = Flaky(error)
    with pytest.raises(type(error)):
        anyio.run(retrier.call, "upload_part_copy", fn)
    assert fn.calls == 1 and slept == []


def test_reasons() -> None:
    assert reason_of(service_error(503, "SlowDown")) == "SlowDown"
    assert reason_of(service_error(502)) == "HTTP502"
    assert reason_of(UnprovenSuccess("x")) == "NoETag"
    assert reason_of(UnprovenSuccess("x", code="InternalError")) == "ErrorBody:InternalError"
    assert reason_of(ConnectError("reset")) == "ConnectionError"


def test_policy_validation() -> None:
    with pytest.raises(UsageError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(UsageError):
        RetryPolicy(multiplier=0.5)


# --- verifier ----------------------------------------------------------------------------

GOOD = '"' + "a" * 32 + '"'


def test_part_needs_a_well_formed_etag_and_no_error_body() -> None:
    assert verify_part(PartResult(3, GOOD, 200), 3, "op") == GOOD
    for result in (
        PartResult(3, None, 200, detail="empty body"),
        PartResult(3, "", 200),
        PartResult(3, '"abc', 200),
        PartResult(3, '"a b"', 200),
        PartResult(3, GOOD, 200, error_code="InternalError"),
        PartResult(4, GOOD, 200),
    ):
        with pytest.raises(UnprovenSuccess) as caught:
            verify_part(result, 3, "op")
        assert caught.value.retryable
    with pytest.raises(UnprovenSuccess) as fatal:
        verify_part(PartResult(3, None, 200, error_code="AccessDenied"), 3, "op")
    assert not fatal.value.retryable


def test_complete_with_an_error_inside_a_200_is_a_failure() -> None:
    assert verify_complete(CompleteResult('"x-2"', 200), "complete") == '"x-2"'
    with pytest.raises(UnprovenSuccess, match="InternalError"):
        verify_complete(CompleteResult(None, 200, error_code="InternalError"), "complete")
    with pytest.raises(UnprovenSuccess, match="no ETag"):
        verify_complete(CompleteResult(None, 200), "complete")


def test_composite_etag() -> None:
    parts = [b"one", b"two", b"three"]
    etags = [f'"{hashlib.md5(p).hexdigest()}"' for p in parts]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert composite_etag(etags) == f"{expected}-3"
    assert composite_etag([*etags, '"not-an-md5"']) is None


def test_destination_must_match_size_and_etag() -> None:
    info = ObjectInfo("b", "k", 10, '"' + "b" * 32 + '-2"')
    verify_destination(info, size=10, expected_etag="B" * 32 + "-2")
    verify_destination(info, size=10, expected_etag=None)
    with pytest.raises(VerificationFailed, match="11"):
        verify_destination(info, size=11, expected_etag=None)
    with pytest.raises(VerificationFailed, match="ETag"):
        verify_destination(info, size=10, expected_etag="c" * 32 + "-2")


# --- pool --------------------------------------------------------------------------------


def test_pool_runs_each_number_once_on_a_fixed_number_of_tasks() -> None:
    seen: list[int] = []
    tasks: set[int] = set()
    running = 0
    peak = 0

    async def work(n: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        tasks.add(anyio.get_current_task().id)
        await anyio.lowlevel.checkpoint()
        seen.append(n)
        running -= 1

    anyio.run(run_pool, range(20_000), work, 8)
    assert sorted(seen) == list(range(20_000))
    assert peak == 8 and len(tasks) == 8


def test_pool_stops_at_the_first_failure_and_raises_it_unwrapped() -> None:
    started: list[int] = []

    async def work(n: int) -> None:
        started.append(n)
        await anyio.lowlevel.checkpoint()
        if n == 5:
            raise PreconditionFailed(412, "PreconditionFailed")
        if n > 5:
            await anyio.sleep_forever()

    with pytest.raises(PreconditionFailed):
        anyio.run(run_pool, range(1000), work, 4)
    assert len(started) < 20
