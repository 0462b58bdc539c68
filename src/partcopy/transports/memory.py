"""``MemoryTransport``: the Transport protocol straight over a ``MemoryStore`` (no HTTP).

It raises what a wire transport would (the typed ``ServiceError`` its provider row maps
the store's status and code to) so engine tests run against real multipart rules at
memory speed.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import TypeVar

from partcopy.checksums import COMBINABLE, ObjectChecksum, parse_algorithm
from partcopy.errors import ServiceError, UsageError
from partcopy.providers import (
    S3_ERRORS,
    ErrorCodes,
    PartLimits,
    Provider,
    default_provider,
    get_provider,
)
from partcopy.store import listing as store_listing
from partcopy.store.checksums import content_checksum
from partcopy.store.data import Content
from partcopy.store.listing import ListQuery
from partcopy.store.memory import MemoryStore, ObjectVersion, StoreError, bad_digest, quote_etag
from partcopy.store.records import StoredChecksum
from partcopy.transports.base import (
    BucketInfo,
    BucketsPage,
    CompleteChecksums,
    CompleteResult,
    CopySource,
    Dialect,
    ListedObject,
    ObjectAttributes,
    ObjectInfo,
    ObjectsPage,
    PartInfo,
    PartResult,
    PartsPage,
    SSECustomerKey,
    UploadInfo,
    UploadsPage,
)
from partcopy.transports.errormap import service_error

__all__ = ["MemoryTransport", "memory_provider", "store_error"]

T = TypeVar("T")


def store_error(exc: StoreError, operation: str, codes: ErrorCodes = S3_ERRORS) -> ServiceError:
    """The typed ``ServiceError`` a wire transport would raise for this refusal."""
    return service_error(
        exc.status, exc.code, exc.message, codes=codes, request_id="memory", operation=operation
    )


def memory_provider(dialect: Dialect, profile: str | PartLimits | None) -> Provider:
    """The row whose store behaviour a memory store of ``dialect`` under ``profile`` has:
    the named row when it speaks ``dialect``, else the dialect's own (custom limits)."""
    if isinstance(profile, str):
        row = get_provider(profile)
        if row.dialect == dialect:
            return row
    return default_provider(dialect)


def _md5(key: SSECustomerKey | None) -> str | None:
    return None if key is None else key.key_md5_b64


def _checksum(version: ObjectVersion) -> ObjectChecksum | None:
    stored = version.checksum
    if stored is None:
        return None
    return ObjectChecksum(
        parse_algorithm(stored.algorithm),
        stored.value,
        "FULL_OBJECT" if stored.full_object else "COMPOSITE",
        None if stored.full_object else len(version.part_sizes) or None,
    )


def _info(bucket: str, version: ObjectVersion, checksum_mode: bool = False) -> ObjectInfo:
    return ObjectInfo(
        bucket=bucket,
        key=version.key,
        size=version.size,
        etag=quote_etag(version.etag),
        version_id=None if version.version_id == "null" else version.version_id,
        last_modified=version.last_modified,
        attributes=version.attrs,
        parts_count=version.parts_count,
        checksum=_checksum(version) if checksum_mode else None,
    )


