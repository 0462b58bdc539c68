"""Orphaned multipart uploads: list and abort the incomplete uploads under a prefix.

A killed copy leaves its upload open, and the store bills its parts until somebody aborts
it. These helpers page through ListMultipartUploads with any ``Transport`` (every
dialect), then abort what is old enough. The listing is read to the end before the first
abort, so aborting never shifts the pages being read.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import anyio

from partcopy.errors import PartcopyError, UploadNotFound, UsageError
from partcopy.logs import get_logger
from partcopy.transports.base import Transport, UploadInfo
from partcopy.urls import SCHEMES, parse_url

if TYPE_CHECKING:
    from partcopy.engine.retry import Retrier

T = TypeVar("T")


async def _once(retrier: Retrier | None, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
    """``fn()`` under ``retrier`` (transient failures retried), or once without one."""
    return await (fn() if retrier is None else retrier.call(operation, fn))


__all__ = [
    "AbortOutcome",
    "PrefixLocation",
    "abort_upload",
    "abort_uploads",
    "iter_uploads",
    "list_uploads",
    "parse_prefix_url",
    "split_by_age",
]

_log = get_logger("partcopy.uploads")

_MAX_PAGES = 100_000
"""A bound on ListMultipartUploads pages, so a store that always says "truncated" with
the same markers cannot loop forever."""


@dataclass(frozen=True, slots=True)
class PrefixLocation:
    """A bucket and a key prefix (``s3://bucket`` or ``s3://bucket/some/prefix``)."""

    scheme: str
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}"


def parse_prefix_url(text: str) -> PrefixLocation:
    """Parse ``scheme://bucket[/prefix]``; ``UsageError`` naming the value when invalid."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise UsageError(f"invalid location {text!r}: expected {known} followed by a bucket")
    bucket, _, prefix = rest.partition("/")
    if "?" in prefix:
        raise UsageError(f"invalid location {text!r}: a prefix takes no query")
    # parse_url holds the bucket-name rules; a placeholder key lets it check a bare bucket.
    try:
        parse_url(f"{scheme}://{bucket}/{prefix or '-'}")
    except UsageError as exc:
        raise UsageError(str(exc).replace(f"{scheme}://{bucket}/-", text)) from None
    return PrefixLocation(scheme, bucket, prefix)


async def iter_uploads(
    transport: Transport,
    bucket: str,
    prefix: str = "",
    *,
    page_size: int = 1000,
    retrier: Retrier | None = None,
) -> AsyncIterator[UploadInfo]:
    """Every incomplete upload under ``prefix``, page by page (each page's request under
    ``retrier``, when given).

    A truncated page that gives no way on (no markers, no uploads, or the markers just
    sent) ends the listing with a warning that says how many uploads were seen.
    """
    key_marker: str | None = None
    upload_id_marker: str | None = None
    seen = 0
    for _ in range(_MAX_PAGES):
        page = await _once(
            retrier,
            "list_uploads",
            functools.partial(
                transport.list_uploads,
                bucket,
                prefix=prefix,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=page_size,
            ),
        )
        for upload in page.uploads:
            seen += 1
            yield upload
        if not page.is_truncated:
            return
        markers = page.continuation()
        if markers is None or markers == (key_marker, upload_id_marker):
            _log.warning(
                "uploads listing incomplete: the store said truncated but gave no next marker",
                bucket=bucket,
                prefix=prefix,
                seen=seen,
            )
            return
        key_marker, upload_id_marker = markers
    _log.warning(
        "uploads listing incomplete: page limit reached",
        bucket=bucket,
        prefix=prefix,
        seen=seen,
        pages=_MAX_PAGES,
    )


async def list_uploads(
    transport: Transport,
    bucket: str,
    prefix: str = "",
    *,
    page_size: int = 1000,
    retrier: Retrier | None = None,
) -> list[UploadInfo]:
    """Every incomplete upload under ``prefix`` (all pages), in the store's order."""
    pages = iter_uploads(transport, bucket, prefix, page_size=page_size, retrier=retrier)
    return [u async for u in pages]


@dataclass(frozen=True, slots=True)
class AbortOutcome:
    """What ``abort_uploads`` did: aborted, left alone (too young), and failed aborts."""

    aborted: tuple[UploadInfo, ...]
    kept: tuple[UploadInfo, ...]
    failed: tuple[tuple[UploadInfo, str], ...]


