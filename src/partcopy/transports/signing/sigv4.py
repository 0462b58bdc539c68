"""AWS Signature Version 4 for S3, as botocore's ``S3SigV4Auth`` computes it.

S3 signs the URI path exactly as sent (no normalisation), the query sorted by encoded name
then value, every header but a few hop-by-hop ones, and the payload hash from the
``X-Amz-Content-SHA256`` header (``UNSIGNED-PAYLOAD`` allowed).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from .common import (
    Credentials,
    MalformedAuthorization,
    QueryParams,
    get_header,
    header_groups,
    hmac_digest,
    signatures_equal,
    split_raw_query,
    uri_encode,
    utc,
)

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "UNSIGNED_PAYLOAD",
    "SigV4Authorization",
    "encode_path",
    "encode_query",
    "expected_signature",
    "parse_authorization",
    "parse_timestamp",
    "request_timestamp",
    "sign",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_UNRESERVED = "-_.~"
# botocore's SIGNED_HEADERS_BLACKLIST: hop-by-hop or rewritten by proxies.
UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)


_NOT_SIGNED = UNSIGNED_HEADERS | {"x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
"""Headers ``sign`` leaves out of the caller's: unsigned ones, and those it sets itself."""

_SECOND = timedelta(seconds=1)
_LAST_STAMP: tuple[datetime, datetime, str] = (
    datetime.min.replace(tzinfo=UTC),
    datetime.min.replace(tzinfo=UTC),
    "",
)


def _stamp(now: datetime) -> str:
    """``now`` as ``YYYYMMDDTHHMMSSZ``: formatted once per second, not once per request.

    Within the last second formatted, two comparisons answer (datetimes of one time zone
    compare field by field, no conversion)."""
    global _LAST_STAMP
    if now.tzinfo is None:
        raise ValueError("signing time must be timezone-aware")
    start, end, text = _LAST_STAMP
    if start <= now < end:
        return text
    second = utc(now).replace(microsecond=0)
    text = second.strftime(TIMESTAMP_FORMAT)
    _LAST_STAMP = (second, second + _SECOND, text)
    return text


@dataclass(frozen=True)
class SigV4Authorization:
    """What an ``AWS4-HMAC-SHA256`` Authorization header claims."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str = field(repr=False)


def encode_path(path: str) -> str:
    """The wire form of an unencoded ``/bucket/key`` path, as botocore writes it (``/~`` kept)."""
    return uri_encode(path, "/~")


def encode_query(params: QueryParams) -> str:
    """The wire query string for ``params``, in SigV4's own encoding (``None`` → bare name)."""
    parts = []
    for name, value in params:
        key = uri_encode(name, _UNRESERVED)
        parts.append(key if value is None else f"{key}={uri_encode(value, _UNRESERVED)}")
    return "&".join(parts)


def sign(
    *,
    method: str,
    path: str,
    query: QueryParams,
    headers: Mapping[str, str],
    credentials: Credentials,
    now: datetime,
    region: str,
    payload_hash: str = UNSIGNED_PAYLOAD,
    service: str = "s3",
) -> dict[str, str]:
    """Headers to add to a request: ``X-Amz-Date``, ``X-Amz-Content-SHA256``, ``Authorization``.

    ``path`` is as sent (percent-encoded); ``headers`` must include ``Host``. A session token
    adds ``X-Amz-Security-Token``.
    """
    timestamp = _stamp(now)
    added = {"X-Amz-Date": timestamp, "X-Amz-Content-SHA256": payload_hash}
    if credentials.session_token:
        added["X-Amz-Security-Token"] = credentials.session_token
    groups: dict[str, list[str]] = {}
    for name, value in headers.items():
        lower = name.lower().strip()
        if lower in _NOT_SIGNED:  # hop-by-hop, or one of the headers added here
            continue
        values = groups.get(lower)
        if values is None:
            groups[lower] = [value]
        else:
            values.append(value)
    if "host" not in groups:
        raise ValueError("SigV4 signing needs the Host header")
    groups["x-amz-date"] = [timestamp]
    groups["x-amz-content-sha256"] = [payload_hash]
    if credentials.session_token:
        groups["x-amz-security-token"] = [credentials.session_token]
    signed = sorted(groups)
    canonical_query = _canonical_query(query)
    canonical = _canonical_request(method, path, canonical_query, groups, signed, payload_hash)
    scope = f"{timestamp[:8]}/{region}/{service}/aws4_request"
    signature = _signature(credentials.secret_key, timestamp, scope, canonical)
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return added


