"""The row types: ``Provider`` and the frozen records it is made of."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from partcopy.providers.codes import S3_ERRORS, ErrorCodes
from partcopy.units import GiB

__all__ = [
    "AWS_ENV",
    "CompositeRule",
    "CredentialEnv",
    "Dialect",
    "PartLimits",
    "Provider",
    "Quirks",
]

Dialect = Literal["s3", "obs", "cos", "qingstor"]
"""The wire dialects (signing, headers, bodies) partcopy's transports speak."""

CompositeRule = Literal["md5-of-md5s", "opaque"]
"""How Complete's ETag is made from the part ETags: S3's ``md5(md5_1 ‖ … ‖ md5_n)-n`` over
the parts' binary digests, or nothing computable (GCS: no MD5 for such objects)."""


@dataclass(frozen=True, slots=True)
class PartLimits:
    """What a store accepts for one multipart upload (the planner's input).

    ``min_part`` binds every part but the last; ``single_max`` is the largest object that
    one CopyObject may copy.
    """

    name: str
    min_part: int
    max_part: int = 5 * GiB
    max_parts: int = 10_000
    first_part_number: int = 1
    max_object: int = 5 * GiB * 10_000
    single_max: int = 5 * GiB

    @property
    def last_part_number(self) -> int:
        return self.first_part_number + self.max_parts - 1


@dataclass(frozen=True, slots=True)
class CredentialEnv:
    """The store's own tools' environment variables, read after partcopy's own
    (``PARTCOPY_SRC_*``/``PARTCOPY_DST_*``, ``PARTCOPY_*``: see ``credential_chain``)."""

    access_key: str
    secret_key: str
    session_token: str | None = None
    old_session_tokens: tuple[str, ...] = ()
    """Older names of the session-token variable, read before ``session_token`` in this
    order, as the store's own SDK reads them (botocore's EnvProvider: AWS_SECURITY_TOKEN,
    then AWS_SESSION_TOKEN; the first that is set and not empty wins)."""
    region: tuple[str, ...] = ()
    """Region variables read after ``PARTCOPY_REGION``."""
    endpoint: tuple[str, ...] = ()
    """Endpoint variables read after ``PARTCOPY_ENDPOINT_URL``."""


AWS_ENV = CredentialEnv(
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    old_session_tokens=("AWS_SECURITY_TOKEN",),
    region=("AWS_REGION", "AWS_DEFAULT_REGION"),
    endpoint=("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
)
"""S3 and S3-compatible rows read the AWS SDK's variables, as their own tools do."""


@dataclass(frozen=True, slots=True)
class Quirks:
    """Ways a store departs from S3 that change what partcopy sends or expects."""

    clamp_copy_range: bool = False
    """A copy range past the end is clamped to size-1 instead of refused (OBS)."""
    version_ids: bool = True
    """Source version ids can be named (QingStor: no)."""
    list_uploads_next_key_marker: bool = True
    """ListMultipartUploads pages carry NextKeyMarker (SeaweedFS omits it)."""
    min_bucket_name: int = 1
    """Shortest bucket name the store accepts (SeaweedFS refuses one letter)."""
    equal_parts: bool = False
    """Every part but the last must have the same size (R2)."""
    max_parts_in_flight: int | None = None
    """Parts of one upload the store takes at once, when it documents a bound."""
    notes: tuple[str, ...] = ()
    """Other documented differences, in words (for ``partcopy providers``)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """Everything partcopy knows about one store; see the module docstring."""

    name: str
    """The row's name: ``--provider NAME`` (``plan --profile NAME``), library ``provider=``."""
    title: str
    dialect: Dialect
    """Signing and wire dialect (``s3`` is SigV4 with ``x-amz-*`` headers)."""
    limits: PartLimits
    """Multipart limits (the planner's profile) and the single-copy maximum."""
    schemes: tuple[str, ...] = ()
    """URL schemes whose default row this is (S3-compatibles use ``s3://`` + ``--provider``)."""
    default_region: str | None = None
    """Region (zone) used for signing and the endpoint when none is given; None: required."""
    endpoint_template: str | None = None
    """``https://s3.{region}.amazonaws.com``; None: the store has no public endpoint to
    guess (self-hosted, per-account), so ``--endpoint-url`` is required."""
    public_hosts: tuple[str, ...] = ()
    """Regular expressions (full match, lower case) of the provider's own public endpoint
    hosts: where ``auto`` addressing uses virtual-hosted style (path style elsewhere)."""
    addressing: Literal["auto", "virtual", "path"] = "auto"
    """Addressing the dialect's transport uses by default."""
    server_side_copy: bool = True
    """UploadPartCopy is implemented; False makes ``auto`` mode relay."""
    part_etag_md5: bool = True
    """UploadPart's ETag is the MD5 of the bytes (plain or SSE-S3 uploads): relays stream
    and check it; otherwise they buffer each part and send Content-MD5."""
    copy_part_etag_md5: bool = True
    """UploadPartCopy's ETag is the MD5 of the copied range."""
    composite_etag: CompositeRule = "md5-of-md5s"
    """How Complete's ETag follows from the part ETags (checked before the final HEAD)."""
    range_copy_floor: int = 0
    """A ranged UploadPartCopy is accepted only from sources larger than this."""
    checksums: frozenset[str] = frozenset()
    """Flexible-checksum algorithms (``x-amz-checksum-*``) the store computes and keeps:
    an upload may be created with one and HEAD in checksum mode returns it. Empty: none
    known, so no checksum is asked for or compared (``--checksum ALGO`` is refused)."""
    tagging: bool = True
    """Object tags are taken on writes (``x-*-tagging``) and read with ``?tagging``."""
    canned_acls: bool = True
    """Canned ACLs are taken on writes (``x-*-acl: private``); False: ``--acl`` is refused."""
    sse_kms: str | None = "aws:kms"
    """The store's name for SSE under a KMS key (``aws:kms``, ``kms``, ``cos/kms``); None:
    no SSE-KMS, so ``--sse aws:kms`` is refused and a KMS source lands under the
    destination's default encryption."""
    server_header: str | None = None
    """What the store's ``Server`` answer header starts with, where its software says its
    name: a copy within such a store, with no row named, takes this row's ETag rules."""
    errors: ErrorCodes = S3_ERRORS
    env: CredentialEnv = AWS_ENV
    quirks: Quirks = field(default_factory=Quirks)

    @property
    def single_copy_max(self) -> int:
        """The largest object one CopyObject copies (from ``limits``)."""
        return self.limits.single_max

    def endpoint_for(self, region: str) -> str | None:
        """The default endpoint URL in ``region``; None when the row has none."""
        return (
            None if self.endpoint_template is None else self.endpoint_template.format(region=region)
        )

    def is_public_host(self, host: str) -> bool:
        """Whether ``host`` is one of the provider's own public endpoints."""
        host = host.lower().rstrip(".")
        return any(re.fullmatch(pattern, host) for pattern in self.public_hosts)
