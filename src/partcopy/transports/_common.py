"""Small pieces the four dialect modules share: the clock and the transport assembly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp

from partcopy.transports.address import Addressing
from partcopy.transports.base import CopySource
from partcopy.transports.credentials import CredentialProvider
from partcopy.transports.http import MAX_BODY, HttpCore, Timeouts
from partcopy.transports.httptransport import HttpTransport
from partcopy.transports.network import Network
from partcopy.transports.spec import DialectSpec, Signer

__all__ = ["Clock", "assemble", "utc_now"]

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
) -> HttpTransport:
    """One HttpTransport over a core that owns the session only when none is passed;
    ``credentials`` is the signer's provider, renewed before requests when due."""
    core = HttpCore(session, timeouts=timeouts, max_body=max_body, network=network)
    return HttpTransport(spec, addressing, signer, core, copy_source, credentials=credentials)
