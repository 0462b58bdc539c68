"""A tiny signed HTTP client for emulator tests: one request, any dialect, exact bytes.

It signs with the project's pure signing functions and sends the URL verbatim, so tests
can drive every verb of every dialect (and see the raw answer) without an SDK.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator
from partcopy.transports.signing import cos, obs, qingstor, sigv4
from partcopy.transports.signing.common import Credentials, uri_encode

COS_REGION = "ap-guangzhou"


def cos_host(bucket: str) -> str:
    return f"{bucket}.cos.{COS_REGION}.myqcloud.com"


@dataclass(frozen=True)
class Raw:
    """One answer as received."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


class RawClient:
    """Signs and sends single requests to an emulator of ``dialect``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        dialect: str,
        *,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        obs_variant: obs.Variant = "obs",
    ) -> None:
        self.session = session
        self.url = url
        self.dialect = dialect
        self.credentials = Credentials(access_key, secret_key)
        self.obs_variant = obs_variant

    def _path_and_host(self, bucket: str | None, key: str | None) -> tuple[str, str]:
        netloc = URL(self.url).raw_authority
        if self.dialect == "cos" and bucket is not None:
            return cos.encode_path("/" + (key or "")), cos_host(bucket)
        raw = "/" + (bucket or "") + ("/" + key if key is not None else "")
        if self.dialect == "qingstor":
            return qingstor.encode_path(raw), netloc
        return uri_encode(raw, "/~"), netloc

    def signed(
        self,
        method: str,
        bucket: str | None,
        key: str | None = None,
        *,
        query: Sequence[tuple[str, str | None]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        length: bool = False,
    ) -> tuple[str, dict[str, str]]:
        """The request target (path and encoded query) and the signed headers to send;
        ``length``: a Content-Length even for an empty body (raw bytes need one)."""
        path, host = self._path_and_host(bucket, key)
        sent = {"Host": host, **(headers or {})}
        if body or length:
            sent["Content-Length"] = str(len(body))
        module = {"s3": sigv4, "obs": obs, "cos": cos, "qingstor": qingstor}[self.dialect]
        extra: dict[str, str] = {}
        if self.dialect == "s3":
            extra = {"region": "us-east-1", "payload_hash": hashlib.sha256(body).hexdigest()}
        elif self.dialect == "obs":
            extra = {"variant": self.obs_variant}
        encoded = module.encode_query(query)
        sent.update(
            module.sign(
                method=method,
                path=path,
                query=query,
                headers=sent,
                credentials=self.credentials,
                now=datetime.now(UTC),
                **extra,
            )
        )
        return path + (f"?{encoded}" if encoded else ""), sent

    def wire(
        self,
        method: str,
        bucket: str | None,
        key: str | None = None,
        *,
        query: Sequence[tuple[str, str | None]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> bytes:
        """One signed HTTP/1.1 request as bytes on the wire (for tests that write them)."""
        target, sent = self.signed(
            method, bucket, key, query=query, headers=headers, body=body, length=True
        )
        lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in sent.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def request(
        self,
        method: str,
        bucket: str | None,
        key: str | None = None,
        *,
        query: Sequence[tuple[str, str | None]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Raw:
        target, sent = self.signed(method, bucket, key, query=query, headers=headers, body=body)
        async with self.session.request(
            method,
            URL(f"{self.url}{target}", encoded=True),
            headers=sent,
            data=body if body else None,
            skip_auto_headers=["Content-Type", "Accept-Encoding", "Accept", "User-Agent"],
        ) as response:
            data = await response.read()
            return Raw(response.status, CIMultiDict(response.headers), data)


MiB = 1024 * 1024


async def prepared_upload(emu: Emulator, raw: RawClient) -> str:
    """``src-bkt/big.bin`` (12 MiB) and an upload of ``dst-bkt/out.bin``: its id."""
    emu.add_object("src-bkt/big.bin=12MiB")
    assert (await raw.request("PUT", "dst-bkt")).status == 200
    answer = await raw.request("POST", "dst-bkt", "out.bin", query=[("uploads", None)])
    assert answer.status == 200
    return answer.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()


def copy_part_args(upload_id: str, number: int) -> dict[str, Any]:
    """``query`` and ``headers`` copying 5 MiB part ``number`` of ``src-bkt/big.bin``."""
    first = (number - 1) * 5 * MiB
    return {
        "query": [("partNumber", str(number)), ("uploadId", upload_id)],
        "headers": {
            "x-amz-copy-source": "src-bkt/big.bin",
            "x-amz-copy-source-range": f"bytes={first}-{first + 5 * MiB - 1}",
        },
    }


async def admin(
    session: aiohttp.ClientSession, url: str, method: str, path: str, body: object = None
) -> tuple[int, Any]:
    """Call ``/_emulator/<path>`` with a JSON body; returns (status, decoded JSON)."""
    async with session.request(method, f"{url}/_emulator/{path}", json=body) as response:
        return response.status, await response.json()
