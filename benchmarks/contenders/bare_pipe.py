"""The relay baseline: a bare aiohttp GET→PUT pipe between two S3 endpoints.

Each part is a ranged GET on the source streamed straight into an UploadPart on the
destination, ``concurrency`` at a time, with no retries, no MD5 and no verification beyond
the HTTP status: the least work a relay can do, so partcopy's relay is measured against
the wire, not against another tool's choices. Requests are signed with SigV4
(UNSIGNED-PAYLOAD) by partcopy's pure signing function, which is not what is measured.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import aiohttp
import anyio

from benchmarks.contenders.spec import CopySpec, Outcome, Stopwatch
from partcopy.transports.signing.common import Credentials
from partcopy.transports.signing.sigv4 import sign

__all__ = ["run"]

CHUNK = 1024 * 1024
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


class Signer:
    """SigV4 (UNSIGNED-PAYLOAD) headers for requests to the spec's endpoints."""

    def __init__(self, spec: CopySpec) -> None:
        self.creds = Credentials(spec.access_key, spec.secret_key)

    def headers(
        self,
        method: str,
        url: str,
        query: list[tuple[str, str | None]],
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        parts = urlsplit(url)
        headers = {"Host": parts.netloc, **(extra or {})}
        signed = sign(
            method=method,
            path=parts.path,
            query=query,
            headers=headers,
            credentials=self.creds,
            now=datetime.now(UTC),
            region="us-east-1",
        )
        return {**headers, **signed}


def wire_query(query: list[tuple[str, str | None]]) -> str:
    """The query string as sent (``None`` values as bare names: ``?uploads``)."""
    return "&".join(k if v is None else f"{k}={quote(v, safe='')}" for k, v in query)


async def _pipe(spec: CopySpec) -> tuple[int, int]:
    src = f"{spec.endpoint}/{spec.bucket}/{quote(spec.key)}"
    dst = f"{spec.target_endpoint}/{spec.target_bucket}/{quote(spec.dst_key)}"
    signer = Signer(spec)
    connector = aiohttp.TCPConnector(limit=spec.concurrency * 2 + 4)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        q: list[tuple[str, str | None]] = [("uploads", None)]
        async with session.post(
            f"{dst}?{wire_query(q)}", headers=signer.headers("POST", dst, q)
        ) as resp:
            body = await resp.read()
            resp.raise_for_status()
        match = _UPLOAD_ID.search(body)
        if match is None:
            raise RuntimeError("CreateMultipartUpload answered no UploadId")
        upload_id = match.group(1).decode()
        etags: dict[int, str] = {}
        moved = 0
        limiter = anyio.CapacityLimiter(spec.concurrency)

        async def part(number: int) -> None:
            nonlocal moved
            first = (number - 1) * spec.part_size
            last = min(first + spec.part_size, spec.size) - 1
            async with limiter:
                get_headers = signer.headers("GET", src, [], {"Range": f"bytes={first}-{last}"})
                async with session.get(src, headers=get_headers) as got:
                    got.raise_for_status()

                    async def body() -> AsyncIterator[bytes]:
                        async for chunk in got.content.iter_chunked(CHUNK):
                            yield chunk

                    pq: list[tuple[str, str | None]] = [
                        ("partNumber", str(number)),
                        ("uploadId", upload_id),
                    ]
                    put_headers = signer.headers(
                        "PUT", dst, pq, {"Content-Length": str(last - first + 1)}
                    )
                    async with session.put(
                        f"{dst}?{wire_query(pq)}", headers=put_headers, data=body()
                    ) as put:
                        await put.read()
                        put.raise_for_status()
                        etags[number] = put.headers["ETag"]
            moved += last - first + 1

        async with anyio.create_task_group() as tg:
            for number in range(1, spec.parts + 1):
                tg.start_soon(part, number)
        xml = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>"
            for n in sorted(etags)
        )
        doc = f"<CompleteMultipartUpload>{xml}</CompleteMultipartUpload>".encode()
        cq: list[tuple[str, str | None]] = [("uploadId", upload_id)]
        async with session.post(
            f"{dst}?{wire_query(cq)}", headers=signer.headers("POST", dst, cq), data=doc
        ) as resp:
            await resp.read()
            resp.raise_for_status()
    return len(etags), moved


def run(spec: CopySpec) -> Outcome:
    """Relay ``spec``'s object from ``endpoint`` to ``dst_endpoint`` through a bare pipe."""
    with Stopwatch() as sw:
        parts, moved = anyio.run(_pipe, spec)
    return Outcome(ok=True, seconds=sw.seconds, cpu_s=sw.cpu_s, parts=parts, bytes=moved)
