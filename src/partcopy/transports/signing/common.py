"""Pieces every signing dialect shares: credentials, header and query access, encodings.

Signing functions are pure: the request and the time go in, header values come out. Nothing
here reads a clock, logs, or puts a secret or a signature into a repr.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "Credentials",
    "MalformedAuthorization",
    "QueryParams",
    "base64_hmac",
    "get_header",
    "header_groups",
    "hmac_digest",
    "http_date",
    "signatures_equal",
    "split_key_signature",
    "split_raw_query",
    "uri_encode",
    "utc",
]

QueryParams = Sequence[tuple[str, str | None]]
"""Query parameters as sent, values unencoded; ``None`` marks a bare flag (``?uploads``)."""


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and optional session token); the repr never shows the secrets."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        token = ", session_token=<hidden>" if self.session_token else ""
        return f"Credentials(access_key={self.access_key!r}, secret_key=<hidden>{token})"


class MalformedAuthorization(ValueError):
    """An Authorization header (or the headers it names) that cannot be checked at all."""


def utc(now: datetime) -> datetime:
    """``now`` in UTC; a naive datetime is a programming error, not a guess."""
    if now.tzinfo is None:
        raise ValueError("signing time must be timezone-aware")
    return now.astimezone(UTC)


def http_date(now: datetime) -> str:
    """RFC 7231 date (``Wed, 01 Jul 2015 05:28:27 GMT``) for a ``Date`` header."""
    return format_datetime(utc(now).replace(microsecond=0), usegmt=True)


@functools.lru_cache(maxsize=4096)
def uri_encode(text: str, safe: str) -> str:
    """Percent-encode UTF-8 ``text``, keeping letters, digits, ``_.-~`` and ``safe``.

    Cached: a job signs the same key, upload id and part numbers thousands of times.
    """
    return quote(text, safe=safe)


_CASELESS = (CIMultiDictProxy, CIMultiDict)
"""Header maps that look names up case-insensitively themselves (aiohttp's, on both sides)."""


def header_groups(
    headers: Mapping[str, str], only: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Header values by lower-case name, in order; a multidict's repeated names are kept.

    ``only`` (lower-case names) limits the answer to those present of them: one lookup
    each in a case-insensitive multidict (as a verifier needs just the signed headers).
    """
    if only is not None and isinstance(headers, _CASELESS):
        found = {name: headers.getall(name, []) for name in only}
        return {name: values for name, values in found.items() if values}
    groups: dict[str, list[str]] = {}
    for name, value in headers.items():
        groups.setdefault(name.lower().strip(), []).append(value)
    if only is not None:
        return {name: groups[name] for name in only if name in groups}
    return groups


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (any case), repeated values joined by ``,``; else None.

    A case-insensitive multidict answers in one lookup (aiohttp's parser refuses names with
    white space, so there is nothing to strip); any other mapping is scanned once.
    """
    if isinstance(headers, _CASELESS):
        values: list[str] = headers.getall(name, [])
    else:
        wanted = name.lower()
        values = [value for key, value in headers.items() if key.lower().strip() == wanted]
    if not values:
        return None
    return values[0] if len(values) == 1 else ",".join(values)


def split_raw_query(query: str) -> list[tuple[str, str | None]]:
    """Split a raw query string into (name, value) pieces, still encoded; no ``=`` → None."""
    pairs: list[tuple[str, str | None]] = []
    for piece in query.split("&") if query else []:
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        pairs.append((name, value if sep else None))
    return pairs


def hmac_digest(key: bytes, message: str, algorithm: str) -> bytes:
    """HMAC of the UTF-8 ``message`` under ``key``."""
    return hmac.new(key, message.encode("utf-8"), getattr(hashlib, algorithm)).digest()


def base64_hmac(secret_key: str, message: str, algorithm: str) -> str:
    """Base64 of the HMAC of ``message`` under the UTF-8 ``secret_key`` (OBS, QingStor)."""
    return base64.b64encode(hmac_digest(secret_key.encode("utf-8"), message, algorithm)).decode()


def split_key_signature(value: str) -> tuple[str, str, str]:
    """``SCHEME AK:signature`` as (scheme, access key, signature); a missing piece is ``""``."""
    scheme, _, rest = value.strip().partition(" ")
    access_key, _, signature = rest.rpartition(":")
    return scheme, access_key, signature


def signatures_equal(claimed: str, expected: str) -> bool:
    """Constant-time comparison of two signature strings."""
    return hmac.compare_digest(claimed.encode("utf-8"), expected.encode("utf-8"))
