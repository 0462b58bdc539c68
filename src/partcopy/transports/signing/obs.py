"""Huawei OBS signing (``OBS AK:sig``) and its AWS-v2 twin (``AWS AK:sig``), as esdk-obs-python.

String to sign: method, Content-MD5, Content-Type, Date (empty when ``x-obs-date`` is sent),
each + ``\\n``; sorted ``x-obs-*:value`` lines (meta values stripped); then ``/bucket/key``
with the key percent-encoded (``/~`` kept) and the sorted sub-resources, values unencoded.
The ``aws`` variant is the same with ``x-amz-`` headers; the SDK uses it on IP endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
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
    "ObsAuthorization",
    "Variant",
    "encode_path",
    "encode_query",
    "expected_signature",
    "parse_authorization",
    "sign",
    "string_to_sign",
    "verify",
]

Variant = Literal["obs", "aws"]
_PREFIX: dict[Variant, str] = {"obs": "x-obs-", "aws": "x-amz-"}
_AUTH_PREFIX: dict[Variant, str] = {"obs": "OBS", "aws": "AWS"}

# esdk-obs-python const.ALLOWED_RESOURCE_PARAMTER_NAMES: query names (lower-cased) that are
# signed; names starting with the header prefix are signed too.
SUB_RESOURCES = frozenset(
    [
        "acl",
        "backtosource",
        "policy",
        "torrent",
        "logging",
        "location",
        "storageinfo",
        "quota",
        "storageclass",
        "storagepolicy",
        "requestpayment",
        "versions",
        "versioning",
        "versionid",
        "uploads",
        "uploadid",
        "partnumber",
        "website",
        "notification",
        "dispolicy",
        "lifecycle",
        "deletebucket",
        "delete",
        "cors",
        "restore",
        "tagging",
        "replication",
        "metadata",
        "encryption",
        "publicaccessblock",
        "bucketstatus",
        "policystatus",
        "x-obs-accesslabel",
        "inventory",
        "obscompresspolicy",
        "object-lock",
        "retention",
        "directcoldaccess",
        "append",
        "position",
        "truncate",
        "modify",
        "rename",
        "length",
        "name",
        "fileinterface",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "x-image-save-bucket",
        "x-image-save-object",
        "x-image-process",
        "x-oss-process",
        "x-workflow-prefix",
        "x-workflow-start",
        "x-workflow-limit",
        "x-workflow-template-name",
        "x-workflow-graph-name",
        "x-workflow-execution-state",
        "x-workflow-execution-type",
        "x-workflow-next-marker",
        "obsworkflowtriggerpolicy",
        "obsbucketalias",
        "obsalias",
    ]
)


@dataclass(frozen=True)
class ObsAuthorization:
    """What an ``OBS AK:sig`` / ``AWS AK:sig`` Authorization header claims."""

    variant: Variant
    access_key: str
    signature: str = field(repr=False)


def encode_path(path: str) -> str:
    """The wire form of an unencoded ``/bucket/key`` path, as esdk-obs writes it (``/~`` kept)."""
    return uri_encode(path, "/~")


def encode_query(params: QueryParams) -> str:
    """The wire query string as the SDK writes it: ``name`` or ``name=value`` (``/`` kept)."""
    return "&".join(
        uri_encode(k, "/") if v is None else f"{uri_encode(k, '/')}={uri_encode(v, '/')}"
        for k, v in params
    )


def sign(
    *,
    method: str,
    path: str,
    query: QueryParams,
    headers: Mapping[str, str],
    credentials: Credentials,
    now: datetime,
    bucket: str | None = None,
    variant: Variant = "obs",
) -> dict[str, str]:
    """Headers to add: ``Date`` (from ``now``), the security token if any, ``Authorization``.

    ``path`` is as sent; pass ``bucket`` when it travels in the host name (virtual-hosted).
    """
    added = {"Date": http_date(now)}
    if credentials.session_token:
        added[f"{_PREFIX[variant]}security-token"] = credentials.session_token
    replaced = {name.lower() for name in added}
    merged = {k: v for k, v in headers.items() if k.lower() not in replaced}
    merged.update(added)
    text = string_to_sign(
        method=method, path=path, query=query, headers=merged, bucket=bucket, variant=variant
    )
    signature = base64_hmac(credentials.secret_key, text, "sha1")
    added["Authorization"] = f"{_AUTH_PREFIX[variant]} {credentials.access_key}:{signature}"
    return added


def parse_authorization(value: str) -> ObsAuthorization:
    """Parse ``OBS AK:signature`` or ``AWS AK:signature``."""
    scheme, access_key, signature = split_key_signature(value)
    variant: Variant
    if scheme == "OBS":
        variant = "obs"
    elif scheme == "AWS":
        variant = "aws"
    else:
        raise MalformedAuthorization("not an OBS or AWS (v2) authorization")
    if not access_key or not signature:
        raise MalformedAuthorization("authorization is not 'AK:signature'")
    return ObsAuthorization(variant, access_key, signature)


def expected_signature(
    auth: ObsAuthorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret_key: str,
    bucket: str | None = None,
) -> str:
    """Recompute the signature for a request as received (raw ``path`` and ``query``)."""
    params = [(unquote(k), None if v is None else unquote(v)) for k, v in split_raw_query(query)]
    text = string_to_sign(
        method=method,
        path=path,
        query=params,
        headers=headers,
        bucket=bucket,
        variant=auth.variant,
    )
    return base64_hmac(secret_key, text, "sha1")


def verify(
    auth: ObsAuthorization,
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
    variant: Variant = "obs",
) -> str:
    """The canonical string (exposed for tests and debugging; it holds no secret)."""
    prefix = _PREFIX[variant]
    groups = {k: "".join(v) for k, v in header_groups(headers).items()}
    lines = [method]
    lines.append(groups.get("content-md5", ""))
    lines.append(groups.get("content-type", ""))
    lines.append("" if f"{prefix}date" in groups else groups.get("date", ""))
    for name in sorted(n for n in groups if n.startswith(prefix)):
        value = groups[name].strip() if name.startswith(f"{prefix}meta-") else groups[name]
        lines.append(f"{name}:{value}")
    return "\n".join(lines) + "\n" + _resource(path, query, bucket, prefix)


def _resource(path: str, query: QueryParams, bucket: str | None, prefix: str) -> str:
    resource = uri_encode(unquote(path or "/"), "/~")
    if bucket:
        resource = f"/{bucket}{resource}"
    subs = [
        uri_encode(k, "/") if v is None else f"{uri_encode(k, '/')}={v}"
        for k, v in sorted(query, key=lambda kv: kv[0])
        if k.lower() in SUB_RESOURCES or k.lower().startswith(prefix)
    ]
    return resource + ("?" + "&".join(subs) if subs else "")
