"""Flexible checksums: known answers, streaming, and CRC combination across parts."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib

import pytest
from awscrt import checksums as crt
from hypothesis import given, settings
from hypothesis import strategies as st

from partcopy import checksums
from partcopy.checksums import PurePythonCRC, combine_parts, crc_combine

CHECK = b"123456789"
# The catalogue's check values (CRC-64/NVME, CRC-32C, CRC-32) for "123456789".
KNOWN = {"CRC64NVME": 0xAE8B14860A799888, "CRC32C": 0xE3069283, "CRC32": 0xCBF43926}
CRT = {"CRC64NVME": crt.crc64nvme, "CRC32C": crt.crc32c, "CRC32": crt.crc32}
CRT_COMBINE = {
    "CRC64NVME": crt.combine_crc64nvme,
    "CRC32C": crt.combine_crc32c,
    "CRC32": crt.combine_crc32,
}


@pytest.mark.parametrize("algorithm", sorted(KNOWN))
def test_known_answers_fast_and_pure(algorithm: str) -> None:
    assert checksums.decode(algorithm, checksums.checksum_of(algorithm, CHECK)) == KNOWN[algorithm]
    assert PurePythonCRC(algorithm).update(0, CHECK) == KNOWN[algorithm]


def test_sha_values_are_base64_digests() -> None:
    data = b"partcopy"
    assert (
        checksums.checksum_of("SHA256", data)
        == base64.b64encode(hashlib.sha256(data).digest()).decode()
    )
    assert (
        checksums.checksum_of("SHA1", [b"part", b"copy"])
        == base64.b64encode(hashlib.sha1(data).digest()).decode()
    )


@settings(max_examples=60, deadline=None)
@given(
    algorithm=st.sampled_from(sorted(KNOWN)),
    a=st.binary(max_size=300),
    b=st.binary(max_size=300),
)
def test_combine_equals_the_crc_of_the_concatenation(algorithm: str, a: bytes, b: bytes) -> None:
    crc = CRT[algorithm]
    combined = crc_combine(algorithm, crc(a), crc(b), len(b))
    assert combined == crc(a + b)
    assert combined == CRT_COMBINE[algorithm](crc(a), crc(b), len(b))
    assert PurePythonCRC(algorithm).update(PurePythonCRC(algorithm).update(0, a), b) == crc(a + b)


def test_parts_of_any_layout_combine_into_the_full_object_checksum() -> None:
    rng = random.Random(7)
    data = rng.randbytes(200_000)
    cuts = sorted(rng.sample(range(1, len(data)), 9))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    for algorithm in ("CRC64NVME", "CRC32C", "CRC32"):
        parts = [(checksums.checksum_of(algorithm, p), len(p)) for p in pieces]
        assert combine_parts(algorithm, parts) == checksums.checksum_of(algorithm, data)
    assert checksums.decode("CRC32", checksums.checksum_of("CRC32", data)) == zlib.crc32(data)


def test_streaming_hasher_counts_and_matches_one_shot() -> None:
    hasher = checksums.new_hasher("CRC32C")
    for chunk in (b"12", b"345", b"", b"6789"):
        hasher.update(chunk)
    assert hasher.size == 9
    assert hasher.crc == KNOWN["CRC32C"]
    with pytest.raises(ValueError, match="not a CRC"):
        _ = checksums.new_hasher("SHA256").crc


def test_bad_wire_values_and_names_are_refused() -> None:
    with pytest.raises(ValueError, match="not base64"):
        checksums.decode("CRC32", "!!!")
    with pytest.raises(ValueError, match="has 8 bytes"):
        checksums.decode("CRC32", base64.b64encode(b"12345678").decode())
    with pytest.raises(ValueError, match="do not combine"):
        crc_combine("SHA256", 1, 2, 3)
    with pytest.raises(ValueError, match="unknown checksum algorithm 'md5'"):
        checksums.parse_algorithm("md5")
    assert checksums.parse_algorithm("crc64nvme") == "CRC64NVME"
    assert checksums.decode("CRC32", checksums.encode("CRC32", 5) + "-3") == 5
