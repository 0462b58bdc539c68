"""Transports: one narrow async protocol (``base``) and its HTTP dialects.

``make_transport`` builds the transport for a dialect; everything wire-specific (signing,
URLs, headers, XML/JSON, error mapping) lives below this package.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from partcopy.errors import ConfigError
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
    **options: Any,
) -> Transport:
    """The HTTP transport for ``dialect``; ``options`` are the dialect's keyword options.

    Common options: ``timeouts`` (:class:`Timeouts`), ``clock``; S3 and OBS also take
    ``addressing`` (``auto``/``path``/``virtual``). Without ``session`` the transport makes
    its own and closes it in ``aclose``.
    """
    if dialect == "s3":
        from partcopy.transports.s3 import make_s3_transport

        return make_s3_transport(endpoint_url, region, credentials, session, **options)
    if dialect == "obs":
        from partcopy.transports.obs import make_obs_transport

        return make_obs_transport(endpoint_url, region, credentials, session, **options)
    if dialect == "cos":
        from partcopy.transports.cos import make_cos_transport

        return make_cos_transport(endpoint_url, region, credentials, session, **options)
    if dialect == "qingstor":
        from partcopy.transports.qingstor import make_qingstor_transport

        return make_qingstor_transport(endpoint_url, region, credentials, session, **options)
    raise ConfigError(f"unknown dialect {dialect!r}: expected s3, obs, cos or qingstor")
