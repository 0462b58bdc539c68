"""QingStor: ``/bucket/key`` on a zone endpoint, ``QS AK:sig``, ``x-qs-*`` headers, JSON.

Part numbers start at 0; queries say ``part_number`` / ``upload_id``; a copy part answers
201 with an empty body and the ETag in a header.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from partcopy.errors import ConfigError, UsageError
from partcopy.providers import Provider, default_provider
from partcopy.transports._common import Clock, assemble, default_endpoint, utc_now
from partcopy.transports.address import (
    Addressing,
    AddressingStyle,
    Endpoint,
    NoBucketHost,
    PathStyle,
    VirtualHost,
    quote_key,
    service_root,
)
from partcopy.transports.base import CopySource
from partcopy.transports.credentials import CredentialProvider, as_provider
from partcopy.transports.http import Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.network import Network
from partcopy.transports.signing import Credentials, qingstor
from partcopy.transports.spec import JSON_CODEC, DialectSpec, OutRequest

__all__ = [
    "QINGSTOR_SERVICE",
    "QINGSTOR_SPEC",
    "QingStorSigner",
    "make_qingstor_transport",
    "qs_copy_source",
]

QINGSTOR_SPEC = DialectSpec(
    name="qingstor",
    prefix="x-qs-",
    codec=JSON_CODEC,
    encode_query=qingstor.encode_query,
    q_upload_id="upload_id",
    q_part_number="part_number",
    q_part_marker="part_number_marker",
    q_max_parts="limit",
    q_version_id=None,
    q_key_marker="key_marker",
    q_upload_id_marker="upload_id_marker",
    q_max_uploads="limit",
    q_max_keys="limit",
    q_max_buckets="limit",
    q_bucket_token="offset",
    list_url_encoding=False,
    copy_range="copy-range",
    sse_c="encryption-customer-",
    src_sse_c="copy-source-encryption-customer-",
    key_md5_suffix="key-md5",
    sse=None,
    tagging=None,
    tagging_directive=None,
    kms_key_id=None,
    acl=None,
    checksum=None,
)


QINGSTOR_SERVICE = "https://qingstor.com"
"""The public service host: GET Service lists the buckets of every zone."""


def qs_copy_source(source: CopySource) -> str:
    """``/bucket/key`` percent-encoded keeping ``/`` (QingStor copies have no version)."""
    if source.version_id is not None:
        raise UsageError(f"qingstor does not support version ids ({source.version_id!r})")
    return quote_key(f"/{source.bucket}/{source.key}")


@dataclass(frozen=True, slots=True)
class QingStorSigner:
    """Signs with ``QS AK:base64(HMAC-SHA256)`` over the path-style resource."""

    credentials: CredentialProvider = field(repr=False)
    clock: Clock = utc_now

    def __call__(self, req: OutRequest) -> dict[str, str]:
        return qingstor.sign(
            method=req.method,
            path=req.path,
            query=req.query,
            headers=req.headers,
            credentials=self.credentials.current(),
            now=self.clock(),
            bucket=req.bucket if req.bucket_in_host else None,
        )


def _virtual(endpoint: Endpoint) -> Addressing:
    """Buckets in the host name; none at all on an IP address (``NoBucketHost``)."""
    if endpoint.is_ip:
        return NoBucketHost(endpoint)
    return VirtualHost(endpoint, qingstor.encode_path)


def make_qingstor_transport(
    endpoint_url: str | None,
    region: str,
    credentials: Credentials | CredentialProvider,
    session: aiohttp.ClientSession | None = None,
    *,
    addressing: AddressingStyle = "auto",
    timeouts: Timeouts | None = None,
    clock: Clock = utc_now,
    network: Network | None = None,
    provider: Provider | None = None,
) -> HttpTransport:
    """A QingStor transport; ``region`` is the zone (``pek3b``) of ``<zone>.qingstor.com``."""
    if isinstance(credentials, Credentials) and credentials.session_token:
        raise ConfigError("qingstor takes no session token: unset it for qs:// locations")
    row = provider or default_provider("qingstor")
    endpoint = Endpoint.parse(endpoint_url or default_endpoint(row, region))
    signing = as_provider(credentials)
    return assemble(
        QINGSTOR_SPEC,
        # QingStor's tools address path style unless virtual hosts are asked for.
        _virtual(endpoint)
        if addressing == "virtual"
        else PathStyle(endpoint, qingstor.encode_path),
        QingStorSigner(signing, clock),
        qs_copy_source,
        session,
        timeouts,
        credentials=signing,
        network=network,
        provider=row,
        # The SDK asks its service host for the bucket list, not a zone's.
        service=service_root(Endpoint.parse(endpoint_url or QINGSTOR_SERVICE)),
    )
