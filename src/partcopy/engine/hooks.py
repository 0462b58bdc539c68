"""Job lifecycle hooks: where a journal (or anything else) observes a job's state changes.

Every state transition of a job goes through one ``JobHooks`` object, in this order:
``on_planned`` → ``on_upload_created`` → ``on_part_done``… → ``on_completed`` or
``on_failed``. A hook that raises fails the job (a journal that cannot record must not let
the copy run on unrecorded). ``NoHooks`` does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from partcopy.planners import CopyPlan
from partcopy.transports.base import ObjectInfo
from partcopy.urls import Location

if TYPE_CHECKING:
    from partcopy.engine.result import CopyResult

__all__ = ["JobHooks", "JobPlan", "NoHooks", "ResumePoint"]


@dataclass(frozen=True, slots=True)
class JobPlan:
    """What a job is about to do: the source as headed and the plan chosen for it."""

    job_id: str
    source: Location
    destination: Location
    source_info: ObjectInfo
    plan: CopyPlan
    mode: str
    """``single``, ``copy`` or ``relay``."""


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where to pick a job up: its open upload and the parts already verified in it."""

    upload_id: str
    source_etag: str | None
    source_version_id: str | None
    part_size: int
    done: Mapping[int, str] = field(default_factory=dict)
    """part number -> verified ETag."""
    checksums: Mapping[int, str] = field(default_factory=dict)
    """part number -> the flexible checksum the store lists for a done part (if any)."""
    journal: str | None = None
    """The journal that keeps the upload (for messages: how to resume it)."""


class JobHooks(Protocol):
    """Observer of one job's state transitions (see the module docstring for the order)."""

    async def on_planned(self, job: JobPlan) -> None: ...

    async def on_upload_created(self, upload_id: str) -> None: ...

    async def on_part_done(self, part_number: int, etag: str, size: int) -> None: ...

    async def on_completed(self, result: CopyResult) -> None: ...

    async def on_failed(self, error: BaseException, upload_id: str | None) -> None:
        """``upload_id`` is the upload left open (None when aborted or never created)."""
        ...


class NoHooks:
    """Hooks that observe nothing."""

    async def on_planned(self, job: JobPlan) -> None:
        return None

    async def on_upload_created(self, upload_id: str) -> None:
        return None

    async def on_part_done(self, part_number: int, etag: str, size: int) -> None:
        return None

    async def on_completed(self, result: CopyResult) -> None:
        return None

    async def on_failed(self, error: BaseException, upload_id: str | None) -> None:
        return None
