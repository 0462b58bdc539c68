"""Reaching stores as real deployments need: through proxies (environment or ``--proxy``,
``NO_PROXY``), over TLS with a private CA, path or virtual-hosted addressing on a custom
endpoint, a wrong endpoint failing fast, and a relay with different keys on each side.
Every name is a ``.test`` name that only a loopback proxy sees; nothing is resolved.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from net_helpers import (
    ForwardProxy,
    RegionGate,
    TlsFront,
    make_ca,
    moto_server,
    trust_directory,
)
from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.errors import ConfigError
from partcopy.transports.network import bypasses_proxy, resolve_network
from partcopy.version import __version__

CREDS = {
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("PARTCOPY_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def emu_port(emu: EmulatorThread) -> int:
    return int(emu.url.rsplit(":", 1)[1])


def cp(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["cp", *argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def test_http_proxy_from_the_environment_sees_path_style_requests(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulator_thread(objects=["a/k=12MiB", "b/keep=0"])
    endpoint = f"http://store.example.test:{emu_port(emu)}"
    with ForwardProxy().running() as proxy:
        env.setenv("HTTP_PROXY", proxy.url)
        for name, value in CREDS.items():
            env.setenv(name, value)
        status, result = cp(capsys, "s3://a/k", "s3://b/k", "--endpoint-url", endpoint,
                            "--part-size", "5MiB")  # fmt: skip
    assert status == 0 and result["status"] == "completed" and result["parts"] == 3
    puts = [s for s in proxy.seen if s.line.startswith(f"PUT {endpoint}/b/k?")]
    assert len(puts) == 3 and all(s.host == f"store.example.test:{emu_port(emu)}" for s in puts)
    assert {s.agent for s in proxy.seen} == {f"partcopy/{__version__}"}


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    with moto_server() as url:
        yield int(url.rsplit(":", 1)[1])


def test_virtual_addressing_on_a_custom_endpoint_puts_the_bucket_in_the_host(
    moto_port: int, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
        aws_access_key_id="AKIDMOTO", aws_secret_access_key="moto",
        config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip
    for bucket in ("src", "dst"):  # moto wants 3 characters at least, as S3 does
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="src", Key="k", Body=b"x" * 1000)
    endpoint = f"store.example.test:{moto_port}"
    with ForwardProxy().running() as proxy:
        env.setenv("AWS_ACCESS_KEY_ID", "AKIDMOTO")
        env.setenv("AWS_SECRET_ACCESS_KEY", "moto")
        status, result = cp(capsys, "s3://src/k", "s3://dst/k", "--endpoint-url",
                            f"http://{endpoint}", "--addressing-style", "virtual",
                            "--proxy", proxy.url)  # fmt: skip
    assert status == 0, result
    assert any(s.line.startswith(f"PUT http://dst.{endpoint}/k ") for s in proxy.seen)
    assert {s.host for s in proxy.seen} == {f"src.{endpoint}", f"dst.{endpoint}"}
    assert s3.get_object(Bucket="dst", Key="k")["Body"].read() == b"x" * 1000


def test_a_password_in_proxy_is_used_with_one_warning_line(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulator_thread(objects=["a/k=1KiB", "b/keep=0"])
    endpoint = f"http://store.example.test:{emu_port(emu)}"
    for name, value in CREDS.items():
        env.setenv(name, value)
    with ForwardProxy().running() as proxy:
        with_password = proxy.url.replace("//", "//user:hunter2@")
        status = main(["ls", "s3://a/", "--endpoint-url", endpoint, "--proxy", with_password])
        out, err = capsys.readouterr()
        assert status == 0 and out.endswith(" 1024 k\n") and len(proxy.seen) == 1
        assert err.splitlines() == [
            f"partcopy: warning: the password in --proxy http://***@127.0.0.1:{proxy.port} "
            "shows in the process list; set HTTPS_PROXY (or HTTP_PROXY) in the environment "
            "instead"
        ]
        without = proxy.url.replace("//", "//user@")
        assert main(["ls", "s3://a/", "--endpoint-url", endpoint, "--proxy", without]) == 0
        assert capsys.readouterr().err == ""


def test_no_proxy_sends_loopback_directly(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulator_thread(objects=["a/k=1KiB", "b/keep=0"])
    with ForwardProxy().running() as proxy:
        env.setenv("HTTP_PROXY", proxy.url)
        env.setenv("NO_PROXY", "localhost,127.0.0.0/8")
        for name, value in CREDS.items():
            env.setenv(name, value)
        status, _ = cp(capsys, "s3://a/k", "s3://b/k", "--endpoint-url", emu.url)
    assert status == 0 and proxy.seen == []


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("store.example.test", 80, "example.test", True),
        ("store.example.test", 80, ".example.test", True),
        ("store.example.test", 80, "*.example.test", True),
        ("store.example.test", 80, "xample.test", False),
        ("store.example.test", 9000, "store.example.test:9000", True),
        ("store.example.test", 9001, "store.example.test:9000", False),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("10.1.2.3", 80, "10.1.2.30", False),
        ("anything.test", 443, "*", True),
        ("::1", 80, "::1", True),
    ],
)
def test_no_proxy_matching(host: str, port: int, no_proxy: str, bypass: bool) -> None:
    assert bypasses_proxy(host, port, tuple(no_proxy.split(","))) is bypass


@pytest.fixture
def tls_store(
    emulator_thread: Callable[..., EmulatorThread], tmp_path: Path
) -> Iterator[tuple[TlsFront, Path]]:
    emu = emulator_thread(objects=["a/k=1KiB", "b/keep=0"])
    ca, cert, key = make_ca(tmp_path)
    with TlsFront(cert, key, emu_port(emu)).running() as front:
        yield front, ca


@pytest.mark.parametrize("how", ["--ca-bundle", "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
def test_tls_with_a_private_ca(
    how: str,
    tls_store: tuple[TlsFront, Path],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    front, ca = tls_store
    for name, value in CREDS.items():
        env.setenv(name, value)
    extra = ["--ca-bundle", str(ca)] if how == "--ca-bundle" else []
    if how != "--ca-bundle":
        env.setenv(how, str(ca))
    status, result = cp(capsys, "s3://a/k", "s3://b/k", "--endpoint-url", front.url, *extra)
    assert status == 0 and result["status"] == "completed"


def test_tls_without_the_ca_fails_at_once(
    tls_store: tuple[TlsFront, Path], env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    front, _ = tls_store
    for name, value in CREDS.items():
        env.setenv(name, value)
    env.setenv("SSL_CERT_FILE", str(Path(__file__)))  # a file with no certificate in it
    status = main(["cp", "s3://a/k", "s3://b/k", "--endpoint-url", front.url, "--json"])
    err = capsys.readouterr().err
    assert status == 2 and "invalid CA bundle" in err and str(Path(__file__)) in err
    env.delenv("SSL_CERT_FILE")
    status, result = cp(capsys, "s3://a/k", "s3://b/k", "--endpoint-url", front.url)
    assert status == 1 and result["retries"] == 0  # a certificate that fails, fails again
    assert "certificate verify failed" in result["error"]["message"]


def test_a_bundle_from_the_environment_is_parsed_only_for_https(
    emulator_thread: Callable[..., EmulatorThread],
    tmp_path: Path,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bundle named by the environment is checked for a certificate up front and parsed
    on the first https request: a plain-http copy never loads it (a broken one included),
    an https one through it fails on it, naming it, before any request reaches the store."""
    emu = emulator_thread(objects=["a/k=1KiB", "b/keep=0"])
    ca, cert, key = make_ca(tmp_path)
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    for name, value in CREDS.items():
        env.setenv(name, value)
    env.setenv("AWS_CA_BUNDLE", str(broken))
    before = emu.emulator.stats().requests
    status, result = cp(
        capsys, "s3://a/k", "s3://b/k", "--endpoint-url", f"http://127.0.0.1:{emu_port(emu)}"
    )
    assert status == 0 and result["status"] == "completed"
    assert emu.emulator.stats().requests > before
    with TlsFront(cert, key, emu_port(emu)).running() as front:
        before = emu.emulator.stats().requests
        status = main(["cp", "s3://a/k", "s3://b/k2", "--endpoint-url", front.url, "--json"])
        captured = capsys.readouterr()
        assert status == 2 and f"invalid CA bundle {str(broken)!r}" in captured.err
        assert emu.emulator.stats().requests == before
        env.setenv("AWS_CA_BUNDLE", str(ca))
        status, result = cp(capsys, "s3://a/k", "s3://b/k2", "--endpoint-url", front.url)
    assert status == 0 and result["status"] == "completed"


