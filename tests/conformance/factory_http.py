"""Conformance backends for the HTTP transports: each dialect over the emulator, S3 over moto.

Set-up (buckets, objects, reads) goes through the backend's own door: the emulator's store,
or boto3 for moto. Everything the suite checks goes over the wire through the transport.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
import pytest
from botocore.config import Config
from conformance_registry import Capabilities, Harness, register
from moto.server import ThreadedMotoServer

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator
from partcopy.planners import PartLimits
from partcopy.planners.limits import get_profile
from partcopy.store.memory import quote_etag
from partcopy.transports import make_transport
from partcopy.transports.base import Dialect, Transport
from partcopy.transports.signing import Credentials

EMULATOR_CREDS = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
REGION = "ap-test-1"


def _skip_known_gaps(backend: str, gaps: dict[str, str]) -> None:
    """Skip the running test when ``backend`` is known not to implement what it checks."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    for test, reason in gaps.items():
        if f"::{test}[" in current:
            pytest.skip(f"{backend}: {reason}")


class EmulatorHarness:
    """An HTTP transport against the emulator; set-up goes straight to its store."""

    def __init__(self, emulator: Emulator, transport: Transport, dialect: Dialect) -> None:
        self.emulator = emulator
        self.transport = transport
        self.dialect = dialect
        self.limits: PartLimits = get_profile(dialect)
        self.caps = Capabilities()

    async def make_bucket(self, name: str, *, versioning: bool = False) -> None:
        self.emulator.store.create_bucket(name)
        if versioning:
            self.emulator.store.set_versioning(name, True)

    async def put(self, bucket: str, key: str, data: bytes) -> tuple[str, str | None]:
        version = self.emulator.store.put_object(bucket, key, data)
        vid = None if version.version_id == "null" else version.version_id
        return quote_etag(version.etag), vid

    async def read(self, bucket: str, key: str) -> bytes:
        content = self.emulator.store.get(bucket, key).content
        assert content is not None
        return content.read()


_EMULATOR_GAPS: dict[str, str] = {}


def _emulator_factory(dialect: Dialect) -> None:
    @register(f"http-{dialect}-emulator")
    @asynccontextmanager
    async def make() -> AsyncIterator[Harness]:
        _skip_known_gaps("emulator", _EMULATOR_GAPS)
        async with Emulator(dialect) as emu:
            transport = make_transport(dialect, emu.url, REGION, EMULATOR_CREDS)
            try:
                yield EmulatorHarness(emu, transport, dialect)
            finally:
                await transport.aclose()


for _dialect in ("s3", "obs", "cos", "qingstor"):
    _emulator_factory(_dialect)  # type: ignore[arg-type]


# --- S3 over moto --------------------------------------------------------------------

_MOTO: dict[str, str] = {}
_MOTO_GAPS = {
    "test_changed_source_fails_the_pinned_copy_with_412": (
        "moto ignores x-amz-copy-source-if-match (the emulator factories check it)"
    ),
    "test_missing_upload_is_404": "moto answers 500 (a KeyError) for a part of a missing upload",
    "test_list_uploads_pages": "moto ignores max-uploads and never pages",
}


def _moto_url() -> str:
    """One moto server per test session, started on first use on 127.0.0.1."""
    if "url" not in _MOTO:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        atexit.register(server.stop)
        host, port = server.get_host_and_port()
        _MOTO["url"] = f"http://{host}:{port}"
    return _MOTO["url"]


class MotoHarness:
    """The S3 transport against moto; set-up through boto3. Buckets are unique per harness."""

    def __init__(self, url: str) -> None:
        self.limits: PartLimits = get_profile("s3")
        # moto stores a PutObject whatever its Content-MD5 says (AWS refuses: BadDigest).
        self.caps = Capabilities(put_checks_content_md5=False)
        self.transport: Transport = make_transport("s3", url, "us-east-1", Credentials("a", "b"))
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
            config=Config(s3={"addressing_style": "path"}),
        )

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
        """Empty every bucket this session made, so the next test starts clean."""
        for bucket in self._s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            uploads = self._s3.list_multipart_uploads(Bucket=name).get("Uploads", [])
            for upload in uploads:
                self._s3.abort_multipart_upload(
                    Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            versions = self._s3.list_object_versions(Bucket=name)
            for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
                self._s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
            self._s3.delete_bucket(Bucket=name)


@register("http-s3-moto")
@asynccontextmanager
async def _moto() -> AsyncIterator[Harness]:
    _skip_known_gaps("moto", _MOTO_GAPS)
    harness = MotoHarness(_moto_url())
    harness.reset()
    try:
        yield harness
    finally:
        await harness.transport.aclose()
