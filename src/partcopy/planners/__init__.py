"""Pure planning, no I/O: object size and a provider row's limits in, byte-range tasks out.
Imported by the engine and the CLI; imports only ``providers``, ``errors`` and ``units``.
"""

from partcopy.planners.layout import plan_layout
from partcopy.planners.limits import PROFILES, PartLimits, get_profile
from partcopy.planners.plan import DEFAULT_PART_SIZE, Adjustment, CopyPlan, RangeTask, plan

__all__ = [
    "DEFAULT_PART_SIZE",
    "PROFILES",
    "Adjustment",
    "CopyPlan",
    "PartLimits",
    "RangeTask",
    "get_profile",
    "plan",
    "plan_layout",
]
