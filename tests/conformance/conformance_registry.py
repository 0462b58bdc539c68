"""The registry of transport factories the conformance suite runs against.

A factory is an async context manager yielding a ``Harness``: the transport under test
plus the few set-up verbs the suite needs (buckets, objects) done the backend's own way.
Add a backend by writing ``factory_<name>.py`` next to this file that calls ``register``;
``conftest.py`` imports every such module.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from partcopy.planners import PartLimits
from partcopy.transports.base import Transport

__all__ = ["FACTORIES", "Harness", "HarnessFactory", "register"]


class Harness(Protocol):
    """A transport and a back door into the store behind it."""

    transport: Transport
    limits: PartLimits

    async def make_bucket(self, name: str, *, versioning: bool = False) -> None:
        """Create a bucket (with versioning on when asked)."""
        ...

    async def put(self, bucket: str, key: str, data: bytes) -> tuple[str, str | None]:
        """Create or overwrite an object; returns (quoted ETag, version id or None)."""
        ...

    async def read(self, bucket: str, key: str) -> bytes:
        """The whole current object."""
        ...


HarnessFactory = Callable[[], AbstractAsyncContextManager[Harness]]

FACTORIES: dict[str, HarnessFactory] = {}


def register(name: str) -> Callable[[HarnessFactory], HarnessFactory]:
    """Add a factory under ``name`` (the test id)."""

    def add(factory: HarnessFactory) -> HarnessFactory:
        if name in FACTORIES:
            raise ValueError(f"conformance factory {name!r} registered twice")
        FACTORIES[name] = factory
        return factory

    return add
