"""What a finished copy reports (``CopyResult``) and the ``cp --json`` object for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from partcopy.engine.adaptive import ConcurrencySummary
from partcopy.engine.content import ContentCheck
from partcopy.engine.verify import Verification
from partcopy.errors import CopyError

__all__ = ["CopyResult", "error_dict", "failure_dict"]


@dataclass(frozen=True, slots=True)
class CopyResult:
    """A completed, verified copy."""

    source: str
    destination: str
    etag: str | None
    parts: int
    bytes: int
    part_size: int
    mode: str
    """``single`` (one CopyObject), ``copy`` (UploadPartCopy) or ``relay``."""
    retries: int
    seconds: float
    retries_by_reason: Mapping[str, int] = field(default_factory=dict)
    hedges: int = 0
    """Straggling part requests re-issued (see ``engine.hedge``)."""
    upload_id: str | None = None
    version_id: str | None = None
    job_id: str = ""
    concurrency: ConcurrencySummary | None = None
    """The destination endpoint's adaptive concurrency at the end (shared by its jobs)."""
    verification: Verification = Verification.SIZE_ONLY
    """What proved the copy (the weakest unless the job says otherwise)."""
    checksum: str | None = None
    """The checksum the destination recorded (``crc64nvme:<base64>``; a composite ends in
    ``-N``); it proved the copy where ``verification`` is ``checksum``."""
    content_check: ContentCheck | None = None
    """What ``--verify-content`` read back and compared (all of it matched)."""
    source_etag: str | None = None
    """The source's ETag the copy was pinned to (equal to ``etag`` when the layout was
    kept and ETags are MD5s)."""

    def as_dict(self) -> dict[str, object]:
        """The contract's ``cp --json`` object for a completed copy."""
        return {
            "status": "completed",
            "source": self.source,
            "destination": self.destination,
            "mode": self.mode,
            "bytes": self.bytes,
            "parts": self.parts,
            "part_size": self.part_size,
            "etag": self.etag,
            "retries": self.retries,
            "seconds": round(self.seconds, 6),
            "error": None,
            "verification": str(self.verification),
            "checksum": self.checksum,
            "content_check": None if self.content_check is None else self.content_check.as_dict(),
            **({} if self.concurrency is None else {"concurrency": self.concurrency.as_dict()}),
        }


def error_dict(exc: BaseException, upload_id: str | None = None) -> dict[str, object]:
    """``{"type", "message", "upload_id"}``: ``upload_id`` names an upload left open
    (the error's own, else the one given: an interrupt carries none)."""
    if isinstance(exc, CopyError):
        upload_id = exc.upload_id
    return {"type": type(exc).__name__, "message": str(exc), "upload_id": upload_id}


def failure_dict(
    exc: BaseException,
    *,
    source: str,
    destination: str,
    mode: str | None = None,
    size: int | None = None,
    parts: int | None = None,
    part_size: int | None = None,
    retries: int = 0,
    seconds: float = 0.0,
    concurrency: ConcurrencySummary | None = None,
    upload_id: str | None = None,
) -> dict[str, object]:
    """The contract's ``cp --json`` object for a failed copy (``upload_id``: see
    :func:`error_dict`)."""
    return {
        "status": "failed",
        "source": source,
        "destination": destination,
        "mode": mode,
        "bytes": size,
        "parts": parts,
        "part_size": part_size,
        "etag": None,
        "retries": retries,
        "seconds": round(seconds, 6),
        "error": error_dict(exc, upload_id),
        "verification": None,
        **({} if concurrency is None else {"concurrency": concurrency.as_dict()}),
    }