class MemoryTransport:
    """A ``Transport`` over ``store`` speaking ``dialect`` under ``profile``'s limits."""

    def __init__(
        self,
        store: MemoryStore,
        dialect: Dialect = "s3",
        profile: str | PartLimits | None = None,
    ) -> None:
        self.store = store
        self._dialect: Dialect = dialect
        self.provider = memory_provider(dialect, profile)
        if isinstance(profile, PartLimits):
            self.limits = profile
        else:
            self.limits = self.provider.limits if profile is None else get_provider(profile).limits
        self._range_min = self.provider.range_copy_floor
        self._codes = self.provider.errors

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def _check_source(self, source: CopySource) -> None:
        if not self.provider.quirks.version_ids and source.version_id is not None:
            raise UsageError(
                f"{self.provider.name} does not support version ids ({source.version_id!r})"
            )

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except StoreError as exc:
            raise store_error(exc, operation, self._codes) from exc

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
        version = self._call(
            "head", lambda: self.store.get(bucket, key, version_id, sse_c_md5=_md5(sse_c))
        )
        info = _info(bucket, version, checksum_mode)
        if part_number is None:
            return info
        sizes = version.part_sizes or (version.size,)
        if not 1 <= part_number <= len(sizes):
            raise service_error(
                416,
                "InvalidPartNumber",
                "The requested partnumber is not satisfiable",
                request_id="memory",
                operation="head",
            )
        # S3: one part's size; the count only for an object uploaded in parts.
        return replace(
            info,
            size=sizes[part_number - 1],
            parts_count=len(version.part_sizes) if version.part_sizes else None,
        )

    async def get_tagging(self, bucket: str, key: str, *, version_id: str | None = None) -> str:
        version = self._call("get_tagging", lambda: self.store.get(bucket, key, version_id))
        return version.attrs.tagging or ""

    async def create_multipart(self, bucket: str, key: str, attrs: ObjectAttributes) -> str:
        upload = self._call(
            "create_multipart",
            lambda: self.store.create_upload(
                bucket,
                key,
                attrs,
                sse_c_md5=_md5(attrs.sse_c),
                limits=self.limits,
                checksum_algorithm=attrs.checksum_algorithm,
                checksum_full_object=attrs.checksum_algorithm in COMBINABLE,
            ),
        )
        return upload.upload_id

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
        self._check_source(source)
        whole = source.is_whole(first, last)  # sent without a range, as the HTTP transport

        def run() -> PartResult:
            with self.store.copy_in_flight():
                part = self.store.upload_part_copy(
                    bucket,
                    key,
                    upload_id,
                    part_number,
                    source.bucket,
                    source.key,
                    src_version_id=source.version_id,
                    first=None if whole else first,
                    last=None if whole else last,
                    if_match=source.if_match,
                    src_sse_c_md5=_md5(source.sse_c),
                    sse_c_md5=_md5(sse_c),
                    range_min_source=self._range_min,
                )
            return PartResult(part_number, quote_etag(part.etag), 200, checksum=part.checksum)

        return self._call("upload_part_copy", run)

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
        data = await _whole_body(body, size, "upload_part")
        part = self._call(
            "upload_part",
            lambda: self.store.upload_part(
                bucket,
                key,
                upload_id,
                part_number,
                Content.real(data),
                sse_c_md5=_md5(sse_c),
                content_md5=content_md5,
                checksum=None if checksum is None else StoredChecksum(*checksum),
            ),
        )
        return PartResult(part_number, quote_etag(part.etag), 200, checksum=part.checksum)

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
        data = await _whole_body(body, size, "put_object")
        content = Content.real(data)
        version = self._call(
            "put_object",
            lambda: self.store.put_object(
                bucket,
                key,
                content,
                replace(attrs, checksum_algorithm=None),
                sse_c_md5=_md5(sse_c or attrs.sse_c),
                checksum=_put_checks(content, content_md5, checksum, self.limits.single_max),
            ),
        )
        return CompleteResult(quote_etag(version.etag), 200, version_id=_vid(version))

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
        return self._get_range(bucket, key, first, last, version_id, if_match, sse_c)

    @asynccontextmanager
    async def _get_range(
        self,
        bucket: str,
        key: str,
        first: int,
        last: int,
        version_id: str | None,
        if_match: str | None,
        sse_c: SSECustomerKey | None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        version = self._call(
            "get_range",
            lambda: self.store.get(
                bucket, key, version_id, sse_c_md5=_md5(sse_c), if_match=if_match
            ),
        )
        content = version.content
        assert content is not None
        if first < 0 or first >= content.size or last < first:
            raise service_error(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
                request_id="memory",
                operation="get_range",
            )
        end = min(last, content.size - 1)

        async def chunks() -> AsyncIterator[bytes]:
            for chunk in content.chunks(first, end):
                yield chunk

        yield chunks()

    async def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        checksums: CompleteChecksums | None = None,
    ) -> CompleteResult:
        version = self._call(
            "complete",
            lambda: self.store.complete(
                bucket,
                key,
                upload_id,
                parts,
                part_checksums=None if checksums is None else dict(checksums.parts),
                claimed=None if checksums is None else checksums.full_object,
            ),
        )
        return CompleteResult(quote_etag(version.etag), 200, version_id=_vid(version))

    async def abort(self, bucket: str, key: str, upload_id: str) -> None:
        self._call("abort", lambda: self.store.abort(bucket, key, upload_id))

    async def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        marker: int | None = None,
        max_parts: int = 1000,
    ) -> PartsPage:
        parts, truncated, next_marker = self._call(
            "list_parts",
            lambda: self.store.list_parts(
                bucket, key, upload_id, marker=marker, max_parts=max_parts
            ),
        )
        infos = tuple(
            PartInfo(p.number, quote_etag(p.etag), p.size, p.last_modified, p.checksum)
            for p in parts
        )
        return PartsPage(infos, truncated, next_marker if truncated else None)

    async def copy_object(
        self,
        source: CopySource,
        bucket: str,
        key: str,
        attrs: ObjectAttributes | None,
    ) -> CompleteResult:
        self._check_source(source)
        if attrs is None and (source.bucket, source.key) != (bucket, key):
            # As on the wire: no directive copies Content-* and metadata, never the
            # storage class or the encryption (the bucket's defaults apply).
            found = self._call(
                "copy_object",
                lambda: self.store.get(
                    source.bucket, source.key, source.version_id, check_sse_c=False
                ),
            )
            attrs = replace(found.attrs, storage_class=None, sse=None, sse_kms_key_id=None)
        elif attrs is not None and attrs.tagging is None:
            # As on the wire: no tagging directive, so the store keeps the source's tags.
            found = self._call(
                "copy_object",
                lambda: self.store.get(
                    source.bucket, source.key, source.version_id, check_sse_c=False
                ),
            )
            attrs = replace(attrs, tagging=found.attrs.tagging)
        version = self._call(
            "copy_object",
            lambda: self.store.copy_object(
                source.bucket,
                source.key,
                bucket,
                key,
                attrs,
                src_version_id=source.version_id,
                if_match=source.if_match,
                src_sse_c_md5=_md5(source.sse_c),
                sse_c_md5=_md5(attrs.sse_c) if attrs is not None else None,
                max_size=self.limits.single_max,
                checksum_algorithm=attrs.checksum_algorithm if attrs is not None else None,
            ),
        )
        return CompleteResult(
            quote_etag(version.etag), 200, version_id=_vid(version), sse=version.attrs.sse
        )

    async def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = 1000,
    ) -> UploadsPage:
        uploads, truncated = self._call(
            "list_uploads",
            lambda: self.store.list_uploads(
                bucket,
                prefix=prefix,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=max_uploads,
            ),
        )
        infos = tuple(UploadInfo(u.bucket, u.key, u.upload_id, u.initiated) for u in uploads)
        last = infos[-1] if truncated and infos else None
        return UploadsPage(
            infos,
            truncated,
            last.key if last else None,
            last.upload_id if last else None,
        )

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
        query = ListQuery(
            prefix=prefix,
            delimiter=delimiter,
            start_after=token if token is not None else start_after,
            max_keys=max_keys,
        )
        page = self._call(
            "list_objects", lambda: store_listing.list_objects(self.store, bucket, query)
        )
        objects = tuple(
            ListedObject(
                v.key,
                v.size,
                quote_etag(v.etag),
                v.last_modified,
                v.attrs.storage_class or "STANDARD",
            )
            for v, _ in page.entries
        )
        return ObjectsPage(objects, page.prefixes, page.truncated, page.next_key)

    async def delete_object(self, bucket: str, key: str, version_id: str | None = None) -> None:
        self._call("delete_object", lambda: self.store.delete_object(bucket, key, version_id))

    async def list_buckets(
        self, *, token: str | None = None, max_buckets: int = 1000
    ) -> BucketsPage:
        """The store's buckets in name order, ``max_buckets`` a page, after ``token``."""
        after = [
            BucketInfo(name, created)
            for name, created, _ in self.store.buckets()
            if token is None or name > token
        ]
        page = tuple(after[:max_buckets])
        more = len(after) > max_buckets and bool(page)
        return BucketsPage(page, page[-1].name if more else None)

    async def aclose(self) -> None:
        """Nothing to release: the store belongs to the caller."""


