"""Shared fixtures: the anyio backend, emulators on loopback for sync clients, and a real
S3-compatible store (SeaweedFS) started once per session by the tests that ask for it."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import structlog
from botocore.config import Config

from env_helpers import hermetic_aws
from net_helpers import moto_server
from partcopy.cli.logs import reset_logging
from partcopy.emulator import EmulatorThread
from partcopy.transports.signing import Credentials
from realstore.seaweedfs import SeaweedFS


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """``cp`` points partcopy's logging at the stderr of its test (then closed)."""
    yield
    structlog.reset_defaults()
    reset_logging()


@pytest.fixture(autouse=True)
def _hermetic_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    hermetic_aws(monkeypatch, tmp_path_factory.mktemp("home"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """For third-party clients (the vendors' SDKs): no proxies, no name lookups but loopback.

    A stray lookup (a vendor domain, an "is this an IP?" probe) fails at once instead of
    hanging on DNS, so every request provably goes to 127.0.0.1.
    """
    for name in list(os.environ):
        if name.lower() in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}:
            monkeypatch.delenv(name)
    real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname

    def getaddrinfo(host: object, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in LOOPBACK_NAMES:
            raise socket.gaierror(socket.EAI_NONAME, f"test resolves loopback only, not {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(name: str) -> str:
        if name not in LOOPBACK_NAMES:
            raise socket.gaierror(socket.EAI_NONAME, f"test resolves loopback only, not {name!r}")
        return real_gethostbyname(name)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", gethostbyname)


@pytest.fixture
def emulator_thread() -> Iterator[Callable[..., EmulatorThread]]:
    """Start emulators (``Emulator`` arguments) in background threads; stopped at teardown."""
    started: list[EmulatorThread] = []

    def start(**kwargs: Any) -> EmulatorThread:
        emu = EmulatorThread(**kwargs).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS server (``weed server -s3``) on loopback for the whole session.

    Started on first use (a few seconds), stopped at the end of the session. Tests make
    their own buckets (``realstore.buckets``) so they never see each other's objects.
    """
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    try:
        yield server
    finally:
        server.stop()


MOTO_CREDS = Credentials("AKIDMOTO", "moto-secret")
"""The key pair the moto tests sign with (moto accepts any)."""


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's S3 server on a free loopback port, one per test module."""
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(moto_url: str) -> Any:
    """A boto3 client of that server, path-style, signing with ``MOTO_CREDS``."""
    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=MOTO_CREDS.access_key,
        aws_secret_access_key=MOTO_CREDS.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    )
