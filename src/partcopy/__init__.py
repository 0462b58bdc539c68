"""partcopy: verified multipart copy of large objects within and between object stores."""

from partcopy.errors import (
    CopyError,
    PartcopyError,
    PlanError,
    SourceChanged,
    TransportError,
    UsageError,
)
from partcopy.planners import CopyPlan, PartLimits, RangeTask, plan

__version__ = "0.1.0"

__all__ = [
    "CopyError",
    "CopyPlan",
    "PartLimits",
    "PartcopyError",
    "PlanError",
    "RangeTask",
    "SourceChanged",
    "TransportError",
    "UsageError",
    "__version__",
    "plan",
]
