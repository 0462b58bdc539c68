"""Copy fidelity: what the destination carries besides the bytes, and which checksum proves it.

Policy only (pure functions over frozen values; the job does the requests):

* **tags** — the source's tag set (GetObjectTagging) goes on Create/CopyObject/relay unless
  ``tags`` names another set (``""``: none);
* **encryption** — the source's SSE and KMS key id are kept unless ``sse`` says otherwise;
  a KMS key id does not cross providers (each has its own KMS);
* **ACL** — a canned ACL only when asked; the source's is never copied;
* **checksums** — :func:`choose_checksum` picks the algorithm Create asks for and the
  source value the destination must equal (see ``ChecksumPlan``).

Every check of user input here raises ``UsageError`` before any request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args
from urllib.parse import parse_qsl

from partcopy.checksums import COMBINABLE, Algorithm, ObjectChecksum
from partcopy.errors import UsageError
from partcopy.providers import Provider, get_provider
from partcopy.transports.base import Dialect, ObjectAttributes

__all__ = [
    "CANNED_ACLS",
    "CHECKSUM_CHOICES",
    "SERVICE_SSE_DIALECTS",
    "ChecksumPlan",
    "ContentMode",
    "FidelityOptions",
    "check_fidelity",
    "choose_checksum",
    "destination_attributes",
    "supported_checksums",
]

ContentMode = Literal["none", "sample", "full"]
CHECKSUM_CHOICES = ("auto", "crc64nvme", "crc32c", "crc32", "sha256", "off")
"""``--checksum`` values."""
SERVICE_SSE_DIALECTS = frozenset({"s3", "obs", "cos"})
"""Dialects whose stores encrypt with keys they manage (SSE-S3 or SSE-KMS, by their own
names); QingStor has SSE-C only."""
CANNED_ACLS = frozenset(
    {
        "private",
        "public-read",
        "public-read-write",
        "authenticated-read",
        "aws-exec-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    }
)
_MAX_TAGS = 10  # S3: at most 10 tags, keys up to 128 and values up to 256 characters


def supported_checksums(profile: str) -> frozenset[str]:
    """The flexible-checksum algorithms a destination's provider row takes."""
    return get_provider(profile).checksums


@dataclass(frozen=True, slots=True)
class FidelityOptions:
    """What to carry and how to prove it (``CopyOptions.fidelity``). Defaults keep the
    source's tags and encryption, and prove with a checksum where the stores allow."""

    tags: str | None = None
    """None: the source's tags; ``""``: none; else a URL-encoded set (``k=v&k2=v2``)."""
    acl: str | None = None
    sse: str | None = None
    """``AES256`` or ``aws:kms``: replaces the source's encryption; ``none``: the copy
    asks for no server-side encryption (the bucket's default applies); None: keep it."""
    sse_kms_key_id: str | None = None
    checksum: str = "auto"
    """One of ``CHECKSUM_CHOICES``."""
    preserve_layout: bool = False
    """Copy with the source's part ranges so the composite ETag equals the source's."""
    verify_content: ContentMode = "none"
    verify_seed: int | None = None
    """Seed of the sampled ranges (None: derived from the job id)."""

    @property
    def overrides(self) -> bool:
        """Whether anything here changes what a plain copy would write."""
        return (
            self.tags is not None
            or self.acl is not None
            or self.sse is not None
            or self.checksum not in ("auto", "off")
            or self.preserve_layout
        )