def parse_authorization(value: str) -> SigV4Authorization:
    """Parse ``AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, ...``."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise MalformedAuthorization("not an AWS4-HMAC-SHA256 authorization")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, content = item.strip().partition("=")
        if not sep:
            raise MalformedAuthorization("authorization field without '='")
        fields[name] = content
    try:
        credential, signed, signature = (
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
        )
    except KeyError as exc:
        raise MalformedAuthorization(f"authorization lacks {exc.args[0]}") from None
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
        raise MalformedAuthorization("malformed credential scope")
    names = tuple(signed.split(";"))
    if not signed or signed != signed.lower() or "" in names:
        raise MalformedAuthorization("malformed SignedHeaders")
    return SigV4Authorization(parts[0], parts[1], parts[2], parts[3], names, signature)


@functools.lru_cache(maxsize=256)
def parse_timestamp(stamp: str) -> datetime:
    """A ``YYYYMMDDTHHMMSSZ`` stamp as an aware UTC datetime; ValueError when malformed.
    Cached: strptime is slow and every request of the same second carries the same stamp."""
    return datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def request_timestamp(headers: Mapping[str, str]) -> str:
    """The signing time a request claims: ``X-Amz-Date``, else its ``Date`` converted."""
    amz_date = get_header(headers, "x-amz-date")
    if amz_date is not None:
        try:
            parse_timestamp(amz_date)
        except ValueError:
            raise MalformedAuthorization("malformed X-Amz-Date") from None
        return amz_date
    date = get_header(headers, "date")
    if date is None:
        raise MalformedAuthorization("request carries neither X-Amz-Date nor Date")
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise MalformedAuthorization("malformed Date") from None
    if parsed.tzinfo is None:  # "-0000" (botocore's formatdate) means UTC
        parsed = parsed.replace(tzinfo=UTC)
    return utc(parsed).strftime(TIMESTAMP_FORMAT)


def expected_signature(
    auth: SigV4Authorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret_key: str,
) -> str:
    """Recompute the signature a server expects for a request as received.

    ``path`` and ``query`` are raw, as on the wire. Raises ``MalformedAuthorization`` if a
    signed header or the payload hash header is missing or the scope date disagrees.
    """
    timestamp = request_timestamp(headers)
    if timestamp[:8] != auth.date:
        raise MalformedAuthorization("credential scope date differs from the request date")
    groups = header_groups(headers, only=auth.signed_headers)
    missing = [name for name in auth.signed_headers if name not in groups]
    if missing:
        raise MalformedAuthorization(f"signed header {missing[0]!r} is not in the request")
    payload_hash = get_header(headers, "x-amz-content-sha256")
    if payload_hash is None:
        raise MalformedAuthorization("missing X-Amz-Content-SHA256")
    canonical_query = _canonical_query(
        (unquote(k), unquote(v or "")) for k, v in split_raw_query(query)
    )
    canonical = _canonical_request(
        method, path, canonical_query, groups, auth.signed_headers, payload_hash
    )
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    return _signature(secret_key, timestamp, scope, canonical)


def verify(
    auth: SigV4Authorization,
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


def _canonical_query(pairs: Iterable[tuple[str, str | None]]) -> str:
    """``name=value`` encoded, sorted by encoded name then value (``None`` as ``""``)."""
    encoded = []
    for name, value in pairs:
        encoded.append((uri_encode(name, _UNRESERVED), uri_encode(value or "", _UNRESERVED)))
    encoded.sort()
    return "&".join([f"{name}={value}" for name, value in encoded])


def _canonical_request(
    method: str,
    path: str,
    canonical_query: str,
    groups: Mapping[str, list[str]],
    signed: Sequence[str],
    payload_hash: str,
) -> str:
    headers = "\n".join([f"{name}:{','.join(groups[name])}" for name in signed])
    pieces = headers.split()
    if len(pieces) != len(signed) or "\n".join(pieces) != headers:
        # Some value holds white space: trimmed, and each run made one space. (Without
        # any, as nearly always, the lines above are already canonical.)
        headers = "\n".join(
            [f"{name}:{','.join([' '.join(v.split()) for v in groups[name]])}" for name in signed]
        )
    return (
        f"{method.upper()}\n{path or '/'}\n{canonical_query}\n{headers}\n\n"
        f"{';'.join(signed)}\n{payload_hash}"
    )


def _signature(secret_key: str, timestamp: str, scope: str, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    mac = _keyed_hmac(secret_key, scope).copy()
    mac.update(f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}".encode())
    return mac.hexdigest()


@functools.lru_cache(maxsize=64)
def _keyed_hmac(secret_key: str, scope: str) -> hmac.HMAC:
    """The standard library's HMAC-SHA256 under the scope's signing key, keyed once: a
    signature copies it and adds its message, at about 60 % of a fresh HMAC's cost."""
    return hmac.new(_signing_key(secret_key, scope), digestmod=hashlib.sha256)


@functools.lru_cache(maxsize=64)
def _signing_key(secret_key: str, scope: str) -> bytes:
    """The scope's derived key: four HMACs that are the same for a whole day and region."""
    key = f"AWS4{secret_key}".encode()
    for part in scope.split("/"):
        key = hmac_digest(key, part, "sha256")
    return key
