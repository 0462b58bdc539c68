"""Where a request goes: endpoints, bucket addressing (path, virtual host, Host header) and
the percent-encoding of keys and query strings that signatures depend on.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import quote, urlsplit

from partcopy.errors import ConfigError

__all__ = [
    "Addressing",
    "AddressingStyle",
    "Endpoint",
    "HostHeader",
    "Located",
    "NoBucketHost",
    "PathStyle",
    "PerBucket",
    "VirtualHost",
    "bucket_host_refusal",
    "quote_key",
    "s3_addressing",
    "service_root",
]

AddressingStyle = Literal["auto", "path", "virtual"]

# A bucket that can be a host name: dot-separated labels of lower-case letters, digits and
# inner hyphens (no underscores, capitals or empty labels).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_BUCKET = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


@functools.lru_cache(maxsize=4096)
def quote_key(key: str) -> str:
    """Percent-encode a key or copy-source path keeping ``-._~/`` (RFC 3986 unreserved).

    Cached: every part of a job sends the same key and copy source.
    """
    return quote(key, safe="/~")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Scheme, host and port of a service endpoint (``https://s3.eu-west-1.amazonaws.com``)."""

    scheme: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """Parse an endpoint URL; ``ConfigError`` naming it when unusable."""
        parts = urlsplit(url if "://" in url else f"https://{url}")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"invalid endpoint URL {url!r}: the port is not 1-65535") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"invalid endpoint URL {url!r}: expected http(s)://host[:port]")
        if parts.path not in {"", "/"} or parts.query:
            raise ConfigError(f"invalid endpoint URL {url!r}: no path or query allowed")
        return cls(parts.scheme, parts.hostname, port)

    @property
    def netloc(self) -> str:
        """Host plus the port when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port in {None, default} else f"{host}:{self.port}"

    @property
    def base(self) -> str:
        """``scheme://netloc``."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def is_ip(self) -> bool:
        """An IP literal (v4 or v6): ``bucket.host`` is no name that DNS could answer."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def is_ip_or_local(self) -> bool:
        """An IP literal or localhost: no DNS for ``bucket.host``, so path style."""
        return self.host == "localhost" or self.host.endswith(".localhost") or self.is_ip

    def check_virtual(self) -> Endpoint:
        """This endpoint, if virtual-host addressing can work on it; ``ConfigError`` naming
        the address of an IP literal (``bucket.127.0.0.1`` would go to DNS and fail after
        every retry). A name, ``localhost`` included, is for its DNS to answer."""
        if self.is_ip:
            raise ConfigError(
                f"virtual addressing needs a DNS name endpoint, not the address {self.host}"
            )
        return self


@dataclass(frozen=True, slots=True)
class Located:
    """Where one request goes: URL prefix to connect to, Host header, encoded path."""

    base: str
    host: str
    path: str
    bucket_in_host: bool = False


def service_root(endpoint: Endpoint, host: str | None = None) -> Located:
    """Where a request with no bucket (ListBuckets) goes: ``/`` on ``endpoint`` itself,
    never a bucket's virtual host; ``host`` is the Host header when it differs (COS)."""
    return Located(endpoint.base, host or endpoint.netloc, "/")


class Addressing(Protocol):
    """Maps a bucket and key onto a URL and the Host header to send and sign."""

    def locate(self, bucket: str, key: str) -> Located: ...


@dataclass(frozen=True, slots=True)
class PathStyle:
    """``scheme://endpoint/bucket/key``."""

    endpoint: Endpoint
    encode: Callable[[str], str] = quote_key
    """The dialect's wire encoding of an unencoded path."""

    def locate(self, bucket: str, key: str) -> Located:
        path = self.encode(f"/{bucket}/{key}") if key else f"/{bucket}"
        return Located(self.endpoint.base, self.endpoint.netloc, path)


@dataclass(frozen=True, slots=True)
class VirtualHost:
    """``scheme://bucket.endpoint/key``."""

    endpoint: Endpoint
    encode: Callable[[str], str] = quote_key

    def locate(self, bucket: str, key: str) -> Located:
        host = f"{bucket}.{self.endpoint.netloc}"
        return Located(f"{self.endpoint.scheme}://{host}", host, self.encode(f"/{key}"), True)


@dataclass(frozen=True, slots=True)
class HostHeader:
    """Connect to ``endpoint`` but address the bucket by a Host header (COS on an emulator)."""

    endpoint: Endpoint
    host_for: Callable[[str], str]
    encode: Callable[[str], str] = quote_key

    def locate(self, bucket: str, key: str) -> Located:
        return Located(self.endpoint.base, self.host_for(bucket), self.encode(f"/{key}"), True)


@dataclass(frozen=True, slots=True)
class NoBucketHost:
    """Virtual-host addressing asked for on an IP-address endpoint: no bucket can be
    addressed (``ConfigError`` from ``locate``, before the request is sent), while a
    request that names no bucket (ListBuckets) still goes to the service endpoint."""

    endpoint: Endpoint

    def locate(self, bucket: str, key: str) -> Located:
        self.endpoint.check_virtual()
        raise AssertionError("check_virtual refuses every IP endpoint")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class PerBucket:
    """Virtual-host addressing for DNS-safe buckets, path style for the rest."""

    endpoint: Endpoint
    encode: Callable[[str], str] = quote_key

    def locate(self, bucket: str, key: str) -> Located:
        secure = self.endpoint.scheme == "https"
        if _DNS_BUCKET.match(bucket) and not (secure and "." in bucket):
            return VirtualHost(self.endpoint, self.encode).locate(bucket, key)
        return PathStyle(self.endpoint, self.encode).locate(bucket, key)


def s3_addressing(
    endpoint: Endpoint,
    style: AddressingStyle,
    encode: Callable[[str], str] = quote_key,
    *,
    own: bool = False,
) -> Addressing:
    """S3-family addressing, as boto3 chooses it: ``auto`` is virtual-hosted only on the
    provider's own public endpoints (``own``) and path style on any custom endpoint (MinIO,
    Ceph, SeaweedFS behind internal DNS); ``virtual`` asks for it everywhere. Buckets that
    cannot be a host name go path style whatever the style. ``virtual`` on an IP address
    addresses no bucket (:class:`NoBucketHost`; :func:`bucket_host_refusal` says so before
    any request)."""
    if style == "path" or (style == "auto" and (not own or endpoint.is_ip_or_local)):
        return PathStyle(endpoint, encode)
    if style == "virtual" and endpoint.is_ip:
        return NoBucketHost(endpoint)
    return PerBucket(endpoint, encode)


def bucket_host_refusal(endpoint_url: str | None, style: str | None) -> ConfigError | None:
    """Why no bucket can be addressed on ``endpoint_url`` in ``style`` (virtual-host
    addressing on an IP address: ``bucket.127.0.0.1`` is no name DNS could answer), or
    None. Callers raise it before a bucket's first request; a request naming no bucket
    (ListBuckets) goes to the service endpoint and is not refused. Not for ``cos://``,
    whose custom endpoints carry the bucket in the Host header alone."""
    if style != "virtual" or endpoint_url is None:
        return None
    try:
        Endpoint.parse(endpoint_url).check_virtual()
    except ConfigError as exc:
        return exc
    return None
