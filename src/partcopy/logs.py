"""partcopy's log events: structlog events delivered through stdlib ``logging``, silent
unless the application configures logging.

Library modules log with ``get_logger(name)``: structlog loggers with their own processors
(level filter, context variables, level name, secret redaction) that hand each event to
the stdlib logger ``name`` (under ``partcopy``, which has only a ``NullHandler``). The
event's fields travel as ``record.event_dict``; the message is ``event key=value ...``.
structlog's global configuration is never read or changed, so an application's own
structlog setup is untouched and redaction runs on every path. The CLI attaches its own
handler (``partcopy.cli.logs``).

structlog itself (with what it imports: rich, pygments; ~40 ms) is imported on the first
event that passes its logger's level, not at import: a run that shows nothing never
loads it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

__all__ = ["ROOT", "LazyLogger", "capture_events", "enabled", "get_logger", "redact_secrets"]

ROOT = "partcopy"
logging.getLogger(ROOT).addHandler(logging.NullHandler())

_SECRET_NAME = re.compile(r"secret|password|passwd|token|authorization|signature|sse_c|credential")


def redact_secrets(
    logger: object, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of every field whose name looks like a secret."""
    for name in list(event):
        if _SECRET_NAME.search(name.lower()):
            event[name] = "<redacted>"
    return event


def _add_log_level(
    logger: object, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """``log_level``: the method's level name (the key ``capture_logs`` uses too)."""
    event["log_level"] = {"warn": "warning", "exception": "error"}.get(method, method)
    return event


def _to_stdlib(
    logger: object, method: str, event: MutableMapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The stdlib call: a readable message, and the fields whole as ``event_dict``."""
    fields = " ".join(f"{k}={v!r}" for k, v in event.items() if k not in ("event", "log_level"))
    text = f"{event.get('event', '')} {fields}".rstrip()
    return (text,), {"extra": {"event_dict": dict(event)}}


def _structlog_logger(logger: logging.Logger) -> Any:
    """The structlog ``BoundLogger`` behind a ``LazyLogger`` (imports structlog)."""
    import structlog

    return structlog.wrap_logger(
        logger,
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            _add_log_level,
            redact_secrets,
            _to_stdlib,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
    )


class LazyLogger:
    """A structlog logger built on first use: an event below the stdlib level returns
    after one ``isEnabledFor`` and costs no import, no dict, no rendering."""

    __slots__ = ("_bound", "_std")

    def __init__(self, name: str) -> None:
        self._std = logging.getLogger(name)
        self._bound: Any = None

    def _real(self) -> Any:
        if self._bound is None:
            self._bound = _structlog_logger(self._std)
        return self._bound

    def _log(self, level: int, method: str, event: str, kw: dict[str, Any]) -> None:
        if self._std.isEnabledFor(level):
            getattr(self._real(), method)(event, **kw)

    def debug(self, event: str, **kw: Any) -> None:
        self._log(logging.DEBUG, "debug", event, kw)

    def info(self, event: str, **kw: Any) -> None:
        self._log(logging.INFO, "info", event, kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._log(logging.WARNING, "warning", event, kw)

    def error(self, event: str, **kw: Any) -> None:
        self._log(logging.ERROR, "error", event, kw)

    def exception(self, event: str, **kw: Any) -> None:
        self._log(logging.ERROR, "exception", event, kw)

    def bind(self, **kw: Any) -> Any:
        """A structlog logger with ``kw`` bound (binding means it will be used)."""
        return self._real().bind(**kw)


def get_logger(name: str) -> LazyLogger:
    """A logger for ``name`` (``partcopy.…``) that logs through stdlib logging."""
    return LazyLogger(name)


def enabled(level: int, name: str = ROOT) -> bool:
    """Whether an event at ``level`` on logger ``name`` would be handled at all."""
    return logging.getLogger(name).isEnabledFor(level)


class _Collector(logging.Handler):
    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "event_dict", None)
        if isinstance(fields, dict):
            self.events.append(dict(fields))


@contextmanager
def capture_events(level: int = logging.DEBUG) -> Iterator[list[dict[str, Any]]]:
    """Collect the fields of every partcopy event at ``level`` or above while the block
    runs (like ``structlog.testing.capture_logs``, for tests and embedding code)."""
    events: list[dict[str, Any]] = []
    root = logging.getLogger(ROOT)
    handler = _Collector(events)
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield events
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
