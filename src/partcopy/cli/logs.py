"""structlog setup for the CLI: key-value (or JSON) lines on stderr at a chosen level.

``job_id`` and ``part_number`` reach every line through contextvars. A last-line
processor redacts any field whose name suggests a secret, so a careless call cannot leak
one. Libraries embedding partcopy keep their own structlog configuration.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from partcopy.errors import UsageError

__all__ = ["LEVELS", "configure_logging", "redact_secrets"]

LEVELS = ("debug", "info", "warning", "error", "critical")
_SECRET_NAME = re.compile(r"secret|password|passwd|token|authorization|signature|sse_c|credential")


def redact_secrets(
    logger: object, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of every field whose name looks like a secret."""
    for name in list(event):
        if _SECRET_NAME.search(name.lower()):
            event[name] = "<redacted>"
    return event


def configure_logging(
    level: str = "warning", *, json_lines: bool = False, stream: TextIO | None = None
) -> None:
    """Send structlog events at ``level`` or above to ``stream`` (stderr by default)."""
    if level.lower() not in LEVELS:
        raise UsageError(f"invalid log level {level!r}: expected one of {', '.join(LEVELS)}")
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
