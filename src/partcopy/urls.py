"""Object locations as URLs: ``s3://bucket/key?versionId=V``, ``obs://``, ``cos://``, ``qs://``.

Parsing is strict and happens before any request: a malformed URL, an unknown scheme, an
invalid bucket name or a key longer than 1024 bytes is a ``UsageError`` naming the value.
Keys are taken literally (no percent-decoding: ``%3F`` is those three characters), as
``aws s3 cp`` takes them; a ``?`` is part of the key too, except in the last
``?versionId=`` of the URL, which names the version. A key that itself holds
``?versionId=`` is written with an empty one after it (``s3://b/a?versionId=x?versionId=``
is the current version of key ``a?versionId=x``); ``Location.url`` writes it so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from partcopy.errors import UsageError
from partcopy.providers import SCHEMES, Dialect

__all__ = ["MAX_KEY_BYTES", "SCHEMES", "Location", "parse_url"]

MAX_KEY_BYTES = 1024

# Lower-case letters, digits, dots, hyphens (and underscores, which older S3 buckets and
# several S3-compatible stores allow); starting and ending with a letter or a digit.
_BUCKET_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_VERSION_MARK = "?versionId="
_COS_APPID_RE = re.compile(r"-\d+$")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Location:
    """One object: scheme, bucket, key and optionally a version id."""

    scheme: str
    bucket: str
    key: str
    version_id: str | None = None

    @property
    def dialect(self) -> Dialect:
        """The wire dialect this scheme speaks."""
        return SCHEMES[self.scheme]

    @property
    def url(self) -> str:
        """The URL that ``parse_url`` reads back as this location."""
        text = f"{self.scheme}://{self.bucket}/{self.key}"
        if self.version_id:
            return f"{text}{_VERSION_MARK}{self.version_id}"
        # A key holding the mark would read as a version of a shorter key: end it here.
        return text + _VERSION_MARK if _VERSION_MARK in self.key else text

    def __str__(self) -> str:
        return self.url


def _check_bucket(bucket: str, text: str) -> None:
    problem = None
    if not bucket:
        problem = "no bucket"
    elif not _BUCKET_RE.match(bucket):
        problem = (
            f"invalid bucket name {bucket!r}: use 1-63 lower-case letters, digits, dots "
            "or hyphens, starting and ending with a letter or digit"
        )
    elif ".." in bucket or _IPV4_RE.match(bucket):
        problem = f"invalid bucket name {bucket!r}: no '..' and not an IP address"
    if problem:
        raise UsageError(f"invalid location {text!r}: {problem}")


def parse_url(text: str) -> Location:
    """Parse a location URL into a ``Location``; ``UsageError`` naming it when invalid."""
    if not isinstance(text, str):
        raise UsageError(f"invalid location {text!r}: expected a URL such as s3://bucket/key")
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise UsageError(f"invalid location {text!r}: expected a URL such as s3://bucket/key")
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise UsageError(f"invalid location {text!r}: unknown scheme {scheme!r} (use {known})")
    bucket, slash, key = rest.partition("/")
    _check_bucket(bucket, text)
    if scheme == "cos" and not _COS_APPID_RE.search(bucket):
        # COS names a bucket BucketName-APPID; without the appid every request 404s.
        raise UsageError(
            f"invalid location {text!r}: a COS bucket is named with its appid "
            f"({bucket}-1250000000, say)"
        )
    version_id: str | None = None
    mark = key.rfind(_VERSION_MARK)
    if mark >= 0:
        key, version_id = key[:mark], key[mark + len(_VERSION_MARK) :]
        if not version_id and _VERSION_MARK in key:
            version_id = None  # the empty mark that ends a key holding one
        elif not version_id or any(c in version_id for c in "?&/ "):
            raise UsageError(
                f"invalid location {text!r}: bad version id {version_id!r} (a key that "
                f"holds {_VERSION_MARK!r} is written with an empty one after it: "
                f"{text + _VERSION_MARK!r})"
            )
    if not slash or not key:
        raise UsageError(f"invalid location {text!r}: no object key after the bucket")
    if _CONTROL_RE.search(key):
        raise UsageError(f"invalid location {text!r}: the key contains control characters")
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise UsageError(
            f"invalid location {text[:80]!r}...: the key is {size} bytes long "
            f"(at most {MAX_KEY_BYTES})"
        )
    return Location(scheme, bucket, key, version_id)
