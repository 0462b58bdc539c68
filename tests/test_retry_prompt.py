"""Prompt retries: a first failure that is not overload is retried at once, then backs off;
throttles, 5xx, timeouts and Retry-After keep the jittered exponential backoff."""

from __future__ import annotations

import random

import anyio
import anyio.lowlevel
import pytest

from partcopy.engine.retry import Retrier, RetryPolicy, is_overload
from partcopy.errors import (
    ConnectError,
    ErrorKind,
    ProtocolError,
    ResponseTimeout,
    UnprovenSuccess,
    UsageError,
)
from partcopy.transports.errormap import service_error

NOT_OVERLOAD = [
    UnprovenSuccess("no ETag"),
    UnprovenSuccess("error body", code="InternalError"),
    ConnectError("reset"),
    ProtocolError("truncated"),
]
OVERLOAD = [
    service_error(503, "SlowDown"),
    service_error(500, "InternalError"),
    service_error(429, "TooManyRequests"),
    UnprovenSuccess("throttled in a 200", code="SlowDown", error_kind=ErrorKind.THROTTLED),
    ResponseTimeout("no answer"),
]


@pytest.mark.parametrize("error", NOT_OVERLOAD, ids=repr)
def test_not_overload(error: Exception) -> None:
    assert not is_overload(error)


@pytest.mark.parametrize("error", OVERLOAD, ids=repr)
def test_overload(error: Exception) -> None:
    assert is_overload(error)


def _run(policy: RetryPolicy, *errors: Exception) -> list[float]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await anyio.lowlevel.checkpoint()

    pending = list(errors)

    async def fn() -> str:
        if pending:
            raise pending.pop(0)
        return "ok"

    retrier = Retrier(policy, sleep=sleep, rng=random.Random(3))
    assert anyio.run(retrier.call, "upload_part_copy", fn) == "ok"
    return slept


@pytest.mark.parametrize("error", NOT_OVERLOAD, ids=repr)
def test_first_retry_of_a_non_overload_failure_is_prompt_then_backs_off(
    error: Exception,
) -> None:
    policy = RetryPolicy(initial=1.0, multiplier=2.0, cap=10.0, prompt=0.003)
    slept = _run(policy, error, error, error)
    rng = random.Random(3)
    assert slept == [0.003, rng.uniform(0.0, 2.0), rng.uniform(0.0, 4.0)]


@pytest.mark.parametrize("error", OVERLOAD, ids=repr)
def test_overload_keeps_the_jittered_backoff_from_the_first_retry(error: Exception) -> None:
    slept = _run(RetryPolicy(initial=1.0, multiplier=2.0, cap=10.0), error, error)
    rng = random.Random(3)
    assert slept == [rng.uniform(0.0, 1.0), rng.uniform(0.0, 2.0)]


def test_retry_after_makes_any_failure_wait() -> None:
    error = service_error(400, "RequestTimeout", retry_after=2.5)
    assert is_overload(error)
    assert _run(RetryPolicy(initial=0.01, cap=0.02), error) == [2.5]


def test_a_prompt_retry_after_an_overload_failure_is_not_taken() -> None:
    # a throttle first, then an ETag-less 200: the second wait is attempt 2's backoff
    slept = _run(RetryPolicy(initial=1.0), service_error(503, "SlowDown"), UnprovenSuccess("x"))
    rng = random.Random(3)
    assert slept == [rng.uniform(0.0, 1.0), rng.uniform(0.0, 2.0)]


def test_a_negative_prompt_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="prompt=-1"):
        RetryPolicy(prompt=-1.0)
