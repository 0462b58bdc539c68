"""Flexible checksums (S3's ``x-amz-checksum-*``): compute, stream, combine, encode.

Pure functions and small streaming hashers, no I/O. CRC64NVME and CRC32C come from
``awscrt`` (hardware-accelerated, GB/s) and CRC32 from zlib, with the table-driven
implementation here as the fallback when awscrt cannot be imported; SHA-256 and SHA-1 come
from hashlib.

The three CRCs are *combinable*: ``crc(A ‖ B)`` follows from ``crc(A)``, ``crc(B)`` and
``len(B)`` (:func:`crc_combine`), so parts checksummed on their own, in any order, give
the whole object's checksum without reading a byte again. That is what lets a relay
compute a full-object checksum of bytes it streams in parallel, and what lets a server-side
copy check the parts' checksums against the source's before Complete.

Values travel on the wire as base64 of the big-endian digest (``x-amz-checksum-crc64nvme:
<base64>``); a composite checksum of a multipart object carries ``-N`` after it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "ALGORITHMS",
    "COMBINABLE",
    "Algorithm",
    "ChecksumType",
    "Hasher",
    "ObjectChecksum",
    "PurePythonCRC",
    "checksum_of",
    "combine_parts",
    "composite_of",
    "crc_combine",
    "decode",
    "encode",
    "new_hasher",
    "parse_algorithm",
]

Algorithm = Literal["CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1"]
ChecksumType = Literal["FULL_OBJECT", "COMPOSITE"]

ALGORITHMS: tuple[Algorithm, ...] = ("CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1")
"""Every algorithm S3's flexible checksums name, strongest-to-combine first."""
COMBINABLE: frozenset[Algorithm] = frozenset({"CRC64NVME", "CRC32C", "CRC32"})
"""Algorithms whose part checksums combine into the whole object's (full-object type)."""


@dataclass(frozen=True, slots=True)
class _Crc:
    """A reflected CRC with all-ones init and final XOR (all three S3 CRCs are such)."""

    width: int
    poly: int
    """The reflected (LSB-first) polynomial."""


_CRCS: dict[str, _Crc] = {
    "CRC32": _Crc(32, 0xEDB88320),
    "CRC32C": _Crc(32, 0x82F63B78),
    "CRC64NVME": _Crc(64, 0x9A6C9329AC4BC9B5),
}


def parse_algorithm(name: str) -> Algorithm:
    """The algorithm ``name`` names (any case); ``ValueError`` naming it when unknown."""
    upper = name.strip().upper()
    for algorithm in ALGORITHMS:
        if algorithm == upper:
            return algorithm
    raise ValueError(f"unknown checksum algorithm {name!r}")


@dataclass(frozen=True, slots=True)
class ObjectChecksum:
    """An object's checksum as HEAD (checksum mode) reports it.

    ``value`` is the base64 digest without any ``-N``; ``parts`` is N for a composite
    checksum (the checksum of the parts' checksums), None for a full-object one.
    """

    algorithm: Algorithm
    value: str
    type: ChecksumType = "FULL_OBJECT"
    parts: int | None = None

    @property
    def full_object(self) -> bool:
        return self.type == "FULL_OBJECT"

    def __str__(self) -> str:
        suffix = f"-{self.parts}" if self.type == "COMPOSITE" and self.parts else ""
        return f"{self.algorithm.lower()}:{self.value}{suffix}"


# --- table-driven CRCs (the fallback and the reference the tests compare awscrt with) ---


class PurePythonCRC:
    """A byte-at-a-time table-driven reflected CRC; slow (a few MB/s), always available."""

    def __init__(self, algorithm: str) -> None:
        spec = _CRCS[algorithm]
        self._mask = (1 << spec.width) - 1
        self._table = _table(spec.poly)

    def update(self, crc: int, data: bytes | bytearray | memoryview) -> int:
        """The CRC of (what ``crc`` covered) ‖ ``data``; start from 0."""
        table = self._table
        value = crc ^ self._mask
        for byte in bytes(data):
            value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
        return value ^ self._mask


def _table(poly: int) -> tuple[int, ...]:
    out = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ poly if value & 1 else value >> 1
        out.append(value)
    return tuple(out)


class _CrcFunc(Protocol):
    def __call__(self, data: bytes | bytearray | memoryview, crc: int) -> int: ...


@functools.cache
def _crc_functions() -> dict[str, _CrcFunc]:
    """The CRC implementations, built on first use: importing awscrt costs ~0.1 s, which
    every command would pay at start-up (``cp`` loads this module) even without a CRC."""
    try:
        from awscrt import checksums as crt
    except ImportError:  # pragma: no cover - awscrt is a dependency; kept for odd platforms
        pure = {name: PurePythonCRC(name) for name in _CRCS}
        return {name: (lambda d, c, p=p: p.update(c, d)) for name, p in pure.items()}
    return {
        "CRC32": lambda d, c: zlib.crc32(d, c),  # zlib's is faster than awscrt's here
        "CRC32C": lambda d, c: crt.crc32c(bytes(d), c),
        "CRC64NVME": lambda d, c: crt.crc64nvme(bytes(d), c),
    }


