"""The verifier: nothing counts as done until an answer proves it.

A part is done only when its 2xx answer carries a well-formed ETag and no error document;
anything else raises ``UnprovenSuccess`` (retryable unless the error code says the request
itself is wrong). After Complete, the destination must have the source's size and, where
computable from the part ETags under the provider row's rule, the composite ETag
(S3: ``md5(md5_1 ‖ … ‖ md5_n)-n``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from enum import StrEnum

from partcopy.errors import UnprovenSuccess, VerificationFailed
from partcopy.providers import CompositeRule, Dialect, Provider, default_provider
from partcopy.transports.base import (
    CompleteResult,
    ObjectAttributes,
    ObjectInfo,
    PartResult,
)

__all__ = [
    "Verification",
    "composite_etag",
    "copy_proven_by_answer",
    "etag_is_md5",
    "normalize_etag",
    "verify_complete",
    "verify_destination",
    "verify_part",
]


class Verification(StrEnum):
    """What proved a copy: ``CopyResult.verification`` and ``"verification"`` in JSON.

    Strongest first. The set grows (content checksums), so a reader must accept values
    it does not know. A weaker proof is named, never silent.
    """

    CONTENT_FULL = "content-full"
    """Every byte of both sides read back and compared by hash (``--verify-content full``)."""
    CHECKSUM = "checksum"
    """A content checksum of the destination matched the source's."""
    COMPOSITE_ETAG = "composite-etag"
    """The destination's ETag is ``md5(md5_1 ‖ … ‖ md5_n)-n`` of the verified part ETags."""
    SOURCE_MD5 = "source-md5"
    """A single copy answered with the source's plain MD5 ETag: equal MD5s, equal bytes."""
    RELAYED_MD5 = "relayed-md5"
    """A relayed PutObject answered with the MD5 of exactly the bytes read from the source
    pinned to its ETag (the source's own ETag is not a plain MD5 to compare with)."""
    PART_ETAGS_SIZE = "part-etags+size"
    """Every part proven by its ETag, the destination has the Complete's ETag and the
    source's size; the part ETags are not MD5s (SSE-KMS, SeaweedFS), so no composite."""
    ETAG_SIZE = "etag+size"
    """A single CopyObject: the destination has the ETag the copy returned and the size."""
    SIZE_ONLY = "size-only"
    """Only the destination's size was checked."""


# An entity tag as stores send it: optionally weak, optionally quoted, printable ASCII
# with no quotes, spaces or control characters inside, not absurdly long.
_ETAG_RE = re.compile(r'^(?:W/)?(?:"[\x21\x23-\x7e]{1,256}"|[\x21\x23-\x7e]{1,256})$')
_MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_QUOTED_MD5_LINES = re.compile(r'(?:"[0-9a-fA-F]{32}"\n)*+')
_PLAIN_SSE = frozenset({None, "", "AES256"})


def normalize_etag(etag: str) -> str:
    """The ETag without quotes, lower-cased when it is hex (for comparisons)."""
    bare = etag.strip()
    if bare.startswith("W/"):
        bare = bare[2:]
    bare = bare.strip('"')
    return bare.lower() if _MD5_RE.match(bare.split("-", 1)[0]) else bare


def _well_formed(etag: str | None) -> bool:
    return etag is not None and _ETAG_RE.match(etag) is not None


def verify_part(result: PartResult, part_number: int, operation: str) -> str:
    """The part's ETag if the answer proves the part; else raise ``UnprovenSuccess``."""
    if result.error_code is not None:
        raise UnprovenSuccess(
            f"part {part_number}: {result.status} with an error body "
            f"{result.error_code}: {result.error_message or ''}".rstrip(": "),
            status=result.status,
            code=result.error_code,
            operation=operation,
            error_kind=result.error_kind,
        )
    etag = result.etag
    if etag is None or not _well_formed(etag):
        what = result.detail or ("no ETag" if etag is None else f"malformed ETag {etag[:80]!r}")
        raise UnprovenSuccess(
            f"part {part_number}: {result.status} proves nothing ({what})",
            status=result.status,
            operation=operation,
        )
    if result.part_number != part_number:
        raise UnprovenSuccess(
            f"part {part_number}: the answer is for part {result.part_number}",
            status=result.status,
            operation=operation,
        )
    return etag


