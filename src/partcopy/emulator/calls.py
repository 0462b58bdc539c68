"""Dialect-neutral requests (``Call``) and results (``Outcome``): what a wire adapter
parses a request into and renders an answer from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from partcopy.store.data import Content
from partcopy.store.listing import Listed, ListQuery
from partcopy.store.memory import ObjectVersion, StoredPart, Upload
from partcopy.transports.base import ObjectAttributes

__all__ = [
    "ALL_BUCKETS",
    "Call",
    "ChecksumRequest",
    "Deleted",
    "ListQuery",
    "Listed",
    "Outcome",
    "SourceRef",
]


ALL_BUCKETS = 1 << 31
"""ListBuckets' page size where the request asks for no paging (``max_items``)."""


@dataclass(frozen=True, slots=True)
class ChecksumRequest:
    """A flexible checksum a request names: the algorithm, and the value it claims."""

    algorithm: str
    value: str | None = None
    full_object: bool = False
    """CreateMultipartUpload ``x-amz-checksum-type: FULL_OBJECT`` (else composite)."""


@dataclass(frozen=True, slots=True)
class Deleted:
    """What one key of a DeleteObjects request became."""

    key: str
    version_id: str | None = None
    delete_marker_version: str | None = None
    error: tuple[str, str] | None = None
    """(code, message) when this key could not be deleted."""


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A copy source as named on the wire, with its pinning conditions."""

    bucket: str
    key: str
    version_id: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None
    sse_c_md5: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One parsed request: the operation and every argument any operation needs."""

    op: str
    bucket: str | None = None
    key: str | None = None
    upload_id: str | None = None
    part_number: int | None = None
    version_id: str | None = None
    source: SourceRef | None = None
    copy_range: tuple[int, int] | None = None
    copy_range_header: str | None = None
    """An open copy range (``bytes=a-``, ``bytes=-n``) resolved against the source size."""
    get_range: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None
    attrs: ObjectAttributes | None = None
    replace_attrs: bool = True
    sse_c_md5: str | None = None
    content_md5: str | None = None
    body: bytes = field(default=b"", repr=False)
    parts: tuple[tuple[int, str], ...] = ()
    part_checksums: tuple[tuple[int, str], ...] = ()
    """Complete: the ``<ChecksumALGO>`` each listed part names."""
    marker: int | None = None
    max_items: int = 1000
    prefix: str = ""
    key_marker: str | None = None
    upload_id_marker: str | None = None
    versioning: bool | None = None
    listing: ListQuery | None = None
    deletes: tuple[tuple[str, str | None], ...] = ()
    quiet: bool = False
    tags: tuple[tuple[str, str], ...] | None = None
    copy_tags: bool = True
    """CopyObject: keep the source's tags (``x-amz-tagging-directive: COPY``)."""
    checksum: ChecksumRequest | None = None
    checksum_mode: bool = False
    overrides: tuple[tuple[str, str], ...] = ()
    """GET ``response-*`` parameters: headers the answer carries instead of the stored ones."""

    @property
    def identity(self) -> str:
        """Names the request across retries (for deterministic faults)."""
        return (
            f"{self.bucket}/{self.key}|{self.upload_id}|{self.part_number}"
            f"|{self.copy_range}|{self.get_range}|{self.version_id}"
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a successful call produced, for the adapter to render."""

    call: Call
    version: ObjectVersion | None = None
    part: StoredPart | None = None
    upload: Upload | None = None
    parts: tuple[StoredPart, ...] = ()
    uploads: tuple[Upload, ...] = ()
    truncated: bool = False
    next_marker: int | None = None
    total_parts: int = 0
    content: Content | None = None
    content_range: tuple[int, int, int] | None = None
    versioning: str = "Off"
    delete_marker: bool = False
    objects: tuple[ObjectVersion, ...] = ()
    listed: Listed | None = None
    deleted: tuple[Deleted, ...] = ()
    buckets: tuple[tuple[str, datetime], ...] = ()
    bucket_count: int = 0
    """ListBuckets: how many buckets the owner has in all (QingStor's ``count``)."""
    part_range: tuple[int, int] | None = None
    """A ``partNumber`` read: the (first, last) bytes of that part in the object."""
    checksums: tuple[tuple[str, str], ...] = ()
    """(algorithm, base64 value) pairs the answer carries."""
    location: str = ""
    owner: str = ""
    """ListBuckets: the access key whose buckets these are."""
    source_version: ObjectVersion | None = None
    """The copy source version a copy read (its version id is reported)."""
