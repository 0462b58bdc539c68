"""Dialect-neutral requests (``Call``) and their execution against the store.

Each wire adapter parses its dialect into a ``Call`` and renders the ``Outcome``; the
rules (limits, preconditions, SSE-C, versioning) live in the store, the latency model here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from partcopy.store.data import Content
from partcopy.store.memory import (
    MemoryStore,
    ObjectVersion,
    StoredPart,
    StoreError,
    Upload,
)
from partcopy.transports.base import ObjectAttributes

__all__ = ["Call", "Executor", "Outcome", "SourceRef", "parse_get_range"]


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A copy source as named on the wire, with its pinning conditions."""

    bucket: str
    key: str
    version_id: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
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
    get_range: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    attrs: ObjectAttributes | None = None
    replace_attrs: bool = True
    sse_c_md5: str | None = None
    content_md5: str | None = None
    body: bytes = field(default=b"", repr=False)
    parts: tuple[tuple[int, str], ...] = ()
    marker: int | None = None
    max_items: int = 1000
    prefix: str = ""
    key_marker: str | None = None
    upload_id_marker: str | None = None
    versioning: bool | None = None

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


Pause = Callable[[int], Awaitable[None]]


async def _no_pause(nbytes: int) -> None:
    return None


class Executor:
    """Runs calls against one store; ``pause(nbytes)`` models the time moving bytes takes."""

    def __init__(
        self,
        store: MemoryStore,
        *,
        pause: Pause = _no_pause,
        range_min_source: int = 0,
        clamp_copy_range: bool = False,
    ) -> None:
        self.store = store
        self.pause = pause
        self.range_min_source = range_min_source
        self.clamp_copy_range = clamp_copy_range

    def _need(self, value: str | None, what: str) -> str:
        if value is None or value == "":
            raise StoreError(400, "InvalidRequest", f"missing {what}")
        return value

    async def run(self, call: Call) -> Outcome:
        handler = getattr(self, f"_op_{call.op}", None)
        if handler is None:
            raise StoreError(501, "NotImplemented", f"{call.op} is not implemented")
        result: Outcome = await handler(call)
        return result

    async def _op_bucket(self, call: Call) -> Outcome:
        bucket = self._need(call.bucket, "bucket")
        if call.versioning is not None:
            self.store.set_versioning(bucket, call.versioning)
        else:
            self.store.create_bucket(bucket)
        return Outcome(call)

    async def _op_head_bucket(self, call: Call) -> Outcome:
        bucket = self._need(call.bucket, "bucket")
        return Outcome(call, versioning=self.store.get_versioning(bucket))

    async def _op_get_versioning(self, call: Call) -> Outcome:
        return await self._op_head_bucket(call)

    async def _op_head(self, call: Call) -> Outcome:
        version = self.store.get(
            self._need(call.bucket, "bucket"),
            self._need(call.key, "key"),
            call.version_id,
            sse_c_md5=call.sse_c_md5,
            if_match=call.if_match,
            if_none_match=call.if_none_match,
        )
        return Outcome(call, version=version)

    async def _op_get(self, call: Call) -> Outcome:
        outcome = await self._op_head(call)
        version = outcome.version
        assert version is not None and version.content is not None
        size = version.size
        chosen = parse_get_range(call.get_range, size)
        if chosen is None:
            await self.pause(size)
            return Outcome(call, version=version, content=version.content)
        first, last = chosen
        await self.pause(last - first + 1)
        return Outcome(
            call,
            version=version,
            content=version.content.slice(first, last),
            content_range=(first, last, size),
        )

    async def _op_put(self, call: Call) -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        await self.pause(len(call.body))
        version = self.store.put_object(
            bucket,
            key,
            Content.real(call.body),
            call.attrs,
            sse_c_md5=call.sse_c_md5,
        )
        return Outcome(call, version=version)

    async def _op_copy_object(self, call: Call) -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        src = call.source
        assert src is not None
        found = self.store.get(src.bucket, src.key, src.version_id, sse_c_md5=src.sse_c_md5)
        await self.pause(found.size)
        version = self.store.copy_object(
            src.bucket,
            src.key,
            bucket,
            key,
            call.attrs if call.replace_attrs else None,
            src_version_id=src.version_id,
            if_match=src.if_match,
            if_none_match=src.if_none_match,
            src_sse_c_md5=src.sse_c_md5,
            sse_c_md5=call.sse_c_md5,
        )
        return Outcome(call, version=version)

    async def _op_delete(self, call: Call) -> Outcome:
        marker = self.store.delete_object(
            self._need(call.bucket, "bucket"), self._need(call.key, "key"), call.version_id
        )
        return Outcome(call, version=marker, delete_marker=marker is not None)

    async def _op_create(self, call: Call) -> Outcome:
        upload = self.store.create_upload(
            self._need(call.bucket, "bucket"),
            self._need(call.key, "key"),
            call.attrs,
            sse_c_md5=call.sse_c_md5,
        )
        return Outcome(call, upload=upload)

    def _part_number(self, call: Call) -> int:
        if call.part_number is None:
            raise StoreError(400, "InvalidArgument", "Part number must be an integer")
        return call.part_number

    async def _op_upload_part(self, call: Call) -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        upload_id = self._need(call.upload_id, "upload id")
        self.store.upload(bucket, key, upload_id)
        await self.pause(len(call.body))
        part = self.store.upload_part(
            bucket,
            key,
            upload_id,
            self._part_number(call),
            Content.real(call.body),
            sse_c_md5=call.sse_c_md5,
            content_md5=call.content_md5,
        )
        return Outcome(call, part=part)

    async def _op_copy_part(self, call: Call) -> Outcome:
        bucket, key = self._need(call.bucket, "bucket"), self._need(call.key, "key")
        upload_id = self._need(call.upload_id, "upload id")
        src = call.source
        assert src is not None
        first, last = call.copy_range if call.copy_range else (None, None)
        with self.store.copy_in_flight():
            self.store.upload(bucket, key, upload_id)
            found = self.store.get(src.bucket, src.key, src.version_id, sse_c_md5=src.sse_c_md5)
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
        return Outcome(call, part=part)

    async def _op_complete(self, call: Call) -> Outcome:
        version = self.store.complete(
            self._need(call.bucket, "bucket"),
            self._need(call.key, "key"),
            self._need(call.upload_id, "upload id"),
            call.parts,
        )
        return Outcome(call, version=version)

    async def _op_abort(self, call: Call) -> Outcome:
        self.store.abort(
            self._need(call.bucket, "bucket"),
            self._need(call.key, "key"),
            self._need(call.upload_id, "upload id"),
        )
        return Outcome(call)

    async def _op_list_parts(self, call: Call) -> Outcome:
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

    async def _op_list_uploads(self, call: Call) -> Outcome:
        uploads, truncated = self.store.list_uploads(
            self._need(call.bucket, "bucket"),
            prefix=call.prefix,
            key_marker=call.key_marker,
            upload_id_marker=call.upload_id_marker,
            max_uploads=call.max_items,
        )
        return Outcome(call, uploads=tuple(uploads), truncated=truncated)

    async def _op_list_objects(self, call: Call) -> Outcome:
        bucket = self._need(call.bucket, "bucket")
        keys = [k for k in self.store.keys(bucket) if k.startswith(call.prefix)]
        if call.key_marker:
            keys = [k for k in keys if k > call.key_marker]
        page = keys[: max(call.max_items, 0)]
        objects = tuple(self.store.get(bucket, k) for k in page)
        return Outcome(call, objects=objects, truncated=len(keys) > len(page))
