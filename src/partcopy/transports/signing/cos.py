"""Tencent COS XML signing (``q-sign-algorithm=sha1&...``), as cos-python-sdk-v5 computes it.

FormatString = lower-case method, the decoded path, ``k=v`` params, ``k=v`` headers, each +
``\\n`` (names lower-cased, names and values encoded keeping ``-_.~``, sorted).
StringToSign = ``sha1\\n<sign-time>\\n<hex sha1(FormatString)>\\n``;
SignKey = hex HMAC-SHA1(SK, key-time); signature = hex HMAC-SHA1(SignKey as text, StringToSign).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import unquote, unquote_plus

from .common import (
    Credentials,
    MalformedAuthorization,
    QueryParams,
    header_groups,
    hmac_digest,
    signatures_equal,
    split_raw_query,
    uri_encode,
    utc,
)

__all__ = [
    "CLOCK_SLACK",
    "SIGNED_HEADER_NAMES",
    "CosAuthorization",
    "encode_path",
    "encode_query",
    "expected_signature",
    "parse_authorization",
    "sign",
    "verify",
]

# The SDK starts a signature's validity 60 s before "now" to absorb clock skew.
CLOCK_SLACK = timedelta(seconds=60)
_SAFE = "-_.~"
# cos_auth.filter_headers: the headers the SDK signs (plus every x-cos-* and x-ci-*).
SIGNED_HEADER_NAMES = frozenset(
    {
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-type",
        "content-md5",
        "content-length",
        "expect",
        "expires",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "origin",
        "range",
        "transfer-encoding",
        "pic-operations",
    }
)


@dataclass(frozen=True)
class CosAuthorization:
    """What a COS Authorization header claims (times are ``start;end`` epoch seconds)."""

    access_key: str
    sign_time: str
    key_time: str
    header_list: tuple[str, ...]
    param_list: tuple[str, ...]
    signature: str = field(repr=False)

    @property
    def valid_from(self) -> int:
        """Start of the signature's validity (epoch seconds)."""
        return int(self.sign_time.split(";")[0])

    @property
    def valid_until(self) -> int:
        """End of the signature's validity (epoch seconds)."""
        return int(self.sign_time.split(";")[1])


def encode_path(path: str) -> str:
    """The wire form of an unencoded ``/key`` path, as the SDK writes it (``./`` → ``.%2F``)."""
    return uri_encode(path, "/" + _SAFE).replace("./", ".%2F")


def encode_query(params: QueryParams) -> str:
    """The wire query string, encoded keeping ``-_.~`` (``None`` → bare name)."""
    return "&".join(
        uri_encode(k, _SAFE) if v is None else f"{uri_encode(k, _SAFE)}={uri_encode(v, _SAFE)}"
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
    valid_for: timedelta = timedelta(hours=1),
) -> dict[str, str]:
    """Headers to add: ``Authorization`` (and ``x-cos-security-token`` with a session token).

    ``path`` is as sent; ``headers`` must include the ``Host`` the service knows the bucket by
    (``<bucket-appid>.cos.<region>.myqcloud.com``), even when connecting elsewhere.
    """
    added: dict[str, str] = {}
    if credentials.session_token:
        added["x-cos-security-token"] = credentials.session_token
    merged = {k: v for k, v in headers.items() if k.lower() not in added}
    merged.update(added)
    signed_headers = {
        _enc_name(name): _enc_value(",".join(values))
        for name, values in header_groups(merged).items()
        if _signable(name)
    }
    if "host" not in signed_headers:
        raise ValueError("COS signing needs the Host header")
    params = {_enc_name(k): _enc_value(v or "") for k, v in query}
    start = int((utc(now) - CLOCK_SLACK).timestamp())
    end = int((utc(now) + valid_for).timestamp())
    sign_time = f"{start};{end}"
    signature = _signature(credentials.secret_key, method, path, params, signed_headers, sign_time)
    added["Authorization"] = (
        f"q-sign-algorithm=sha1&q-ak={credentials.access_key}"
        f"&q-sign-time={sign_time}&q-key-time={sign_time}"
        f"&q-header-list={';'.join(sorted(signed_headers))}"
        f"&q-url-param-list={';'.join(sorted(params))}&q-signature={signature}"
    )
    return added


