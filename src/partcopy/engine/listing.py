"""Listing: the keys under a prefix as an async stream, one page in memory at a time.

``iter_listing`` pages through a transport's ``list_objects`` (ListObjectsV2, ListObjects
v1 or QingStor's GET Bucket) and yields :class:`~partcopy.transports.base.ListedObject`
entries, and :class:`ListedPrefix` "directories" of a delimited listing. Each request goes
through ``call`` (the copier's retries and endpoint limit). A store that says "truncated"
but gives no way on, or the same token twice, is a ``ProtocolError``: a listing never
stops early without saying so. ``ordered=True`` also refuses keys out of byte order,
which a merge of two listings (``sync``) relies on. ``iter_buckets`` pages through
ListBuckets the same way, refusing a token it has already followed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from partcopy.errors import ProtocolError
from partcopy.transports.base import BucketInfo, BucketsPage, ListedObject, ObjectsPage, Transport

__all__ = [
    "BUCKET_PAGE_SIZE",
    "PAGE_SIZE",
    "Call",
    "ListedPrefix",
    "iter_buckets",
    "iter_listing",
    "relative_key",
]

T = TypeVar("T")
Call = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]
"""Runs one listing request: ``await call("list_objects", fn)`` (retries, limits)."""
PAGE_SIZE = 1000
"""Keys per listing page: every dialect's maximum."""
BUCKET_PAGE_SIZE = 1000
"""Buckets per ListBuckets page where the dialect pages (S3 takes up to 10000, COS 2000)."""


@dataclass(frozen=True, slots=True)
class ListedPrefix:
    """A common prefix ("directory") of a delimited listing, e.g. ``photos/2024/``."""

    prefix: str


async def _direct(operation: str, fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()


def relative_key(key: str, prefix: str) -> str:
    """``key`` without ``prefix`` (the part that maps onto the destination prefix)."""
    return key[len(prefix) :] if key.startswith(prefix) else key


async def iter_listing(
    transport: Transport,
    bucket: str,
    prefix: str = "",
    *,
    delimiter: str | None = None,
    page_size: int = PAGE_SIZE,
    call: Call | None = None,
    ordered: bool = False,
) -> AsyncIterator[ListedObject | ListedPrefix]:
    """Every object (and, with ``delimiter``, common prefix) under ``prefix``.

    Holds one page at a time, whatever the number of keys.
    """
    run = call or _direct
    token: str | None = None
    previous = ""
    listed = 0
    while True:

        def fetch(token: str | None = token) -> Awaitable[ObjectsPage]:
            return transport.list_objects(
                bucket, prefix=prefix, delimiter=delimiter, token=token, max_keys=page_size
            )

        page = await run("list_objects", fetch)
        entries: list[tuple[str, ListedObject | ListedPrefix]] = [(o.key, o) for o in page.objects]
        entries += [(p, ListedPrefix(p)) for p in page.prefixes]
        if delimiter:
            entries.sort(key=lambda e: e[0])
        for name, entry in entries:
            if ordered and name <= previous:
                raise ProtocolError(
                    f"list_objects: {bucket}/{name!r} came after {previous!r}: the store "
                    "does not list in key order, which a sync needs",
                    operation="list_objects",
                )
            previous = name
            listed += 1
            yield entry
        if not page.is_truncated:
            return
        if not page.next_token or page.next_token == token:
            why = "no marker" if not page.next_token else f"the marker {page.next_token!r} again"
            raise ProtocolError(
                f"list_objects: the store said the listing of {bucket}/{prefix} goes on but "
                f"gave {why} after {listed} entries; stopping rather than guessing",
                operation="list_objects",
            )
        token = page.next_token


async def iter_buckets(
    transport: Transport,
    *,
    page_size: int = BUCKET_PAGE_SIZE,
    call: Call | None = None,
) -> AsyncIterator[BucketInfo]:
    """Every bucket the transport's credentials own, page by page as the store pages.

    A token the listing has already followed is a ``ProtocolError``: a store that loops
    would otherwise be listed forever.
    """
    run = call or _direct
    token: str | None = None
    followed: set[str] = set()
    listed = 0
    while True:

        def fetch(token: str | None = token) -> Awaitable[BucketsPage]:
            return transport.list_buckets(token=token, max_buckets=page_size)

        page: BucketsPage = await run("list_buckets", fetch)
        for bucket in page.buckets:
            listed += 1
            yield bucket
        if page.next_token is None:
            return
        if page.next_token in followed or page.next_token == "":
            raise ProtocolError(
                f"list_buckets: the store gave the page token {page.next_token!r} again "
                f"after {listed} buckets; stopping rather than listing forever",
                operation="list_buckets",
            )
        followed.add(page.next_token)
        token = page.next_token
