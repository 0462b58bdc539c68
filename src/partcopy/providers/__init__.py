"""Providers as data: one frozen :class:`Provider` row per store, the single place for its facts.

A row says which URL schemes reach the store, which wire dialect it speaks, its multipart
limits, default region and endpoint, which hosts are its own public endpoints, how its
ETags are made, when it refuses a ranged or a server-side copy, what its error codes mean,
where its credentials come from, and its quirks. Pure data, importing only ``errors`` and
``units``: planners, transports, the engine and the CLI may all import it, and none keeps
its own copy of these facts. Adding an S3-compatible store is one row (:func:`register`).
"""

from __future__ import annotations

from partcopy.providers.codes import QINGSTOR_ERRORS, S3_ERRORS, ErrorCodes
from partcopy.providers.model import (
    AWS_ENV,
    CompositeRule,
    CredentialEnv,
    Dialect,
    PartLimits,
    Provider,
    Quirks,
)
from partcopy.providers.registry import (
    DIALECT_ROWS,
    PROFILES,
    PROVIDERS,
    SCHEMES,
    default_provider,
    get_profile,
    get_provider,
    provider_for_scheme,
    provider_for_server,
    register,
    unregister,
)
from partcopy.providers.table import describe, markdown_table, quirk_words

__all__ = [
    "AWS_ENV",
    "DIALECT_ROWS",
    "PROFILES",
    "PROVIDERS",
    "QINGSTOR_ERRORS",
    "S3_ERRORS",
    "SCHEMES",
    "CompositeRule",
    "CredentialEnv",
    "Dialect",
    "ErrorCodes",
    "PartLimits",
    "Provider",
    "Quirks",
    "default_provider",
    "describe",
    "get_profile",
    "get_provider",
    "markdown_table",
    "provider_for_scheme",
    "provider_for_server",
    "quirk_words",
    "register",
    "unregister",
]
