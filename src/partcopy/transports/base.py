"""The transport seam: one narrow async protocol over frozen dataclasses.

A transport speaks one wire dialect. It never retries and never decides success beyond
parsing faithfully: it reports what the service said (status, ETag or its absence, error
code). Errors are mapped once, at the boundary, onto :mod:`partcopy.errors`:

* a non-2xx answer raises the ``ServiceError`` subclass the store's provider row maps it
  to (``ObjectNotFound``, ``UploadNotFound``, ``AccessDenied``, ``Throttled``,
  ``PreconditionFailed``, ``CopyRefused``...), its ``retryable`` decided there;
* a connection failure raises ``ConnectError``; no answer in time ``ResponseTimeout``;
* an unparseable body raises ``ProtocolError``;
* a 2xx answer to a part copy, complete, single copy or put is *returned*, with ``etag=None``
  and the body's error code when it proves nothing (empty, truncated, ``<Error>``, no
  ETag) and ``error_kind``, the row's reading of that code. Policy about such answers
  belongs to the engine's verifier.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from partcopy.checksums import ObjectChecksum
from partcopy.errors import ErrorKind
from partcopy.providers import S3_ERRORS, Dialect

__all__ = [
    "BucketInfo",
    "BucketsPage",
    "CompleteChecksums",
    "CompleteResult",
    "CopySource",
    "Dialect",
    "ListedObject",
    "ObjectAttributes",
    "ObjectInfo",
    "ObjectsPage",
    "PartInfo",
    "PartResult",
    "PartsPage",
    "SSECustomerKey",
    "Transport",
    "UploadInfo",
    "UploadsPage",
]


@dataclass(frozen=True, slots=True)
class SSECustomerKey:
    """A customer-provided encryption key (SSE-C). Its repr never shows the key."""

    key: bytes = field(repr=False)
    algorithm: str = "AES256"

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.key).decode("ascii")

    @property
    def key_md5_b64(self) -> str:
        return base64.b64encode(hashlib.md5(self.key).digest()).decode("ascii")

    def __repr__(self) -> str:
        return f"SSECustomerKey(algorithm={self.algorithm!r}, key=<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ObjectAttributes:
    """What a new object carries besides its bytes: Content-*, metadata, class, tags."""

    content_type: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    content_disposition: str | None = None
    cache_control: str | None = None
    expires: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    tagging: str | None = None
    """URL-encoded tag set (``k1=v1&k2=v2``), as the x-*-tagging header carries it."""
    sse: str | None = None
    """Server-side encryption with service keys (``AES256``, ``aws:kms``, ``kms``)."""
    sse_kms_key_id: str | None = None
    """The KMS key of ``aws:kms``/``kms`` encryption, when one was named."""
    sse_c: SSECustomerKey | None = None
    acl: str | None = None
    """A canned ACL to apply (``private``, ``bucket-owner-full-control``...); None: the
    store's default. Never read from a source: ACLs are not copied."""
    checksum_algorithm: str | None = None
    """The flexible checksum a new upload is created with (``CRC64NVME``...); CRCs ask
    for the full-object type. Never read from a source (see ``ObjectInfo.checksum``)."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What HEAD says of an object."""

    bucket: str
    key: str
    size: int
    etag: str | None
    version_id: str | None = None
    last_modified: datetime | None = None
    attributes: ObjectAttributes = field(default_factory=ObjectAttributes)
    parts_count: int | None = None
    """How many parts the object was uploaded in: ``x-amz-mp-parts-count`` when HEAD
    named a part number, else what the ETag says (``…-N``)."""
    checksum: ObjectChecksum | None = None
    """The stored flexible checksum (HEAD in checksum mode), when the store keeps one."""
    server: str | None = None
    """The answer's ``Server`` header: the store's software (``SeaweedFS 8000GB 4.48``)."""


@dataclass(frozen=True, slots=True)
class CopySource:
    """The source of a server-side copy, pinned so a changed source fails with 412."""

    bucket: str
    key: str
    version_id: str | None = None
    if_match: str | None = None
    sse_c: SSECustomerKey | None = None
    host: str | None = None
    """For COS: the source bucket's host (``<bucket-appid>.cos.<region>.myqcloud.com``)."""
    size: int | None = None
    """The source's size, when known: a part copy of all of it is sent without a range
    (S3 copies a byte range only from a source over 5 MiB)."""

    def is_whole(self, first: int, last: int) -> bool:
        """Whether ``first..last`` is the whole source (known ``size`` only)."""
        return self.size is not None and first == 0 and last == self.size - 1


