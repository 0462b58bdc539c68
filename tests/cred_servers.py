"""Loopback stand-ins for the places temporary AWS credentials come from.

``KeyTable`` is what the emulator accepts (``Emulator(keys=table.lookup)``): every key a
server issues is registered there with its session token and expiry, so the emulator checks
the signature and the token of each request. ``CredentialServer`` answers as the container
credentials endpoint (``AWS_CONTAINER_CREDENTIALS_FULL_URI``), IMDSv2
(``AWS_EC2_METADATA_SERVICE_ENDPOINT``) and the SSO portal (``AWS_ENDPOINT_URL_SSO``).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from partcopy.emulator.auth import StoredKey

Clock = Callable[[], datetime]


class FakeClock:
    """Time that moves only when a test says so (shared by signer, provider and emulator)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta


class KeyTable:
    """Keys the emulator accepts, and which of them it saw."""

    def __init__(self) -> None:
        self.keys: dict[str, StoredKey] = {}
        self.seen: list[str] = []
        self.extra: list[Callable[[str], StoredKey | None]] = []

    def add(self, access_key: str, key: StoredKey) -> None:
        self.keys[access_key] = key

    def issue(self, expires: datetime | None, prefix: str = "ASIA") -> tuple[str, StoredKey]:
        access_key = prefix + secrets.token_hex(8).upper()
        key = StoredKey(secrets.token_urlsafe(24), secrets.token_urlsafe(48), expires)
        self.add(access_key, key)
        return access_key, key

    def lookup(self, access_key: str) -> StoredKey | None:
        key = self.keys.get(access_key)
        for more in self.extra:
            key = key or more(access_key)
        if key is not None:
            self.seen.append(access_key)
        return key


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CredentialServer:
    """Issues fresh keys on every credentials request; records what it was asked."""

    ROLE = "partcopy-role"

    def __init__(
        self,
        table: KeyTable,
        clock: Clock = lambda: datetime.now(UTC),
        lifetime: timedelta = timedelta(hours=1),
        auth_token: str | None = None,
    ) -> None:
        self.table = table
        self.clock = clock
        self.lifetime = lifetime
        self.auth_token = auth_token
        self.imds_token = secrets.token_hex(16)
        self.issued: list[str] = []
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _issue(self) -> tuple[str, StoredKey, datetime]:
        expires = self.clock() + self.lifetime
        access_key, key = self.table.issue(expires)
        self.issued.append(access_key)
        return access_key, key, expires

    def answer(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        self.requests.append(f"{method} {path}")
        url = urlsplit(path)
        if url.path == "/container-creds":
            if self.auth_token is not None and headers.get("authorization") != self.auth_token:
                return 401, "{}"
            ak, key, expires = self._issue()
            body = {
                "AccessKeyId": ak,
                "SecretAccessKey": key.secret_key,
                "Token": key.session_token,
                "Expiration": _iso(expires),
            }
            return 200, json.dumps(body)
        if url.path == "/latest/api/token" and method == "PUT":
            return 200, self.imds_token
        if url.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if headers.get("x-aws-ec2-metadata-token") != self.imds_token:
                return 401, ""
            role = url.path.rsplit("/", 1)[1]
            if not role:
                return 200, self.ROLE
            if role != self.ROLE:
                return 404, ""
            ak, key, expires = self._issue()
            body = {
                "Code": "Success",
                "Type": "AWS-HMAC",
                "AccessKeyId": ak,
                "SecretAccessKey": key.secret_key,
                "Token": key.session_token,
                "Expiration": _iso(expires),
            }
            return 200, json.dumps(body)
        if url.path == "/federation/credentials":
            query = parse_qs(url.query)
            if headers.get("x-amz-sso_bearer_token") != "sso-access-token" or query.get(
                "role_name"
            ) != ["sso-role"]:
                return 401, "{}"
            ak, key, expires = self._issue()
            creds = {
                "accessKeyId": ak,
                "secretAccessKey": key.secret_key,
                "sessionToken": key.session_token,
                "expiration": int(expires.timestamp() * 1000),
            }
            return 200, json.dumps({"roleCredentials": creds})
        return 404, ""

    @contextmanager
    def running(self) -> Iterator[CredentialServer]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body = owner.answer(self.command, self.path, headers)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = _reply

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)
