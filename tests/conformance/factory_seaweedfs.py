"""Conformance backend: the S3 transport against SeaweedFS, a real S3-compatible store.

The server is the session's ``seaweedfs`` fixture (started once); set-up goes through boto3.
Its differences from AWS S3 are the ``Capabilities`` below, taken from the ``seaweedfs``
provider row where the row has the fact (each observed against SeaweedFS 4.48 here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from conformance_registry import Capabilities, Harness, register

from partcopy.planners import PartLimits
from partcopy.providers import get_provider
from partcopy.transports import make_transport
from partcopy.transports.base import Transport
from partcopy.transports.signing import Credentials
from realstore.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, s3_client

ROW = get_provider("seaweedfs")
SEAWEEDFS_CAPS = Capabilities(
    # From the provider row (its comments say what was observed, and where).
    copy_part_etags_are_md5=ROW.copy_part_etag_md5,
    next_key_marker=ROW.quirks.list_uploads_next_key_marker,
    copy_etags_quoted=False,  # one of the row's notes: <ETag>hex</ETag> in copy answers
)


class SeaweedFSHarness:
    """The S3 transport against SeaweedFS; set-up through boto3."""

    def __init__(self, server: SeaweedFS) -> None:
        self.limits: PartLimits = ROW.limits
        self.caps = SEAWEEDFS_CAPS
        creds = Credentials(ACCESS_KEY, SECRET_KEY)
        self.transport: Transport = make_transport("s3", server.url, "us-east-1", creds)
        self._s3: Any = s3_client(server.url)

    async def make_bucket(self, name: str, *, versioning: bool = False) -> None:
        self._s3.create_bucket(Bucket=name)
        if versioning:
            self._s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )

    async def put(self, bucket: str, key: str, data: bytes) -> tuple[str, str | None]:
        out = self._s3.put_object(Bucket=bucket, Key=key, Body=data)
        return out["ETag"], out.get("VersionId")

    async def read(self, bucket: str, key: str) -> bytes:
        data: bytes = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    def reset(self) -> None:
        """Remove every bucket (SeaweedFS deletes a non-empty bucket with its uploads)."""
        for bucket in self._s3.list_buckets().get("Buckets", []):
            self._s3.delete_bucket(Bucket=bucket["Name"])


@register("http-s3-seaweedfs", fixtures=("seaweedfs",))
@asynccontextmanager
async def _seaweedfs(seaweedfs: SeaweedFS) -> AsyncIterator[Harness]:
    harness = SeaweedFSHarness(seaweedfs)
    harness.reset()
    try:
        yield harness
    finally:
        await harness.transport.aclose()
