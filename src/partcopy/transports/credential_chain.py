"""The credential chain of one side of a copy, first match wins:

1. explicit credentials (a key pair or a provider) given to the library;
2. an explicit profile (``--profile``/``--src-profile``/``--dst-profile``): the AWS config files;
3. ``PARTCOPY_SRC_*`` (source) or ``PARTCOPY_DST_*`` (destination) environment variables;
4. ``PARTCOPY_ACCESS_KEY_ID`` / ``PARTCOPY_SECRET_ACCESS_KEY`` / ``PARTCOPY_SESSION_TOKEN``;
5. the store's own environment names (``AWS_*``, ``OBS_*``, ``COS_*``, ``QINGSTOR_*``);
6. the store's own tools' files: for ``s3://`` botocore's whole chain (``AWS_PROFILE``,
   shared files, SSO, assume role, web identity, container, IMDSv2); for ``qs://`` the
   qsctl/SDK YAML config; for ``cos://`` coscmd's ``~/.cos.conf``; for ``obs://``
   obsutil's ``~/.obsutilconfig``.

Steps 5 and 6 read the process environment only: a caller that passes its own ``env``
mapping gets exactly what the mapping says (and botocore, which reads the process
environment itself, is left out).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from typing import Literal

from partcopy.errors import ConfigError
from partcopy.providers import DIALECT_ROWS
from partcopy.transports.aws_profile import (
    aws_chain,
    check_config_files,
    config_paths,
    load_profile,
)
from partcopy.transports.base import Dialect
from partcopy.transports.credentials import (
    Clock,
    CredentialProvider,
    StaticCredentials,
    as_provider,
    utc_now,
)
from partcopy.transports.signing.common import Credentials

__all__ = [
    "VENDOR_ENV",
    "coscmd_credentials",
    "obsutil_credentials",
    "qingstor_credentials",
    "resolve_credentials",
]

Role = Literal["source", "destination"]
_SIDE: dict[Role, str] = {"source": "SRC", "destination": "DST"}

VENDOR_ENV: dict[Dialect, tuple[str, str, tuple[str, ...]]] = {
    dialect: (
        row.env.access_key,
        row.env.secret_key,
        (*row.env.old_session_tokens, *filter(None, [row.env.session_token])),
    )
    for dialect, row in DIALECT_ROWS.items()
}
"""Access key, secret key and session-token variables each store's own tools read (the
token's in the order they read them: the first set and not empty wins)."""


def _env_pair(
    env: Mapping[str, str], ak_name: str, sk_name: str, token_names: tuple[str, ...]
) -> StaticCredentials | None:
    ak, sk = env.get(ak_name), env.get(sk_name)
    if not ak and not sk:
        return None
    if not ak or not sk:
        have, lack = (ak_name, sk_name) if ak else (sk_name, ak_name)
        raise ConfigError(f"incomplete credentials: {have} is set but {lack} is not")
    token = next((env[name] for name in token_names if env.get(name)), None)
    return StaticCredentials(Credentials(ak, sk, token or None), f"environment {ak_name}")


def _file_pair(
    path: str, ak_name: str, ak: str | None, sk_name: str, sk: str | None
) -> tuple[str, str] | None:
    """The key pair a store's config file holds; None when it holds neither half, and a
    ``ConfigError`` naming the file when it holds one (never what the half says)."""
    if not ak and not sk:
        return None
    if not ak or not sk:
        have, lack = (ak_name, sk_name) if ak else (sk_name, ak_name)
        raise ConfigError(f"incomplete credentials in {path}: {have} is set but {lack} is not")
    return ak, sk


def _missing(dialect: Dialect, role: Role) -> str:
    ak, sk, _ = VENDOR_ENV[dialect]
    side = _SIDE[role]
    text = (
        f"no credentials for the {role} ({dialect}): set PARTCOPY_ACCESS_KEY_ID and "
        f"PARTCOPY_SECRET_ACCESS_KEY (PARTCOPY_{side}_* for the {role} only), or {ak} and {sk}"
    )
    extra = {
        "s3": ", or use an AWS profile (--profile, AWS_PROFILE, ~/.aws/credentials)",
        "qingstor": ", or write ~/.qingstor/config.yaml",
        "cos": ", or write ~/.cos.conf",
        "obs": ", or write ~/.obsutilconfig",
    }
    return text + extra.get(dialect, "")


