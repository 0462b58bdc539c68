"""Whether partcopy's log events at a level are handled at all: asked once per job so that
per-object events below the level cost nothing (no bind, no contextvars)."""

from __future__ import annotations

import logging

from partcopy.logs import enabled

__all__ = ["INFO", "log_enabled"]

INFO = logging.INFO


def log_enabled(level: int, name: str = "partcopy.engine") -> bool:
    """True when stdlib logging would handle ``level`` on ``name`` (partcopy logs there)."""
    return enabled(level, name)
