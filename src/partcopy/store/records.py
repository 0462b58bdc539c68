"""The records a ``MemoryStore`` keeps and the error it raises: versions, parts, uploads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from partcopy.planners import PartLimits
from partcopy.store.data import Content
from partcopy.transports.base import ObjectAttributes

__all__ = [
    "DELETE_MARKER_VERSION",
    "ObjectVersion",
    "StoreError",
    "StoredChecksum",
    "StoredPart",
    "Upload",
    "bare_etag",
    "etag_of",
    "now",
    "quote_etag",
]

DELETE_MARKER_VERSION = "delete-marker-version"
"""``StoreError.detail`` when a request names a delete marker by its version id."""


class StoreError(Exception):
    """A request the store refuses, with S3's HTTP status and error code."""

    def __init__(
        self, status: int, code: str, message: str, *, resource: str = "", detail: str = ""
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.resource = resource
        self.detail = detail
        """A machine-readable refinement for dialects that answer differently."""


def quote_etag(etag: str) -> str:
    """An ETag as it appears on the wire: in double quotes."""
    return f'"{etag.strip(chr(34))}"'


def bare_etag(etag: str) -> str:
    """An ETag without its quotes."""
    return etag.strip().strip('"')


def etag_of(content: Content, sse: str | None = None) -> str:
    """The ETag of a single-part object or a part: its content MD5 in hex, except under
    SSE-KMS (``sse`` other than ``AES256``), where S3 documents that the ETag is not the
    MD5 of the data: a digest of it then, distinct and stable, never the MD5 itself."""
    digest = content.md5()
    if sse in (None, "", "AES256"):
        return digest.hex()
    return hashlib.md5(b"sse-kms:" + digest).hexdigest()


def now() -> datetime:
    """The time stamps the store records: UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class StoredChecksum:
    """An object's or a part's flexible checksum: algorithm, base64 value, type."""

    algorithm: str
    value: str
    full_object: bool = True
    """False for a composite (the checksum of the parts' checksums, ``-N`` suffix)."""


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One version of one key (or a delete marker when ``content`` is None)."""

    key: str
    version_id: str
    content: Content | None
    etag: str
    last_modified: datetime
    attrs: ObjectAttributes = field(default_factory=ObjectAttributes)
    sse_c_md5: str | None = None
    parts_count: int | None = None
    owner: str = ""
    """The access key that wrote this version."""
    checksum: StoredChecksum | None = None
    part_sizes: tuple[int, ...] = ()
    """Sizes of the parts a multipart object was completed from (for ``partNumber`` reads)."""
    part_checksums: tuple[str, ...] = ()
    """The parts' checksums (base64, in ``checksum``'s algorithm) when it is composite."""

    @property
    def is_delete_marker(self) -> bool:
        return self.content is None

    @property
    def size(self) -> int:
        return 0 if self.content is None else self.content.size


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A part of an open upload."""

    number: int
    etag: str
    content: Content
    last_modified: datetime
    checksum: str | None = None
    """Base64 checksum in the upload's algorithm, when the upload has one."""

    @property
    def size(self) -> int:
        return self.content.size


@dataclass
class Upload:
    """An open multipart upload."""

    bucket: str
    key: str
    upload_id: str
    initiated: datetime
    attrs: ObjectAttributes
    limits: PartLimits
    sse_c_md5: str | None = None
    checksum_algorithm: str | None = None
    checksum_full_object: bool = False
    owner: str = ""
    parts: dict[int, StoredPart] = field(default_factory=dict)
    issued: dict[int, set[str]] = field(default_factory=dict)
