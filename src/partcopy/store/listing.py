"""Listing a bucket as S3 does: key order, prefix, delimiter (common prefixes), markers,
page size; objects (latest versions) or every version and delete marker.

One function per listing kind over a ``MemoryStore``; each dialect renders the page.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from partcopy.store.memory import MemoryStore
from partcopy.store.records import ObjectVersion

__all__ = ["ListQuery", "Listed", "list_objects", "list_versions"]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A listing request in any dialect's words: where to start, how much, how to group."""

    prefix: str = ""
    delimiter: str | None = None
    start_after: str | None = None
    """List after this key (v1 ``marker``, v2 ``start-after`` or the decoded token,
    ``key-marker`` for versions)."""
    version_id_marker: str | None = None
    max_keys: int = 1000
    version: int = 1
    """1: ListObjects (``marker``); 2: ListObjectsV2 (``continuation-token``)."""
    continuation_token: str | None = None
    encoding_type: str | None = None
    fetch_owner: bool = False


@dataclass(frozen=True, slots=True)
class Listed:
    """One page: versions (objects or delete markers) and common prefixes, in key order."""

    entries: tuple[tuple[ObjectVersion, bool], ...] = ()
    """(version, is latest); for versions newest first within a key."""
    prefixes: tuple[str, ...] = ()
    truncated: bool = False
    next_key: str | None = None
    """The last key or common prefix of a truncated page (where the next one starts)."""
    next_version_id: str | None = None


def _grouped(
    keys: list[str], q: ListQuery, inclusive: bool = False
) -> Iterator[tuple[str, str | None]]:
    """(key, None) or (common prefix, prefix) in order, after the marker (from it when
    ``inclusive``), under the prefix."""
    start = bisect.bisect_left(keys, q.prefix)
    if q.start_after is not None:
        find = bisect.bisect_left if inclusive else bisect.bisect_right
        start = max(start, find(keys, q.start_after))
    last_prefix: str | None = None
    for key in keys[start:]:
        if not key.startswith(q.prefix):
            break
        if q.delimiter:
            cut = key.find(q.delimiter, len(q.prefix))
            if cut >= 0:
                common = key[: cut + len(q.delimiter)]
                if common == last_prefix or (
                    q.start_after is not None
                    and (common < q.start_after or (common == q.start_after and not inclusive))
                ):
                    continue
                last_prefix = common
                yield common, common
                continue
        yield key, None


def list_objects(store: MemoryStore, bucket: str, q: ListQuery) -> Listed:
    """One page of the latest versions (delete markers hidden) and common prefixes."""
    entries: list[tuple[ObjectVersion, bool]] = []
    prefixes: list[str] = []
    last: str | None = None
    for count, (name, common) in enumerate(_grouped(store.keys(bucket), q)):
        if count >= q.max_keys:
            return Listed(tuple(entries), tuple(prefixes), True, last)
        if common is not None:
            prefixes.append(common)
        else:
            version = store.current(bucket, name)
            assert version is not None
            entries.append((version, True))
        last = name
    return Listed(tuple(entries), tuple(prefixes))


def list_versions(store: MemoryStore, bucket: str, q: ListQuery) -> Listed:
    """One page of every version and delete marker, newest first within each key."""
    entries: list[tuple[ObjectVersion, bool]] = []
    prefixes: list[str] = []
    count = 0
    last: tuple[str, str | None] | None = None
    keys = store.version_keys(bucket)
    marker_key, marker_version = q.start_after, q.version_id_marker
    # with a version-id marker the listing resumes inside marker_key, after that version
    for name, common in _grouped(keys, q, inclusive=bool(marker_version)):
        if common is not None:
            if count >= q.max_keys:
                return _page(entries, prefixes, last)
            prefixes.append(common)
            count += 1
            last = (common, None)
            continue
        versions = store.versions(bucket, name)[::-1]
        if name == marker_key and marker_version:
            ids = [v.version_id for v in versions]
            versions = versions[ids.index(marker_version) + 1 :] if marker_version in ids else []
        latest = versions[0] if versions else None
        if name == marker_key and marker_version:
            latest = store.versions(bucket, name)[-1]
        for version in versions:
            if count >= q.max_keys:
                return _page(entries, prefixes, last)
            entries.append((version, version is latest))
            count += 1
            last = (name, version.version_id)
    return Listed(tuple(entries), tuple(prefixes))


def _page(
    entries: list[tuple[ObjectVersion, bool]],
    prefixes: list[str],
    last: tuple[str, str | None] | None,
) -> Listed:
    key, version_id = last if last is not None else (None, None)
    return Listed(tuple(entries), tuple(prefixes), True, key, version_id)
