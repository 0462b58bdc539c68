"""Amazon S3 and S3-compatible stores: SigV4, ``x-amz-*`` headers, XML bodies."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from partcopy.providers import Provider, default_provider
from partcopy.transports._common import Clock, assemble, default_endpoint, utc_now
from partcopy.transports.address import (
    Addressing,
    AddressingStyle,
    Endpoint,
    quote_key,
    s3_addressing,
    service_root,
)
from partcopy.transports.base import CopySource
from partcopy.transports.credentials import CredentialProvider, as_provider
from partcopy.transports.http import Reply, Timeouts
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
    q_max_buckets="max-buckets",
    q_bucket_token="continuation-token",
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
    endpoint in ``region`` (``https://s3.<region>.amazonaws.com``). A bucket the store
    places in another region (it says so when asked in the wrong one) is addressed and
    signed there from then on."""
    row = provider or default_provider("s3")
    endpoint = Endpoint.parse(endpoint_url or default_endpoint(row, region))
    signing = as_provider(credentials)
    own = row.is_public_host(endpoint.host)

    def route(bucket_region: str) -> tuple[Addressing, SigV4Signer]:
        template = row.endpoint_for(bucket_region) if own else None
        where = Endpoint.parse(template) if template else endpoint
        located = s3_addressing(where, addressing, sigv4.encode_path, own=own)
        return located, SigV4Signer(signing, bucket_region, clock)

    return assemble(
        S3_SPEC,
        s3_addressing(endpoint, addressing, sigv4.encode_path, own=own),
        SigV4Signer(signing, region, clock),
        s3_copy_source,
        session,
        timeouts,
        credentials=signing,
        network=network,
        provider=row,
        regions=BucketRegions(region, route),
        service=service_root(endpoint),
    )


_REGION_IN_BODY = re.compile(rb"<Region>([a-z0-9-]{1,40})</Region>")
_REGION = re.compile(r"^[a-z0-9-]{1,40}$")
_WRONG_REGION_CODES = (
    b"<Code>AuthorizationHeaderMalformed</Code>",
    b"<Code>PermanentRedirect</Code>",
)


class BucketRegions:
    """Buckets AWS said live elsewhere: ``x-amz-bucket-region`` on a 301, or the
    ``<Region>`` of a ``PermanentRedirect`` / ``AuthorizationHeaderMalformed`` error."""

    def __init__(self, region: str, route: Callable[[str], tuple[Addressing, SigV4Signer]]) -> None:
        self._default = region
        self._make = route
        self._routes: dict[str, tuple[Addressing, SigV4Signer]] = {}
        self.regions: dict[str, str] = {}

    def route(self, bucket: str) -> tuple[Addressing, SigV4Signer] | None:
        return self._routes.get(bucket)

    def learn(self, bucket: str, reply: Reply) -> bool:
        if reply.status == 301:
            match = _REGION_IN_BODY.search(reply.body)
            named = reply.headers.get("x-amz-bucket-region") or (
                match.group(1).decode() if match else None
            )
        elif reply.status == 400 and any(code in reply.body for code in _WRONG_REGION_CODES):
            match = _REGION_IN_BODY.search(reply.body)
            named = match.group(1).decode() if match else reply.headers.get("x-amz-bucket-region")
        else:
            return False
        if (
            not named
            or not _REGION.match(named)
            or named == self.regions.get(bucket, self._default)
        ):
            return False
        self.regions[bucket] = named
        self._routes[bucket] = self._make(named)
        return True