# --- combining --------------------------------------------------------------------------


def _mult_mod(spec: _Crc, a: int, b: int) -> int:
    """``a * b mod P`` for reflected polynomials of ``spec.width`` bits (zlib's multmodp)."""
    top = 1 << (spec.width - 1)
    product = 0
    m = top
    while m:
        if a & m:
            product ^= b
        b = (b >> 1) ^ spec.poly if b & 1 else b >> 1
        m >>= 1
    return product


def _x_pow_8n(spec: _Crc, n: int) -> int:
    """``x^(8n) mod P`` by squaring (reflected: ``x^0`` is the top bit)."""
    result = 1 << (spec.width - 1)  # x^0
    square = 1 << (spec.width - 1 - 8)  # x^8
    while n:
        if n & 1:
            result = _mult_mod(spec, square, result)
        square = _mult_mod(spec, square, square)
        n >>= 1
    return result


def crc_combine(algorithm: str, crc1: int, crc2: int, len2: int) -> int:
    """The CRC of ``A ‖ B`` from ``crc1 = CRC(A)``, ``crc2 = CRC(B)`` and ``len2 = len(B)``."""
    spec = _CRCS.get(algorithm)
    if spec is None:
        raise ValueError(f"{algorithm} checksums do not combine")
    if len2 <= 0:
        return crc1
    return _mult_mod(spec, _x_pow_8n(spec, len2), crc1) ^ crc2


# --- encoding ---------------------------------------------------------------------------


def _digest_size(algorithm: str) -> int:
    if algorithm in _CRCS:
        return _CRCS[algorithm].width // 8
    return 32 if algorithm == "SHA256" else 20


def encode(algorithm: str, value: int | bytes) -> str:
    """The wire form: base64 of the big-endian digest."""
    raw = value.to_bytes(_digest_size(algorithm), "big") if isinstance(value, int) else value
    return base64.b64encode(raw).decode("ascii")


def decode(algorithm: str, text: str) -> int:
    """A CRC's integer value from its wire form (``-N`` suffix ignored); ``ValueError``
    when it is not base64 of the algorithm's digest size."""
    bare = text.strip().split("-", 1)[0]
    try:
        raw = base64.b64decode(bare, validate=True)
    except binascii.Error:
        raise ValueError(f"{algorithm} checksum {text[:60]!r} is not base64") from None
    if len(raw) != _digest_size(algorithm):
        raise ValueError(f"{algorithm} checksum {text[:60]!r} has {len(raw)} bytes")
    return int.from_bytes(raw, "big")


def combine_parts(algorithm: str, parts: Iterable[tuple[str, int]]) -> str:
    """The full-object checksum (wire form) of parts given as ``(checksum, size)`` in order."""
    crc = 0
    for value, size in parts:
        crc = crc_combine(algorithm, crc, decode(algorithm, value), size)
    return encode(algorithm, crc)


def composite_of(algorithm: Algorithm, part_values: Sequence[str]) -> str:
    """S3's composite checksum (wire form, with ``-N``) of parts given by their checksums
    in order: the checksum of their concatenated binary digests. The only whole-object
    value a multipart SHA-256 or SHA-1 upload has; it equals no full-object checksum."""
    try:
        joined = b"".join(base64.b64decode(v.split("-", 1)[0], validate=True) for v in part_values)
    except binascii.Error:
        raise ValueError(f"a part's {algorithm} checksum is not base64") from None
    return f"{checksum_of(algorithm, joined)}-{len(part_values)}"


# --- streaming --------------------------------------------------------------------------


class Hasher:
    """A running checksum: ``update`` with bytes as they pass, ``value()`` at the end."""

    def __init__(self, algorithm: Algorithm) -> None:
        self.algorithm = algorithm
        self.size = 0
        self._crc = 0
        self._func = _crc_functions().get(algorithm)
        self._hash = None
        if self._func is None:
            self._hash = hashlib.new(algorithm.lower(), usedforsecurity=False)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)
        if self._func is not None:
            self._crc = self._func(data, self._crc)
        else:
            assert self._hash is not None
            self._hash.update(data)

    @property
    def crc(self) -> int:
        """The CRC so far (combinable algorithms only)."""
        if self._func is None:
            raise ValueError(f"{self.algorithm} is not a CRC")
        return self._crc

    def value(self) -> str:
        """The checksum so far, in wire form."""
        if self._func is not None:
            return encode(self.algorithm, self._crc)
        assert self._hash is not None
        return encode(self.algorithm, self._hash.digest())


def new_hasher(algorithm: Algorithm) -> Hasher:
    """A fresh :class:`Hasher` for ``algorithm``."""
    return Hasher(algorithm)


def checksum_of(algorithm: Algorithm, data: bytes | Sequence[bytes]) -> str:
    """The wire-form checksum of ``data`` (bytes, or chunks in order)."""
    hasher = Hasher(algorithm)
    for chunk in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
        hasher.update(chunk)
    return hasher.value()