def _old_enough(upload: UploadInfo, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    if upload.initiated is None:
        return False  # an upload of unknown age is never proven old
    initiated = upload.initiated
    if initiated.tzinfo is None:
        initiated = initiated.replace(tzinfo=UTC)
    return initiated <= cutoff


def split_by_age(
    uploads: list[UploadInfo], older_than: float | None, *, now: datetime | None = None
) -> tuple[list[UploadInfo], list[UploadInfo]]:
    """(uploads initiated at least ``older_than`` seconds ago, the younger ones).

    ``None`` selects every upload; an upload of unknown age is never proven old.
    """
    if older_than is not None and older_than < 0:
        raise UsageError(f"invalid age {older_than!r}: must not be negative")
    cutoff = None
    if older_than is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=older_than)
    old: list[UploadInfo] = []
    young: list[UploadInfo] = []
    for upload in uploads:
        (old if _old_enough(upload, cutoff) else young).append(upload)
    return old, young


async def abort_uploads(
    transport: Transport,
    bucket: str,
    prefix: str = "",
    *,
    older_than: float | None = None,
    now: datetime | None = None,
    page_size: int = 1000,
    concurrency: int = 16,
    retrier: Retrier | None = None,
) -> AbortOutcome:
    """Abort every upload under ``prefix`` initiated at least ``older_than`` seconds ago.

    With ``older_than=None`` every upload is aborted. A failed abort is reported, not
    raised, so one stubborn upload does not stop the rest. Up to ``concurrency`` aborts
    are in flight at once; the outcome lists uploads in listing order. With ``retrier``
    each request is retried as a copy's are.
    """
    split_by_age([], older_than)  # validates the age before any request
    if concurrency < 1:
        raise UsageError(f"invalid concurrency {concurrency!r}: must be at least 1")
    uploads = await list_uploads(transport, bucket, prefix, page_size=page_size, retrier=retrier)
    old, kept = split_by_age(uploads, older_than, now=now)
    errors: list[str | None] = [None] * len(old)
    limiter = anyio.CapacityLimiter(concurrency)

    async def abort(index: int, upload: UploadInfo) -> None:
        async with limiter:
            errors[index] = await _abort_one(transport, bucket, upload, retrier)

    async with anyio.create_task_group() as tg:
        for index, upload in enumerate(old):
            tg.start_soon(abort, index, upload)
    aborted = tuple(u for u, e in zip(old, errors, strict=True) if e is None)
    failed = tuple((u, e) for u, e in zip(old, errors, strict=True) if e is not None)
    return AbortOutcome(aborted, tuple(kept), failed)


async def abort_upload(
    transport: Transport,
    bucket: str,
    key: str,
    upload_id: str,
    *,
    retrier: Retrier | None = None,
) -> AbortOutcome:
    """Abort the one upload ``upload_id`` of ``key`` (as ``aws s3api
    abort-multipart-upload`` does). An id the store does not know (a typo, or an upload
    already completed or aborted) is ``UploadNotFound``, never reported as aborted."""
    upload = UploadInfo(bucket, key, upload_id)
    try:
        await _once(retrier, "abort", lambda: transport.abort(bucket, key, upload_id))
    except UploadNotFound as exc:
        raise UploadNotFound(
            exc.status,
            exc.code,
            f"no upload {upload_id!r} of {key!r} in bucket {bucket!r}: already completed or "
            "aborted, or not this key's ('partcopy uploads list' shows them)",
            request_id=exc.request_id,
            operation="abort",
        ) from exc
    except PartcopyError as exc:
        return AbortOutcome((), (), ((upload, f"{exc.kind}: {exc}"),))
    return AbortOutcome((upload,), (), ())


async def _abort_one(
    transport: Transport, bucket: str, upload: UploadInfo, retrier: Retrier | None = None
) -> str | None:
    """None when the upload is gone (aborted now, or already); else why it is not."""
    try:
        await _once(
            retrier,
            "abort",
            lambda: transport.abort(upload.bucket or bucket, upload.key, upload.upload_id),
        )
    except UploadNotFound:  # gone already (aborted or completed meanwhile)
        return None
    except PartcopyError as exc:
        return f"{exc.kind}: {exc}"
    return None
