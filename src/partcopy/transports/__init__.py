"""Transports: the async ``Transport`` protocol, its HTTP dialects, memory and faults; wire only.
Imported by the engine, CLI and emulator; imports ``providers``, ``errors``, ``store/``, never up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from partcopy.errors import ConfigError
from partcopy.providers import Provider
from partcopy.transports.base import Dialect, Transport
from partcopy.transports.credentials import CredentialProvider
from partcopy.transports.http import Timeouts
from partcopy.transports.signing.common import Credentials

__all__ = ["Timeouts", "make_transport"]


def make_transport(
    dialect: Dialect,
    endpoint_url: str | None,
    region: str,
    credentials: Credentials | CredentialProvider,
    session: aiohttp.ClientSession | None = None,
    *,
    provider: Provider | None = None,
    **options: Any,
) -> Transport:
    """The HTTP transport for ``dialect``; ``options`` are the dialect's keyword options.

    ``provider`` is the store's row (default: the dialect's own, e.g. AWS for ``s3``): its
    default endpoint, error codes and limits. Common options: ``timeouts``
    (:class:`Timeouts`), ``clock``; S3 and OBS also take ``addressing``
    (``auto``/``path``/``virtual``). Without ``session`` the transport makes its own and
    closes it in ``aclose``.
    """
    if provider is not None and provider.dialect != dialect:
        raise ConfigError(
            f"provider {provider.name!r} speaks {provider.dialect}, not {dialect}: "
            "pick a profile of the location's dialect"
        )
    if dialect == "s3":
        from partcopy.transports.s3 import make_s3_transport

        factory: Callable[..., Transport] = make_s3_transport
    elif dialect == "obs":
        from partcopy.transports.obs import make_obs_transport

        factory = make_obs_transport
    elif dialect == "cos":
        from partcopy.transports.cos import make_cos_transport

        factory = make_cos_transport
    elif dialect == "qingstor":
        from partcopy.transports.qingstor import make_qingstor_transport

        factory = make_qingstor_transport
    else:
        raise ConfigError(f"unknown dialect {dialect!r}: expected s3, obs, cos or qingstor")
    return factory(endpoint_url, region, credentials, session, provider=provider, **options)
