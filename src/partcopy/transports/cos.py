"""Tencent COS: buckets addressed by host name, ``q-sign-*`` signing, ``x-cos-*`` headers.

On a custom endpoint (the emulator on 127.0.0.1:PORT) the transport connects there but
still sends and signs ``Host: <bucket-appid>.cos.<region>.myqcloud.com``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from partcopy.errors import ConfigError
from partcopy.providers import Provider, default_provider
from partcopy.transports._common import Clock, assemble, default_endpoint, utc_now
from partcopy.transports.address import (
    Addressing,
    AddressingStyle,
    Endpoint,
    HostHeader,
    VirtualHost,
    quote_key,
    service_root,
)
from partcopy.transports.base import CopySource
from partcopy.transports.credentials import CredentialProvider, as_provider
from partcopy.transports.http import Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.network import Network
from partcopy.transports.signing import Credentials, cos
from partcopy.transports.spec import XML_CODEC, DialectSpec, OutRequest

__all__ = ["COS_SERVICE_HOST", "COS_SPEC", "CosSigner", "cos_host", "make_cos_transport"]

# COS spells the directive "Copy" / "Replaced" and answers InvalidArgument to anything else.
COS_SPEC = DialectSpec(
    name="cos",
    prefix="x-cos-",
    codec=XML_CODEC,
    encode_query=cos.encode_query,
    replace_directive="Replaced",
    q_max_buckets="max-keys",
    kms_key_id="server-side-encryption-cos-kms-key-id",
    checksum=None,
)


COS_SERVICE_HOST = "service.cos.myqcloud.com"
"""GET Service's host: the buckets of every region (``cos.<region>.myqcloud.com`` would
list one region's)."""


def cos_host(bucket: str, region: str) -> str:
    """``<bucket-appid>.cos.<region>.myqcloud.com`` (the bucket name carries the appid)."""
    return f"{bucket}.cos.{region}.myqcloud.com"


@dataclass(frozen=True, slots=True)
class CosCopySource:
    """``<source host>/key[?versionId=V]``, the host from the source or the region."""

    region: str

    def __call__(self, source: CopySource) -> str:
        host = source.host or cos_host(source.bucket, self.region)
        value = f"{host}/{quote_key(source.key)}"
        return f"{value}?versionId={source.version_id}" if source.version_id else value


@dataclass(frozen=True, slots=True)
class CosSigner:
    """Signs with COS's HMAC-SHA1 key-time scheme over the Host actually sent."""

    credentials: CredentialProvider = field(repr=False)
    clock: Clock = utc_now

    def __call__(self, req: OutRequest) -> dict[str, str]:
        return cos.sign(
            method=req.method,
            path=req.path,
            query=req.query,
            headers=req.headers,
            credentials=self.credentials.current(),
            now=self.clock(),
        )


def make_cos_transport(
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
    """A COS transport; ``endpoint_url`` only changes where it connects, never the Host."""
    if addressing == "path":
        raise ConfigError("cos:// buckets are addressed by host name: path style is not available")
    row = provider or default_provider("cos")
    located: Addressing
    if endpoint_url is None:
        located = VirtualHost(Endpoint.parse(default_endpoint(row, region)), cos.encode_path)
        service = service_root(Endpoint.parse(f"https://{COS_SERVICE_HOST}"))
    else:
        where = Endpoint.parse(endpoint_url)
        located = HostHeader(where, _HostFor(region), cos.encode_path)
        service = service_root(where, COS_SERVICE_HOST)
    signing = as_provider(credentials)
    return assemble(
        COS_SPEC,
        located,
        CosSigner(signing, clock),
        CosCopySource(region),
        session,
        timeouts,
        credentials=signing,
        network=network,
        provider=row,
        service=service,
    )


@dataclass(frozen=True, slots=True)
class _HostFor:
    region: str

    def __call__(self, bucket: str) -> str:
        return cos_host(bucket, self.region)