def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def _read_text(path: str, what: str) -> str | None:
    """The file's text; None when it does not exist; ``ConfigError`` when unreadable."""
    if not os.path.lexists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(1 << 20)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"cannot read {what} {path!r}: {reason}") from None


def qingstor_credentials(env: Mapping[str, str]) -> StaticCredentials | None:
    """Keys from QingStor's YAML config (``QINGSTOR_CONFIG_PATH`` or
    ``~/.qingstor/config.yaml``, as qsctl and qingstor-sdk write it: flat ``key: value``)."""
    path = env.get("QINGSTOR_CONFIG_PATH") or os.path.join(_home(env), ".qingstor", "config.yaml")
    text = _read_text(path, "QingStor config file")
    if text is None:
        return None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#") or line[0].isspace():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ConfigError(f"cannot parse QingStor config file {path!r}: line {number}")
        values[name.strip()] = value.strip().strip("'\"")
    ak_name, sk_name = "access_key_id", "secret_access_key"
    pair = _file_pair(path, ak_name, values.get(ak_name), sk_name, values.get(sk_name))
    if pair is None:
        return None
    return StaticCredentials(Credentials(*pair), f"QingStor config file {path}")


def coscmd_credentials(env: Mapping[str, str]) -> StaticCredentials | None:
    """Keys from coscmd's ``~/.cos.conf`` (section ``common``: ``secret_id``, ``secret_key``)."""
    path = os.path.join(_home(env), ".cos.conf")
    text = _read_text(path, "COS config file")
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error:
        raise ConfigError(f"cannot parse COS config file {path!r}") from None
    common = parser["common"] if parser.has_section("common") else {}
    ak_name = (
        "access_id" if common.get("access_id") and not common.get("secret_id") else "secret_id"
    )
    pair = _file_pair(path, ak_name, common.get(ak_name), "secret_key", common.get("secret_key"))
    if pair is None:
        return None
    return StaticCredentials(Credentials(*pair, common.get("token") or None), f"{path}")


def obsutil_credentials(env: Mapping[str, str]) -> StaticCredentials | None:
    """Keys from obsutil's ``~/.obsutilconfig`` (``ak=``, ``sk=``, ``token=`` lines; format:
    https://support.huaweicloud.com/utiltg-obs/obs_11_0035.html)."""
    path = os.path.join(_home(env), ".obsutilconfig")
    text = _read_text(path, "obsutil config file")
    if text is None:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    pair = _file_pair(path, "ak", values.get("ak"), "sk", values.get("sk"))
    if pair is None:
        return None
    return StaticCredentials(Credentials(*pair, values.get("token") or None), path)


def resolve_credentials(
    dialect: Dialect,
    role: Role = "source",
    *,
    credentials: Credentials | CredentialProvider | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    timeouts: tuple[float | None, float | None] = (None, None),
) -> CredentialProvider:
    """The provider for one side, by the order in this module's docstring.

    Everything local (environment, files, the profile's existence) is checked here, so bad
    configuration is a ``ConfigError`` before any request; what needs the network (STS,
    IMDS, a container endpoint) is fetched on first use. ``timeouts`` (connect, read;
    None: 10 and 20 seconds) bound each request botocore's STS and SSO clients send.
    """
    if credentials is not None:
        return as_provider(credentials)
    process_env = env is None
    env = os.environ if env is None else env
    if profile is not None:
        load_profile(profile, env)
        return aws_chain(
            profile,
            missing=f"profile {profile!r} has no credentials",
            clock=clock,
            timeouts=timeouts,
            files=None if process_env else config_paths(env),
        )
    side = _SIDE[role]
    for prefix in (f"PARTCOPY_{side}_", "PARTCOPY_"):
        found = _env_pair(
            env, f"{prefix}ACCESS_KEY_ID", f"{prefix}SECRET_ACCESS_KEY", (f"{prefix}SESSION_TOKEN",)
        )
        if found is not None:
            return found
    found = _env_pair(env, *VENDOR_ENV[dialect])
    if found is not None:
        return found
    missing = _missing(dialect, role)
    if dialect == "qingstor":
        found = qingstor_credentials(env)
    elif dialect == "cos":
        found = coscmd_credentials(env)
    elif dialect == "obs":
        found = obsutil_credentials(env)
    elif dialect == "s3" and process_env:
        check_config_files(env)
        load_profile(None, env)  # an AWS_PROFILE that names no profile fails here
        return aws_chain(None, missing=missing, clock=clock, timeouts=timeouts)
    if found is None:
        raise ConfigError(missing)
    return found
