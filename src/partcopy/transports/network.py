"""How requests reach a store: proxies, the CA bundle, TLS verification, the User-Agent.

Proxies: an explicit ``proxy`` (``--proxy``) for every request (then no proxy variable is
read), else ``HTTPS_PROXY`` for ``https://`` endpoints and ``HTTP_PROXY`` for ``http://``
ones (lower-case names too, as curl and requests read them), with ``NO_PROXY`` exempting
hosts (``*``, names with their subdomains, ``.suffix``, ``host:port``, IPs and CIDR blocks,
as requests matches).
CA bundle: ``ca_bundle`` (``--ca-bundle``), else ``AWS_CA_BUNDLE``, ``REQUESTS_CA_BUNDLE``,
``SSL_CERT_FILE``; a missing or unusable file is a ``ConfigError`` before any request.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from partcopy import truststore
from partcopy.errors import ConfigError
from partcopy.version import __version__

__all__ = ["USER_AGENT", "Network", "bypasses_proxy", "redact_url", "resolve_network"]

USER_AGENT = f"partcopy/{__version__}"


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (proxy URLs may carry credentials)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


def _check_proxy(url: str, what: str) -> str:
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"invalid {what} {shown!r}: not a URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"invalid {what} {shown!r}: expected http(s)://[user:pass@]host[:port]")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or port == 0:
        raise ConfigError(f"invalid {what} {shown!r}: expected http(s)://[user:pass@]host[:port]")
    return url


def bypasses_proxy(host: str, port: int | None, no_proxy: tuple[str, ...]) -> bool:
    """Whether ``NO_PROXY`` entries exempt ``host[:port]`` from the proxy."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy:
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                if address is not None and address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, wanted_port = entry, None
        if entry.count(":") == 1:
            name, _, text = entry.partition(":")
            wanted_port = int(text) if text.isdigit() else None
        name = name.strip("[]").removeprefix("*").lstrip(".")
        if wanted_port is not None and wanted_port != port:
            continue
        if host == name or (address is None and host.endswith("." + name)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Network:
    """Proxy, TLS and User-Agent settings shared by every transport of a copier."""

    proxy: str | None = field(default=None, repr=False)
    http_proxy: str | None = field(default=None, repr=False)
    https_proxy: str | None = field(default=None, repr=False)
    no_proxy: tuple[str, ...] = ()
    ca_bundle: str | None = None
    verify_tls: bool = True
    user_agent: str = USER_AGENT
    connect_timeout: float | None = None
    """Seconds to wait for a connection (None: the transport's default, 10)."""
    read_timeout: float | None = None
    """Seconds to wait for an answer (None: the transport's default, 60); a server-side
    copy waits this plus its bytes at 16 MiB/s."""

    def proxy_for(self, scheme: str, host: str, port: int | None) -> str | None:
        """The proxy URL for a request to ``scheme://host:port`` (None: connect directly)."""
        proxy = self.proxy or (self.https_proxy if scheme == "https" else self.http_proxy)
        if proxy is None or bypasses_proxy(host, port, self.no_proxy):
            return None
        if proxy[:6].lower() == "https:":
            truststore.load()  # the proxy's own handshake may use aiohttp's default context
        return proxy

    def ssl(self) -> ssl.SSLContext | bool:
        """aiohttp's ``ssl=``: False when verification is off, a context with the CA bundle,
        else True (the system's trust store, loaded now if the command deferred it)."""
        truststore.load()
        if not self.verify_tls:
            return False
        if self.ca_bundle is None:
            return True
        return _context(self.ca_bundle)

    def session(self, limit: int, limit_per_host: int, **options: Any) -> aiohttp.ClientSession:
        """An aiohttp session with these settings (``options``: the connector's extras).

        Proxies are chosen per request (``proxy_for``), so the environment is not re-read
        by aiohttp (``trust_env`` off): what was resolved here is what is used.
        """
        # The CA bundle's context is given per https request (``HttpCore``), so a run that
        # only speaks plain http never parses the bundle (tens of ms for a system one).
        connector = aiohttp.TCPConnector(
            limit=limit, limit_per_host=limit_per_host, ssl=self.verify_tls, **options
        )
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
            headers={"User-Agent": self.user_agent},
            trust_env=False,
        )


