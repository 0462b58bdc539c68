"""Amazon S3 and S3-compatible stores: SigV4, ``x-amz-*`` headers, XML bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from partcopy.providers import Provider, default_provider
from partcopy.transports._common import Clock, assemble, default_endpoint, utc_now
from partcopy.transports.address import AddressingStyle, Endpoint, quote_key, s3_addressing
from partcopy.transports.base import CopySource
from partcopy.transports.credentials import CredentialProvider, as_provider
from partcopy.transports.http import Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.network import Network
from partcopy.transports.signing import Credentials, sigv4
from partcopy.transports.spec import XML_CODEC, DialectSpec, OutRequest

__all__ = ["S3_SPEC", "SigV4Signer", "make_s3_transport", "s3_copy_source"]

S3_SPEC = DialectSpec(
    name="s3",
    prefix="x-amz-",
    codec=XML_CODEC,
    encode_query=sigv4.encode_query,
    list_v2=True,
    part_reads=True,
)


def s3_copy_source(source: CopySource) -> str:
    """``bucket/key`` percent-encoded keeping ``-._~/``, then ``?versionId=`` unencoded."""
    value = quote_key(f"{source.bucket}/{source.key}")
    return f"{value}?versionId={source.version_id}" if source.version_id else value


@dataclass(frozen=True, slots=True)
class SigV4Signer:
    """Signs with AWS Signature Version 4 for ``region`` (service ``s3``)."""

    credentials: CredentialProvider = field(repr=False)
    region: str
    clock: Clock = utc_now

    def __call__(self, req: OutRequest) -> dict[str, str]:
        return sigv4.sign(
            method=req.method,
            path=req.path,
            query=req.query,
            headers=req.headers,
            credentials=self.credentials.current(),
            now=self.clock(),
            region=self.region,
            payload_hash=req.payload_sha256,
        )


def make_s3_transport(
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
    """An S3 transport for ``provider`` (default: AWS); without ``endpoint_url``, the row's
    endpoint in ``region`` (``https://s3.<region>.amazonaws.com``)."""
    row = provider or default_provider("s3")
    endpoint = Endpoint.parse(endpoint_url or default_endpoint(row, region))
    signing = as_provider(credentials)
    return assemble(
        S3_SPEC,
        s3_addressing(
            endpoint, addressing, sigv4.encode_path, own=row.is_public_host(endpoint.host)
        ),
        SigV4Signer(signing, region, clock),
        s3_copy_source,
        session,
        timeouts,
        credentials=signing,
        network=network,
        provider=row,
    )