@dataclass(frozen=True, slots=True)
class PartResult:
    """What the service answered to one UploadPart or UploadPartCopy.

    ``etag`` is None when the 2xx answer carried none: an unproven part. ``error_code``
    and ``error_message`` are set when the body was an error document; ``detail`` says
    what was wrong with the answer in words (``"empty body"``, ``"truncated XML"``).
    """

    part_number: int
    etag: str | None
    status: int
    error_code: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    detail: str | None = None
    checksum: str | None = None
    """The part's flexible checksum as the store computed it (wire form), when it says."""
    error_kind: ErrorKind | None = None
    """What ``error_code`` means, read by the transport from its provider row (read with
    S3's tables when a result is built without one)."""

    def __post_init__(self) -> None:
        if self.error_code is not None and self.error_kind is None:
            object.__setattr__(self, "error_kind", S3_ERRORS.classify_body(self.error_code))

    @property
    def throttled(self) -> bool:
        """A throttling code inside the 2xx answer: a ``SlowDown`` in a 200 throttles too."""
        return self.error_kind is ErrorKind.THROTTLED


@dataclass(frozen=True, slots=True)
class CompleteChecksums:
    """What Complete sends of an upload created with a checksum algorithm: each part's
    checksum (by part number) and, for a full-object type, the whole object's, which the
    store checks against its own before it completes."""

    algorithm: str
    parts: Mapping[int, str] = field(default_factory=dict)
    full_object: str | None = None


@dataclass(frozen=True, slots=True)
class CompleteResult:
    """The answer to CompleteMultipartUpload or CopyObject (same rules as ``PartResult``)."""

    etag: str | None
    status: int
    version_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    detail: str | None = None
    error_kind: ErrorKind | None = None
    sse: str | None = None
    """The server-side encryption the answer says the object is stored under (``AES256``,
    the store's SSE-KMS name), None where it says none."""
    checksum: str | None = None
    """A relayed PUT's flexible checksum of the bytes it sent (wire form), when it named
    one; the store checked the bytes against it."""

    def __post_init__(self) -> None:
        if self.error_code is not None and self.error_kind is None:
            object.__setattr__(self, "error_kind", S3_ERRORS.classify_body(self.error_code))


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One part as ListParts reports it."""

    part_number: int
    etag: str
    size: int
    last_modified: datetime | None = None
    checksum: str | None = None
    """The part's flexible checksum, when the upload has an algorithm (``<ChecksumALGO>``)."""


@dataclass(frozen=True, slots=True)
class PartsPage:
    """One page of ListParts. Pass ``next_marker`` back to get the next page."""

    parts: tuple[PartInfo, ...]
    is_truncated: bool
    next_marker: int | None = None


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """One incomplete multipart upload."""

    bucket: str
    key: str
    upload_id: str
    initiated: datetime | None = None


@dataclass(frozen=True, slots=True)
class UploadsPage:
    """One page of ListMultipartUploads."""

    uploads: tuple[UploadInfo, ...]
    is_truncated: bool
    next_key_marker: str | None = None
    next_upload_id_marker: str | None = None

    def continuation(self) -> tuple[str | None, str | None] | None:
        """The (key marker, upload-id marker) that ask for the page after this one.

        AWS names both. SeaweedFS names only NextUploadIdMarker and lists in upload-id
        order, so that marker goes alone (a key marker there skips uploads of other keys).
        A store naming neither continues after the last upload; None: no way on.
        """
        if self.next_key_marker is not None:
            return self.next_key_marker, self.next_upload_id_marker
        if self.next_upload_id_marker is not None:
            return None, self.next_upload_id_marker
        if self.uploads:
            return self.uploads[-1].key, self.uploads[-1].upload_id
        return None


@dataclass(frozen=True, slots=True)
class ListedObject:
    """One object as a listing shows it: enough to plan and pin a copy without a HEAD."""

    key: str
    size: int
    etag: str | None
    last_modified: datetime | None = None
    storage_class: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectsPage:
    """One page of a bucket listing (ListObjectsV2, ListObjects, QingStor's GET Bucket).

    ``prefixes`` are the CommonPrefixes of a delimited listing. ``next_token`` goes back
    as ``token``: a continuation token (S3) or a marker (OBS, COS, QingStor).
    """

    objects: tuple[ListedObject, ...]
    prefixes: tuple[str, ...]
    is_truncated: bool
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class BucketInfo:
    """One bucket as ListBuckets (GET Service) shows it."""

    name: str
    created: datetime | None = None
    region: str | None = None
    """Where the store says the bucket lives (S3 ``BucketRegion``, OBS and COS
    ``Location``, QingStor ``location``), when it says."""