def parse_authorization(value: str) -> CosAuthorization:
    """Parse ``q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&…&q-signature=…``."""
    fields: dict[str, str] = {}
    for item in value.strip().split("&"):
        name, _, content = item.partition("=")
        fields[name] = content
    if fields.get("q-sign-algorithm") != "sha1":
        raise MalformedAuthorization("not a COS sha1 authorization")
    try:
        auth = CosAuthorization(
            access_key=fields["q-ak"],
            sign_time=fields["q-sign-time"],
            key_time=fields["q-key-time"],
            header_list=_names(fields["q-header-list"]),
            param_list=_names(fields["q-url-param-list"]),
            signature=fields["q-signature"],
        )
    except KeyError as exc:
        raise MalformedAuthorization(f"authorization lacks {exc.args[0]}") from None
    for times in (auth.sign_time, auth.key_time):
        start, sep, end = times.partition(";")
        if not (sep and start.isdigit() and end.isdigit()):
            raise MalformedAuthorization("malformed q-sign-time or q-key-time")
    if not auth.access_key or not auth.signature:
        raise MalformedAuthorization("empty q-ak or q-signature")
    return auth


def expected_signature(
    auth: CosAuthorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret_key: str,
) -> str:
    """Recompute the signature for a request as received, over the headers and params it names.

    Raises ``MalformedAuthorization`` if a named header or parameter is not in the request.
    """
    available = {_enc_name(name): values for name, values in header_groups(headers).items()}
    signed_headers: dict[str, str] = {}
    for name in auth.header_list:
        if name not in available:
            raise MalformedAuthorization(f"signed header {name!r} is not in the request")
        signed_headers[name] = _enc_value(",".join(available[name]))
    present: dict[str, str] = {}
    for k, v in split_raw_query(query):  # names equal once lower-cased: the last wins, as the SDK
        present[_enc_name(unquote_plus(k))] = _enc_value(unquote_plus(v or ""))
    params: dict[str, str] = {}
    for name in auth.param_list:
        if name not in present:
            raise MalformedAuthorization(f"signed parameter {name!r} is not in the request")
        params[name] = present[name]
    return _signature(
        secret_key, method, path, params, signed_headers, auth.sign_time, auth.key_time
    )


def verify(
    auth: CosAuthorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret_key: str,
) -> bool:
    """True if the claimed signature matches (constant-time); malformed requests are False."""
    try:
        expected = expected_signature(
            auth, method=method, path=path, query=query, headers=headers, secret_key=secret_key
        )
    except MalformedAuthorization:
        return False
    return signatures_equal(auth.signature, expected)


def _signable(name: str) -> bool:
    return name in SIGNED_HEADER_NAMES or name.startswith(("x-cos-", "x-ci-"))


def _enc_name(text: str) -> str:
    """Names are encoded keeping ``-_.~``, then lower-cased (escapes included, as the SDK)."""
    return uri_encode(text, _SAFE).lower()


def _enc_value(text: str) -> str:
    return uri_encode(text, _SAFE)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n for n in text.split(";") if n)


def _signature(
    secret_key: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    sign_time: str,
    key_time: str | None = None,
) -> str:
    format_string = "{}\n{}\n{}\n{}\n".format(
        method.lower(),
        unquote(path or "/"),
        "&".join(f"{k}={v}" for k, v in sorted(params.items())),
        "&".join(f"{k}={v}" for k, v in sorted(headers.items())),
    )
    digest = hashlib.sha1(format_string.encode("utf-8")).hexdigest()
    string_to_sign = f"sha1\n{sign_time}\n{digest}\n"
    sign_key = hmac_digest(secret_key.encode("utf-8"), key_time or sign_time, "sha1").hex()
    return hmac_digest(sign_key.encode("utf-8"), string_to_sign, "sha1").hex()
