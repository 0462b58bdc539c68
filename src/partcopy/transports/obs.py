"""Huawei OBS: native ``OBS AK:sig`` signing, ``x-obs-*`` headers, XML bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from partcopy.providers import Provider, default_provider
from partcopy.transports._common import Clock, assemble, default_endpoint, utc_now
from partcopy.transports.address import AddressingStyle, Endpoint, s3_addressing, service_root
from partcopy.transports.credentials import CredentialProvider, as_provider
from partcopy.transports.http import Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.network import Network
from partcopy.transports.s3 import s3_copy_source
from partcopy.transports.signing import Credentials, obs
from partcopy.transports.spec import XML_CODEC, DialectSpec, OutRequest

__all__ = ["OBS_SPEC", "ObsSigner", "make_obs_transport"]

# OBS has no object tagging header; SSE takes "kms" or "AES256".
OBS_SPEC = DialectSpec(
    name="obs",
    prefix="x-obs-",
    codec=XML_CODEC,
    encode_query=obs.encode_query,
    tagging=None,
    tagging_directive=None,
    kms_key_id="server-side-encryption-kms-key-id",
    checksum=None,
)


@dataclass(frozen=True, slots=True)
class ObsSigner:
    """Signs the OBS way; the bucket joins the resource when it travels in the host."""

    credentials: CredentialProvider = field(repr=False)
    clock: Clock = utc_now

    def __call__(self, req: OutRequest) -> dict[str, str]:
        return obs.sign(
            method=req.method,
            path=req.path,
            query=req.query,
            headers=req.headers,
            credentials=self.credentials.current(),
            now=self.clock(),
            bucket=req.bucket if req.bucket_in_host else None,
        )


def make_obs_transport(
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
    """An OBS transport; without ``endpoint_url``, ``obs.<region>.myhuaweicloud.com``."""
    row = provider or default_provider("obs")
    endpoint = Endpoint.parse(endpoint_url or default_endpoint(row, region))
    signing = as_provider(credentials)
    return assemble(
        OBS_SPEC,
        s3_addressing(endpoint, addressing, obs.encode_path, own=row.is_public_host(endpoint.host)),
        ObsSigner(signing, clock),
        s3_copy_source,  # ``bucket/key[?versionId=V]``, the same form as S3
        session,
        timeouts,
        credentials=signing,
        network=network,
        provider=row,
        service=service_root(endpoint),
    )
