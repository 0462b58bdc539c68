"""Credentials that stay valid through a long copy: one provider per side and endpoint.

A signer asks its provider for the current key pair on every request (``current()``, an
attribute read). The transport awaits ``ensure_fresh()`` before signing: a comparison of
the expiry with the clock, and only when the credentials are due for renewal a lock and a
fetch in a worker thread (the fetch may block on STS, IMDS or a container endpoint). So a
copy outlives its temporary credentials: they are renewed ``refresh_before`` ahead of
expiry, and requests signed with the old ones are still valid when they arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar, runtime_checkable

import anyio
import anyio.from_thread
import anyio.to_thread

from partcopy.errors import ConfigError, TransportError
from partcopy.transports.signing.common import Credentials

__all__ = [
    "CredentialProvider",
    "CredentialRefreshError",
    "RefreshingCredentials",
    "StaticCredentials",
    "TimedCredentials",
    "as_provider",
]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Timezone-aware UTC now (the default clock)."""
    return datetime.now(UTC)


REFRESH_BEFORE = timedelta(minutes=10)
"""Renew temporary credentials this long before they expire (botocore's mandatory window)."""
RETRY_AFTER = timedelta(seconds=30)
"""After a failed renewal while the old credentials are still valid, wait this long (and
as long after a renewal whose credentials are themselves due already)."""
MUST_WAIT = timedelta(minutes=5)
"""While one task renews, the others sign with the current credentials unless they expire
within this long: a slow STS or metadata service holds back no request until then."""
RENEW_TIMEOUT = 60.0
"""Seconds a renewal may take before it is given up."""
FIRST_TIMEOUT = 120.0
"""Seconds the first fetch may take before it is given up: longer than a renewal, as it may
be waiting on a person (an MFA code typed at botocore's prompt), yet never unbounded (a
``credential_process`` that never exits)."""

_POLL = 0.05
"""Seconds between a waiting worker thread's looks for cancellation."""

T = TypeVar("T")


class CredentialRefreshError(TransportError):
    """Expired credentials could not be renewed (the source did not answer): retryable."""


@dataclass(frozen=True, slots=True)
class TimedCredentials:
    """A key pair and when it stops being valid (``None``: it does not expire)."""

    credentials: Credentials
    expires: datetime | None = None


@runtime_checkable
class CredentialProvider(Protocol):
    """Where a side's credentials come from, and the current ones."""

    @property
    def source(self) -> str:
        """Where they were found, for error messages (never a secret)."""
        ...

    @property
    def identity(self) -> str:
        """Stable name of the identity: endpoints with the same one share a transport."""
        ...

    def current(self) -> Credentials:
        """The credentials to sign with now (cheap; call ``ensure_fresh`` first)."""
        ...

    async def ensure_fresh(self) -> None:
        """Fetch or renew the credentials when they are missing or about to expire."""
        ...


