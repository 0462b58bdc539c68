"""Typed progress events a job reports through a callback: cheap, frozen, no I/O.

A callback receives every event of every job of a ``Copier``; ``job_id`` tells jobs apart.
Events are built only when a callback is registered, so an unobserved copy pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Completed",
    "ConcurrencyChanged",
    "Event",
    "EventCallback",
    "Failed",
    "PartCompleted",
    "PartRetried",
    "PartStarted",
    "Planned",
]


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
    Planned | PartStarted | PartCompleted | PartRetried | Completed | Failed | ConcurrencyChanged
)
EventCallback = Callable[[Event], None]
