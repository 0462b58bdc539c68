"""The floor of a part-copy schedule: the least any client can do per part.

Not a tool: a baseline that tells what the store (the emulator) and the machine allow. Every
UploadPartCopy is signed before the clock starts, and ``concurrency`` threads each hold one
blocking keep-alive connection (stdlib ``http.client``), send a prepared request and read
its answer, with no retries, no timers, no verification beyond the status and an ETag in
every answer. The clock covers the parts and the Complete, as it does for the contenders;
the upload is created, the connections opened and one part copied before it (the
contenders warm up too).
A contender's ``vs_ideal`` minus the floor's is what that contender itself costs.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

from benchmarks.contenders.bare_pipe import Signer, wire_query
from benchmarks.contenders.spec import CopySpec, Outcome, Stopwatch

__all__ = ["run"]

_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")
_ETAG = re.compile(rb"<ETag>([^<]+)</ETag>")
_TIMEOUT = 120.0
"""Each socket operation's bound: a floor run that stalls fails, it does not hang."""

Query = list[tuple[str, str | None]]


class _Requests:
    """Signed requests to the destination endpoint (plain http) and connections to it."""

    def __init__(self, spec: CopySpec) -> None:
        parts = urlsplit(spec.target_endpoint)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the floor speaks plain http only, not {spec.target_endpoint!r}")
        self.host, self.port, self.base = parts.hostname, parts.port or 80, spec.target_endpoint
        self.signer = Signer(spec)

    def signed(
        self, method: str, path: str, query: Query, extra: dict[str, str] | None = None
    ) -> tuple[str, str, dict[str, str]]:
        headers = self.signer.headers(method, f"{self.base}{path}", query, extra)
        return method, f"{path}?{wire_query(query)}", headers

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=_TIMEOUT)
        conn.connect()
        return conn


def _send(
    conn: http.client.HTTPConnection, request: tuple[str, str, dict[str, str]], body: bytes = b""
) -> tuple[str | None, bytes]:
    """One request on a kept-alive connection: the answer's ETag and body (a non-200 raises)."""
    method, target, headers = request
    conn.request(method, target, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{method} {target}: HTTP {resp.status}: {data[:200]!r}")
    found = _ETAG.search(data)  # a copy answers its ETag in the body, a PUT in a header
    return found.group(1).decode() if found else resp.getheader("ETag"), data


def run(spec: CopySpec) -> Outcome:
    """Copy ``spec``'s object part by part with prepared requests on blocking sockets."""
    reqs = _Requests(spec)
    path = f"/{spec.target_bucket}/{quote(spec.dst_key)}"
    source = f"/{spec.bucket}/{quote(spec.key)}"
    workers = max(1, min(spec.concurrency, spec.parts))
    conns = [reqs.connect() for _ in range(workers)]
    try:
        _, body = _send(conns[0], reqs.signed("POST", path, [("uploads", None)]))
        found = _UPLOAD_ID.search(body)
        if found is None:
            raise RuntimeError("CreateMultipartUpload answered no UploadId")
        upload_id = found.group(1).decode()

        def part(number: int) -> tuple[str, str, dict[str, str]]:
            first = (number - 1) * spec.part_size
            last = min(first + spec.part_size, spec.size) - 1
            query: Query = [("partNumber", str(number)), ("uploadId", upload_id)]
            extra = {
                "x-amz-copy-source": source,
                "x-amz-copy-source-range": f"bytes={first}-{last}",
            }
            return reqs.signed("PUT", path, query, extra)

        for conn in conns:  # every connection warm, and part 1 copied, before the clock
            _send(conn, part(1))
        prepared = [(n, part(n)) for n in range(1, spec.parts + 1)]
        complete_query: Query = [("uploadId", upload_id)]
        complete = reqs.signed("POST", path, complete_query)
        pending: Iterator[tuple[int, tuple[str, str, dict[str, str]]]] = iter(prepared)
        lock = threading.Lock()
        etags: dict[int, str] = {}
        failures: list[BaseException] = []

        def worker(conn: http.client.HTTPConnection) -> None:
            try:
                while not failures:
                    with lock:
                        item = next(pending, None)
                    if item is None:
                        return
                    etag, _ = _send(conn, item[1])
                    if not etag:
                        raise RuntimeError(f"part {item[0]} answered 200 without an ETag")
                    etags[item[0]] = etag
            except BaseException as exc:  # reported by the caller, after the join
                failures.append(exc)

        with Stopwatch() as sw:
            threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in conns]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise failures[0]
            doc = "".join(
                f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>"
                for n in sorted(etags)
            )
            _send(
                conns[0],
                complete,
                f"<CompleteMultipartUpload>{doc}</CompleteMultipartUpload>".encode(),
            )
    finally:
        for conn in conns:
            conn.close()
    return Outcome(ok=True, seconds=sw.seconds, cpu_s=sw.cpu_s, parts=len(etags), bytes=spec.size)
