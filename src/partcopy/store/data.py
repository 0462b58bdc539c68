"""Object content as segments: real bytes or slices of a seeded pattern.

A virtual object of any size is one ``Pattern`` segment: its bytes are computed from the
absolute offset, so a 1 TiB object costs no memory, and copying ranges of it into parts
and completing yields a composite that still costs O(parts) (adjacent slices merge).
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["PATTERN_BLOCK", "Content", "Pattern", "Real", "Segment", "pattern_bytes"]

PATTERN_BLOCK = 64 * 1024
"""Pattern period: every block is a seeded random base with its own (seed, index) header,
so a range read from the wrong offset never matches, whatever the shift."""

_HEADER = struct.Struct(">QQ")
_MASK64 = (1 << 64) - 1


@lru_cache(maxsize=64)
def _base_block(seed: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < PATTERN_BLOCK:
        out += hashlib.sha512(f"partcopy-pattern:{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:PATTERN_BLOCK])


def _block(seed: int, index: int) -> bytes:
    base = _base_block(seed)
    return _HEADER.pack(seed & _MASK64, index & _MASK64) + base[_HEADER.size :]


def pattern_bytes(seed: int, offset: int, length: int) -> bytes:
    """The ``length`` pattern bytes of ``seed`` starting at absolute ``offset``."""
    if length <= 0:
        return b""
    first_block = offset // PATTERN_BLOCK
    last_block = (offset + length - 1) // PATTERN_BLOCK
    data = b"".join(_block(seed, i) for i in range(first_block, last_block + 1))
    start = offset - first_block * PATTERN_BLOCK
    return data[start : start + length]


@dataclass(frozen=True, slots=True)
class Real:
    """Bytes held in memory."""

    data: bytes = field(repr=False)

    @property
    def length(self) -> int:
        return len(self.data)

    def sub(self, start: int, length: int) -> Real:
        return Real(self.data[start : start + length])

    def read(self, start: int, length: int) -> bytes:
        return self.data[start : start + length]

    def describe(self) -> bytes:
        return b"R" + hashlib.md5(self.data).digest()


@dataclass(frozen=True, slots=True)
class Pattern:
    """``length`` bytes of the pattern of ``seed`` from absolute ``offset``."""

    seed: int
    offset: int
    length: int

    def sub(self, start: int, length: int) -> Pattern:
        return Pattern(self.seed, self.offset + start, length)

    def read(self, start: int, length: int) -> bytes:
        return pattern_bytes(self.seed, self.offset + start, length)

    def describe(self) -> bytes:
        return f"P{self.seed}:{self.offset}:{self.length};".encode()


Segment = Real | Pattern


def _merge(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Drop empty segments and join pattern slices that continue each other."""
    out: list[Segment] = []
    for seg in segments:
        if seg.length == 0:
            continue
        prev = out[-1] if out else None
        if (
            isinstance(seg, Pattern)
            and isinstance(prev, Pattern)
            and prev.seed == seg.seed
            and prev.offset + prev.length == seg.offset
        ):
            out[-1] = Pattern(prev.seed, prev.offset, prev.length + seg.length)
        else:
            out.append(seg)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Content:
    """An object's bytes as segments, with O(log n) range slicing."""

    segments: tuple[Segment, ...]
    starts: tuple[int, ...] = field(repr=False)
    size: int

    @classmethod
    def of(cls, segments: Iterable[Segment]) -> Content:
        merged = _merge(segments)
        starts: list[int] = []
        pos = 0
        for seg in merged:
            starts.append(pos)
            pos += seg.length
        return cls(merged, tuple(starts), pos)

    @classmethod
    def real(cls, data: bytes) -> Content:
        return cls.of([Real(bytes(data))])

    @classmethod
    def virtual(cls, seed: int, size: int) -> Content:
        return cls.of([Pattern(seed, 0, size)])

    @classmethod
    def concat(cls, parts: Iterable[Content]) -> Content:
        return cls.of(seg for part in parts for seg in part.segments)

    @property
    def is_real(self) -> bool:
        return all(isinstance(seg, Real) for seg in self.segments)

    def _pieces(self, first: int, last: int) -> Iterator[tuple[Segment, int, int]]:
        """(segment, start inside it, length) covering ``first..last`` inclusive."""
        if first > last:
            return
        index = bisect.bisect_right(self.starts, first) - 1
        pos = first
        while pos <= last and index < len(self.segments):
            seg = self.segments[index]
            start = pos - self.starts[index]
            length = min(seg.length - start, last - pos + 1)
            yield seg, start, length
            pos += length
            index += 1

    def slice(self, first: int, last: int) -> Content:
        """Bytes ``first..last`` (inclusive) as new content, without copying patterns."""
        segments = self.segments
        if len(segments) == 1 and 0 <= first <= last < self.size:
            # one segment (every virtual object, every part copy's source): no merging
            piece = segments[0].sub(first, last - first + 1)
            return Content((piece,), (0,), piece.length)
        return Content.of(
            seg.sub(start, length) for seg, start, length in self._pieces(first, last)
        )

    def read(self, first: int = 0, last: int | None = None) -> bytes:
        """The bytes ``first..last`` (inclusive; default to the end) materialised."""
        end = self.size - 1 if last is None else last
        return b"".join(seg.read(start, n) for seg, start, n in self._pieces(first, end))

    def chunks(self, first: int, last: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """Bytes ``first..last`` in pieces of at most ``chunk`` bytes."""
        pos = first
        while pos <= last:
            end = min(pos + chunk - 1, last)
            yield self.read(pos, end)
            pos = end + 1

    def md5(self) -> bytes:
        """MD5 of the bytes when all are real; else a stable MD5 of the segment layout.

        Virtual content never hashes terabytes: its digest names the pattern slices, which
        is as distinct as the content itself.
        """
        if self.is_real:
            digest = hashlib.md5()
            for seg in self.segments:
                assert isinstance(seg, Real)
                digest.update(seg.data)
            return digest.digest()
        return hashlib.md5(b"".join(seg.describe() for seg in self.segments)).digest()
