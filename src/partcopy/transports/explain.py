"""Errors a person can act on: what a refusal means and which credentials were used.

A 403 names its kind from the store's code (an unknown key, a wrong secret, a missing
permission, an expired token, a skewed clock) with the bucket, the access key and where
the credentials came from, never a secret. A 404 on HEAD (which has no body to say more)
is told apart as a missing bucket or a missing key by asking for the bucket.
"""

from __future__ import annotations

from partcopy.transports.credentials import CredentialProvider

__all__ = ["denial_hint", "missing_bucket", "missing_key"]

# Service codes (S3, OBS and COS share them; QingStor's are lower-case) -> what they mean.
_MEANING = {
    "InvalidAccessKeyId": "the store does not know the access key",
    "invalid_access_key_id": "the store does not know the access key",
    "SignatureDoesNotMatch": "the secret key does not belong to the access key "
    "(the signature does not match)",
    "signature_not_match": "the secret key does not belong to the access key "
    "(the signature does not match)",
    "AccessDenied": "the credentials are valid but lack permission for this request",
    "permission_denied": "the credentials are valid but lack permission for this request",
    "InvalidToken": "the session token is not valid for the access key",
    "ExpiredToken": "the session token has expired",
    "TokenRefreshRequired": "the session token has expired",
    "RequestTimeTooSkewed": "this machine's clock is too far from the store's",
    "AllAccessDisabled": "all access to this bucket is disabled",
}


def denial_hint(
    status: int,
    code: str | None,
    bucket: str,
    credentials: CredentialProvider | None,
) -> str | None:
    """A sentence for a refused request (401/403 or a token code); None for others."""
    meaning = _MEANING.get(code or "")
    if meaning is None and status not in {401, 403}:
        return None
    meaning = meaning or "the store refused the credentials"
    where = f"bucket {bucket!r}" if bucket else "listing buckets"  # "": a service request
    if credentials is None:
        return f"{meaning} ({where})"
    try:
        key = credentials.current().access_key
    except RuntimeError:  # never resolved: nothing was signed with them
        return f"{meaning} ({where}; credentials from {credentials.source})"
    return f"{meaning} ({where}, access key {key!r} from {credentials.source})"


def missing_bucket(bucket: str) -> str:
    """The message of a HEAD 404 whose bucket does not exist."""
    return f"the bucket {bucket!r} does not exist"


def missing_key(bucket: str, key: str) -> str:
    """The message of a HEAD 404 whose bucket exists but has no such key."""
    return f"the bucket {bucket!r} has no object {key!r}"
