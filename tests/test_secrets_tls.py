"""TLS: certificates are verified by default; ``--no-verify-tls`` turns that off and warns.

The emulator is served over HTTPS on 127.0.0.1 with a self-signed certificate made here.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from partcopy.config import Credentials
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.server import Emulator
from partcopy.engine.copier import Copier
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import ConnectError, CopyError, PartcopyError

MiB = 1024**2


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partcopy test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsEmulator:
    """The emulator's app behind an HTTPS listener, on its own loop in a thread."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.emulator = Emulator("s3", objects=[f"src-bkt/plain.bin={12 * MiB}"])
        self.emulator.store.create_bucket("dst-bkt")
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ctx.load_cert_chain(cert, key)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def requests(self) -> int:
        return self.emulator.stats().requests

    def start(self) -> None:
        ready: Future[None] = Future()

        async def serve() -> None:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
            runner = web.AppRunner(self.emulator.make_app(), access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock, ssl_context=self._ctx).start()
            self._stop = asyncio.Event()
            ready.set_result(None)
            try:
                await self._stop.wait()
            finally:
                await runner.cleanup()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.result(timeout=30)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsEmulator]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    emu = TlsEmulator(cert, key)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def _copy(url: str, verify_tls: bool | None) -> None:
    async def main() -> None:
        extra = {} if verify_tls is None else {"verify_tls": verify_tls}
        async with Copier(
            endpoint_url=url,
            region="us-east-1",
            credentials=Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY),
            retry=RetryPolicy(max_attempts=5, initial=0, cap=0),
            env={},
            **extra,  # type: ignore[arg-type]
        ) as copier:
            await copier.copy("s3://src-bkt/plain.bin", "s3://dst-bkt/copy.bin")

    anyio.run(main)


def test_certificates_are_verified_by_default_and_not_retried(tls_emulator: TlsEmulator) -> None:
    before = tls_emulator.requests()
    with pytest.raises(PartcopyError) as info:
        _copy(tls_emulator.url, None)
    error = info.value
    cause = error.__cause__ if isinstance(error, CopyError) else error
    assert isinstance(error, ConnectError) or isinstance(cause, ConnectError), repr(error)
    assert "certificate" in str(error).lower()
    assert not (cause or error).retryable  # a bad certificate stays bad
    assert tls_emulator.requests() == before  # no HTTP request got past the handshake


def test_turning_verification_off_is_explicit(tls_emulator: TlsEmulator) -> None:
    before = tls_emulator.requests()
    _copy(tls_emulator.url, False)
    assert tls_emulator.requests() > before


def _cli(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PARTCOPY_ACCESS_KEY_ID=DEFAULT_ACCESS_KEY,
        PARTCOPY_SECRET_ACCESS_KEY=DEFAULT_SECRET_KEY,
    )
    args = [sys.executable, "-m", "partcopy", "cp", "s3://src-bkt/plain.bin"]
    args += ["s3://dst-bkt/cli.bin", "--endpoint-url", url, "--region", "us-east-1", "--json"]
    return subprocess.run([*args, *extra], capture_output=True, text=True, env=env, timeout=120)


def test_cli_verifies_by_default_and_warns_when_told_not_to(tls_emulator: TlsEmulator) -> None:
    refused = _cli(tls_emulator.url)
    assert refused.returncode == 1, refused.stderr
    doc = json.loads(refused.stdout)
    assert doc["status"] == "failed" and "certificate" in doc["error"]["message"].lower()
    assert doc["retries"] == 0
    assert "--no-verify-tls" not in refused.stderr

    insecure = _cli(tls_emulator.url, "--no-verify-tls")
    assert insecure.returncode == 0, insecure.stderr
    assert json.loads(insecure.stdout)["status"] == "completed"
    warnings = [line for line in insecure.stderr.splitlines() if "verif" in line.lower()]
    assert warnings == ["partcopy: warning: TLS certificate verification is off (--no-verify-tls)"]


@pytest.mark.parametrize(
    "command",
    [
        ["ls", "s3://src-bkt/"],
        ["uploads", "list", "s3://dst-bkt/"],
        ["bench", "s3://src-bkt/plain.bin", "s3://dst-bkt/b/", "--part-sizes", "6MiB"],
    ],
    ids=["ls", "uploads", "bench"],
)
def test_every_command_that_reaches_a_store_verifies_and_can_be_told_not_to(
    tls_emulator: TlsEmulator, command: list[str]
) -> None:
    env = dict(
        os.environ,
        PARTCOPY_ACCESS_KEY_ID=DEFAULT_ACCESS_KEY,
        PARTCOPY_SECRET_ACCESS_KEY=DEFAULT_SECRET_KEY,
    )
    args = [sys.executable, "-m", "partcopy", *command, "--endpoint-url", tls_emulator.url]
    args += ["--region", "us-east-1"]
    refused = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 1 and "certificate" in refused.stderr.lower(), refused.stderr
    assert "could not delete" not in refused.stderr  # nothing was written, nothing is claimed
    insecure = subprocess.run(
        [*args, "--no-verify-tls"], capture_output=True, text=True, env=env, timeout=120
    )
    assert insecure.returncode == 0, insecure.stderr
    warnings = [line for line in insecure.stderr.splitlines() if "verif" in line.lower()]
    assert warnings == ["partcopy: warning: TLS certificate verification is off (--no-verify-tls)"]