def _put_checks(
    content: Content, content_md5: str | None, checksum: tuple[str, str] | None, largest: int
) -> StoredChecksum | None:
    """What a store checks of a PUT before it writes (as on the wire): its size, its
    Content-MD5 and its claimed checksum (``BadDigest``); the checksum it then keeps."""
    if content.size > largest:
        raise StoreError(
            400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
        )
    if content_md5 is not None and content_md5 != base64.b64encode(content.md5()).decode():
        raise StoreError(
            400, "BadDigest", "The Content-MD5 you specified did not match what we received."
        )
    if checksum is None:
        return None
    algorithm, value = checksum
    if content_checksum(algorithm, content) != value:
        raise bad_digest(algorithm)
    return StoredChecksum(algorithm, value)


def _vid(version: ObjectVersion) -> str | None:
    return None if version.version_id == "null" else version.version_id


async def _whole_body(body: bytes | AsyncIterable[bytes], size: int, operation: str) -> bytes:
    """The request body as bytes; a 400 IncompleteBody when it is not ``size`` bytes long,
    as a store answers a body shorter or longer than its Content-Length."""
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    else:
        data = b"".join([chunk async for chunk in body])
    if len(data) != size:
        raise service_error(
            400,
            "IncompleteBody",
            f"You did not provide the number of bytes specified by the Content-Length "
            f"HTTP header ({len(data)} of {size})",
            request_id="memory",
            operation=operation,
        )
    return data
