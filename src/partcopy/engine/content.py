"""``--verify-content``: the source's and the destination's bytes compared by ranged GETs.

For stores where nothing else proves the bytes (part ETags that are not MD5s, no flexible
checksums). Each range is read from both sides at once and hashed as it streams (SHA-256),
so memory is one chunk per stream whatever the size: ``sample`` reads a few seeded ranges
(always the first and the last bytes), ``full`` reads everything in windows. The source is
pinned to the ETag (and version) the copy was made from.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from partcopy.engine.pool import run_pool
from partcopy.errors import ProtocolError, VerificationFailed

__all__ = [
    "FULL_WINDOW",
    "SAMPLE_LENGTH",
    "SAMPLE_RANGES",
    "ContentCheck",
    "RangeReader",
    "compare_content",
    "full_ranges",
    "sample_ranges",
]

SAMPLE_RANGES = 8
"""Ranges read by ``sample`` (the first and the last included)."""
SAMPLE_LENGTH = 1024 * 1024
"""Bytes per sampled range."""
FULL_WINDOW = 8 * 1024 * 1024
"""Bytes per range of ``full`` (one GET per side and window)."""

RangeReader = Callable[[int, int], AbstractAsyncContextManager[AsyncIterator[bytes]]]
"""Opens a stream of bytes ``first..last`` of one side."""


@dataclass(frozen=True, slots=True)
class ContentCheck:
    """What ``--verify-content`` compared: every range matched (a mismatch raises)."""

    mode: str
    ranges: int
    bytes: int
    seed: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "ranges": self.ranges, "bytes": self.bytes, "seed": self.seed}


def sample_ranges(
    size: int, seed: int, count: int = SAMPLE_RANGES, length: int = SAMPLE_LENGTH
) -> list[tuple[int, int]]:
    """``count`` ranges of ``length`` bytes (fewer when they would overlap), seeded: the
    first and last bytes always, the rest drawn uniformly; sorted, inclusive."""
    if size <= 0:
        return []
    if size <= count * length:
        return list(full_ranges(size, length))
    rng = random.Random(seed)
    starts = {0, size - length}
    while len(starts) < count:
        starts.add(rng.randrange(0, size - length + 1))
    merged: list[tuple[int, int]] = []
    for start in sorted(starts):
        last = start + length - 1
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((start, last))
    return merged


def full_ranges(size: int, window: int = FULL_WINDOW) -> Iterator[tuple[int, int]]:
    """Every byte of ``size``, in inclusive windows of ``window`` bytes."""
    for first in range(0, size, window):
        yield first, min(first + window, size) - 1


async def _digest(reader: RangeReader, first: int, last: int, side: str) -> str:
    digest = hashlib.sha256()
    seen = 0
    async with reader(first, last) as chunks:
        async for chunk in chunks:
            seen += len(chunk)
            digest.update(chunk)
    if seen != last - first + 1:
        raise ProtocolError(
            f"verify-content: the {side} sent {seen} bytes for {first}-{last}",
            operation="get_range",
        )
    return digest.hexdigest()


async def compare_content(
    mode: str,
    ranges: Iterable[tuple[int, int]],
    source: RangeReader,
    destination: RangeReader,
    *,
    workers: int,
    retried: Callable[[str, Callable[[], Awaitable[str]]], Awaitable[str]],
    seed: int | None = None,
) -> ContentCheck:
    """Compare each range's SHA-256 on both sides; ``VerificationFailed`` at the first
    difference (naming the bytes). ``retried`` runs one read under the retry policy."""
    todo = iter(ranges)
    spans: dict[int, tuple[int, int]] = {}
    total = [0, 0]

    def numbered() -> Iterator[int]:
        for index, span in enumerate(todo):
            spans[index] = span
            yield index

    async def check(index: int) -> None:
        first, last = spans.pop(index)
        left = await retried("verify_source", lambda: _digest(source, first, last, "source"))
        right = await retried(
            "verify_destination", lambda: _digest(destination, first, last, "destination")
        )
        if left != right:
            raise VerificationFailed(
                f"content differs: bytes {first}-{last} of the destination are not the "
                f"source's (SHA-256 {right[:16]}… vs {left[:16]}…)"
            )
        total[0] += 1
        total[1] += last - first + 1

    await run_pool(numbered(), check, workers)
    return ContentCheck(mode, total[0], total[1], seed)
