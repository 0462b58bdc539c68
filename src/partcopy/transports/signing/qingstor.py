"""QingStor signing (``QS AK:base64(HMAC-SHA256)``), as qingstor-sdk computes it.

String to sign: method, Content-MD5, Content-Type, Date (empty when ``x-qs-date`` is sent),
each + ``\\n``; sorted ``x-qs-*:value.strip()`` lines; then the encoded path (``/`` kept)
plus the sorted sub-resources (``part_number``, ``upload_id``, ``uploads``, …) as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

from .common import (
    Credentials,
    MalformedAuthorization,
    QueryParams,
    base64_hmac,
    header_groups,
    http_date,
    signatures_equal,
    split_key_signature,
    split_raw_query,
    uri_encode,
)

__all__ = [
    "SUB_RESOURCES",
    "QingStorAuthorization",
    "encode_path",
    "encode_query",
    "expected_signature",
    "parse_authorization",
    "sign",
    "string_to_sign",
    "verify",
]

# qingstor-sdk Request.is_sub_resource: query names (exact case) that are signed.
SUB_RESOURCES = frozenset(
    [
        "acl",
        "cors",
        "delete",
        "mirror",
        "part_number",
        "policy",
        "stats",
        "upload_id",
        "uploads",
        "image",
        "notification",
        "response-expires",
        "response-cache-control",
        "response-content-type",
        "response-content-language",
        "response-content-encoding",
        "response-content-disposition",
        "lifecycle",
        "logging",
        "replication",
        "append",
        "position",
        "cname",
    ]
)


@dataclass(frozen=True)
class QingStorAuthorization:
    """What a ``QS AK:signature`` Authorization header claims."""

    access_key: str
    signature: str = field(repr=False)


def encode_path(path: str) -> str:
    """The wire form of an unencoded ``/bucket/key`` path, as qingstor-sdk writes it."""
    return uri_encode(path, "/")


def encode_query(params: QueryParams) -> str:
    """The wire query string as the SDK writes it: ``name`` or ``name=quote(value)``."""
    return "&".join(k if v is None else f"{k}={uri_encode(v, '/')}" for k, v in params)


def sign(
    *,
    method: str,
    path: str,
    query: QueryParams,
    headers: Mapping[str, str],
    credentials: Credentials,
    now: datetime,
    bucket: str | None = None,
) -> dict[str, str]:
    """Headers to add: ``Date`` (from ``now``) and ``Authorization``.

    ``path`` is as sent; pass ``bucket`` when it travels in the host name. QingStor's
    signature has no session token: passing one is a programming error.
    """
    if credentials.session_token:
        raise ValueError("QingStor signing does not take a session token")
    added = {"Date": http_date(now)}
    merged = {k: v for k, v in headers.items() if k.lower() != "date"}
    merged.update(added)
    raw_query = [(k, None if v is None else uri_encode(v, "/")) for k, v in query]
    text = string_to_sign(method=method, path=path, query=raw_query, headers=merged, bucket=bucket)
    signature = base64_hmac(credentials.secret_key, text, "sha256")
    added["Authorization"] = f"QS {credentials.access_key}:{signature}"
    return added


def parse_authorization(value: str) -> QingStorAuthorization:
    """Parse ``QS AK:signature``."""
    scheme, access_key, signature = split_key_signature(value)
    if scheme != "QS" or not access_key or not signature:
        raise MalformedAuthorization("not a 'QS AK:signature' authorization")
    return QingStorAuthorization(access_key, signature)


def expected_signature(
    auth: QingStorAuthorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret_key: str,
    bucket: str | None = None,
) -> str:
    """Recompute the signature for a request as received (raw ``path`` and ``query``)."""
    del auth  # the scheme has nothing beyond the key to take into account
    text = string_to_sign(
        method=method, path=path, query=split_raw_query(query), headers=headers, bucket=bucket
    )
    return base64_hmac(secret_key, text, "sha256")


def verify(
    auth: QingStorAuthorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret_key: str,
    bucket: str | None = None,
) -> bool:
    """True if the claimed signature matches (constant-time)."""
    expected = expected_signature(
        auth,
        method=method,
        path=path,
        query=query,
        headers=headers,
        secret_key=secret_key,
        bucket=bucket,
    )
    return signatures_equal(auth.signature, expected)


def string_to_sign(
    *,
    method: str,
    path: str,
    query: QueryParams,
    headers: Mapping[str, str],
    bucket: str | None = None,
) -> str:
    """The canonical string; ``query`` values here are as on the wire (percent-encoded)."""
    groups = {k: ",".join(v) for k, v in header_groups(headers).items()}
    lines = [
        method,
        groups.get("content-md5", ""),
        groups.get("content-type", ""),
        "" if groups.get("x-qs-date") else groups.get("date", ""),
    ]
    lines += [f"{k}:{groups[k].strip()}" for k in sorted(groups) if k.startswith("x-qs-")]
    resource = uri_encode(unquote(path or "/"), "/")
    if bucket:
        resource = f"/{bucket}{resource}"
    subs = sorted(
        k if v is None else f"{k}={uri_encode(unquote(v), '/')}"
        for k, v in query
        if k in SUB_RESOURCES
    )
    if subs:
        resource += "?" + "&".join(subs)
    return "\n".join(lines) + "\n" + resource
