"""Signature checks for the emulator, one per dialect, over the pure signing functions.

A request is accepted only when it carries the dialect's Authorization for the configured
access key and the signature recomputed from the request as received matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

from partcopy.store.memory import StoreError
from partcopy.transports.signing import cos, obs, qingstor, sigv4
from partcopy.transports.signing.common import (
    MalformedAuthorization,
    get_header,
    signatures_equal,
)

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_SECRET_KEY",
    "KeyLookup",
    "SignedRequest",
    "StoredKey",
    "Verifier",
    "verifier_for",
]

DEFAULT_ACCESS_KEY = "partcopy"
DEFAULT_SECRET_KEY = "partcopy-secret"  # a documented test credential, not a secret


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signature covers: the request exactly as received."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str] = field(repr=False)  # carries the Authorization signature
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A key the emulator accepts; temporary ones carry their session token and expiry."""

    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expires: datetime | None = None


KeyLookup = Callable[[str], StoredKey | None]
"""The key an access key id names (``None``: unknown), e.g. STS credentials issued later."""

Verifier = Callable[[SignedRequest], str]
"""The access key that signed (the request's owner); raises ``StoreError`` (403
``SignatureDoesNotMatch`` and kin) when a request is refused."""
Clock = Callable[[], datetime]

_Auth = TypeVar("_Auth")
_Auth_contra = TypeVar("_Auth_contra", contravariant=True)


class _VerifyFn(Protocol[_Auth_contra]):
    """A signing module's ``verify``: does the claimed signature match the request?"""

    def __call__(
        self,
        auth: _Auth_contra,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        secret_key: str,
    ) -> bool: ...


MAX_SKEW = timedelta(minutes=15)
"""How far a signed request's time may be from the server's (S3, OBS, QingStor)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _skewed() -> StoreError:
    return StoreError(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    )


def _check_http_date(req: SignedRequest, names: tuple[str, ...], clock: Clock) -> None:
    """Refuse a request whose first present date header is malformed or too far off."""
    for name in names:
        value = get_header(req.headers, name)
        if value is None:
            continue
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise _denied("AccessDenied", f"malformed {name} header") from None
        if when.tzinfo is None or abs(clock() - when) > MAX_SKEW:
            raise _skewed()
        return
    raise _denied("AccessDenied", "the request carries no date")


def _denied(code: str = "AccessDenied", message: str = "Access Denied") -> StoreError:
    return StoreError(403, code, message)


def _mismatch() -> StoreError:
    return _denied(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def _unknown_key() -> StoreError:
    return _denied(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    )


def _authorization(req: SignedRequest) -> str:
    value = get_header(req.headers, "authorization")
    if not value:
        raise _denied()
    return value


def _check_token(req: SignedRequest, header: str | None, key: StoredKey, clock: Clock) -> None:
    """A temporary key needs its own session token, unexpired; a permanent one none."""
    sent = get_header(req.headers, header) if header else None
    if key.session_token is None:
        if sent:
            raise _denied("InvalidToken", "The provided token is malformed or otherwise invalid.")
        return
    if sent is None or not signatures_equal(sent, key.session_token):
        raise _denied("InvalidToken", "The provided token is malformed or otherwise invalid.")
    if key.expires is not None and clock() >= key.expires:
        raise StoreError(400, "ExpiredToken", "The provided token has expired.")


def _parse(parse: Callable[[str], _Auth], req: SignedRequest) -> _Auth:
    """The dialect's parsed Authorization; a malformed one is a plain 403 (as OBS/COS/QS)."""
    try:
        return parse(_authorization(req))
    except MalformedAuthorization:
        raise _denied() from None


def _check_signature(
    verify: _VerifyFn[_Auth], auth: _Auth, req: SignedRequest, secret_key: str
) -> None:
    """Refuse the request unless the signature recomputed from it matches the claimed one."""
    if not verify(
        auth,
        method=req.method,
        path=req.path,
        query=req.query,
        headers=req.headers,
        secret_key=secret_key,
    ):
        raise _mismatch()


def _s3(keys: KeyLookup, clock: Clock) -> Verifier:
    def verify(req: SignedRequest) -> str:
        try:
            auth = sigv4.parse_authorization(_authorization(req))
            stamp = sigv4.request_timestamp(req.headers)
        except MalformedAuthorization as exc:
            raise StoreError(400, "AuthorizationHeaderMalformed", str(exc)) from None
        key = keys(auth.access_key)
        if key is None:
            raise _unknown_key()
        _check_token(req, "x-amz-security-token", key, clock)
        when = sigv4.parse_timestamp(stamp)
        if abs(clock() - when) > MAX_SKEW:
            raise _skewed()
        claimed = get_header(req.headers, "x-amz-content-sha256")
        if (
            claimed is not None
            and claimed != sigv4.UNSIGNED_PAYLOAD
            and not claimed.startswith("STREAMING-")
            and claimed != hashlib.sha256(req.body).hexdigest()
        ):
            raise StoreError(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        _check_signature(sigv4.verify, auth, req, key.secret_key)
        return str(auth.access_key)

    return verify


def _obs(keys: KeyLookup, clock: Clock) -> Verifier:
    def verify(req: SignedRequest) -> str:
        auth = _parse(obs.parse_authorization, req)
        key = keys(auth.access_key)
        if key is None:
            raise _unknown_key()
        prefix = "x-obs-" if auth.variant == "obs" else "x-amz-"
        _check_token(req, prefix + "security-token", key, clock)
        _check_http_date(req, (prefix + "date", "date"), clock)
        _check_signature(obs.verify, auth, req, key.secret_key)
        return str(auth.access_key)

    return verify


def _cos(keys: KeyLookup, clock: Clock) -> Verifier:
    def verify(req: SignedRequest) -> str:
        auth = _parse(cos.parse_authorization, req)
        key = keys(auth.access_key)
        if key is None:
            raise _denied("InvalidAccessKeyId", "The SecretId you provided does not exist.")
        _check_token(req, "x-cos-security-token", key, clock)
        if not auth.valid_from <= clock().timestamp() <= auth.valid_until:
            raise _denied("AccessDenied", "Request has expired")
        _check_signature(cos.verify, auth, req, key.secret_key)
        return str(auth.access_key)

    return verify


def _qingstor(keys: KeyLookup, clock: Clock) -> Verifier:
    def verify(req: SignedRequest) -> str:
        auth = _parse(qingstor.parse_authorization, req)
        key = keys(auth.access_key)
        if key is None:
            raise _unknown_key()
        _check_token(req, None, key, clock)
        _check_http_date(req, ("x-qs-date", "date"), clock)
        _check_signature(qingstor.verify, auth, req, key.secret_key)
        return str(auth.access_key)

    return verify


_FACTORIES: dict[str, Callable[[KeyLookup, Clock], Verifier]] = {
    "s3": _s3,
    "obs": _obs,
    "cos": _cos,
    "qingstor": _qingstor,
}


def verifier_for(
    dialect: str,
    access_key: str,
    secret_key: str,
    clock: Clock = _utc_now,
    *,
    keys: KeyLookup | None = None,
) -> Verifier:
    """The signature (and request time) check of ``dialect`` for one access key pair, or
    for every key ``keys`` knows (temporary ones with their session token) when given."""
    if keys is None:
        only = StoredKey(secret_key)

        def keys(candidate: str) -> StoredKey | None:
            return only if candidate == access_key else None

    return _FACTORIES[dialect](keys, clock)
