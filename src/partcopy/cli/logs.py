"""Log output of the CLI: partcopy's events as key-value (or JSON) lines on stderr.

The library logs through stdlib ``logging`` under ``partcopy`` and prints nothing by
itself (``partcopy.logs``); a command attaches one handler there at its ``--log-level``.
``job_id`` and ``part_number`` reach every line through contextvars; secrets are redacted
in the library's own processors and again here, for records from elsewhere.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from partcopy.errors import UsageError
from partcopy.logs import ROOT, redact_secrets

__all__ = ["LEVELS", "configure_logging", "redact_secrets", "reset_logging"]

LEVELS = ("debug", "info", "warning", "error", "critical")


def _renderer(json_lines: bool) -> Any:
    """structlog's JSON or console renderer (structlog is imported here, when first used)."""
    import structlog

    if json_lines:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


class _CliHandler(logging.Handler):
    """Renders each record's event fields as one line on ``stream`` (stderr when None,
    looked up at each write so a replaced ``sys.stderr`` is followed). The renderer is
    made on the first record: a run that logs nothing never imports structlog."""

    def __init__(self, level: int, json_lines: bool, stream: TextIO | None) -> None:
        super().__init__(level)
        self.json_lines = json_lines
        self.renderer: Any = None
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = getattr(record, "event_dict", None)
            event: dict[str, Any] = (
                dict(fields) if isinstance(fields, dict) else {"event": record.getMessage()}
            )
            event["level"] = event.pop("log_level", None) or record.levelname.lower()
            event["timestamp"] = datetime.fromtimestamp(record.created, UTC).isoformat()
            if self.renderer is None:
                self.renderer = _renderer(self.json_lines)
            line = self.renderer(None, record.levelname.lower(), redact_secrets(None, "", event))
            (self.stream or sys.stderr).write(f"{line}\n")
        except Exception:  # a logging failure must not fail the copy
            self.handleError(record)


def configure_logging(
    level: str = "warning", *, json_lines: bool = False, stream: TextIO | None = None
) -> None:
    """Show partcopy's events at ``level`` or above on ``stream`` (stderr by default)."""
    if level.lower() not in LEVELS:
        raise UsageError(f"invalid log level {level!r}: expected one of {', '.join(LEVELS)}")
    number = logging.getLevelNamesMapping()[level.upper()]
    reset_logging()
    root = logging.getLogger(ROOT)
    root.addHandler(_CliHandler(number, json_lines, stream))
    root.setLevel(number)
    root.propagate = False  # the command's own lines only, not the root logger's too


def reset_logging() -> None:
    """Remove what ``configure_logging`` attached (the library is silent again)."""
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        if isinstance(handler, _CliHandler):
            root.removeHandler(handler)
    root.setLevel(logging.NOTSET)
    root.propagate = True
