"""An in-memory object store with S3 semantics: the state behind the memory transport
and the emulator.

Buckets, versioned objects (real or virtual content, see :mod:`.data`), multipart
uploads with the profile's limits, SSE-C key checks, and statistics that tests assert on
("every Complete listed only ETags the store issued"). Operations are synchronous and
O(parts), never O(bytes) for virtual data. Failures raise ``StoreError`` with S3's status
and code; each front end renders it in its own dialect.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from partcopy.providers import PROFILES, PartLimits, default_provider
from partcopy.store.checksums import combine_full_object, composite, content_checksum
from partcopy.store.data import Content
from partcopy.store.records import (
    DELETE_MARKER_VERSION,
    ObjectVersion,
    StoredChecksum,
    StoredPart,
    StoreError,
    Upload,
    bare_etag,
    etag_of,
    now,
    quote_etag,
)
from partcopy.store.stats import CompletedPart, CompleteRecord, Counters, StoreStats
from partcopy.transports.base import ObjectAttributes

__all__ = [
    "DELETE_MARKER_VERSION",
    "CompleteRecord",
    "CompletedPart",
    "MemoryStore",
    "ObjectVersion",
    "StoreError",
    "StoreStats",
    "StoredPart",
    "Upload",
    "etag_of",
    "quote_etag",
]

S3_RANGE_FLOOR = default_provider("s3").range_copy_floor
"""S3 copies a byte range only from sources larger than this (the ``s3`` row's floor)."""

Versioning = Literal["Off", "Enabled", "Suspended"]


@dataclass
class _Bucket:
    name: str
    created: datetime
    versioning: Versioning = "Off"
    owner: str = ""
    objects: dict[str, list[ObjectVersion]] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    sorted_keys: list[str] | None = None
    """``keys()`` as last sorted; dropped by every write to ``objects`` (a listing of a
    million keys pages a thousand times without sorting a million keys each time)."""


def _valid_bucket_name(name: str) -> bool:
    # AWS wants 3-63 characters; S3-compatible stores and the public contract's own
    # example (``s3://b/src``) use shorter names, so the store accepts 1-63.
    if not 1 <= len(name) <= 63 or name[0] in "-._" or name[-1] in "-.":
        return False
    return all(c.islower() or c.isdigit() or c in "-." for c in name)


class MemoryStore:
    """Buckets, objects and multipart uploads in memory, with S3's rules.

    ``limits`` is the default profile for uploads (part numbers, minimum part size);
    an upload keeps the limits it was created with.
    """

    def __init__(self, limits: PartLimits | str = "s3", *, seed: int = 0) -> None:
        self.limits = PROFILES[limits] if isinstance(limits, str) else limits
        self.seed = seed
        self._buckets: dict[str, _Bucket] = {}
        self._ids = itertools.count(1)
        self._counters = Counters()
        # upload id -> (the part list it completed with, the version it made): S3 answers
        # a repeated Complete with the same result, so retrying Complete is safe.
        self._completed: dict[str, tuple[tuple[tuple[int, str], ...], ObjectVersion]] = {}

    # --- identities ------------------------------------------------------------------

    def _new_id(self, kind: str) -> str:
        n = next(self._ids)
        return hashlib.sha256(f"{kind}:{self.seed}:{n}".encode()).hexdigest()[:32]

    def next_seed(self, bucket: str, key: str) -> int:
        """A fresh deterministic pattern seed: overwriting a key changes its bytes."""
        n = next(self._ids)
        digest = hashlib.sha256(f"seed:{self.seed}:{bucket}/{key}:{n}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    # --- buckets ---------------------------------------------------------------------

    def create_bucket(self, name: str, owner: str = "") -> None:
        """Create ``name``; creating a bucket you own again is a no-op (as in us-east-1),
        one another owner holds is 409 ``BucketAlreadyExists``."""
        if not _valid_bucket_name(name):
            raise StoreError(
                400, "InvalidBucketName", "The specified bucket is not valid.", resource=name
            )
        existing = self._buckets.get(name)
        if existing is None:
            self._buckets[name] = _Bucket(name, now(), owner=owner)
        elif owner and existing.owner and owner != existing.owner:
            raise StoreError(
                409,
                "BucketAlreadyExists",
                "The requested bucket name is not available. Please select a different name.",
                resource=name,
            )

    def bucket_names(self) -> list[str]:
        return sorted(self._buckets)

    def buckets(self) -> list[tuple[str, datetime, str]]:
        """(name, creation time, owner) of every bucket, by name."""
        return [(b.name, b.created, b.owner) for _, b in sorted(self._buckets.items())]

    def bucket_owner(self, name: str) -> str:
        """The access key that created ``name`` ("" when made without one)."""
        return self._bucket(name).owner

    def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket (no version, no delete marker); its open uploads go too."""
        b = self._bucket(name)
        if any(b.objects.values()):
            raise StoreError(
                409,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                resource=name,
            )
        del self._buckets[name]

    def _bucket(self, name: str) -> _Bucket:
        try:
            return self._buckets[name]
        except KeyError:
            raise StoreError(
                404, "NoSuchBucket", "The specified bucket does not exist.", resource=name
            ) from None

    def has_bucket(self, name: str) -> bool:
        return name in self._buckets

    def set_versioning(self, bucket: str, enabled: bool) -> None:
        """Turn versioning on (``Enabled``) or off (``Suspended`` once it was on)."""
        b = self._bucket(bucket)
        if enabled:
            b.versioning = "Enabled"
        elif b.versioning != "Off":
            b.versioning = "Suspended"

    def get_versioning(self, bucket: str) -> Versioning:
        return self._bucket(bucket).versioning

    # --- objects ---------------------------------------------------------------------

    def _store_version(self, bucket: str, version: ObjectVersion) -> ObjectVersion:
        b = self._bucket(bucket)
        b.sorted_keys = None
        versions = b.objects.setdefault(version.key, [])
        if b.versioning == "Enabled":
            version = replace(version, version_id=self._new_id("version"))
        else:
            version = replace(version, version_id="null")
            versions[:] = [v for v in versions if v.version_id != "null"]
        versions.append(version)
        return version

    def put_object(
        self,
        bucket: str,
        key: str,
        content: Content | bytes,
        attrs: ObjectAttributes | None = None,
        *,
        sse_c_md5: str | None = None,
        etag: str | None = None,
        parts_count: int | None = None,
        owner: str = "",
        checksum: StoredChecksum | None = None,
        part_sizes: tuple[int, ...] = (),
        part_checksums: tuple[str, ...] = (),
    ) -> ObjectVersion:
        """Create or overwrite ``key`` (a new version when versioning is on)."""
        if isinstance(content, bytes | bytearray | memoryview):
            content = Content.real(bytes(content))
        attrs = replace(attrs or ObjectAttributes(), sse_c=None)
        version = ObjectVersion(
            key=key,
            version_id="",
            content=content,
            etag=etag or etag_of(content, attrs.sse),
            last_modified=now(),
            attrs=attrs,
            sse_c_md5=sse_c_md5,
            parts_count=parts_count,
            owner=owner,
            checksum=checksum,
            part_sizes=part_sizes,
            part_checksums=part_checksums,
        )
        return self._store_version(bucket, version)

    def put_virtual(
        self, bucket: str, key: str, size: int, *, seed: int | None = None
    ) -> ObjectVersion:
        """Create or overwrite ``key`` with ``size`` pattern bytes (no memory per byte)."""
        seed = self.next_seed(bucket, key) if seed is None else seed
        return self.put_object(bucket, key, Content.virtual(seed, size))

    def get(
        self,
        bucket: str,
        key: str,
        version_id: str | None = None,
        *,
        sse_c_md5: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        check_sse_c: bool = True,
    ) -> ObjectVersion:
        """The object version HEAD/GET would see, after the SSE-C and If-* checks."""
        b = self._bucket(bucket)
        versions = b.objects.get(key, [])
        if version_id is None:
            version = versions[-1] if versions else None
            if version is None or version.is_delete_marker:
                raise StoreError(
                    404,
                    "NoSuchKey",
                    "The specified key does not exist.",
                    resource=f"/{bucket}/{key}",
                )
        else:
            found = [v for v in versions if v.version_id == version_id]
            if not found:
                raise StoreError(
                    404,
                    "NoSuchVersion",
                    "The specified version does not exist.",
                    resource=f"/{bucket}/{key}",
                )
            version = found[0]
            if version.is_delete_marker:
                raise StoreError(
                    405,
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                    resource=f"/{bucket}/{key}",
                    detail=DELETE_MARKER_VERSION,
                )
        if check_sse_c:
            self._check_sse_c(version.sse_c_md5, sse_c_md5)
        if if_match is not None and bare_etag(if_match) not in {"*", version.etag}:
            raise StoreError(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                resource=f"/{bucket}/{key}",
            )
        if if_none_match is not None and bare_etag(if_none_match) in {"*", version.etag}:
            raise StoreError(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                resource=f"/{bucket}/{key}",
            )
        return version

    @staticmethod
    def _check_sse_c(stored: str | None, given: str | None) -> None:
        if stored is None and given is None:
            return
        if stored is None:
            raise StoreError(
                400,
                "InvalidRequest",
                "The encryption parameters are not applicable to this object.",
            )
        if given is None:
            raise StoreError(
                400,
                "InvalidRequest",
                "The object was stored using a form of Server Side Encryption. "
                "The correct parameters must be provided to retrieve the object.",
            )
        if given != stored:
            raise StoreError(
                403,
                "AccessDenied",
                "The SSE-C key provided does not match the one the object was stored with.",
            )

    def versions(self, bucket: str, key: str) -> list[ObjectVersion]:
        """Every version of ``key``, oldest first (delete markers included)."""
        return list(self._bucket(bucket).objects.get(key, []))

    def keys(self, bucket: str) -> list[str]:
        """The bucket's current keys (delete markers hidden), sorted; a copy."""
        b = self._bucket(bucket)
        if b.sorted_keys is None:
            b.sorted_keys = sorted(
                k for k, v in b.objects.items() if v and not v[-1].is_delete_marker
            )
        return list(b.sorted_keys)

    def version_keys(self, bucket: str) -> list[str]:
        """Every key that has a version or a delete marker, sorted."""
        return sorted(k for k, v in self._bucket(bucket).objects.items() if v)

    def current(self, bucket: str, key: str) -> ObjectVersion | None:
        """The latest version of ``key`` (None when absent or a delete marker), unchecked."""
        versions = self._bucket(bucket).objects.get(key)
        if not versions or versions[-1].is_delete_marker:
            return None
        return versions[-1]

    def set_tagging(
        self, bucket: str, key: str, version_id: str | None, tagging: str | None
    ) -> ObjectVersion:
        """Replace the tag set of one version in place (no new version, same ETag)."""
        version = self.get(bucket, key, version_id, check_sse_c=False)
        versions = self._bucket(bucket).objects[key]
        updated = replace(version, attrs=replace(version.attrs, tagging=tagging))
        versions[versions.index(version)] = updated
        return updated

    def delete_object(
        self, bucket: str, key: str, version_id: str | None = None
    ) -> ObjectVersion | None:
        """Delete ``key``: a delete marker when versioning is on, else remove it.

        With ``version_id`` that version is removed for good. Returns the marker made.
        """
        b = self._bucket(bucket)
        b.sorted_keys = None
        versions = b.objects.get(key, [])
        if version_id is not None:
            versions[:] = [v for v in versions if v.version_id != version_id]
            return None
        if b.versioning == "Off":
            b.objects.pop(key, None)
            return None
        marker = ObjectVersion(key, "", None, "", now())
        return self._store_version(bucket, marker)

    # --- multipart -------------------------------------------------------------------

    def create_upload(
        self,
        bucket: str,
        key: str,
        attrs: ObjectAttributes | None = None,
        *,
        sse_c_md5: str | None = None,
        limits: PartLimits | None = None,
        checksum_algorithm: str | None = None,
        checksum_full_object: bool = False,
        owner: str = "",
    ) -> Upload:
        """Start a multipart upload under ``limits`` (default: the store's); with a
        ``checksum_algorithm`` every part gets that checksum and Complete the object's."""
        b = self._bucket(bucket)
        upload = Upload(
            bucket=bucket,
            key=key,
            upload_id=self._new_id("upload"),
            initiated=now(),
            attrs=replace(attrs or ObjectAttributes(), sse_c=None),
            limits=limits or self.limits,
            sse_c_md5=sse_c_md5,
            checksum_algorithm=checksum_algorithm,
            checksum_full_object=checksum_full_object,
            owner=owner,
        )
        b.uploads[upload.upload_id] = upload
        return upload

    def upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        """The open upload ``upload_id`` of ``bucket/key``, or ``NoSuchUpload``."""
        upload = self._bucket(bucket).uploads.get(upload_id)
        if upload is None or upload.key != key:
            raise StoreError(
                404,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the "
                "upload may have been aborted or completed.",
                resource=f"/{bucket}/{key}",
            )
        return upload

    def _check_part(self, upload: Upload, part_number: int, size: int) -> None:
        limits = upload.limits
        if not limits.first_part_number <= part_number <= limits.last_part_number:
            raise StoreError(
                400,
                "InvalidArgument",
                f"Part number must be an integer between {limits.first_part_number} and "
                f"{limits.last_part_number}, inclusive",
            )
        if size > limits.max_part:
            raise StoreError(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )

    def _store_part(
        self, upload: Upload, part_number: int, content: Content, claimed: str | None = None
    ) -> StoredPart:
        algorithm = upload.checksum_algorithm
        checksum = None if algorithm is None else content_checksum(algorithm, content)
        if claimed is not None and claimed != checksum:
            raise bad_digest(algorithm or "checksum")
        part = StoredPart(part_number, etag_of(content, upload.attrs.sse), content, now(), checksum)
        upload.parts[part_number] = part
        upload.issued.setdefault(part_number, set()).add(part.etag)
        return part

    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        content: Content | bytes,
        *,
        sse_c_md5: str | None = None,
        content_md5: str | None = None,
        checksum: StoredChecksum | None = None,
    ) -> StoredPart:
        """Store one part from bytes; ``content_md5`` (base64) and a claimed ``checksum``
        (the upload's algorithm) are checked when given."""
        if isinstance(content, bytes | bytearray | memoryview):
            content = Content.real(bytes(content))
        upload = self.upload(bucket, key, upload_id)
        self._check_part(upload, part_number, content.size)
        self._check_upload_sse_c(upload, sse_c_md5)
        if content_md5 is not None:
            try:
                expected = base64.b64decode(content_md5, validate=True)
            except ValueError:
                raise StoreError(
                    400, "InvalidDigest", "The Content-MD5 you specified was invalid."
                ) from None
            if len(expected) != 16 or (content.is_real and expected != content.md5()):
                raise StoreError(
                    400,
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                )
        claimed = None
        if checksum is not None:
            if checksum.algorithm != (upload.checksum_algorithm or checksum.algorithm):
                raise StoreError(
                    400,
                    "InvalidRequest",
                    f"Checksum Type mismatch occurred, expected checksum Type: "
                    f"{(upload.checksum_algorithm or '').lower()}, actual checksum Type: "
                    f"{checksum.algorithm.lower()}",
                )
            if upload.checksum_algorithm is None:
                if checksum.value != content_checksum(checksum.algorithm, content):
                    raise bad_digest(checksum.algorithm)
            else:
                claimed = checksum.value
        part = self._store_part(upload, part_number, content, claimed)
        self._counters.parts_uploaded += 1
        self._counters.bytes_uploaded += content.size
        return part

    @staticmethod
    def _check_upload_sse_c(upload: Upload, given: str | None) -> None:
        if upload.sse_c_md5 != given:
            raise StoreError(
                400,
                "InvalidRequest",
                "The provided encryption parameters did not match the ones used originally.",
            )

    def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        src_bucket: str,
        src_key: str,
        *,
        src_version_id: str | None = None,
        first: int | None = None,
        last: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        src_sse_c_md5: str | None = None,
        sse_c_md5: str | None = None,
        range_min_source: int = S3_RANGE_FLOOR,
    ) -> StoredPart:
        """Copy source bytes ``first..last`` (whole object when None) into one part."""
        upload = self.upload(bucket, key, upload_id)
        source = self.get(
            src_bucket,
            src_key,
            src_version_id,
            sse_c_md5=src_sse_c_md5,
            if_match=if_match,
            if_none_match=if_none_match,
        )
        assert source.content is not None
        content = source.content
        if first is not None and last is not None:
            if source.size <= range_min_source:
                raise StoreError(
                    400,
                    "InvalidRequest",
                    "The specified copy source is not supported as a byte-range copy source "
                    f"(a range needs a source larger than {range_min_source} bytes).",
                )
            if first > last or last >= source.size:
                raise StoreError(
                    400,
                    "InvalidArgument",
                    f"Range specified is not valid for source object of size: {source.size}",
                )
            content = content.slice(first, last)
        self._check_part(upload, part_number, content.size)
        self._check_upload_sse_c(upload, sse_c_md5)
        part = self._store_part(upload, part_number, content)
        self._counters.parts_copied += 1
        self._counters.bytes_copied += content.size
        return part

    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        marker: int | None = None,
        max_parts: int = 1000,
    ) -> tuple[list[StoredPart], bool, int | None]:
        """One page of parts after ``marker``: (parts, is_truncated, next_marker)."""
        upload = self.upload(bucket, key, upload_id)
        numbers = sorted(n for n in upload.parts if marker is None or n > marker)
        page = [upload.parts[n] for n in numbers[: max(max_parts, 0)]]
        truncated = len(numbers) > len(page)
        next_marker = page[-1].number if page else None
        return page, truncated, next_marker

    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = 1000,
    ) -> tuple[list[Upload], bool]:
        """One page of open uploads in (key, initiation) order after the markers.

        An upload-id marker alone (how SeaweedFS pages) continues after that upload.
        """
        b = self._bucket(bucket)
        ordered = sorted(
            (u for u in b.uploads.values() if u.key.startswith(prefix)),
            key=lambda u: (u.key, u.initiated, u.upload_id),
        )
        if key_marker is None and upload_id_marker:
            ids = [u.upload_id for u in ordered]
            if upload_id_marker in ids:
                ordered = ordered[ids.index(upload_id_marker) + 1 :]
        elif key_marker is not None:
            if upload_id_marker:
                ids = [u.upload_id for u in ordered]
                if upload_id_marker in ids:
                    ordered = ordered[ids.index(upload_id_marker) + 1 :]
                else:
                    ordered = [u for u in ordered if u.key > key_marker]
            else:
                ordered = [u for u in ordered if u.key > key_marker]
        page = ordered[: max(max_uploads, 0)]
        return page, len(ordered) > len(page)

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        """Drop an open upload and its parts; ``NoSuchUpload`` afterwards."""
        upload = self.upload(bucket, key, upload_id)
        del self._bucket(bucket).uploads[upload.upload_id]

    def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        part_checksums: Mapping[int, str] | None = None,
        claimed: str | None = None,
    ) -> ObjectVersion:
        """Join the listed parts into the object, after S3's checks (recorded in stats).

        With a checksum upload, ``part_checksums`` (by number) must be the parts' own and a
        ``claimed`` object checksum must be the one the store computes (``BadDigest``)."""
        listed = tuple((n, bare_etag(e)) for n, e in parts)
        done = self._completed.get(upload_id)
        if done is not None and done[0] == listed and upload_id not in self._bucket(bucket).uploads:
            return done[1]
        upload = self.upload(bucket, key, upload_id)
        record = tuple(CompletedPart(n, e, e in upload.issued.get(n, set())) for n, e in listed)
        try:
            version = self._complete(upload, listed, part_checksums or {}, claimed)
        except StoreError:
            self._counters.completes.append(CompleteRecord(bucket, key, upload_id, record, False))
            raise
        self._counters.completes.append(CompleteRecord(bucket, key, upload_id, record, True))
        self._completed[upload_id] = (listed, version)
        return version

    def _complete(
        self,
        upload: Upload,
        listed: tuple[tuple[int, str], ...],
        part_checksums: Mapping[int, str],
        claimed: str | None,
    ) -> ObjectVersion:
        if not listed:
            raise StoreError(
                400,
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate "
                "against our published schema",
            )
        numbers = [n for n, _ in listed]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise StoreError(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be "
                "ordered by part number.",
            )
        chosen: list[StoredPart] = []
        for number, etag in listed:
            part = upload.parts.get(number)
            if part is None or part.etag != etag:
                raise StoreError(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The "
                    "part may not have been uploaded, or the specified entity "
                    "tag may not match the part's entity tag.",
                )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < upload.limits.min_part:
                raise StoreError(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
        content = Content.concat(p.content for p in chosen)
        digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in chosen)).hexdigest()
        for part in chosen:
            given = part_checksums.get(part.number)
            if given is not None and part.checksum is not None and given != part.checksum:
                raise StoreError(
                    400,
                    "InvalidPart",
                    f"The {upload.checksum_algorithm} of part {part.number} does not match "
                    "the part's checksum.",
                )
        checksum, part_values = _upload_checksum(upload, chosen)
        if claimed is not None and checksum is not None and claimed != checksum.value:
            raise bad_digest(checksum.algorithm)
        version = self.put_object(
            upload.bucket,
            upload.key,
            content,
            upload.attrs,
            sse_c_md5=upload.sse_c_md5,
            etag=f"{digest}-{len(chosen)}",
            parts_count=len(chosen),
            owner=upload.owner,
            checksum=checksum,
            part_sizes=tuple(p.content.size for p in chosen),
            part_checksums=part_values,
        )
        del self._bucket(upload.bucket).uploads[upload.upload_id]
        return version

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        attrs: ObjectAttributes | None,
        *,
        src_version_id: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        src_sse_c_md5: str | None = None,
        sse_c_md5: str | None = None,
        max_size: int | None = None,
        owner: str = "",
        checksum_algorithm: str | None = None,
    ) -> ObjectVersion:
        """CopyObject: ``attrs`` replace the source's (None copies them), up to 5 GiB."""
        self._bucket(bucket)
        source = self.get(
            src_bucket,
            src_key,
            src_version_id,
            sse_c_md5=src_sse_c_md5,
            if_match=if_match,
            if_none_match=if_none_match,
        )
        assert source.content is not None
        limit = self.limits.single_max if max_size is None else max_size
        if source.size > limit:
            raise StoreError(
                400,
                "InvalidRequest",
                "The specified copy source is larger than the maximum allowable "
                f"size for a copy source: {limit}",
            )
        if attrs is None and src_bucket == bucket and src_key == key and sse_c_md5 is None:
            raise StoreError(
                400,
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an "
                "object to itself without changing the object's metadata, "
                "storage class, website redirect location or encryption "
                "attributes.",
            )
        new_attrs = source.attrs if attrs is None else attrs
        same_kind = etag_of(source.content, source.attrs.sse) == source.etag and (
            etag_of(source.content, new_attrs.sse) == source.etag
        )
        keep = same_kind or (source.parts_count is not None and _plain(new_attrs.sse))
        etag = source.etag if keep and sse_c_md5 is None and source.sse_c_md5 is None else None
        checksum = source.checksum if source.checksum and source.checksum.full_object else None
        if checksum_algorithm is not None:
            value = content_checksum(checksum_algorithm, source.content)
            checksum = StoredChecksum(checksum_algorithm, value)
        return self.put_object(
            bucket,
            key,
            source.content,
            new_attrs,
            sse_c_md5=sse_c_md5,
            etag=etag,
            parts_count=source.parts_count if etag else None,
            owner=owner,
            checksum=checksum,
            part_sizes=source.part_sizes if etag else (),
        )

    # --- statistics ------------------------------------------------------------------

    @contextmanager
    def copy_in_flight(self) -> Iterator[int]:
        """Count one copy part in flight while the block runs; yields the count now."""
        c = self._counters
        c.in_flight += 1
        c.peak_in_flight = max(c.peak_in_flight, c.in_flight)
        try:
            yield c.in_flight
        finally:
            c.in_flight -= 1

    def count_request(self) -> None:
        self._counters.requests += 1

    def count_op(self, op: str) -> None:
        """Count one request for ``op`` (the emulator calls it for every parsed request)."""
        ops = self._counters.ops
        ops[op] = ops.get(op, 0) + 1

    def count_fault(self, kind: str) -> None:
        self._counters.faults[kind] = self._counters.faults.get(kind, 0) + 1

    @property
    def in_flight(self) -> int:
        return self._counters.in_flight

    def open_uploads(self) -> int:
        return sum(len(b.uploads) for b in self._buckets.values())

    def stats(self) -> StoreStats:
        """A frozen snapshot of the counters."""
        c = self._counters
        return StoreStats(
            parts_copied=c.parts_copied,
            parts_uploaded=c.parts_uploaded,
            bytes_copied=c.bytes_copied,
            bytes_uploaded=c.bytes_uploaded,
            in_flight=c.in_flight,
            peak_in_flight=c.peak_in_flight,
            open_uploads=self.open_uploads(),
            completes=tuple(c.completes),
            faults=dict(c.faults),
            requests=c.requests,
            ops=dict(c.ops),
        )

    def reset(self) -> None:
        """Forget every bucket, object, upload and counter."""
        self._buckets.clear()
        self._completed.clear()
        self._counters = Counters()


def bad_digest(algorithm: str) -> StoreError:
    """A body whose checksum is not the one its request claims."""
    return StoreError(
        400,
        "BadDigest",
        f"The {algorithm} you specified did not match the calculated checksum.",
    )


def _upload_checksum(
    upload: Upload, parts: Sequence[StoredPart]
) -> tuple[StoredChecksum | None, tuple[str, ...]]:
    """The object checksum Complete records: composite or full-object, from the parts'."""
    algorithm = upload.checksum_algorithm
    if algorithm is None:
        return None, ()
    values = [p.checksum or content_checksum(algorithm, p.content) for p in parts]
    if upload.checksum_full_object:
        value = combine_full_object(
            algorithm, [(v, p.size) for v, p in zip(values, parts, strict=True)]
        )
        return StoredChecksum(algorithm, value, full_object=True), ()
    return StoredChecksum(algorithm, composite(algorithm, values), full_object=False), tuple(values)


def _plain(sse: str | None) -> bool:
    """Whether objects under ``sse`` get MD5 ETags (none, or store-managed AES256 keys)."""
    return sse in (None, "", "AES256")