@dataclass(frozen=True, slots=True)
class StaticCredentials:
    """A fixed key pair (arguments, environment variables, a plain config file)."""

    credentials: Credentials = field(repr=False)
    source: str = "explicit credentials"

    @property
    def identity(self) -> str:
        return f"key:{self.credentials.access_key}"

    def current(self) -> Credentials:
        return self.credentials

    async def ensure_fresh(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"StaticCredentials({self.credentials!r}, source={self.source!r})"


Fetch = Callable[[], TimedCredentials]
"""A blocking fetch of fresh credentials (run in a worker thread); raises ``ConfigError``
when there are none and ``CredentialRefreshError`` when the source failed."""

Stop = Callable[[], str | None]
"""Stops what a fetch that ran out of time waits on (a credential process: killed), so its
thread ends; returns what it did, for the error message (None: nothing to stop)."""


async def run_in_daemon_thread(fn: Callable[[], T], name: str) -> T:
    """``fn()`` in a daemon thread of its own, awaited; cancelling the wait abandons it.

    Not in a worker thread of anyio's: those are not daemon threads, and the interpreter
    waits for them at exit, so a fetch stuck for good (a prompt nobody answers, a process
    that never exits) would hold the process after the copy has failed and said so. The
    wait is a worker thread's, which looks for cancellation every ``_POLL`` seconds: it
    always ends, and the fetch's thread never waits on the event loop (gone, maybe).
    """
    finished = threading.Event()
    outcome: list[tuple[T] | BaseException] = []

    def target() -> None:
        try:
            outcome.append((fn(),))
        except BaseException as exc:  # handed to the waiting task
            outcome.append(exc)
        finally:
            finished.set()

    def wait() -> None:
        while not finished.wait(_POLL):
            anyio.from_thread.check_cancelled()

    threading.Thread(target=target, name=name, daemon=True).start()
    await anyio.to_thread.run_sync(wait)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result[0]


class RefreshingCredentials:
    """Credentials fetched on first use and renewed before they expire.

    ``clock`` is injectable so tests move time instead of waiting. A renewal that fails
    while the old credentials are still valid keeps them and tries again later; once they
    have expired the failure is raised (``CredentialRefreshError``, retryable).
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        source: str,
        identity: str,
        clock: Clock = utc_now,
        refresh_before: timedelta = REFRESH_BEFORE,
        describe: Callable[[], str] | None = None,
        renew_timeout: float = RENEW_TIMEOUT,
        first_timeout: float = FIRST_TIMEOUT,
        stop: Stop | None = None,
    ) -> None:
        self._fetch = fetch
        self._source = source
        self._identity = identity
        self._clock = clock
        self._refresh_before = refresh_before
        self._describe = describe
        self._renew_timeout = renew_timeout
        self._first_timeout = first_timeout
        self._stop = stop
        self._value: TimedCredentials | None = None
        self._not_before: datetime | None = None
        self._lock = anyio.Lock()
        self.fetches = 0
        """How many times credentials were fetched (first resolution included)."""

    def __repr__(self) -> str:
        return f"RefreshingCredentials(source={self.source!r})"

    @property
    def source(self) -> str:
        """Where the credentials come from (refined once they were fetched)."""
        if self._describe is not None and self._value is not None:
            return self._describe()
        return self._source

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def expires(self) -> datetime | None:
        """When the current credentials expire (``None``: never, or not fetched yet)."""
        return self._value.expires if self._value is not None else None

    def current(self) -> Credentials:
        if self._value is None:
            raise RuntimeError("credentials used before ensure_fresh() resolved them")
        return self._value.credentials

    def _due(self, value: TimedCredentials | None) -> bool:
        if value is None:
            return True
        if value.expires is None:
            return False
        now = self._clock()
        if self._not_before is not None and now < self._not_before and now < value.expires:
            return False
        return value.expires - now <= self._refresh_before

    def _still_good(self, value: TimedCredentials | None) -> bool:
        """Whether ``value`` may be signed with while another task renews it."""
        if value is None or value.expires is None:
            return False
        return value.expires - self._clock() > MUST_WAIT

    async def ensure_fresh(self) -> None:
        old = self._value
        if not self._due(old):
            return
        if self._lock.locked() and self._still_good(old):
            return  # another task is renewing them; these are still good to sign with
        async with self._lock:
            old = self._value
            if not self._due(old):
                return  # another task renewed them while this one waited
            try:
                fresh = await self._fetch_fresh(renewal=old is not None)
            except CredentialRefreshError as exc:
                if old is None:  # nothing was sent yet: say so as bad configuration
                    raise ConfigError(str(exc)) from None
                if old.expires is None or old.expires <= self._clock():
                    raise
                # Still valid: keep signing with them and try again a little later.
                self._not_before = self._clock() + RETRY_AFTER
                return
            self.fetches += 1
            self._value = fresh
            # Keys that come back due already (a source that hands out short-lived ones,
            # or the same ones until it rotates them) are asked for again a little later,
            # not on every request.
            self._not_before = None
            if self._due(fresh):
                self._not_before = self._clock() + RETRY_AFTER

    async def _fetch_fresh(self, *, renewal: bool) -> TimedCredentials:
        """The fetch in a daemon thread, within ``renew_timeout`` seconds (a renewal) or
        ``first_timeout`` (the first). On cancellation (an interrupt) or timeout what it
        waits on is stopped (``stop``) and the thread abandoned: it only reads."""
        limit = self._renew_timeout if renewal else self._first_timeout
        try:
            with anyio.move_on_after(limit):
                return await run_in_daemon_thread(self._fetch, "partcopy credentials")
        except anyio.get_cancelled_exc_class():  # an interrupt: leave no process behind
            self._stop_fetch()
            raise
        stopped = self._stop_fetch()
        raise CredentialRefreshError(
            f"could not get credentials from {self.source}: no answer within {limit:g}s"
            + (f" ({stopped})" if stopped else "")
        )

    def _stop_fetch(self) -> str | None:
        return self._stop() if self._stop is not None else None


def as_provider(
    credentials: Credentials | CredentialProvider, source: str = "explicit credentials"
) -> CredentialProvider:
    """A provider for ``credentials`` (a fixed key pair becomes ``StaticCredentials``)."""
    if isinstance(credentials, Credentials):
        return StaticCredentials(credentials, source)
    return credentials
