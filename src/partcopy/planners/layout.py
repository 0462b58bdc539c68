"""Planning a copy that keeps the source's part layout (``--preserve-layout``).

The destination's composite ETag ``md5(md5_1 ‖ … ‖ md5_n)-n`` equals the source's only when
the parts are the same byte ranges, so the plan is the source's part sizes as they are; the
only choice is whether the destination's limits can take them, and the answer says why not.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

from partcopy.errors import PlanError
from partcopy.planners.limits import PartLimits
from partcopy.planners.plan import CopyPlan
from partcopy.units import format_size

__all__ = ["plan_layout"]


def plan_layout(sizes: Sequence[int], limits: PartLimits, *, what: str = "source") -> CopyPlan:
    """A multipart plan whose parts are exactly ``sizes`` (in order), or ``PlanError``
    naming the first limit of ``limits`` that the layout breaks."""
    if not sizes:
        raise PlanError(f"cannot keep the {what}'s layout: it has no parts")
    if any(size < 0 for size in sizes):
        raise PlanError(f"cannot keep the {what}'s layout: a part size is negative")
    total = sum(sizes)
    name = limits.name
    why = None
    if len(sizes) > limits.max_parts:
        why = f"{len(sizes)} parts, the destination ({name}) takes at most {limits.max_parts}"
    elif total > limits.max_object:
        why = f"{format_size(total)} exceeds the destination's ({name}) maximum object size"
    else:
        for number, size in enumerate(sizes, 1):
            if size > limits.max_part:
                why = (
                    f"part {number} has {size} bytes, above the destination's ({name}) "
                    f"maximum part of {format_size(limits.max_part)}"
                )
                break
            if number < len(sizes) and size < limits.min_part:
                why = (
                    f"part {number} has {size} bytes, below the destination's ({name}) "
                    f"minimum part of {limits.min_part} bytes ({format_size(limits.min_part)})"
                )
                break
    if why is not None:
        raise PlanError(f"cannot keep the {what}'s part layout: {why}")
    starts = tuple(accumulate(sizes[:-1], initial=0))
    return CopyPlan(total, limits, max(sizes), "multipart", (), starts)
