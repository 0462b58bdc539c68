"""Where and as whom to connect: endpoint, region and credentials from arguments and env.

Arguments win over the environment. Credentials come from the chain in
:mod:`partcopy.transports.credential_chain` (explicit, profile, ``PARTCOPY_SRC_*`` /
``PARTCOPY_DST_*``, ``PARTCOPY_*``, the store's own variables and files, for ``s3://``
botocore's chain); endpoints from ``PARTCOPY_ENDPOINT_URL`` (source and destination) and
``PARTCOPY_DST_ENDPOINT_URL`` (destination only); the region from ``PARTCOPY_REGION`` (for
``s3://`` also ``AWS_REGION`` / ``AWS_DEFAULT_REGION``). Missing credentials are a
``ConfigError``, raised before any request. Secrets never appear in a repr.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import urlsplit

from partcopy.errors import ConfigError, UsageError
from partcopy.providers import Dialect, Provider, default_provider
from partcopy.transports.address import AddressingStyle
from partcopy.transports.aws_profile import load_profile
from partcopy.transports.credential_chain import resolve_credentials
from partcopy.transports.credentials import CredentialProvider
from partcopy.transports.network import Network
from partcopy.transports.signing.common import Credentials

__all__ = [
    "Credentials",
    "EndpointConfig",
    "check_endpoint_url",
    "resolve_endpoint",
]

Role = Literal["source", "destination"]
ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """Everything needed to build a transport for one store endpoint."""

    dialect: Dialect
    endpoint_url: str | None
    region: str
    credentials: CredentialProvider
    addressing: AddressingStyle = "auto"
    network: Network | None = None
    provider: Provider | None = None
    """The store's row (default: the dialect's own): endpoint, error codes, limits."""

    @property
    def key(self) -> tuple[str, str | None, str, str]:
        """Identity of the endpoint: jobs with the same key share one concurrency budget."""
        url = self.endpoint_url
        if (
            url is None
            and self.provider is not None
            and self.provider is not default_provider(self.dialect)
        ):
            url = self.provider.endpoint_for(self.region)  # another row's public endpoint
        return (self.dialect, url, self.region, self.credentials.identity)


_USERINFO = re.compile(r"(?<=//)[^/?#@]*@")


def shown_url(url: str) -> str:
    """``url`` fit for a message: any ``user:password@`` replaced by ``***@``."""
    return _USERINFO.sub("***@", url)


def check_endpoint_url(url: str, *, what: str = "endpoint URL") -> str:
    """Return ``url`` without a trailing slash if it is ``http(s)://host[:port]``.

    Messages never repeat credentials written into the URL (``http://AK:SECRET@host``).
    """
    shown = repr(shown_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UsageError(f"invalid {what} {shown}: not a URL") from None
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"invalid {what} {shown}: the port is not 1-65535") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UsageError(f"invalid {what} {shown}: expected http(s)://host[:port]")
    if parts.username or parts.password:
        raise UsageError(
            f"invalid {what} {shown}: credentials do not belong in a URL (they would show in "
            "logs and the process list); use the credential environment variables"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"invalid {what} {shown}: no query or fragment allowed")
    if port == 0:
        raise UsageError(f"invalid {what} {shown}: port 0")
    return url.rstrip("/")


def canonical_endpoint(url: str) -> str:
    """``scheme://host:port`` of a checked endpoint URL, as one store has one spelling:
    case, default ports, trailing slashes and numeric IPv4 short forms (``127.1``) fold
    together. Numeric only: no name is ever resolved."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if _NUMERIC_HOST.match(host):
        with contextlib.suppress(OSError):
            host = socket.inet_ntoa(socket.inet_aton(host))
    elif ":" in host:
        import ipaddress  # only here: the command line's start-up never needs it

        with contextlib.suppress(ValueError):
            host = ipaddress.ip_address(host).compressed
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{host}:{port}"


_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}\Z")


def _region_of_endpoint(row: Provider, endpoint_url: str) -> str | None:
    """The region a store's own endpoint names, read back through the row's template
    (``https://obs.{region}.myhuaweicloud.com`` names ``cn-east-3`` in its host)."""
    if row.endpoint_template is None:
        return None
    template = urlsplit(row.endpoint_template.format(region="xregionx")).hostname or ""
    pattern = r"(?:[a-z0-9.-]+\.)?" + re.escape(template).replace("xregionx", "([a-z0-9-]+)")
    match = re.fullmatch(pattern, (urlsplit(endpoint_url).hostname or "").lower())
    return match.group(1) if match else None


