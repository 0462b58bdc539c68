"""Pure request signing for the four wire dialects: ``sigv4``, ``obs``, ``cos``, ``qingstor``.

Each dialect module offers the same verbs: ``sign`` (client: headers to add to a request),
``encode_query`` (the wire query matching what is signed), ``parse_authorization`` and
``expected_signature`` / ``verify`` (server: recompute a received request's signature).
"""

from __future__ import annotations

from .common import Credentials, MalformedAuthorization, QueryParams

__all__ = [
    "Credentials",
    "MalformedAuthorization",
    "QueryParams",
    "cos",
    "obs",
    "qingstor",
    "sigv4",
]
