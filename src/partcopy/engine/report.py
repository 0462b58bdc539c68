"""Bulk reports: one JSON line per object, and a summary kept in O(1) memory.

A report line says what happened to one manifest line (``ok``, ``failed``, ``skipped``
because a journal proved it done, or ``invalid`` for a malformed line); a sync adds
``deleted`` destination keys, and a dry run ``would_copy``/``would_delete`` lines. The summary is
counted as lines are written, so a run of millions of objects never holds them all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any, Literal

from partcopy.errors import ConfigError

__all__ = [
    "BulkSummary",
    "ErrorInfo",
    "ObjectOutcome",
    "ReportWriter",
    "Status",
    "open_report",
    "read_report",
]

Status = Literal["ok", "failed", "skipped", "invalid", "deleted", "would_copy", "would_delete"]
STATUSES: tuple[Status, ...] = (
    "ok",
    "failed",
    "skipped",
    "invalid",
    "deleted",
    "would_copy",
    "would_delete",
)
_OBJECT_STATUSES: tuple[Status, ...] = ("ok", "failed", "skipped", "invalid")
"""What ``objects`` counts: outcomes of objects to copy (not deletions, not dry runs)."""


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error as JSON shows it: its type name and message (never a secret)."""

    type: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        return cls(type(exc).__name__, str(exc))


@dataclass(frozen=True, slots=True)
class ObjectOutcome:
    """What happened to one manifest line."""

    line: int
    src: str | None
    dst: str | None
    status: Status
    bytes: int = 0
    parts: int = 0
    etag: str | None = None
    retries: int = 0
    mode: str | None = None
    error: ErrorInfo | None = None
    source_etag: str | None = field(default=None, compare=False)
    """The source ETag a copy was pinned to: kept in the ledger, not a report field."""

    def as_dict(self) -> dict[str, object]:
        """The report line's JSON object."""
        return {
            "line": self.line,
            "src": self.src,
            "dst": self.dst,
            "status": self.status,
            "bytes": self.bytes,
            "parts": self.parts,
            "etag": self.etag,
            "retries": self.retries,
            "mode": self.mode,
            "error": None
            if self.error is None
            else {"type": self.error.type, "message": self.error.message},
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ObjectOutcome:
        """Read a report line back (used to merge shard reports and by tests)."""
        err = doc.get("error")
        status = doc["status"]
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        return cls(
            line=int(doc["line"]),
            src=doc.get("src"),
            dst=doc.get("dst"),
            status=status,
            bytes=int(doc.get("bytes") or 0),
            parts=int(doc.get("parts") or 0),
            etag=doc.get("etag"),
            retries=int(doc.get("retries") or 0),
            mode=doc.get("mode"),
            error=None if err is None else ErrorInfo(str(err["type"]), str(err["message"])),
        )


@dataclass(frozen=True, slots=True)
class BulkSummary:
    """Totals of a bulk run. ``bytes`` counts bytes of objects copied in this run."""

    objects: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    invalid: int = 0
    bytes: int = 0
    retries: int = 0
    seconds: float = 0.0
    modes: Mapping[str, int] = field(default_factory=dict)
    listed: int = 0
    """Source objects a prefix copy or sync listed and selected (0 for a manifest)."""
    skipped_same: int = 0
    """Objects a sync left alone because the destination already had them."""
    deleted: int = 0
    """Destination objects a sync with ``delete`` removed."""
    would_copy: int = 0
    would_delete: int = 0
    """What a dry run would have copied and deleted."""

    @property
    def objects_per_second(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else 0.0

    @property
    def succeeded(self) -> bool:
        """True when nothing failed and no line was malformed."""
        return self.failed == 0 and self.invalid == 0

    def merged(self, other: BulkSummary) -> BulkSummary:
        """The totals of two shards run side by side (seconds: the longer of the two)."""
        modes = dict(self.modes)
        for mode, n in other.modes.items():
            modes[mode] = modes.get(mode, 0) + n
        return BulkSummary(
            objects=self.objects + other.objects,
            ok=self.ok + other.ok,
            failed=self.failed + other.failed,
            skipped=self.skipped + other.skipped,
            invalid=self.invalid + other.invalid,
            bytes=self.bytes + other.bytes,
            retries=self.retries + other.retries,
            seconds=max(self.seconds, other.seconds),
            modes=modes,
            listed=self.listed + other.listed,
            skipped_same=self.skipped_same + other.skipped_same,
            deleted=self.deleted + other.deleted,
            would_copy=self.would_copy + other.would_copy,
            would_delete=self.would_delete + other.would_delete,
        )

    def with_seconds(self, seconds: float) -> BulkSummary:
        return replace(self, seconds=seconds, modes=dict(self.modes))

    def as_dict(self) -> dict[str, object]:
        """The summary's JSON object (``partcopy bulk --json``)."""
        return {
            "status": "completed" if self.succeeded else "failed",
            "objects": self.objects,
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "invalid": self.invalid,
            "bytes": self.bytes,
            "retries": self.retries,
            "modes": dict(sorted(self.modes.items())),
            "seconds": round(self.seconds, 3),
            "objects_per_second": round(self.objects_per_second, 1),
            "listed": self.listed,
            "skipped_same": self.skipped_same,
            "deleted": self.deleted,
            "would_copy": self.would_copy,
            "would_delete": self.would_delete,
            "error": None,  # a run that stopped says why here (as cp --json does)
        }


class ReportWriter:
    """Counts outcomes into a summary and, given a file, writes one JSON line each.

    Lines are flushed as written so a reader (or a crash) sees every finished object.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._counts = dict.fromkeys(STATUSES, 0)
        self._bytes = 0
        self._retries = 0
        self._modes: dict[str, int] = {}
        self.listed = 0
        """Counted by a prefix copy or sync as it lists (no report line)."""
        self.skipped_same = 0
        """Counted by a sync for objects already at the destination (no report line)."""

    def write(self, outcome: ObjectOutcome) -> None:
        self._counts[outcome.status] += 1
        self._retries += outcome.retries
        if outcome.status == "ok":
            self._bytes += outcome.bytes
            if outcome.mode is not None:
                self._modes[outcome.mode] = self._modes.get(outcome.mode, 0) + 1
        if self._stream is not None:
            self._stream.write(json.dumps(outcome.as_dict()) + "\n")
            self._stream.flush()

    def summary(self, seconds: float) -> BulkSummary:
        c = self._counts
        return BulkSummary(
            objects=sum(c[status] for status in _OBJECT_STATUSES),
            ok=c["ok"],
            failed=c["failed"],
            skipped=c["skipped"],
            invalid=c["invalid"],
            bytes=self._bytes,
            retries=self._retries,
            seconds=seconds,
            modes=dict(self._modes),
            listed=self.listed,
            skipped_same=self.skipped_same,
            deleted=c["deleted"],
            would_copy=c["would_copy"],
            would_delete=c["would_delete"],
        )


def open_report(path: str | os.PathLike[str]) -> IO[str]:
    """Open a report file for writing; ``ConfigError`` naming it if that fails."""
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write report {os.fspath(path)!r}: {exc.strerror}") from None


def read_report(lines: Iterable[str]) -> Iterable[ObjectOutcome]:
    """Parse report lines back into outcomes, one at a time."""
    for text in lines:
        if text.strip():
            yield ObjectOutcome.from_dict(json.loads(text))
