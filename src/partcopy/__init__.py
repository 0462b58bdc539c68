"""partcopy: verified multipart copy of large objects within and between object stores."""

from partcopy.engine.copier import Copier, copy
from partcopy.engine.prefixcopy import PrefixOptions  # also registers the prefix runner
from partcopy.engine.relay import copy_or_relay  # also registers the relay part mode
from partcopy.engine.result import CopyResult
from partcopy.errors import (
    CopyError,
    PartcopyError,
    PlanError,
    SourceChanged,
    TransportError,
    UsageError,
)
from partcopy.planners import CopyPlan, PartLimits, RangeTask, plan
from partcopy.version import __version__

__all__ = [
    "Copier",
    "CopyError",
    "CopyPlan",
    "CopyResult",
    "PartLimits",
    "PartcopyError",
    "PlanError",
    "PrefixOptions",
    "RangeTask",
    "SourceChanged",
    "TransportError",
    "UsageError",
    "__version__",
    "copy",
    "copy_or_relay",
    "plan",
]