def verify_complete(result: CompleteResult, operation: str) -> str:
    """The object's ETag if Complete/CopyObject proved success; else ``UnprovenSuccess``."""
    if result.error_code is not None:
        raise UnprovenSuccess(
            f"{operation}: {result.status} with an error body {result.error_code}: "
            f"{result.error_message or ''}".rstrip(": "),
            status=result.status,
            code=result.error_code,
            operation=operation,
            error_kind=result.error_kind,
        )
    if not _well_formed(result.etag):
        what = result.detail or "no ETag"
        raise UnprovenSuccess(
            f"{operation}: {result.status} proves nothing ({what})",
            status=result.status,
            operation=operation,
        )
    assert result.etag is not None  # _well_formed checked it
    return result.etag


def composite_etag(part_etags: Sequence[str], rule: CompositeRule = "md5-of-md5s") -> str | None:
    """The multipart ETag the store makes from the parts' ETags under its row's ``rule``
    (S3: ``md5(md5_1 ‖ … ‖ md5_n)-n``), or None when a part's is not an MD5 or the rule
    says nothing is computable."""
    if rule == "opaque":
        return None
    listed = "\n".join(part_etags) + "\n"
    if len(listed) == 35 * len(part_etags) and _QUOTED_MD5_LINES.fullmatch(listed):
        # Every one the usual '"<md5>"' (checked at once, 34 characters each): the same
        # digest as below in one pass, not one normalisation per part.
        digest = hashlib.md5(bytes.fromhex(listed.replace('"', "")), usedforsecurity=False)
        return f"{digest.hexdigest()}-{len(part_etags)}"
    return composite_per_part(part_etags)


def composite_per_part(part_etags: Sequence[str]) -> str | None:
    """``composite_etag``'s md5-of-md5s one part at a time, each ETag normalised (any
    form the store may quote); None when one is not an MD5."""
    digest = hashlib.md5(usedforsecurity=False)
    for etag in part_etags:
        bare = normalize_etag(etag)
        if not _MD5_RE.match(bare):
            return None
        digest.update(bytes.fromhex(bare))
    return f"{digest.hexdigest()}-{len(part_etags)}"


def verify_destination(
    info: ObjectInfo,
    *,
    size: int,
    expected_etag: str | None,
    upload_id: str | None = None,
) -> None:
    """Raise ``VerificationFailed`` unless HEAD of the destination matches what was copied.

    ``expected_etag`` is the ETag the destination must show (the composite ETag, or the
    one Complete/CopyObject returned), or None when nothing can be computed.
    """
    if info.size != size:
        raise VerificationFailed(
            f"destination {info.bucket}/{info.key} has {info.size} bytes, the source has {size}",
            upload_id=upload_id,
        )
    if expected_etag is None:
        return
    if info.etag is None:
        raise VerificationFailed(
            f"destination {info.bucket}/{info.key} answered HEAD without an ETag: "
            f"nothing shows it holds the copy (expected {expected_etag})",
            upload_id=upload_id,
        )
    if normalize_etag(info.etag) != normalize_etag(expected_etag):
        raise VerificationFailed(
            f"destination {info.bucket}/{info.key} has ETag {info.etag}, expected {expected_etag}",
            upload_id=upload_id,
        )


def etag_is_md5(provider: Provider | Dialect, attrs: ObjectAttributes) -> bool:
    """Whether a part uploaded to ``provider`` (a row, or a dialect's own row) with
    ``attrs`` gets its bytes' MD5 as ETag.

    True where the row says so, for plain uploads and SSE with service-managed AES256
    keys; false for SSE-KMS and SSE-C, where the ETag is not the MD5 of the plaintext.
    """
    row = provider if isinstance(provider, Provider) else default_provider(provider)
    return row.part_etag_md5 and attrs.sse_c is None and attrs.sse in _PLAIN_SSE


def copy_proven_by_answer(source_etag: str | None, answer_etag: str, *, md5_etags: bool) -> bool:
    """Whether a single copy's own answer proves the destination, sparing its HEAD.

    True only where plain ETags are the MD5 of the bytes (``md5_etags``: no SSE-KMS/SSE-C
    on either side) and the answer's ETag is the source's plain MD5 ETag: equal MD5s,
    equal bytes (and so equal sizes). A multipart source's ``…-N`` ETag never matches.
    """
    if not md5_etags or source_etag is None:
        return False
    expected = normalize_etag(source_etag)
    return _MD5_RE.match(expected) is not None and normalize_etag(answer_etag) == expected
