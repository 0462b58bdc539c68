"""What a prefix copy or a sync must do, decided from listings alone (no request of its own).

``plan_copy`` turns a source listing into one :class:`CopyAction` per selected key.
``plan_sync`` merges two listings sorted by key (source and destination, each relative to
its prefix) in one pass, holding one entry of each: a key only in the source is copied, a
key on both sides is copied when it differs (see :func:`differs`), and, with ``delete``, a
key only in the destination is deleted. A deletion is decided only once the source listing
has moved past that key, so a failed source listing never deletes anything after it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from partcopy.engine.filters import KeyFilter
from partcopy.engine.listing import ListedPrefix
from partcopy.transports.base import ListedObject

__all__ = [
    "Action",
    "CompareMode",
    "CopyAction",
    "DeleteAction",
    "SameAction",
    "differs",
    "etags_comparable",
    "plan_copy",
    "plan_sync",
]

CompareMode = Literal["size", "etag", "mtime"]
COMPARE_MODES: tuple[CompareMode, ...] = ("size", "etag", "mtime")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART = re.compile(r"^[0-9a-f]{32}-(\d+)$")


@dataclass(frozen=True, slots=True)
class CopyAction:
    """Copy ``source`` to the destination prefix + ``relative``."""

    source: ListedObject
    relative: str


@dataclass(frozen=True, slots=True)
class SameAction:
    """``source`` is already at the destination (nothing to do)."""

    source: ListedObject
    relative: str


@dataclass(frozen=True, slots=True)
class DeleteAction:
    """Delete ``target``: a destination key the source does not have."""

    target: ListedObject
    relative: str


Action = CopyAction | SameAction | DeleteAction


def _etag(value: str | None) -> str:
    return (value or "").strip().strip('"').lower()


def etags_comparable(a: str | None, b: str | None) -> bool:
    """Whether equal ETags mean equal content: both plain MD5s, or both multipart ETags of
    the same part count. Only plain MD5s also prove a difference: two multipart ETags of
    the same count and size differ whenever the part boundaries do (8+8+4 MiB vs 7+7+6)."""
    x, y = _etag(a), _etag(b)
    if _MD5.match(x) and _MD5.match(y):
        return True
    mx, my = _MULTIPART.match(x), _MULTIPART.match(y)
    return mx is not None and my is not None and mx.group(1) == my.group(1)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def differs(source: ListedObject, target: ListedObject, compare: CompareMode = "mtime") -> bool:
    """Whether ``target`` must be replaced by ``source``.

    Sizes first; then ETags where they are comparable: equal ETags are the same object,
    different plain MD5s a different one (different multipart ETags prove nothing, their
    layouts may differ); otherwise ``compare``: ``size`` (equal sizes are the same),
    ``etag`` (ETags must match as they are), ``mtime`` (the source is newer than the
    destination; unknown times count as the same).
    """
    if source.size != target.size:
        return True
    x, y = _etag(source.etag), _etag(target.etag)
    if etags_comparable(x, y) and (x == y or _MD5.match(x)):
        return x != y
    if compare == "etag":
        return x != y
    if compare == "mtime" and source.last_modified and target.last_modified:
        return _utc(source.last_modified) > _utc(target.last_modified)
    return False


class _Selected:
    """A listing's objects under a prefix, filtered, as (relative key, entry) pairs."""

    def __init__(
        self, listing: AsyncIterable[ListedObject | ListedPrefix], prefix: str, keys: KeyFilter
    ) -> None:
        self._it = aiter(listing)
        self._prefix = prefix
        self._keys = keys

    async def next(self) -> tuple[str, ListedObject] | None:
        async for entry in self._it:
            if isinstance(entry, ListedPrefix) or not entry.key.startswith(self._prefix):
                continue
            relative = entry.key[len(self._prefix) :]
            if self._keys.keeps(relative):
                return relative, entry
        return None


async def plan_copy(
    source: AsyncIterable[ListedObject | ListedPrefix],
    prefix: str,
    keys: KeyFilter | None = None,
    *,
    max_objects: int | None = None,
) -> AsyncIterator[CopyAction]:
    """One ``CopyAction`` per selected source key, at most ``max_objects``."""
    selected = _Selected(source, prefix, keys or KeyFilter())
    count = 0
    while max_objects is None or count < max_objects:
        item = await selected.next()
        if item is None:
            return
        count += 1
        yield CopyAction(item[1], item[0])


async def plan_sync(
    source: AsyncIterable[ListedObject | ListedPrefix],
    source_prefix: str,
    target: AsyncIterable[ListedObject | ListedPrefix],
    target_prefix: str,
    keys: KeyFilter | None = None,
    *,
    compare: CompareMode = "mtime",
    delete: bool = False,
    max_objects: int | None = None,
) -> AsyncIterator[Action]:
    """Merge two key-ordered listings into copy, same and delete actions.

    ``max_objects`` bounds the source objects considered; the merge stops there, so no
    destination key past the last source key considered is ever deleted.
    """
    keys = keys or KeyFilter()
    src = _Selected(source, source_prefix, keys)
    dst = _Selected(target, target_prefix, keys)
    a, b = await src.next(), await dst.next()
    count = 0
    while a is not None and (max_objects is None or count < max_objects):
        if b is not None and b[0] < a[0]:
            if delete:
                yield DeleteAction(b[1], b[0])
            b = await dst.next()
            continue
        count += 1
        if b is not None and b[0] == a[0]:
            same = not differs(a[1], b[1], compare)
            yield SameAction(a[1], a[0]) if same else CopyAction(a[1], a[0])
            b = await dst.next()
        else:
            yield CopyAction(a[1], a[0])
        a = await src.next()
    if a is not None or not delete:
        return  # stopped by max_objects (what is left is not proven extra), or no deletes
    while b is not None:
        yield DeleteAction(b[1], b[0])
        b = await dst.next()
