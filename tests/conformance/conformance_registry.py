"""The registry of transport factories the conformance suite runs against.

A factory is an async context manager yielding a ``Harness``: the transport under test
plus the few set-up verbs the suite needs (buckets, objects) done the backend's own way.
Add a backend by writing ``factory_<name>.py`` next to this file that calls ``register``;
``conftest.py`` imports every such module. A backend that differs from what the suite
expects says so in its ``Capabilities``; the test that meets the difference reads the flag
at the call site (and checks what the backend does instead), never skips by backend name.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from partcopy.planners import PartLimits
from partcopy.transports.base import Transport

__all__ = ["FACTORIES", "FIXTURES", "Capabilities", "Harness", "HarnessFactory", "register"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend does the way AWS S3 does; each False is a known, checked difference."""

    copy_part_etags_are_md5: bool = True
    """An UploadPartCopy answer's ETag is the MD5 of the copied range."""
    copy_etags_quoted: bool = True
    """UploadPartCopy and CopyObject answers quote the ETag, as AWS does."""
    next_key_marker: bool = True
    """A truncated ListMultipartUploads page carries NextKeyMarker."""
    put_checks_content_md5: bool = True
    """A PutObject whose Content-MD5 is not its body's is refused (BadDigest)."""


class Harness(Protocol):
    """A transport and a back door into the store behind it."""

    transport: Transport
    limits: PartLimits
    caps: Capabilities

    async def make_bucket(self, name: str, *, versioning: bool = False) -> None:
        """Create a bucket (with versioning on when asked)."""
        ...

    async def put(self, bucket: str, key: str, data: bytes) -> tuple[str, str | None]:
        """Create or overwrite an object; returns (quoted ETag, version id or None)."""
        ...

    async def read(self, bucket: str, key: str) -> bytes:
        """The whole current object."""
        ...


HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]
"""Called with the pytest fixtures named at registration, as keyword arguments."""

FACTORIES: dict[str, HarnessFactory] = {}
FIXTURES: dict[str, tuple[str, ...]] = {}


def register(
    name: str, *, fixtures: tuple[str, ...] = ()
) -> Callable[[HarnessFactory], HarnessFactory]:
    """Add a factory under ``name`` (the test id); ``fixtures`` are passed to it by name
    (a session-scoped server, say), so only the tests of that backend start it."""

    def add(factory: HarnessFactory) -> HarnessFactory:
        if name in FACTORIES:
            raise ValueError(f"conformance factory {name!r} registered twice")
        FACTORIES[name] = factory
        FIXTURES[name] = fixtures
        return factory

    return add
