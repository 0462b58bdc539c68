"""Flexible checksums of stored content (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).

The store computes a checksum only when a request names an algorithm, by streaming the
content through :mod:`partcopy.checksums` in bounded chunks (a virtual object is never
materialised whole), and caches it per content layout. Full-object checksums of
multipart objects combine the parts' CRCs (``combine_parts``) without re-reading a byte.
"""

from __future__ import annotations

import base64

from partcopy.checksums import (
    ALGORITHMS,
    COMBINABLE,
    Algorithm,
    Hasher,
    checksum_of,
    combine_parts,
    parse_algorithm,
)
from partcopy.store.data import Content
from partcopy.store.records import StoreError

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "FULL_OBJECT_ONLY",
    "checksum_algorithm",
    "combine_full_object",
    "composite",
    "content_checksum",
]

CHECKSUM_ALGORITHMS: tuple[Algorithm, ...] = ALGORITHMS
FULL_OBJECT_ONLY = frozenset({"CRC64NVME"})
"""Algorithms S3 computes over the whole object only (never composite)."""
CHUNK = 1024 * 1024
_CACHE: dict[tuple[str, bytes], str] = {}
_CACHE_MAX = 4096


def checksum_algorithm(name: str) -> Algorithm:
    """The canonical name of a requested algorithm, or 400 ``InvalidRequest``."""
    try:
        return parse_algorithm(name)
    except ValueError:
        raise StoreError(
            400, "InvalidRequest", f"Checksum algorithm {name[:40]!r} is not supported"
        ) from None


def _hash(algorithm: Algorithm, content: Content) -> str:
    hasher = Hasher(algorithm)
    for chunk in content.chunks(0, content.size - 1, CHUNK):
        hasher.update(chunk)
    return hasher.value()


def content_checksum(algorithm: str, content: Content) -> str:
    """The wire-form checksum of ``content`` (virtual layouts hashed once, then cached)."""
    name = checksum_algorithm(algorithm)
    if content.is_real:
        return _hash(name, content)
    layout = b"".join(seg.describe() for seg in content.segments)
    value = _CACHE.get((name, layout))
    if value is None:
        value = _hash(name, content)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[(name, layout)] = value
    return value


def composite(algorithm: str, part_values: list[str]) -> str:
    """S3's composite checksum: the checksum of the parts' binary checksums, ``-N``."""
    joined = b"".join(base64.b64decode(v) for v in part_values)
    return f"{checksum_of(checksum_algorithm(algorithm), joined)}-{len(part_values)}"


def combine_full_object(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """The full-object CRC of parts given as (wire CRC, length), without their bytes."""
    if algorithm not in COMBINABLE:
        raise StoreError(
            400, "InvalidRequest", f"{algorithm} does not support the FULL_OBJECT checksum type"
        )
    return combine_parts(algorithm, parts)