def _required_region(row: Provider, role: Role, endpoint_url: str | None) -> str:
    """The region when none was given: the one the endpoint names, else the row's default,
    but only for S3-dialect rows or a custom endpoint: OBS, COS and QingStor have no single
    right guess, and guessing sends the request (and its signature) to the wrong place."""
    named = _region_of_endpoint(row, endpoint_url) if endpoint_url else None
    if named is not None:
        return named
    if row.default_region is not None and (row.dialect == "s3" or endpoint_url is not None):
        return row.default_region  # a custom endpoint's Host still names a region for COS
    scheme = row.schemes[0] if row.schemes else row.name
    what = "zone" if row.dialect == "qingstor" else "region"
    raise ConfigError(
        f"no {what} for the {role} ({scheme}://): pass --region (or set PARTCOPY_REGION) "
        "or --endpoint-url"
    )


_REGION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
"""A region or zone name (``us-east-1``, ``cn-north-4``, ``ap-guangzhou``, ``pek3b``): it
goes into host names and signing scopes, so nothing that could change a URL's meaning."""


def check_region(region: str, where: str = "region") -> str:
    """``region`` if it is a plausible region name; else ``ConfigError`` naming it (and
    ``where`` it came from), before any request: a region is pasted into the provider's
    endpoint host, where ``x@host`` or ``x/`` would send requests somewhere else."""
    if not _REGION_RE.match(region):
        raise ConfigError(
            f"invalid {where} {region[:80]!r}: expected letters, digits, '-' or '_' "
            "(such as us-east-1)"
        )
    return region


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return None


def resolve_endpoint(
    dialect: Dialect,
    *,
    role: Role = "source",
    endpoint_url: str | None = None,
    region: str | None = None,
    credentials: Credentials | CredentialProvider | None = None,
    profile: str | None = None,
    addressing: str | None = None,
    network: Network | None = None,
    env: Mapping[str, str] | None = None,
    provider: Provider | None = None,
) -> EndpointConfig:
    """Resolve one endpoint's settings from arguments, then the environment (the variables
    the provider row names; default: the dialect's own row; with a profile or
    ``AWS_PROFILE``, its ``region`` and ``s3.addressing_style``), then the row's region."""
    timeouts = (network.connect_timeout, network.read_timeout) if network else (None, None)
    credential_provider = resolve_credentials(
        dialect, role, credentials=credentials, profile=profile, env=env, timeouts=timeouts
    )
    row = provider or default_provider(dialect)
    is_s3 = dialect == "s3"
    aws = None
    if profile is not None or (env is None and is_s3 and os.environ.get("AWS_PROFILE")):
        aws = load_profile(profile, env)
    env = os.environ if env is None else env
    style = addressing or (aws.addressing_style if aws else None) or "auto"
    if style not in ADDRESSING_STYLES:
        where = "" if addressing else f" (addressing_style of profile {aws.name!r})" if aws else ""
        raise ConfigError(
            f"invalid addressing style {style!r}{where}: expected auto, path or virtual"
        )
    if endpoint_url is not None:
        endpoint_url = check_endpoint_url(endpoint_url)
    else:
        names = ["PARTCOPY_ENDPOINT_URL", *row.env.endpoint]
        if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
            names = [n for n in names if not n.startswith("AWS_ENDPOINT_URL")]  # as the SDKs
        if role == "destination":
            names.insert(0, "PARTCOPY_DST_ENDPOINT_URL")
        endpoint_url = _first(env, *names)
        if endpoint_url is not None:
            source = next(n for n in names if env.get(n))
            endpoint_url = check_endpoint_url(endpoint_url, what=f"endpoint URL in {source}")
        elif aws is not None and aws.endpoint_url and is_s3:
            # As the AWS SDKs do: a profile that names its endpoint is not public AWS.
            what = f"endpoint URL ({aws.endpoint_source})"
            endpoint_url = check_endpoint_url(aws.endpoint_url, what=what)
    if region is not None:
        check_region(region)
    else:
        region_names = ("PARTCOPY_REGION", *row.env.region)
        region = _first(env, *region_names)
        if region is not None:
            check_region(region, f"region in {next(n for n in region_names if env.get(n))}")
    if not region and aws is not None and aws.region:
        region = check_region(aws.region, f"region of profile {aws.name!r}")
    region = region or _required_region(row, role, endpoint_url)
    return EndpointConfig(
        dialect,
        endpoint_url,
        region,
        credential_provider,
        cast(AddressingStyle, style),
        network,
        provider,
    )
