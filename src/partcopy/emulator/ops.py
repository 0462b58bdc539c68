"""Dialect-neutral requests (``Call``) and their execution against the store.

Each wire adapter parses its dialect into a ``Call`` and renders the ``Outcome``; the
rules (limits, preconditions, SSE-C, versioning) live in the store, the latency model here.
"""

from __future__ import annotations

import base64
from dataclasses import replace

from partcopy.emulator.bucketops import BucketOps, Pause, _no_pause
from partcopy.emulator.calls import Call, ChecksumRequest, Outcome, SourceRef
from partcopy.emulator.conditions import check_read, check_source, check_write
from partcopy.emulator.wire import tag_header
from partcopy.store.checksums import FULL_OBJECT_ONLY, content_checksum
from partcopy.store.data import Content
from partcopy.store.memory import MemoryStore, ObjectVersion, StoreError, bad_digest
from partcopy.store.records import StoredChecksum
from partcopy.transports.base import ObjectAttributes

__all__ = ["Call", "Executor", "Outcome", "SourceRef", "parse_get_range", "part_bounds"]

CRC_ALGORITHMS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})


def parse_get_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A GET ``Range`` as (first, last) clamped to ``size``; None when absent or malformed.

    An unsatisfiable range raises ``InvalidRange`` (416), as S3 does.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    start_text, sep, end_text = header[6:].strip().partition("-")
    if not sep:
        return None
    try:
        if start_text == "":
            suffix = int(end_text)
            if suffix <= 0:
                raise ValueError
            first, last = max(size - suffix, 0), size - 1
            if size == 0:
                raise _invalid_range(size)
            return first, last
        first = int(start_text)
        last = int(end_text) if end_text else max(size - 1, first)
    except ValueError:
        return None
    if first > last:
        return None
    if first >= size:
        raise _invalid_range(size)
    return first, min(last, size - 1)


def _invalid_range(size: int) -> StoreError:
    return StoreError(416, "InvalidRange", f"The requested range is not satisfiable (size {size})")


