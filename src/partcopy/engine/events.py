"""Typed progress events a job reports through a callback: cheap, frozen, no I/O.

A callback receives every event of every job of a ``Copier``; ``job_id`` tells jobs apart.
Events are built only when a callback is registered, so an unobserved copy pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "Aborting",
    "Completed",
    "ConcurrencyChanged",
    "Event",
    "EventCallback",
    "Failed",
    "PartCompleted",
    "PartRetried",
    "PartStarted",
    "Planned",
    "guarded",
]

A = TypeVar("A")


def guarded(callback: Callable[[A], None] | None, name: str) -> Callable[[A], None] | None:
    """``callback`` with its own errors kept out of the work it observes: logged (a warning
    of ``partcopy.events``, shown where the application shows warnings), never raised, so
    a bug in a progress display cannot fail a copy, hide its error, or turn a cancellation
    into something else."""
    if callback is None:
        return None

    def call(value: A) -> None:
        try:
            callback(value)
        except Exception as exc:
            from partcopy.logs import get_logger  # only on a failing callback

            get_logger("partcopy.events").warning(
                f"{name} callback raised", on=type(value).__name__, error=repr(exc)
            )

    return call


@dataclass(frozen=True, slots=True)
class Planned:
    """The job has headed the source and chosen a plan (``parts_done`` on a resume)."""

    job_id: str
    source: str
    destination: str
    mode: str
    size: int
    part_size: int
    part_count: int
    parts_done: int = 0
    changed: tuple[str, ...] = ()
    """How the planner changed a part size that was asked for, in words (``plan`` says
    the same): nothing is changed behind the caller's back."""


@dataclass(frozen=True, slots=True)
class PartStarted:
    """A part's first attempt is about to be sent."""

    job_id: str
    part_number: int
    size: int


@dataclass(frozen=True, slots=True)
class PartCompleted:
    """A part has a verified ETag."""

    job_id: str
    part_number: int
    size: int


@dataclass(frozen=True, slots=True)
class PartRetried:
    """An attempt failed with a retryable error; another follows after ``delay`` seconds.

    ``part_number`` is None for a job-level request (create, complete, head, abort).
    """

    job_id: str
    part_number: int | None
    operation: str
    attempt: int
    reason: str
    delay: float


@dataclass(frozen=True, slots=True)
class Completed:
    """The destination object exists and is verified."""

    job_id: str
    etag: str | None
    bytes: int
    parts: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Failed:
    """The job failed; ``upload_id`` is set when an upload was left open."""

    job_id: str
    error_type: str
    message: str
    upload_id: str | None


@dataclass(frozen=True, slots=True)
class Aborting:
    """The job is aborting ``upload_id`` of ``destination`` after a failure or, with
    ``cancelled``, an interrupt; the abort may take up to ``timeout`` seconds. A ``Failed``
    event follows that says whether it was aborted. Cancelling the job again meanwhile cuts
    the abort short: the upload may then be left open."""

    job_id: str
    destination: str
    upload_id: str
    cancelled: bool
    timeout: float


@dataclass(frozen=True, slots=True)
class ConcurrencyChanged:
    """The destination endpoint's adaptive concurrency limit moved (throttled or regrown).

    The limit is shared by every job using ``endpoint``; each job reports what it saw.
    """

    job_id: str
    endpoint: str
    limit: int
    in_flight: int
    min_limit: int
    throttled: int


Event = (
    Planned
    | PartStarted
    | PartCompleted
    | PartRetried
    | Completed
    | Failed
    | Aborting
    | ConcurrencyChanged
)
EventCallback = Callable[[Event], None]
