"""partcopy: verified multipart copy of large objects within and between object stores.

Names are imported on first use (PEP 562), so ``import partcopy`` (and the CLI's
``--help``, ``--version`` and ``plan``) does not load the engine or aiohttp.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from partcopy.version import __version__

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from partcopy.config import Credentials
    from partcopy.engine.copier import Copier, copy
    from partcopy.engine.events import (
        Aborting,
        Completed,
        ConcurrencyChanged,
        Event,
        Failed,
        PartCompleted,
        PartRetried,
        PartStarted,
        Planned,
    )
    from partcopy.engine.filters import KeyFilter
    from partcopy.engine.prefixcopy import PrefixOptions
    from partcopy.engine.relay import copy_or_relay
    from partcopy.engine.report import BulkSummary
    from partcopy.engine.result import CopyResult
    from partcopy.engine.retry import RetryPolicy
    from partcopy.errors import (
        CopyError,
        PartcopyError,
        PlanError,
        SourceChanged,
        TransportError,
        UsageError,
    )
    from partcopy.planners import CopyPlan, PartLimits, RangeTask, plan
    from partcopy.transports.base import ListedObject

_LAZY: dict[str, str] = {
    "Copier": "partcopy.engine.copier",
    "copy": "partcopy.engine.copier",
    "PrefixOptions": "partcopy.engine.prefixcopy",
    "KeyFilter": "partcopy.engine.filters",
    "BulkSummary": "partcopy.engine.report",
    "ListedObject": "partcopy.transports.base",
    "copy_or_relay": "partcopy.engine.relay",
    "CopyResult": "partcopy.engine.result",
    "RetryPolicy": "partcopy.engine.retry",
    "Credentials": "partcopy.config",
    "Event": "partcopy.engine.events",
    "Aborting": "partcopy.engine.events",
    "Planned": "partcopy.engine.events",
    "PartStarted": "partcopy.engine.events",
    "PartCompleted": "partcopy.engine.events",
    "PartRetried": "partcopy.engine.events",
    "Completed": "partcopy.engine.events",
    "Failed": "partcopy.engine.events",
    "ConcurrencyChanged": "partcopy.engine.events",
    "CopyError": "partcopy.errors",
    "PartcopyError": "partcopy.errors",
    "PlanError": "partcopy.errors",
    "SourceChanged": "partcopy.errors",
    "TransportError": "partcopy.errors",
    "UsageError": "partcopy.errors",
    "CopyPlan": "partcopy.planners",
    "PartLimits": "partcopy.planners",
    "RangeTask": "partcopy.planners",
    "plan": "partcopy.planners",
}

__all__ = [
    "Aborting",
    "BulkSummary",
    "Completed",
    "ConcurrencyChanged",
    "Copier",
    "CopyError",
    "CopyPlan",
    "CopyResult",
    "Credentials",
    "Event",
    "Failed",
    "KeyFilter",
    "ListedObject",
    "PartCompleted",
    "PartLimits",
    "PartRetried",
    "PartStarted",
    "PartcopyError",
    "PlanError",
    "Planned",
    "PrefixOptions",
    "RangeTask",
    "RetryPolicy",
    "SourceChanged",
    "TransportError",
    "UsageError",
    "__version__",
    "copy",
    "copy_or_relay",
    "plan",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'partcopy' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
