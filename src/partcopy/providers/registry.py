"""The table of rows by name, scheme and dialect; ``register`` adds a row to all of them."""

from __future__ import annotations

import dataclasses

from partcopy.errors import UsageError
from partcopy.providers.model import Dialect, PartLimits, Provider
from partcopy.providers.rows import BUILTIN_ROWS

__all__ = [
    "DIALECT_ROWS",
    "PROFILES",
    "PROVIDERS",
    "SCHEMES",
    "default_provider",
    "get_profile",
    "get_provider",
    "provider_for_scheme",
    "provider_for_server",
    "register",
    "unregister",
]

PROVIDERS: dict[str, Provider] = {}
"""Every row by name (``--profile`` accepts each)."""
PROFILES: dict[str, PartLimits] = {}
"""Each row's limits by name: the planner profiles."""
SCHEMES: dict[str, Dialect] = {}
"""URL scheme -> wire dialect."""
DIALECT_ROWS: dict[Dialect, Provider] = {}
"""The default row of each dialect (the one its URL scheme names)."""
_SCHEME_ROWS: dict[str, Provider] = {}


def register(row: Provider) -> Provider:
    """Add (or replace) a row: every table above and every reader sees it at once."""
    if row.limits.name != row.name:
        row = dataclasses.replace(row, limits=dataclasses.replace(row.limits, name=row.name))
    PROVIDERS[row.name] = row
    PROFILES[row.name] = row.limits
    for scheme in row.schemes:
        SCHEMES[scheme] = row.dialect
        _SCHEME_ROWS[scheme] = row
        DIALECT_ROWS.setdefault(row.dialect, row)
    return row


def unregister(name: str) -> None:
    """Remove a row added by :func:`register`; the rows URL schemes name stay."""
    row = PROVIDERS.get(name)
    if row is not None and row.schemes:
        raise UsageError(f"provider {name!r} owns URL schemes and cannot be removed")
    PROVIDERS.pop(name, None)
    PROFILES.pop(name, None)


for _row in BUILTIN_ROWS:
    register(_row)


def get_provider(name: str) -> Provider:
    """The row named ``name``; ``UsageError`` naming it when unknown."""
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise UsageError(f"unknown provider {name!r}: expected one of {known}") from None


def get_profile(name: str) -> PartLimits:
    """The limits of a named row; ``UsageError`` naming it when unknown."""
    return get_provider(name).limits


def default_provider(dialect: Dialect) -> Provider:
    """The row a dialect's URL scheme names (``s3`` for ``s3://``)."""
    return DIALECT_ROWS[dialect]


def provider_for_server(dialect: Dialect, server: str | None) -> Provider | None:
    """The row of ``dialect`` whose software answers with this ``Server`` header, if any."""
    if not server:
        return None
    for row in PROVIDERS.values():
        if row.dialect == dialect and row.server_header and server.startswith(row.server_header):
            return row
    return None


def provider_for_scheme(scheme: str) -> Provider:
    """The row a URL scheme names (``qs`` -> ``qingstor``)."""
    return _SCHEME_ROWS[scheme]
