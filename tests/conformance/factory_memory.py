"""Conformance backends: ``MemoryTransport`` over a ``MemoryStore``, one per dialect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conformance_registry import Capabilities, Harness, register

from partcopy.planners import PartLimits
from partcopy.store.memory import MemoryStore, quote_etag
from partcopy.transports.base import Dialect, Transport
from partcopy.transports.memory import MemoryTransport


class MemoryHarness:
    """Set-up goes straight to the store."""

    def __init__(self, dialect: Dialect) -> None:
        self.store = MemoryStore(dialect)
        memory = MemoryTransport(self.store, dialect)
        self.transport: Transport = memory
        self.limits: PartLimits = memory.limits
        self.caps = Capabilities()

    async def make_bucket(self, name: str, *, versioning: bool = False) -> None:
        self.store.create_bucket(name)
        if versioning:
            self.store.set_versioning(name, True)

    async def put(self, bucket: str, key: str, data: bytes) -> tuple[str, str | None]:
        version = self.store.put_object(bucket, key, data)
        vid = None if version.version_id == "null" else version.version_id
        return quote_etag(version.etag), vid

    async def read(self, bucket: str, key: str) -> bytes:
        content = self.store.get(bucket, key).content
        assert content is not None
        return content.read()


def _factory(dialect: Dialect) -> None:
    @register(f"memory-{dialect}")
    @asynccontextmanager
    async def make() -> AsyncIterator[Harness]:
        harness = MemoryHarness(dialect)
        try:
            yield harness
        finally:
            await harness.transport.aclose()


for _dialect in ("s3", "qingstor"):
    _factory(_dialect)  # type: ignore[arg-type]
