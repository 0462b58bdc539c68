"""AWS shared config files, profiles and the rest of botocore's credential chain.

botocore is imported only here and only when a profile or the chain is needed, so
``partcopy --help`` and the environment-variable path never pay for it. botocore's
resolver is used as is: shared config and credentials files, ``AWS_PROFILE``,
``credential_process``, the SSO token cache, ``role_arn`` + ``source_profile``, web
identity, container credentials and IMDSv2. Each renewal builds a fresh botocore session,
so temporary credentials are fetched again rather than served from a cache.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from partcopy.errors import ConfigError
from partcopy.transports.credentials import (
    FIRST_TIMEOUT,
    RENEW_TIMEOUT,
    Clock,
    CredentialRefreshError,
    RefreshingCredentials,
    TimedCredentials,
    utc_now,
)
from partcopy.transports.signing.common import Credentials

__all__ = ["AwsProfile", "aws_chain", "check_config_files", "load_profile"]

# botocore's names for where credentials came from, as a person would say it.
_METHODS = {
    "env": "environment variables",
    "shared-credentials-file": "shared credentials file",
    "config-file": "AWS config file",
    "assume-role": "assume role",
    "assume-role-with-web-identity": "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)",
    "container-role": "container credentials endpoint",
    "iam-role": "instance metadata (IMDS)",
    "sso": "SSO token cache",
    "custom-process": "credential_process",
}


@dataclass(frozen=True, slots=True)
class AwsProfile:
    """What a profile of the AWS config files says besides credentials."""

    name: str | None
    region: str | None = None
    addressing_style: str | None = None
    endpoint_url: str | None = None
    """S3's endpoint as the profile configures it, in the SDKs' order: the ``s3`` entry of
    its ``services`` section, its own ``endpoint_url`` (the ``s3 =`` block's, then the
    profile's); None when ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` or the profile's
    ``ignore_configured_endpoint_urls`` says to ignore them."""
    endpoint_source: str = ""
    """Where ``endpoint_url`` came from, for messages."""


def config_paths(env: Mapping[str, str]) -> tuple[str, str]:
    """The AWS config and shared credentials file paths (``AWS_CONFIG_FILE`` etc.)."""
    config = env.get("AWS_CONFIG_FILE") or "~/.aws/config"
    creds = env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return os.path.expanduser(config), os.path.expanduser(creds)


def check_config_files(env: Mapping[str, str]) -> None:
    """``ConfigError`` naming an AWS config file that exists but cannot be read
    (botocore would silently skip it and report a missing profile instead)."""
    for path in config_paths(env):
        if not os.path.lexists(path):
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"cannot read AWS config file {path!r}: {exc.strerror or type(exc).__name__}"
            ) from None


def _botocore_session(profile: str | None, files: tuple[str, str] | None = None) -> Any:
    """A botocore session for ``profile``; ``files`` (config, credentials) when the caller
    named them in its own ``env`` mapping (botocore itself reads the process environment)."""
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - botocore is a dependency
        raise ConfigError(
            "AWS profiles and the AWS credential chain need botocore: pip install botocore"
        ) from None
    session = botocore.session.Session(profile=profile)
    if files is not None:
        session.set_config_variable("config_file", files[0])
        session.set_config_variable("credentials_file", files[1])
    return session


def _scoped_config(session: Any, profile: str | None, env: Mapping[str, str]) -> dict[str, Any]:
    import botocore.exceptions

    try:
        scoped: dict[str, Any] = session.get_scoped_config()
    except botocore.exceptions.ProfileNotFound:
        config, creds = config_paths(env)
        name = repr(profile) if profile is not None else f"{env.get('AWS_PROFILE')!r} (AWS_PROFILE)"
        raise ConfigError(f"unknown profile {name}: not in {config} or {creds}") from None
    except botocore.exceptions.ConfigParseError as exc:
        raise ConfigError(f"cannot parse AWS config file {exc.kwargs.get('path', '?')!r}") from None
    return scoped


def load_profile(profile: str | None, env: Mapping[str, str] | None = None) -> AwsProfile:
    """Read ``profile`` (None: ``AWS_PROFILE`` or ``default``) from the AWS config files;
    ``ConfigError`` for an unknown profile or an unreadable or malformed file."""
    env = os.environ if env is None else env
    check_config_files(env)
    session = _botocore_session(profile, None if env is os.environ else config_paths(env))
    scoped = _scoped_config(session, profile, env)
    s3 = scoped.get("s3")
    style = s3.get("addressing_style") if isinstance(s3, dict) else None
    endpoint, source = _configured_endpoint(session, scoped, profile, env)
    return AwsProfile(
        profile,
        region=scoped.get("region"),
        addressing_style=style,
        endpoint_url=endpoint,
        endpoint_source=source,
    )


def _configured_endpoint(
    session: Any, scoped: Mapping[str, Any], profile: str | None, env: Mapping[str, str]
) -> tuple[str | None, str]:
    """S3's configured endpoint and where it is written (see ``AwsProfile.endpoint_url``)."""
    ignore = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or scoped.get(
        "ignore_configured_endpoint_urls"
    )
    if str(ignore).strip().lower() == "true":
        return None, ""
    name = repr(profile or env.get("AWS_PROFILE") or "default")
    services = scoped.get("services")
    if isinstance(services, str):
        section = session.full_config.get("services", {}).get(services, {})
        block = section.get("s3") if isinstance(section, dict) else None
        if isinstance(block, dict) and isinstance(block.get("endpoint_url"), str):
            return block["endpoint_url"], f"the s3 endpoint_url of services {services!r}"
    s3 = scoped.get("s3")
    if isinstance(s3, dict) and isinstance(s3.get("endpoint_url"), str):
        return s3["endpoint_url"], f"the s3 endpoint_url of profile {name}"
    if isinstance(scoped.get("endpoint_url"), str):
        return scoped["endpoint_url"], f"the endpoint_url of profile {name}"
    return None, ""


def _expiry(creds: Any) -> datetime | None:
    # botocore's RefreshableCredentials keeps its expiry in a private attribute; static
    # credentials have none (and are never renewed).
    expiry = getattr(creds, "_expiry_time", None)
    return expiry if isinstance(expiry, datetime) else None


# Where botocore's chain looks after the profile: none of them belongs to a profile. An
# explicit profile stops there (the README's contract: explicit values stop the search),
# so a profile without keys is an error rather than the container's or instance's role.
# A profile's ``credential_source`` still reaches them through assume role.
_NOT_THE_PROFILE = ("ec2-credentials-file", "boto-config", "container-role", "iam-role")


CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 20.0
"""Seconds botocore's STS and SSO clients wait, unless the copy sets its own (botocore's
own 60-second reads, three attempts, left a silent STS three minutes of silence)."""


def _bound_clients(session: Any, timeouts: tuple[float | None, float | None]) -> None:
    from botocore.config import Config

    connect, read = timeouts
    session.set_default_client_config(
        Config(
            connect_timeout=CONNECT_TIMEOUT if connect is None else connect,
            read_timeout=READ_TIMEOUT if read is None else read,
        )
    )


class _Processes:
    """The credential processes one fetch started (botocore's ``ProcessProvider`` waits on
    them with no timeout): a fetch given up on kills them, so its thread ends too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[subprocess.Popen[bytes]] = []
        self._stopped = False

    def popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        """``subprocess.Popen`` as botocore calls it, remembered (killed at once when the
        fetch was given up on before the process started)."""
        process: subprocess.Popen[bytes] = subprocess.Popen(*args, **kwargs)
        with self._lock:
            self._running = [p for p in self._running if p.poll() is None]
            self._running.append(process)
            stopped = self._stopped
        if stopped:
            process.kill()
        return process

    def stop(self) -> int:
        """Kill the processes still running (and any started later); how many there were."""
        with self._lock:
            self._stopped = True
            running = [p for p in self._running if p.poll() is None]
        for process in running:
            process.kill()  # its pipes close: botocore's communicate() returns, and raises
        return len(running)


def _track_processes(resolver: Any, processes: _Processes) -> None:
    """Have every ``credential_process`` botocore's ``resolver`` runs (the profile's own,
    or a ``source_profile``'s under assume role) started through ``processes``."""
    from botocore.credentials import ProcessProvider

    for provider in getattr(resolver, "providers", ()):
        if isinstance(provider, ProcessProvider):
            provider._popen = processes.popen
        builder = getattr(provider, "_profile_provider_builder", None)
        create = getattr(builder, "_create_process_provider", None)
        if create is not None:

            def tracked(profile_name: str, create: Any = create) -> Any:
                made = create(profile_name)
                if isinstance(made, ProcessProvider):
                    made._popen = processes.popen
                return made

            builder._create_process_provider = tracked  # type: ignore[union-attr]


class _ChainFetch:
    """One fetch through botocore's chain for ``profile``; remembers how it succeeded."""

    def __init__(
        self,
        profile: str | None,
        missing: str,
        timeouts: tuple[float | None, float | None],
        files: tuple[str, str] | None,
    ) -> None:
        self.profile = profile
        self.missing = missing
        self.timeouts = timeouts
        self.files = files
        self.method: str | None = None
        self._lock = threading.Lock()
        self._fetching: list[_Processes] = []

    def describe(self) -> str:
        where = "AWS credential chain" if self.profile is None else f"AWS profile {self.profile!r}"
        if self.method is None:
            return where
        return f"{where} ({_METHODS.get(self.method, self.method)})"

    def stop(self) -> str | None:
        """Kill the credential processes of the fetches under way (given up on)."""
        with self._lock:
            fetching = list(self._fetching)
        killed = sum(processes.stop() for processes in fetching)
        if not killed:
            return None
        return "its credential_process was stopped"

    def __call__(self) -> TimedCredentials:
        processes = _Processes()
        with self._lock:
            self._fetching.append(processes)
        try:
            return self._fetch(processes)
        finally:
            with self._lock:
                self._fetching.remove(processes)

    def _fetch(self, processes: _Processes) -> TimedCredentials:
        session = _botocore_session(self.profile, self.files)
        _bound_clients(session, self.timeouts)
        if session.get_config_variable("region") is None:
            # STS (assume role, web identity) needs a region to sign; its global endpoint
            # lives in us-east-1, which is what a bucket without one defaults to as well.
            session.set_config_variable("region", "us-east-1")
        try:
            resolver = session.get_component("credential_provider")
            if self.profile is not None:
                for method in _NOT_THE_PROFILE:
                    resolver.remove(method)
            _track_processes(resolver, processes)
            creds = session.get_credentials()
            frozen = creds.get_frozen_credentials() if creds is not None else None
        except ConfigError:
            raise
        except Exception as exc:  # botocore, STS, IMDS or a credential process failed
            detail = " ".join(str(exc).split())[:300]
            raise CredentialRefreshError(
                f"could not get credentials from {self.describe()}: {type(exc).__name__}: {detail}"
            ) from None
        if creds is None or frozen is None or not frozen.access_key or not frozen.secret_key:
            raise ConfigError(self.missing)
        self.method = getattr(creds, "method", None)
        return TimedCredentials(
            Credentials(frozen.access_key, frozen.secret_key, frozen.token or None),
            _expiry(creds),
        )


def aws_chain(
    profile: str | None,
    *,
    missing: str,
    clock: Clock = utc_now,
    timeouts: tuple[float | None, float | None] = (None, None),
    files: tuple[str, str] | None = None,
    first_timeout: float = FIRST_TIMEOUT,
    renew_timeout: float = RENEW_TIMEOUT,
) -> RefreshingCredentials:
    """Credentials from botocore's chain (``profile`` None: its default), fetched on first
    use and renewed before they expire; ``missing`` is the error when it finds none;
    ``timeouts`` (connect, read) bound the requests of botocore's STS and SSO clients;
    ``files`` (config, credentials) replace the ones the process environment names. The
    first fetch gets ``first_timeout`` seconds and a renewal ``renew_timeout``; a
    ``credential_process`` still running then is killed."""
    fetch = _ChainFetch(profile, missing, timeouts, files)
    identity = f"aws-profile:{profile}" if profile is not None else "aws-chain"
    return RefreshingCredentials(
        fetch,
        source=fetch.describe(),
        identity=identity,
        clock=clock,
        describe=fetch.describe,
        first_timeout=first_timeout,
        renew_timeout=renew_timeout,
        stop=fetch.stop,
    )
