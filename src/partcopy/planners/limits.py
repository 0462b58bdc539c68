"""Part-size limits per destination profile: data, not code (one row a profile)."""

from __future__ import annotations

from dataclasses import dataclass

from partcopy.errors import UsageError
from partcopy.units import GiB, KiB, MiB

__all__ = ["PROFILES", "PartLimits", "get_profile"]


@dataclass(frozen=True, slots=True)
class PartLimits:
    """What a store accepts for one multipart upload.

    ``min_part`` binds every part but the last; ``single_max`` is the largest object that
    one CopyObject may copy.
    """

    name: str
    min_part: int
    max_part: int = 5 * GiB
    max_parts: int = 10_000
    first_part_number: int = 1
    max_object: int = 5 * GiB * 10_000
    single_max: int = 5 * GiB

    @property
    def last_part_number(self) -> int:
        return self.first_part_number + self.max_parts - 1


PROFILES: dict[str, PartLimits] = {
    "s3": PartLimits("s3", min_part=5 * MiB),
    "obs": PartLimits("obs", min_part=100 * KiB),
    "obs2": PartLimits("obs2", min_part=5 * MiB),
    "cos": PartLimits("cos", min_part=1 * MiB),
    # QingStor numbers parts from 0 ("part_number >= 0", at most 10000 parts) and documents
    # about 50 TB as its largest object.
    "qingstor": PartLimits(
        "qingstor", min_part=4 * MiB, first_part_number=0, max_object=50 * 1000**4
    ),
}


def get_profile(name: str) -> PartLimits:
    """The limits of a named profile; ``UsageError`` naming it when unknown."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise UsageError(f"unknown profile {name!r}: expected one of {known}") from None
