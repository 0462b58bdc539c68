"""Loopback network pieces for tests: a forward HTTP proxy and a TLS front with its own CA.

The proxy records each request line and Host header as received, then forwards it to
127.0.0.1 at the same port, only for ``.test`` names (so a name never leaves the machine
and is never resolved). The TLS front terminates TLS with a certificate for 127.0.0.1
signed by a CA made in the test, and pipes the bytes to a plain-HTTP server.
``moto_server`` runs moto's S3 (and STS) server on a free loopback port.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it."""

    line: str
    host: str | None
    agent: str | None = None


def _read_head(conn: socket.socket) -> tuple[bytes, bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > HEAD_LIMIT:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


class ForwardProxy:
    """A forward proxy for ``http://`` targets, one request per connection."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve_one(self, conn: socket.socket) -> None:
        with suppress(OSError):  # a client that hangs up early is its own business
            self._forward(conn)

    def refuse(self, method: str, target: str, headers: list[list[str]]) -> bytes | None:
        """An answer given instead of forwarding (None: forward); for subclasses."""
        return None

    def upstream(self, target: str) -> tuple[int, str] | None:
        """Port and origin-form path to forward to; only ``.test`` names are served."""
        url = urlsplit(target)
        if not (url.hostname or "").endswith(".test") or url.port is None:
            return None
        return url.port, url.path + (f"?{url.query}" if url.query else "")

    def _forward(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            got = _read_head(conn)
            if got is None:
                return
            head, body = got
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers = [line.split(":", 1) for line in lines[1:] if ":" in line]
            host = next((v.strip() for k, v in headers if k.lower() == "host"), None)
            agent = next((v.strip() for k, v in headers if k.lower() == "user-agent"), None)
            self.seen.append(Seen(lines[0], host, agent))
            where = self.upstream(target)
            if where is None:
                conn.sendall(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                return
            answer = self.refuse(method, target, headers)
            if answer is not None:
                conn.sendall(answer)
                return
            length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
            while len(body) < length:
                chunk = conn.recv(min(65536, length - len(body)))
                if not chunk:
                    return
                body += chunk
            kept = [
                f"{k}:{v}"
                for k, v in headers
                if k.lower() not in {"connection", "proxy-connection", "keep-alive"}
            ]
            port, path = where
            out = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as upstream:
                upstream.sendall(out.encode("latin-1") + b"\r\n\r\n" + body)
                while chunk := upstream.recv(65536):
                    conn.sendall(chunk)

    def _loop(self) -> None:
        self._sock.settimeout(0.05)  # closing a socket does not wake accept(): poll a flag
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    @contextmanager
    def running(self) -> Iterator[ForwardProxy]:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self._sock.close()


class RegionGate(ForwardProxy):
    """Stands in for AWS's region check in front of an emulator on ``port``: a request
    signed for another region than its bucket's is answered as AWS answers it (301 with
    ``x-amz-bucket-region`` to a HEAD, 400 ``AuthorizationHeaderMalformed`` otherwise)."""

    def __init__(self, port: int, regions: dict[str, str], default: str = "us-east-1") -> None:
        super().__init__()
        self._port = port
        self.regions = regions
        self.default = default
        self.refused: list[str] = []

    def upstream(self, target: str) -> tuple[int, str] | None:
        return self._port, target

    def refuse(self, method: str, target: str, headers: list[list[str]]) -> bytes | None:
        auth = next((v for k, v in headers if k.lower() == "authorization"), "")
        signed = auth.split("Credential=", 1)[-1].split("/")[2] if "Credential=" in auth else ""
        bucket = urlsplit(target).path.split("/")[1]
        region = self.regions.get(bucket, self.default)
        if signed == region:
            return None
        self.refused.append(f"{method} {target}")
        if method == "HEAD":
            return (
                "HTTP/1.1 301 Moved Permanently\r\n"
                f"x-amz-bucket-region: {region}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ).encode()
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthorizationHeaderMalformed"
            f"</Code><Message>the region '{signed}' is wrong; expecting '{region}'</Message>"
            f"<Region>{region}</Region><RequestId>R</RequestId></Error>"
        ).encode()
        head = (
            f"HTTP/1.1 400 Bad Request\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


def _ca_usage() -> object:
    from cryptography import x509

    flags = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement"), False
    )
    return x509.KeyUsage(
        digital_signature=True, key_cert_sign=True, crl_sign=True, encipher_only=False,
        decipher_only=False, **flags,
    )  # fmt: skip


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    usage: Any = _ca_usage()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partcopy test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free loopback port, stopped on leaving: its base URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _der_oid(dotted: str) -> bytes:
    first, second, *rest = (int(x) for x in dotted.split("."))
    body = bytes([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, body)


def subject_hash(cert: Path) -> str:
    """OpenSSL's subject hash of a certificate (``openssl x509 -hash``): the name under
    which a hashed certificate directory (``SSL_CERT_DIR``) must hold it. SHA-1 of the
    subject's canonical encoding (each value lower-cased, white space collapsed, as
    UTF8String; the RDN sets without the outer sequence), first four bytes little-endian."""
    from cryptography import x509

    subject = x509.load_pem_x509_certificate(cert.read_bytes()).subject
    canonical = b""
    for rdn in subject.rdns:
        items = b""
        for attr in rdn:
            value = " ".join(str(attr.value).split()).lower().encode()
            items += _der(0x30, _der_oid(attr.oid.dotted_string) + _der(0x0C, value))
        canonical += _der(0x31, items)
    return f"{int.from_bytes(hashlib.sha1(canonical).digest()[:4], 'little'):08x}"


def trust_directory(ca: Path, directory: Path) -> Path:
    """A hashed certificate directory trusting ``ca``: OpenSSL's ``SSL_CERT_DIR`` form of
    a system trust store, which no partcopy option names."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{subject_hash(ca)}.0").write_bytes(ca.read_bytes())
    return directory


class TlsFront:
    """Terminates TLS on loopback and pipes each connection to ``127.0.0.1:upstream``."""

    def __init__(self, cert: Path, key: Path, upstream: int) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        self._upstream = upstream
        self.upstream = upstream
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.handshakes_failed = 0
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def _serve_one(self, raw: socket.socket) -> None:
        try:
            conn = self._context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            self.handshakes_failed += 1
            raw.close()
            return
        with conn, socket.create_connection(("127.0.0.1", self._upstream)) as upstream:
            back = threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True)
            back.start()
            self._pipe(conn, upstream)
            back.join(10)

    def _loop(self) -> None:
        self._sock.settimeout(0.05)  # closing a socket does not wake accept(): poll a flag
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(None)
            threading.Thread(target=self._serve_one, args=(raw,), daemon=True).start()

    @contextmanager
    def running(self) -> Iterator[TlsFront]:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self._sock.close()
