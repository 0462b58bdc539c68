"""Whether structlog, as configured right now, shows events at a level: asked once per job
so that per-object events below the level cost nothing (no bind, no contextvars)."""

from __future__ import annotations

import logging

import structlog

__all__ = ["INFO", "log_enabled"]

INFO = logging.INFO


def log_enabled(level: int) -> bool:
    """True when the configured wrapper lets ``level`` through, or cannot say.

    Filtering loggers (``make_filtering_bound_logger``, structlog's default) answer from
    their class alone; any other wrapper (stdlib, custom) counts as enabled.
    """
    wrapper = structlog.get_config()["wrapper_class"]
    effective = getattr(wrapper, "get_effective_level", None)
    if effective is None:
        return True
    try:
        return bool(level >= effective(None))
    except (TypeError, AttributeError):  # a wrapper whose method needs a real instance
        return True