@dataclass(frozen=True, slots=True)
class BucketsPage:
    """One page of ListBuckets. ``next_token`` goes back as ``token``; None: the last page."""

    buckets: tuple[BucketInfo, ...]
    next_token: str | None = None


@runtime_checkable
class Transport(Protocol):
    """Multipart copy verbs for one store. See the module docstring for the rules."""

    @property
    def dialect(self) -> Dialect: ...

    async def head(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        sse_c: SSECustomerKey | None = None,
        part_number: int | None = None,
        checksum_mode: bool = False,
    ) -> ObjectInfo:
        """HEAD the object, or with ``part_number`` one part of it (size = the part's,
        ``parts_count`` = how many); ``checksum_mode`` asks for its stored checksum."""
        ...

    async def get_tagging(self, bucket: str, key: str, *, version_id: str | None = None) -> str:
        """The object's tag set, URL-encoded (``k1=v1&k2=v2``; ``""`` when it has none)."""
        ...

    async def create_multipart(self, bucket: str, key: str, attrs: ObjectAttributes) -> str:
        """Start a multipart upload; returns its upload id."""
        ...

    async def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        source: CopySource,
        first: int,
        last: int,
        *,
        sse_c: SSECustomerKey | None = None,
    ) -> PartResult:
        """Copy source bytes ``first..last`` (inclusive) into one part."""
        ...

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: bytes | AsyncIterable[bytes],
        size: int,
        *,
        content_md5: str | None = None,
        sse_c: SSECustomerKey | None = None,
        checksum: tuple[str, str] | None = None,
    ) -> PartResult:
        """Upload ``size`` bytes from ``body`` as one part (``content_md5`` is base64;
        ``checksum`` is ``(algorithm, wire value)`` of the bytes, checked by the store)."""
        ...

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | AsyncIterable[bytes],
        size: int,
        attrs: ObjectAttributes,
        *,
        content_md5: str | None = None,
        sse_c: SSECustomerKey | None = None,
        checksum: tuple[str, str] | None = None,
    ) -> CompleteResult:
        """Write a whole object of ``size`` bytes from ``body`` in one request (PutObject),
        carrying ``attrs`` as CreateMultipartUpload would (its ``checksum_algorithm`` aside:
        a PUT names its checksum by value, ``checksum`` = ``(algorithm, wire value)``).
        A 2xx without an ETag is returned with ``etag=None``."""
        ...

    def get_range(
        self,
        bucket: str,
        key: str,
        first: int,
        last: int,
        *,
        version_id: str | None = None,
        if_match: str | None = None,
        sse_c: SSECustomerKey | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Stream bytes ``first..last`` (inclusive): ``async with t.get_range(...) as it``."""
        ...

    async def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        checksums: CompleteChecksums | None = None,
    ) -> CompleteResult:
        """Complete the upload from ``(part_number, etag)`` pairs in ascending order."""
        ...

    async def abort(self, bucket: str, key: str, upload_id: str) -> None: ...

    async def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        marker: int | None = None,
        max_parts: int = 1000,
    ) -> PartsPage: ...

    async def copy_object(
        self,
        source: CopySource,
        bucket: str,
        key: str,
        attrs: ObjectAttributes | None,
    ) -> CompleteResult:
        """Copy a whole object (up to 5 GiB) in one request, with ``attrs`` replacing.

        ``attrs=None`` keeps the source's attributes (the store copies them itself).
        """
        ...

    async def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = 1000,
    ) -> UploadsPage: ...

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        token: str | None = None,
        start_after: str | None = None,
        max_keys: int = 1000,
    ) -> ObjectsPage:
        """One page of the keys under ``prefix`` in key order, after ``token``.

        ``start_after`` only applies to the first page (no ``token``).
        """
        ...

    async def delete_object(self, bucket: str, key: str, version_id: str | None = None) -> None:
        """Delete the object (a delete marker where versioning is on); with ``version_id``,
        that version for good."""
        ...

    async def list_buckets(
        self, *, token: str | None = None, max_buckets: int = 1000
    ) -> BucketsPage:
        """One page of the buckets the credentials own, asked of the service endpoint
        (never a bucket's host), after ``token``; ``max_buckets`` where the dialect pages."""
        ...

    async def aclose(self) -> None:
        """Release what the transport owns (not a session the caller passed in)."""
        ...