def _check_tags(tags: str) -> None:
    if tags == "":
        return
    try:
        pairs = parse_qsl(tags, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise UsageError(f"invalid tags {tags!r}: expected 'key=value&key2=value2'") from None
    keys = [k for k, _ in pairs]
    if len(pairs) > _MAX_TAGS:
        raise UsageError(f"invalid tags {tags!r}: {len(pairs)} tags, at most {_MAX_TAGS}")
    if len(set(keys)) != len(keys) or any(not k or len(k) > 128 for k in keys):
        raise UsageError(f"invalid tags {tags!r}: keys must be 1-128 characters and distinct")
    if any(len(v) > 256 for _, v in pairs):
        raise UsageError(f"invalid tags {tags!r}: values must be at most 256 characters")


def check_fidelity(
    options: FidelityOptions,
    *,
    destination: Dialect,
    profile: str,
    destination_sse_c: bool,
    part_size: int | None,
) -> None:
    """``UsageError`` naming the bad value for anything the destination (``profile``: its
    provider row) cannot take."""
    row = get_provider(profile)
    if options.tags is not None:
        _check_tags(options.tags)
        if options.tags and not row.tagging:
            raise UsageError(f"invalid --tags: the destination ({profile}) takes no tags")
    if options.acl is not None:
        if options.acl not in CANNED_ACLS:
            raise UsageError(
                f"invalid ACL {options.acl!r}: expected one of {', '.join(sorted(CANNED_ACLS))}"
            )
        if not row.canned_acls:
            raise UsageError(f"invalid ACL {options.acl!r}: {profile} takes no canned ACLs")
    if options.sse is not None and options.sse not in ("AES256", "aws:kms", "none"):
        raise UsageError(f"invalid --sse {options.sse!r}: expected AES256, aws:kms or none")
    if options.sse_kms_key_id is not None and options.sse != "aws:kms":
        raise UsageError("--sse-kms-key-id needs --sse aws:kms")
    if options.sse == "aws:kms" and row.sse_kms is None:
        raise UsageError(f"invalid --sse aws:kms: the destination ({profile}) has no KMS")
    if options.sse not in (None, "none") and destination_sse_c:
        raise UsageError(f"invalid --sse {options.sse}: the destination is encrypted with SSE-C")
    if options.checksum not in CHECKSUM_CHOICES:
        raise UsageError(
            f"invalid checksum {options.checksum!r}: expected one of {', '.join(CHECKSUM_CHOICES)}"
        )
    if options.checksum not in ("auto", "off"):
        supported = supported_checksums(profile)
        if options.checksum.upper() not in supported:
            raise UsageError(
                f"invalid checksum {options.checksum!r}: profile {profile!r} does not support "
                f"it (supported: {', '.join(sorted(a.lower() for a in supported)) or 'none'})"
            )
    if options.verify_content not in get_args(ContentMode):
        raise UsageError(
            f"invalid --verify-content {options.verify_content!r}: expected none, sample or full"
        )
    if options.preserve_layout and part_size is not None:
        raise UsageError("--preserve-layout keeps the source's part sizes: drop --part-size")


STORAGE_CLASSES: dict[Dialect, frozenset[str]] = {
    "s3": frozenset(
        {
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "GLACIER_IR",
            "DEEP_ARCHIVE",
            "OUTPOSTS",
            "EXPRESS_ONEZONE",
        }
    ),
    "obs": frozenset({"STANDARD", "WARM", "COLD", "DEEP_ARCHIVE"}),
    "cos": frozenset(
        {
            "STANDARD",
            "STANDARD_IA",
            "ARCHIVE",
            "DEEP_ARCHIVE",
            "INTELLIGENT_TIERING",
            "MAZ_STANDARD",
            "MAZ_STANDARD_IA",
            "MAZ_INTELLIGENT_TIERING",
        }
    ),
    "qingstor": frozenset({"STANDARD", "STANDARD_IA"}),
}
"""The storage classes each dialect names. Between dialects a class is carried only by a
name the destination knows (OBS has no STANDARD_IA, S3 no WARM): another is left to the
destination's default rather than sent to be refused."""


def carried_storage_class(
    storage_class: str | None, source: Dialect, destination: Dialect
) -> str | None:
    """The storage class the destination is written with (None: its default)."""
    if storage_class is None or source == destination:
        return storage_class
    return storage_class if storage_class.upper() in STORAGE_CLASSES[destination] else None


def destination_attributes(
    base: ObjectAttributes,
    options: FidelityOptions,
    *,
    source_dialect: Dialect,
    destination: Provider,
    source_tags: str | None,
    checksum: Algorithm | None,
) -> ObjectAttributes:
    """The attributes the destination (its provider row) is written with (``base``: the
    source's, or the ones given)."""
    attrs = base
    storage_class = carried_storage_class(attrs.storage_class, source_dialect, destination.dialect)
    if storage_class != attrs.storage_class:
        attrs = replace(attrs, storage_class=storage_class)
    tags = options.tags if options.tags is not None else source_tags
    if tags is not None or not destination.tagging:
        attrs = replace(attrs, tagging=tags if destination.tagging else None)
    sse, key_id = attrs.sse, attrs.sse_kms_key_id
    if options.sse == "none":
        sse, key_id = None, None  # asked: none requested, whatever the source had
    elif options.sse is not None:
        sse, key_id = options.sse, options.sse_kms_key_id
    elif source_dialect != destination.dialect:
        key_id = None  # another provider's KMS cannot know the key: its default key
    if sse is not None and sse not in ("AES256", ""):
        sse = destination.sse_kms  # aws:kms / kms / cos/kms name the same choice
        key_id = key_id if sse is not None else None
    if attrs.sse_c is not None:
        sse, key_id = None, None  # SSE-C replaces service-side encryption
    return replace(
        attrs,
        sse=sse,
        sse_kms_key_id=key_id,
        acl=options.acl,
        checksum_algorithm=checksum,
    )


@dataclass(frozen=True, slots=True)
class ChecksumPlan:
    """The checksum a copy is created with and proven by.

    ``algorithm``: what Create (or CopyObject) asks the destination to compute; None: no
    flexible checksum. ``source``: the source's full-object checksum in that algorithm,
    which the destination's must equal; None when the source has none (a relay then
    proves against the checksum of the bytes it streamed).
    """

    algorithm: Algorithm | None = None
    source: ObjectChecksum | None = None
    reason: str = ""

    @property
    def combinable(self) -> bool:
        return self.algorithm is not None and self.algorithm in COMBINABLE


def choose_checksum(
    choice: str, source: ObjectChecksum | None, profile: str, *, relay: bool
) -> ChecksumPlan:
    """The checksum for a copy to ``profile`` (see ``FidelityOptions.checksum``).

    ``auto`` takes the source's full-object algorithm where the destination supports it;
    a relay without one computes CRC64NVME of the bytes it streams; a server-side copy
    without one asks for nothing (nothing to compare with).
    """
    supported = supported_checksums(profile)
    if choice == "off" or not supported:
        return ChecksumPlan(reason="off" if choice == "off" else f"{profile} has none")
    usable = source if source is not None and source.full_object else None
    if choice == "auto":
        if usable is not None and usable.algorithm in supported:
            return ChecksumPlan(usable.algorithm, usable, "the source's full-object checksum")
        if relay and "CRC64NVME" in supported:
            return ChecksumPlan("CRC64NVME", None, "computed over the relayed bytes")
        return ChecksumPlan(reason="the source has no full-object checksum")
    algorithm: Algorithm = choice.upper()  # type: ignore[assignment]  # checked by check_fidelity
    if usable is not None and usable.algorithm == algorithm:
        return ChecksumPlan(algorithm, usable, "asked for; the source has one")
    return ChecksumPlan(algorithm, None, "asked for")