def test_a_ca_bundle_is_parsed_once_per_file_version(tmp_path: Path) -> None:
    """Each endpoint's check and each session reuse one loaded bundle; a bundle rewritten
    in place is loaded again, and one no longer PEM is still refused before any request."""
    ca, cert, _ = make_ca(tmp_path)
    first = resolve_network(ca_bundle=str(ca), env={})
    again = resolve_network(env={"AWS_CA_BUNDLE": str(ca)})
    loaded = first.ssl()
    assert isinstance(loaded, ssl.SSLContext) and again.ssl() is loaded
    ca.write_bytes(ca.read_bytes() + cert.read_bytes())  # another version of the file
    assert resolve_network(ca_bundle=str(ca), env={}).ssl() is not loaded
    ca.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="invalid CA bundle"):
        resolve_network(ca_bundle=str(ca), env={})


def test_a_wrong_port_fails_after_one_retry_naming_the_host(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in CREDS.items():
        env.setenv(name, value)
    status, result = cp(capsys, "s3://a/k", "s3://b/k", "--endpoint-url",
                        f"http://127.0.0.1:{port}")  # fmt: skip
    assert status == 1 and result["retries"] == 1
    assert f"127.0.0.1:{port}" in result["error"]["message"]


@pytest.mark.parametrize("identity", ["env", "profiles"])
def test_relay_s3_to_cos_with_different_keys_on_each_side(
    identity: str,
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s3 = emulator_thread(objects=["src/k.bin=12MiB"], access_key="AKSRC", secret_key="src-secret")
    cos = emulator_thread(
        dialect="cos", objects=["dst-1250000000/keep=0"], access_key="AKDST", secret_key="dst-sk"
    )
    if identity == "env":
        for side, ak, sk in (("SRC", "AKSRC", "src-secret"), ("DST", "AKDST", "dst-sk")):
            env.setenv(f"PARTCOPY_{side}_ACCESS_KEY_ID", ak)
            env.setenv(f"PARTCOPY_{side}_SECRET_ACCESS_KEY", sk)
        flags: list[str] = []
    else:
        Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
            "[src]\naws_access_key_id = AKSRC\naws_secret_access_key = src-secret\n"
            "[dst]\naws_access_key_id = AKDST\naws_secret_access_key = dst-sk\n"
        )
        flags = ["--src-profile", "src", "--dst-profile", "dst"]
    status, result = cp(capsys, "s3://src/k.bin", "cos://dst-1250000000/k.bin",
                        "--endpoint-url", s3.url, "--dst-endpoint-url", cos.url,
                        "--part-size", "5MiB", *flags)  # fmt: skip
    assert status == 0, result
    assert (result["mode"], result["parts"], result["bytes"]) == ("relay", 3, 12 * 1024 * 1024)


def test_a_bucket_in_another_region_is_learned_and_signed_again(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulator_thread(objects=["eu-bkt/k=12MiB", "ap-bkt/keep=0"])
    regions = {"eu-bkt": "eu-west-1", "ap-bkt": "ap-south-1"}
    with RegionGate(emu_port(emu), regions).running() as gate:
        for name, value in CREDS.items():
            env.setenv(name, value)
        status, result = cp(capsys, "s3://eu-bkt/k", "s3://ap-bkt/k", "--endpoint-url",
                            f"http://127.0.0.1:{gate.port}", "--part-size", "5MiB")  # fmt: skip
    assert status == 0 and result["retries"] == 0, (result, gate.refused)
    # Once per bucket: the source's HEAD (301) and the destination's first request (400).
    assert [r.split(" ")[0] for r in gate.refused] == ["HEAD", "POST"]


_DEFERRED_TRUST = """
import asyncio, json, sys
import aiohttp
from partcopy import truststore
from partcopy.cli import app
from partcopy.transports.network import resolve_network

async def handshake(url):
    try:
        async with aiohttp.ClientSession() as session:  # aiohttp's own default context
            async with session.get(url) as response:
                return f"answered {response.status}"
    except aiohttp.ClientConnectorCertificateError:
        return "certificate verify failed"

http_url, https_url = sys.argv[1:]
seen = {"pending": truststore.pending()}
seen["http_cp"] = app.main(["cp", "s3://a/k", "s3://b/k", "--endpoint-url", http_url, "--quiet"])
seen["pending_after_http"] = truststore.pending()
seen["before_load"] = asyncio.run(handshake(https_url))
seen["https_cp"] = app.main(["cp", "s3://a/k", "s3://b/k2", "--endpoint-url", https_url, "--quiet"])
seen["pending_after_https"] = truststore.pending()
seen["after_load"] = asyncio.run(handshake(https_url))
print(json.dumps(seen))
"""


def test_the_command_loads_the_system_trust_store_on_its_first_https_request(
    tls_store: tuple[TlsFront, Path], tmp_path: Path
) -> None:
    """The command (``entry``) imports aiohttp with its default TLS contexts lacking the
    system's CA certificates: a plain-http copy never loads them, a handshake before they
    are loaded fails verification (never passes it), and the first https request loads
    them, so a copy trusting only the system store succeeds (here that store trusts the
    test CA through OpenSSL's ``SSL_CERT_DIR``; no CA bundle is named to partcopy)."""
    front, ca = tls_store
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        env.pop(name, None)
    env.update(CREDS, SSL_CERT_DIR=str(trust_directory(ca, tmp_path / "certs")))
    script = "from partcopy import truststore; truststore.defer()\n" + _DEFERRED_TRUST
    http_url = front.url.replace("https://", "http://").rsplit(":", 1)[0]
    http_url += f":{front.upstream}"
    proc = subprocess.run(
        [sys.executable, "-c", script, http_url, front.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen == {
        "pending": 2,
        "http_cp": 0,
        "pending_after_http": 2,
        "before_load": "certificate verify failed",
        "https_cp": 0,
        "pending_after_https": 0,
        "after_load": seen["after_load"],
    }
    assert seen["after_load"].startswith("answered ")


def test_a_proxy_password_never_shows_in_errors_or_their_causes(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A relay whose source GET is reset mid-body: aiohttp reports the upload as "Failed
    to send bytes into the underlying connection Connection<ConnectionKey(..., proxy=
    URL('http://puser:PROXYPASSWORD9@...'), proxy_auth=BasicAuth(...))>"."""
    emu = emulator_thread(objects=["a/k=6MiB", "b/keep=0"])
    emu.call(lambda: emu.emulator.set_faults(["reset:1.0@get"], seed=1))
    endpoint = f"http://store.example.test:{emu_port(emu)}"
    for name, value in CREDS.items():
        env.setenv(name, value)
    with ForwardProxy().running() as proxy:
        secret_proxy = proxy.url.replace("//", "//puser:PROXYPASSWORD9@")
        status = main(
            [
                *("cp", "s3://a/k", "s3://b/k", "--endpoint-url", endpoint, "--mode", "relay"),
                *("--proxy", secret_proxy, "--max-attempts", "1", "--json"),
            ]
        )
    out, err = capsys.readouterr()
    assert status == 1 and json.loads(out)["status"] == "failed"
    assert "PROXYPASSWORD9" not in out + err
    assert "Failed to send bytes" in out and "connection to store.example.test" in out

    import aiohttp

    from partcopy.transports.http import safe_cause, scrub

    leaky = aiohttp.ClientConnectionError(
        f"to {secret_proxy}, BasicAuth(login='puser', password='PROXYPASSWORD9')"
    )
    assert "PROXYPASSWORD9" not in repr(safe_cause(leaky)) + scrub(str(leaky))