class Executor(BucketOps):
    """Runs calls against one store; ``pause(nbytes)`` models the time moving bytes takes.

    ``default_owner`` owns the buckets made without a signed request (``--object``, admin).
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        pause: Pause = _no_pause,
        range_min_source: int = 0,
        clamp_copy_range: bool = False,
        default_owner: str = "",
        default_sse: str | None = None,
    ) -> None:
        self.store = store
        self.pause = pause
        self.range_min_source = range_min_source
        self.clamp_copy_range = clamp_copy_range
        self.default_owner = default_owner
        self.default_sse = default_sse
        """The buckets' default encryption (``AES256``): what an object written without
        encryption headers is stored under, as AWS S3 does since 2023; None: none."""

    def _encrypted(
        self, attrs: ObjectAttributes | None, sse_c_md5: str | None
    ) -> ObjectAttributes | None:
        """``attrs`` under the buckets' default encryption where they ask for none."""
        if self.default_sse is None or sse_c_md5 is not None:
            return attrs
        attrs = attrs or ObjectAttributes()
        return attrs if attrs.sse else replace(attrs, sse=self.default_sse)

    async def run(self, call: Call, owner: str = "") -> Outcome:
        """Execute ``call`` for the access key ``owner`` ("": no access check)."""
        handler = getattr(self, f"_op_{call.op}", None)
        if handler is None:
            raise StoreError(501, "NotImplemented", f"{call.op} is not implemented")
        if owner and call.bucket is not None and call.op != "bucket":
            self._authorize(owner, call.bucket)
        result: Outcome = await handler(call, owner)
        return result

    # --- reads -----------------------------------------------------------------------

    async def _op_head(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        version = self.store.get(bucket, key, call.version_id, sse_c_md5=call.sse_c_md5)
        check_read(
            version,
            f"/{bucket}/{key}",
            if_match=call.if_match,
            if_none_match=call.if_none_match,
            if_modified_since=call.if_modified_since,
            if_unmodified_since=call.if_unmodified_since,
        )
        part_range = None
        if call.part_number is not None:
            part_range = part_bounds(version, call.part_number)
        return Outcome(
            call, version=version, part_range=part_range, checksums=_read_checksums(call, version)
        )

    async def _op_get(self, call: Call, owner: str = "") -> Outcome:
        outcome = await self._op_head(call)
        version = outcome.version
        assert version is not None and version.content is not None
        size = version.size
        if outcome.part_range is not None:
            if call.get_range:
                raise StoreError(
                    400, "InvalidRequest", "Cannot specify both Range header and partNumber"
                )
            chosen: tuple[int, int] | None = outcome.part_range
            if version.parts_count is None and chosen == (0, size - 1):
                chosen = None  # part 1 of a single-part object is the whole object
        else:
            chosen = parse_get_range(call.get_range, size)
        if chosen is None or chosen[1] < chosen[0]:
            await self.pause(size)
            return replace(outcome, content=version.content)
        first, last = chosen
        await self.pause(last - first + 1)
        return replace(
            outcome, content=version.content.slice(first, last), content_range=(first, last, size)
        )

    # --- writes ----------------------------------------------------------------------

    def _check_write(self, call: Call, bucket: str, key: str) -> None:
        if call.if_match is not None or call.if_none_match is not None:
            check_write(
                self.store.current(bucket, key),
                f"/{bucket}/{key}",
                if_match=call.if_match,
                if_none_match=call.if_none_match,
            )

    async def _op_put(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        self.store.bucket_owner(bucket)  # NoSuchBucket before the bytes are modelled
        await self.pause(len(call.body))
        content = Content.real(call.body)
        _check_content_md5(call.content_md5, content)
        checksum = _verified_checksum(call.checksum, content)
        self._check_write(call, bucket, key)
        version = self.store.put_object(
            bucket,
            key,
            content,
            self._encrypted(call.attrs, call.sse_c_md5),
            sse_c_md5=call.sse_c_md5,
            owner=owner,
            checksum=checksum,
        )
        return Outcome(call, version=version, checksums=_write_checksums(checksum))

    async def _op_copy_object(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        src = call.source
        assert src is not None
        found = self._source(src, owner)
        attrs = self._encrypted(_copy_attrs(call, found.attrs), call.sse_c_md5)
        if (
            (src.bucket, src.key) == (bucket, key)
            and src.version_id in {None, found.version_id}
            and not call.replace_attrs
            and attrs == found.attrs
            and call.sse_c_md5 is None
            and found.sse_c_md5 is None
        ):
            raise StoreError(
                400,
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        await self.pause(found.size)
        self._check_write(call, bucket, key)
        version = self.store.copy_object(
            src.bucket,
            src.key,
            bucket,
            key,
            attrs,
            src_version_id=src.version_id,
            if_match=src.if_match,
            src_sse_c_md5=src.sse_c_md5,
            sse_c_md5=call.sse_c_md5,
            owner=owner,
            checksum_algorithm=call.checksum.algorithm if call.checksum else None,
        )
        return Outcome(
            call,
            version=version,
            checksums=_write_checksums(version.checksum),
            source_version=found,
        )

    def _source(self, src: SourceRef, owner: str) -> ObjectVersion:
        """The copy source after access, SSE-C and its conditions."""
        if owner:
            self._authorize(owner, src.bucket)
        found = self.store.get(src.bucket, src.key, src.version_id, sse_c_md5=src.sse_c_md5)
        check_source(
            found,
            f"/{src.bucket}/{src.key}",
            if_match=src.if_match,
            if_none_match=src.if_none_match,
            if_modified_since=src.if_modified_since,
            if_unmodified_since=src.if_unmodified_since,
        )
        return found

    async def _op_delete(self, call: Call, owner: str = "") -> Outcome:
        marker = self.store.delete_object(
            self._need(call.bucket, "bucket"), self._need(call.key, "key"), call.version_id
        )
        return Outcome(call, version=marker, delete_marker=marker is not None)

    # --- tags ------------------------------------------------------------------------

    async def _op_get_tagging(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        version = self.store.get(bucket, key, call.version_id, check_sse_c=False)
        return Outcome(call, version=version)

    async def _op_put_tagging(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        tagging = tag_header(call.tags or ()) or None
        version = self.store.set_tagging(bucket, key, call.version_id, tagging)
        return Outcome(call, version=version)

    async def _op_delete_tagging(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        version = self.store.set_tagging(bucket, key, call.version_id, None)
        return Outcome(call, version=version)

    # --- multipart -------------------------------------------------------------------

    async def _op_create(self, call: Call, owner: str = "") -> Outcome:
        algorithm, full_object = _upload_checksum_kind(call.checksum)
        upload = self.store.create_upload(
            self._need(call.bucket, "bucket"),
            self._need(call.key, "key"),
            self._encrypted(call.attrs, call.sse_c_md5),
            sse_c_md5=call.sse_c_md5,
            checksum_algorithm=algorithm,
            checksum_full_object=full_object,
            owner=owner,
        )
        return Outcome(call, upload=upload)

    def _part_number(self, call: Call) -> int:
        if call.part_number is None:
            raise StoreError(400, "InvalidArgument", "Part number must be an integer")
        return call.part_number

    async def _op_upload_part(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        upload_id = self._need(call.upload_id, "upload id")
        upload = self.store.upload(bucket, key, upload_id)
        await self.pause(len(call.body))
        part = self.store.upload_part(
            bucket,
            key,
            upload_id,
            self._part_number(call),
            Content.real(call.body),
            sse_c_md5=call.sse_c_md5,
            content_md5=call.content_md5,
            checksum=_claimed(call.checksum),
        )
        return Outcome(call, part=part, upload=upload)

    async def _op_copy_part(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        upload_id = self._need(call.upload_id, "upload id")
        src = call.source
        assert src is not None
        first, last = call.copy_range if call.copy_range else (None, None)
        with self.store.copy_in_flight():
            upload = self.store.upload(bucket, key, upload_id)
            found = self._source(src, owner)
            if call.copy_range_header is not None:
                first, last = parse_get_range(call.copy_range_header, found.size) or (0, -1)
            if self.clamp_copy_range and last is not None and last >= found.size:
                last = found.size - 1  # OBS copies up to the end instead of refusing
            nbytes = found.size if first is None or last is None else max(last - first + 1, 0)
            await self.pause(nbytes)
            part = self.store.upload_part_copy(
                bucket,
                key,
                upload_id,
                self._part_number(call),
                src.bucket,
                src.key,
                src_version_id=src.version_id,
                first=first,
                last=last,
                if_match=src.if_match,
                if_none_match=src.if_none_match,
                src_sse_c_md5=src.sse_c_md5,
                sse_c_md5=call.sse_c_md5,
                range_min_source=self.range_min_source,
            )
        return Outcome(call, part=part, upload=upload, source_version=found)

    async def _op_complete(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        upload_id = self._need(call.upload_id, "upload id")
        if call.if_match is not None or call.if_none_match is not None:
            self.store.upload(bucket, key, upload_id)  # NoSuchUpload comes first
            self._check_write(call, bucket, key)
        version = self.store.complete(
            bucket,
            key,
            upload_id,
            call.parts,
            part_checksums=dict(call.part_checksums),
            claimed=call.checksum.value if call.checksum else None,
        )
        return Outcome(call, version=version, checksums=_write_checksums(version.checksum))

    async def _op_abort(self, call: Call, owner: str = "") -> Outcome:
        self.store.abort(
            self._need(call.bucket, "bucket"),
            self._need(call.key, "key"),
            self._need(call.upload_id, "upload id"),
        )
        return Outcome(call)

    async def _op_list_parts(self, call: Call, owner: str = "") -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        upload_id = self._need(call.upload_id, "upload id")
        parts, truncated, next_marker = self.store.list_parts(
            bucket, key, upload_id, marker=call.marker, max_parts=call.max_items
        )
        upload = self.store.upload(bucket, key, upload_id)
        return Outcome(
            call,
            upload=upload,
            parts=tuple(parts),
            truncated=truncated,
            next_marker=next_marker,
            total_parts=len(upload.parts),
        )


def part_bounds(version: ObjectVersion, number: int) -> tuple[int, int]:
    """The (first, last) bytes of part ``number`` of an object; 416 for a missing part."""
    sizes = version.part_sizes or (version.size,)
    if not 1 <= number <= len(sizes):
        raise StoreError(416, "InvalidPartNumber", "The requested partnumber is not satisfiable")
    first = sum(sizes[: number - 1])
    return first, first + sizes[number - 1] - 1


def _copy_attrs(call: Call, source: ObjectAttributes) -> ObjectAttributes:
    """CopyObject's attributes: metadata by the directive, tags by theirs, and storage
    class and SSE from the request (never the source's, as S3 does)."""
    asked = call.attrs or ObjectAttributes()
    base = asked if call.replace_attrs else source
    return replace(
        base,
        tagging=source.tagging if call.copy_tags else asked.tagging,
        storage_class=asked.storage_class,
        sse=asked.sse,
        sse_kms_key_id=asked.sse_kms_key_id,
    )


def _upload_checksum_kind(request: ChecksumRequest | None) -> tuple[str | None, bool]:
    """(algorithm, full object) of a CreateMultipartUpload, after S3's combination rules."""
    if request is None:
        return None, False
    algorithm = request.algorithm
    full = request.full_object or algorithm in FULL_OBJECT_ONLY
    if full and algorithm not in CRC_ALGORITHMS:
        raise StoreError(
            400,
            "InvalidRequest",
            f"The FULL_OBJECT checksum type cannot be used with the {algorithm} algorithm.",
        )
    return algorithm, full


def _claimed(request: ChecksumRequest | None) -> StoredChecksum | None:
    if request is None or request.value is None:
        return None
    return StoredChecksum(request.algorithm, request.value)


def _check_content_md5(given: str | None, content: Content) -> None:
    """A PUT's Content-MD5 must be its body's (``BadDigest``), as every service checks."""
    if given is not None and given != base64.b64encode(content.md5()).decode():
        raise StoreError(
            400, "BadDigest", "The Content-MD5 you specified did not match what we received."
        )


def _verified_checksum(request: ChecksumRequest | None, content: Content) -> StoredChecksum | None:
    """The checksum a PUT stores: computed, and compared with the claimed one (BadDigest)."""
    if request is None:
        return None
    value = content_checksum(request.algorithm, content)
    if request.value is not None and request.value != value:
        raise bad_digest(request.algorithm)
    return StoredChecksum(request.algorithm, value)


def _write_checksums(checksum: StoredChecksum | None) -> tuple[tuple[str, str], ...]:
    return () if checksum is None else ((checksum.algorithm, checksum.value),)


def _read_checksums(call: Call, version: ObjectVersion) -> tuple[tuple[str, str], ...]:
    """What GET/HEAD with ``checksum-mode: ENABLED`` reports (a part's own when asked)."""
    checksum = version.checksum
    if not call.checksum_mode or checksum is None:
        return ()
    if call.part_number is not None and version.part_checksums:
        index = call.part_number - 1
        if 0 <= index < len(version.part_checksums):
            return ((checksum.algorithm, version.part_checksums[index]),)
        return ()
    if call.part_number is not None and version.part_sizes and not checksum.full_object:
        return ()
    return ((checksum.algorithm, checksum.value),)
