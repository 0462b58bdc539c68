"""What a ``MemoryStore`` counts, as frozen snapshots tests and the admin endpoint read."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["READ_OPS", "CompleteRecord", "CompletedPart", "Counters", "StoreStats"]

READ_OPS = frozenset(
    {"get", "head", "head_bucket", "get_versioning", "list_objects", "list_uploads", "list_parts"}
)
"""Operations that never change the store (what a dry run may send)."""


@dataclass(frozen=True, slots=True)
class CompletedPart:
    """One (part number, ETag) a Complete listed, and whether the store issued it."""

    part_number: int
    etag: str
    issued: bool


@dataclass(frozen=True, slots=True)
class CompleteRecord:
    """The part list of one Complete request, as the store received it."""

    bucket: str
    key: str
    upload_id: str
    parts: tuple[CompletedPart, ...]
    ok: bool

    @property
    def all_issued(self) -> bool:
        return all(p.issued for p in self.parts)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """A snapshot of the store's counters (see ``MemoryStore.stats``)."""

    parts_copied: int
    parts_uploaded: int
    bytes_copied: int
    bytes_uploaded: int
    in_flight: int
    peak_in_flight: int
    open_uploads: int
    completes: tuple[CompleteRecord, ...]
    faults: dict[str, int]
    requests: int
    ops: dict[str, int] = field(default_factory=dict)
    """Requests parsed, by operation (``copy_object``, ``upload_part_copy``, ``list_objects``)."""

    def writes(self) -> int:
        """Requests that could change the store (anything but reads and listings)."""
        return sum(n for op, n in self.ops.items() if op not in READ_OPS)

    @property
    def every_complete_issued(self) -> bool:
        """True when every Complete listed only ETags this store issued."""
        return all(record.all_issued for record in self.completes)

    def as_dict(self) -> dict[str, object]:
        return {
            "parts_copied": self.parts_copied,
            "parts_uploaded": self.parts_uploaded,
            "bytes_copied": self.bytes_copied,
            "bytes_uploaded": self.bytes_uploaded,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "open_uploads": self.open_uploads,
            "faults": dict(self.faults),
            "requests": self.requests,
            "ops": dict(sorted(self.ops.items())),
            "every_complete_issued": self.every_complete_issued,
            "completes": [
                {
                    "bucket": r.bucket,
                    "key": r.key,
                    "upload_id": r.upload_id,
                    "ok": r.ok,
                    "parts": [[p.part_number, p.etag, p.issued] for p in r.parts],
                }
                for r in self.completes
            ],
        }


@dataclass
class Counters:
    """The live, mutable counters behind ``StoreStats``."""

    parts_copied: int = 0
    parts_uploaded: int = 0
    bytes_copied: int = 0
    bytes_uploaded: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    requests: int = 0
    completes: list[CompleteRecord] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)