SKIP_AUTO_HEADERS = ("Accept-Encoding", "Content-Type")
"""Headers aiohttp must not add: no Accept-Encoding (answers stay uncompressed), no
guessed Content-Type (OBS and QingStor sign the Content-Type as sent)."""


_CONTEXTS: dict[tuple[str, int, int, int], ssl.SSLContext] = {}
"""Loaded CA bundles by path and file identity: parsing one costs tens of ms of CPU, and
every endpoint's check and every session would otherwise parse the same file again."""


def _context(path: str) -> ssl.SSLContext:
    """A verifying context trusting the bundle at ``path``, loaded once per file version."""
    try:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns)
        context = _CONTEXTS.get(key)
        if context is None:
            context = _CONTEXTS[key] = ssl.create_default_context(cafile=path)
        return context
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "no usable PEM certificates"
        raise ConfigError(f"invalid CA bundle {path!r}: {reason}") from None


_PEM_CERTIFICATE = (b"-----BEGIN CERTIFICATE-----", b"-----BEGIN TRUSTED CERTIFICATE-----")


def _check_pem(path: str) -> None:
    """A readable file holding at least one PEM certificate (not parsed: that waits for an
    https request); else the same ``ConfigError`` a parse would give."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(_MAX_BUNDLE)
    except OSError as exc:
        raise ConfigError(f"invalid CA bundle {path!r}: {exc.strerror}") from None
    if not any(marker in text for marker in _PEM_CERTIFICATE):
        raise ConfigError(f"invalid CA bundle {path!r}: no usable PEM certificates")


_MAX_BUNDLE = 64 * 1024 * 1024
"""Read at most this much of a CA bundle to look for a certificate (system ones: ~200 KB)."""


def _env(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    for candidate in (name, name.lower()):
        value = env.get(candidate)
        if value:
            return candidate, value
    return None


def resolve_network(
    *,
    proxy: str | None = None,
    ca_bundle: str | None = None,
    verify_tls: bool = True,
    env: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Network:
    """Network settings from arguments, then the environment; bad values are a
    ``ConfigError`` naming them, raised before any request."""
    for what, seconds in (("connect timeout", connect_timeout), ("read timeout", read_timeout)):
        if seconds is not None:
            check_timeout(seconds, what)
    env = os.environ if env is None else env
    if proxy is not None:
        _check_proxy(proxy, "proxy URL")
    found: dict[str, str | None] = {}
    proxy_env: Mapping[str, str] = {} if proxy is not None else env  # explicit: env unread
    for name in ("HTTP_PROXY", "HTTPS_PROXY"):
        hit = _env(proxy_env, name)
        found[name] = _check_proxy(hit[1], f"proxy URL in {hit[0]}") if hit else None
    no_proxy_hit = _env(proxy_env, "NO_PROXY")
    no_proxy = tuple(e.strip() for e in no_proxy_hit[1].split(",")) if no_proxy_hit else ()
    explicit = ca_bundle is not None
    if ca_bundle is None:
        for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            ca_bundle = ca_bundle or env.get(name) or None
    if ca_bundle is not None:
        ca_bundle = os.path.expanduser(ca_bundle)
        if not os.path.isfile(ca_bundle):
            raise ConfigError(f"CA bundle {ca_bundle!r} does not exist or is not a file")
        if verify_tls and explicit:
            _context(ca_bundle)  # unreadable or not PEM: say so now
        elif verify_tls:
            _check_pem(ca_bundle)  # from the environment: parsed on the first https request
    return Network(
        proxy=proxy,
        http_proxy=found["HTTP_PROXY"],
        https_proxy=found["HTTPS_PROXY"],
        no_proxy=tuple(e for e in no_proxy if e),
        ca_bundle=ca_bundle,
        verify_tls=verify_tls,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


MAX_TIMEOUT = 86400.0
"""A day: the longest wait a timeout may be set to (every wait has a deadline)."""


def check_timeout(seconds: float, what: str = "timeout") -> float:
    """``seconds`` if it is a usable timeout (above 0, at most a day); else ``ConfigError``."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ConfigError(f"invalid {what} {seconds!r}: expected seconds")
    if not 0 < seconds <= MAX_TIMEOUT:  # NaN fails both comparisons
        raise ConfigError(f"invalid {what} {seconds!r}: must be above 0 and at most a day")
    return float(seconds)
