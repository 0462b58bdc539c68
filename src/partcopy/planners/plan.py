"""The part planner: object size + destination limits -> contiguous byte-range tasks.

Pure functions, no I/O. Invariants every plan keeps (property-tested):

* tasks are contiguous and cover ``[0, size)`` exactly once, in order;
* numbering starts at the profile's first part number and has no gaps;
* every part but the last is within ``[min_part, max_part]``; the last is ``<= max_part``;
* at most ``max_parts`` parts; a size above ``max_object`` is a ``PlanError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from partcopy.errors import PlanError, UsageError
from partcopy.planners.limits import PartLimits
from partcopy.units import MiB, format_size

__all__ = ["DEFAULT_PART_SIZE", "Adjustment", "CopyPlan", "RangeTask", "plan"]

DEFAULT_PART_SIZE = 64 * MiB
"""Used when no part size is asked for: large enough that per-request overhead is small
next to the bytes a part moves, small enough that a few GiB still spread over many workers."""

Mode = Literal["single", "multipart"]


@dataclass(frozen=True, slots=True)
class RangeTask:
    """One part: copy bytes ``first..last`` (inclusive, 0-based) as part ``part_number``."""

    part_number: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def range_header(self) -> str:
        return f"bytes={self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A change the planner made to what was asked, and why."""

    requested: int | None
    chosen: int
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"requested": self.requested, "chosen": self.chosen, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CopyPlan:
    """A whole plan. Tasks are computed on demand, so a plan costs O(1) memory."""

    size: int
    limits: PartLimits
    part_size: int
    mode: Mode
    adjustments: tuple[Adjustment, ...] = field(default=())
    starts: tuple[int, ...] = field(default=())
    """An explicit layout: the first byte of each part (``layout.plan_layout``); empty for
    the usual equal parts of ``part_size``."""

    @property
    def part_count(self) -> int:
        if self.starts:
            return len(self.starts)
        if self.size == 0:
            # A multipart plan of an empty object (relay has no single copy) is one empty
            # part: every dialect accepts a last part of 0 bytes.
            return 0 if self.mode == "single" else 1
        if self.mode == "single":
            return 1
        return -(-self.size // self.part_size)

    @property
    def first_part_number(self) -> int:
        return self.limits.first_part_number

    @property
    def part_numbers(self) -> range:
        first = self.limits.first_part_number
        return range(first, first + self.part_count)

    def task(self, part_number: int) -> RangeTask:
        """The task for one part number of this plan."""
        index = part_number - self.limits.first_part_number
        if not 0 <= index < self.part_count:
            raise IndexError(f"part {part_number} is not in this plan")
        if self.starts:
            end = self.starts[index + 1] if index + 1 < len(self.starts) else self.size
            return RangeTask(part_number, self.starts[index], end - 1)
        first = index * self.part_size
        last = min(first + self.part_size, self.size) - 1
        return RangeTask(part_number, first, last)

    def tasks(self) -> Iterator[RangeTask]:
        """Every task, in order."""
        for number in self.part_numbers:
            yield self.task(number)

    def as_dict(self) -> dict[str, object]:
        """The ``partcopy plan --json`` object."""
        return {
            "profile": self.limits.name,
            "size": self.size,
            "mode": self.mode,
            "part_size": self.part_size,
            "part_count": self.part_count,
            "first_part_number": self.limits.first_part_number,
            "parts": [[t.part_number, t.first, t.last] for t in self.tasks()],
            "adjustments": [a.as_dict() for a in self.adjustments],
        }


def _smallest_fitting(size: int, limits: PartLimits) -> int:
    """The smallest part size that covers ``size`` in at most ``max_parts`` parts."""
    return max(limits.min_part, -(-size // limits.max_parts))


def _fill_waves(size: int, part: int, limits: PartLimits, concurrency: int) -> int | None:
    """A part size near ``part`` whose part count is a multiple of ``concurrency``.

    Rounds the count up to whole waves first (smaller parts), then down (larger parts),
    keeping every limit; None when neither works.
    """
    count = -(-size // part)
    waves_up = -(-count // concurrency) * concurrency
    candidates = [waves_up]
    if count > concurrency:
        candidates.append((count // concurrency) * concurrency)
    for target in candidates:
        if target > limits.max_parts:
            continue
        candidate = -(-size // target)
        if candidate < limits.min_part or candidate > limits.max_part:
            continue
        if -(-size // candidate) % concurrency == 0:
            return candidate
    return None


def plan(
    size: int,
    limits: PartLimits,
    part_size: int | None = None,
    concurrency: int | None = None,
    *,
    single_threshold: int | None = None,
    range_floor: int = 0,
) -> CopyPlan:
    """Plan the copy of an object of ``size`` bytes under ``limits``.

    ``part_size`` is a preference: it is clamped to the limits and grown until the plan
    fits ``max_parts`` (to the smallest size that does), and each change is listed in
    ``adjustments``. With no part size, ``DEFAULT_PART_SIZE`` is used and, when
    ``concurrency`` is known, tuned so the part count fills the last wave of workers.
    Objects of 0 bytes, and objects no larger than ``single_threshold`` (default: one
    part's worth, before the parts are shrunk to fill waves of workers), are copied by one
    CopyObject (``mode="single"``). A store whose ranged UploadPartCopy needs a source
    larger than ``range_floor`` (a provider row's ``range_copy_floor``; 0 for a relay,
    whose parts are UploadParts) copies an object no larger in one request too.
    """
    if isinstance(size, bool) or size < 0:
        raise UsageError(f"invalid size {size!r}: must not be negative")
    if part_size is not None and part_size <= 0:
        raise UsageError(f"invalid part size {part_size!r}: must be positive")
    if concurrency is not None and concurrency <= 0:
        raise UsageError(f"invalid concurrency {concurrency!r}: must be at least 1")
    if single_threshold is not None and not 0 <= single_threshold <= limits.single_max:
        raise UsageError(
            f"invalid single-copy threshold {single_threshold!r}: must be between 0 and "
            f"{limits.single_max} (the largest single copy)"
        )
    if size > limits.max_object:
        raise PlanError(
            f"object of {size} bytes ({format_size(size)}) is too large for profile "
            f"{limits.name!r}: the maximum is {limits.max_object} bytes "
            f"({format_size(limits.max_object)})"
        )

    adjustments: list[Adjustment] = []
    if part_size is None:
        chosen = max(DEFAULT_PART_SIZE, _smallest_fitting(size, limits))
        chosen = min(chosen, limits.max_part)
        if chosen > DEFAULT_PART_SIZE:
            rounded = -(-chosen // MiB) * MiB
            chosen = rounded if rounded <= limits.max_part else chosen
            adjustments.append(
                Adjustment(
                    None,
                    chosen,
                    f"default {format_size(DEFAULT_PART_SIZE)} grown to fit "
                    f"{limits.max_parts} parts",
                )
            )
        one_part = chosen  # an object this small is one request, whatever the workers
        if concurrency is not None and size > min(one_part, limits.single_max):
            filled = _fill_waves(size, chosen, limits, concurrency)
            if filled is not None and filled != chosen:
                adjustments.append(
                    Adjustment(
                        None,
                        filled,
                        f"part count made a multiple of concurrency {concurrency} "
                        "so the last wave of workers is full",
                    )
                )
                chosen = filled
    else:
        chosen = part_size
        if chosen < limits.min_part:
            adjustments.append(
                Adjustment(
                    part_size,
                    limits.min_part,
                    f"raised to the profile minimum of {format_size(limits.min_part)}",
                )
            )
            chosen = limits.min_part
        elif chosen > limits.max_part:
            adjustments.append(
                Adjustment(
                    part_size,
                    limits.max_part,
                    f"lowered to the profile maximum of {format_size(limits.max_part)}",
                )
            )
            chosen = limits.max_part
        fitting = _smallest_fitting(size, limits)
        if chosen < fitting:
            adjustments.append(
                Adjustment(
                    part_size,
                    fitting,
                    f"grown so {format_size(size)} fits in {limits.max_parts} parts",
                )
            )
            chosen = fitting

    threshold = chosen if single_threshold is None else single_threshold
    if part_size is None and single_threshold is None:
        threshold = one_part  # not the wave-filled size: 16 MiB on OBS is not 64 parts
    if size <= range_floor:  # its ranged part copies would be refused
        threshold = max(threshold, size)
    threshold = min(threshold, limits.single_max)
    if size == 0 or size <= threshold:
        return CopyPlan(size, limits, max(size, 0), "single", tuple(adjustments))
    return CopyPlan(size, limits, chosen, "multipart", tuple(adjustments))
