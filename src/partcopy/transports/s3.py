"""Amazon S3 and S3-compatible stores: SigV4, ``x-amz-*`` headers, XML bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import aiohttp

from partcopy.transports._common import Clock, assemble, utc_now
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


_AWS_HOST = re.compile(r"^(?:[a-z0-9.-]+\.)?s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$")


def _aws_host(host: str) -> bool:
    """One of AWS's own S3 endpoints (regional, dual-stack, legacy ``s3-region``)."""
    return _AWS_HOST.match(host) is not None


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
) -> HttpTransport:
    """An S3 transport; without ``endpoint_url``, AWS's regional endpoint."""
    endpoint = Endpoint.parse(endpoint_url or f"https://s3.{region}.amazonaws.com")
    provider = as_provider(credentials)
    return assemble(
        S3_SPEC,
        s3_addressing(endpoint, addressing, sigv4.encode_path, own=_aws_host(endpoint.host)),
        SigV4Signer(provider, region, clock),
        s3_copy_source,
        session,
        timeouts,
        credentials=provider,
        network=network,
    )
