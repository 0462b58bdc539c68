"""Small pieces the four dialect modules share: the clock and the transport assembly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp

from partcopy.errors import ConfigError
from partcopy.providers import Provider
from partcopy.transports.address import Addressing, Located
from partcopy.transports.base import CopySource
from partcopy.transports.credentials import CredentialProvider
from partcopy.transports.http import MAX_BODY, HttpCore, Timeouts
from partcopy.transports.httptransport import HttpTransport, RegionRouter
from partcopy.transports.network import Network
from partcopy.transports.spec import DialectSpec, Signer

__all__ = ["Clock", "assemble", "default_endpoint", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The signing clock: timezone-aware UTC now."""
    return datetime.now(UTC)


def assemble(
    spec: DialectSpec,
    addressing: Addressing,
    signer: Signer,
    copy_source: Callable[[CopySource], str],
    session: aiohttp.ClientSession | None,
    timeouts: Timeouts | None,
    max_body: int = MAX_BODY,
    *,
    credentials: CredentialProvider | None = None,
    network: Network | None = None,
    provider: Provider | None = None,
    regions: RegionRouter | None = None,
    service: Located | None = None,
) -> HttpTransport:
    """One HttpTransport over a core that owns the session only when none is passed;
    ``credentials`` is the signer's provider, renewed before requests when due;
    ``provider`` is the store's row (default: the dialect's own); ``service`` is where
    requests with no bucket go."""
    core = HttpCore(session, timeouts=timeouts, max_body=max_body, network=network)
    return HttpTransport(
        spec,
        addressing,
        signer,
        core,
        copy_source,
        credentials=credentials,
        provider=provider,
        regions=regions,
        service=service,
    )


def default_endpoint(provider: Provider, region: str) -> str:
    """The row's public endpoint in ``region``; ``ConfigError`` when it has none."""
    url = provider.endpoint_for(region)
    if url is None:
        raise ConfigError(
            f"no endpoint for {provider.name} ({provider.title}): it has no public default; "
            "give --endpoint-url"
        )
    return url
