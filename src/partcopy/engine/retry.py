"""The retry policy: which errors are retried, how long to wait, how often to try.

Exponential backoff with full jitter (a random wait in ``[0, min(cap, initial * m**n))``),
at least the service's ``Retry-After`` when it sent one, a bounded number of attempts, and
only errors the error tree marks ``retryable``. A first failure that says nothing about load
(an ETag-less or error-bodied 200, a reset or malformed answer) is retried after ``prompt``
seconds instead: waiting would only idle a worker; throttles, 5xx and timeouts back off.
Built on tenacity with an injectable sleep and random source, so schedules are tested
without waiting.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import anyio

from partcopy.engine.adaptive import is_throttle
from partcopy.errors import (
    ConnectError,
    ProtocolError,
    ResponseTimeout,
    ServiceError,
    TransportError,
    UnprovenSuccess,
    UsageError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = [
    "Retrier",
    "RetryHook",
    "RetryPolicy",
    "Sleep",
    "is_overload",
    "is_retryable",
    "reason_of",
]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
RetryHook = Callable[[str, "int | None", int, str, float], None]
"""Called before each backoff: (operation, part_number, failed attempt, reason, delay)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts one request gets and how long to wait between them."""

    max_attempts: int = 10
    initial: float = 0.1
    multiplier: float = 2.0
    cap: float = 20.0
    max_retry_after: float = 60.0
    """Longest Retry-After honoured; a longer one is clamped to this."""
    prompt: float = 0.0
    """The wait after a first failure that is not overload (see ``is_overload``)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise UsageError(f"invalid max attempts {self.max_attempts!r}: must be at least 1")
        negative = min(self.initial, self.cap, self.max_retry_after, self.prompt) < 0
        if negative or self.multiplier < 1:
            raise UsageError(f"invalid retry policy {self!r}: negative wait or multiplier < 1")

    def backoff_ceiling(self, attempt: int) -> float:
        """The upper bound of the jittered wait after failed attempt ``attempt`` (1-based)."""
        return min(self.cap, self.initial * self.multiplier ** (attempt - 1))

    def delay(self, attempt: int, error: BaseException | None, rng: random.Random) -> float:
        """The wait after failed attempt ``attempt``: full jitter, at least Retry-After;
        ``prompt`` after a first failure that is not overload."""
        if attempt == 1 and error is not None and not is_overload(error):
            return self.prompt
        wait = rng.uniform(0.0, self.backoff_ceiling(attempt))
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > 0:
            wait = max(wait, min(float(retry_after), self.max_retry_after))
        return wait


def is_retryable(exc: BaseException) -> bool:
    """Only transport errors the error tree marks retryable are tried again."""
    return isinstance(exc, TransportError) and exc.retryable


def is_overload(exc: BaseException) -> bool:
    """Whether a failure may mean the service is loaded, so a retry must back off: throttles,
    5xx and other error statuses, timeouts, anything carrying Retry-After or unknown."""
    if getattr(exc, "retry_after", None) is not None or is_throttle(exc):
        return True
    # the store answered, or the connection broke: neither is the store pushing back
    return not isinstance(exc, UnprovenSuccess | ConnectError | ProtocolError)


def reason_of(exc: BaseException) -> str:
    """A short stable label for why an attempt failed (the key of ``retries_by_reason``)."""
    if isinstance(exc, ServiceError):
        return exc.code or f"HTTP{exc.status}"
    if isinstance(exc, UnprovenSuccess):
        return f"ErrorBody:{exc.code}" if exc.code else "NoETag"
    if isinstance(exc, ConnectError):
        return "ConnectionError"
    if isinstance(exc, ResponseTimeout):
        return "Timeout"
    if isinstance(exc, ProtocolError):
        return "ProtocolError"
    return type(exc).__name__


def _stop_unreachable(state: RetryCallState) -> bool:
    """Stop after the second attempt when the host was never reached (see ConnectError)."""
    error = state.outcome.exception() if state.outcome is not None else None
    return state.attempt_number >= 2 and getattr(error, "unreachable", False) is True


class Retrier:
    """Runs one request under a ``RetryPolicy``, reporting each backoff to ``on_retry``."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        on_retry: RetryHook | None = None,
        seed: int | None = None,
    ) -> None:
        self.policy = policy
        self._sleep: Sleep = sleep if sleep is not None else anyio.sleep
        self._rng = rng
        self._seed = seed
        self._on_retry = on_retry

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if self._rng is None:  # built on the first backoff (most jobs never back off)
            self._rng = random.Random(self._seed)
        return self.policy.delay(state.attempt_number, error, self._rng)

    async def call(
        self,
        operation: str,
        fn: Callable[[], Awaitable[T]],
        part_number: int | None = None,
    ) -> T:
        """Await ``fn()`` until it succeeds, fails for good, or attempts run out.

        The last error is re-raised as it is; each backoff is reported to ``on_retry``.
        """
        # Fast path: most requests succeed first time, and building a tenacity controller
        # per request costs more than the request's own client-side work. The first
        # failure is replayed into tenacity below, so the schedule is exactly tenacity's.
        try:
            return await fn()
        except Exception as exc:
            if self.policy.max_attempts == 1 or not is_retryable(exc):
                raise
            first_failure: list[Exception] = [exc]

        async def replay() -> T:
            if first_failure:
                raise first_failure.pop()
            return await fn()

        hook = self._on_retry

        def before_sleep(state: RetryCallState) -> None:
            if hook is None or state.outcome is None or state.next_action is None:
                return
            error = state.outcome.exception()
            reason = reason_of(error) if error is not None else "unknown"
            hook(operation, part_number, state.attempt_number, reason, state.next_action.sleep)

        # tenacity (and what it imports) loads with the first failure, not at start-up
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        attempts = stop_after_attempt(self.policy.max_attempts)

        def stop(state: RetryCallState) -> bool:
            # A host never reached that refuses or does not resolve is most likely a wrong
            # endpoint: one more try after a short backoff, not the whole budget.
            return attempts(state) or _stop_unreachable(state)

        retrying = AsyncRetrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return await retrying(replay)
