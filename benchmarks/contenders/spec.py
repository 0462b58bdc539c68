"""What a contender is asked to do and what it answers, as frozen dataclasses over JSON."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["BulkSpec", "CopySpec", "Outcome", "Stopwatch"]


class Stopwatch:
    """Wall and CPU seconds (all threads of this process) spent inside a ``with`` block."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_s = 0.0
        self._wall0 = 0.0
        self._cpu0 = 0.0

    def __enter__(self) -> Stopwatch:
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall0
        self.cpu_s = time.process_time() - self._cpu0


@dataclass(frozen=True, slots=True)
class CopySpec:
    """Copy one object ``bucket/key`` to ``dst_bucket/dst_key`` in parts.

    ``dst_endpoint`` differs from ``endpoint`` only for relay between two emulators.
    ``options`` carries scenario switches (e.g. ``{"hedge": false}``).
    """

    endpoint: str
    bucket: str
    key: str
    dst_key: str
    size: int
    part_size: int
    concurrency: int
    access_key: str
    secret_key: str
    dst_bucket: str = ""
    dst_endpoint: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target_bucket(self) -> str:
        return self.dst_bucket or self.bucket

    @property
    def target_endpoint(self) -> str:
        return self.dst_endpoint or self.endpoint

    @property
    def parts(self) -> int:
        return -(-self.size // self.part_size)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CopySpec:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class BulkSpec:
    """Copy every object listed in ``manifest`` (JSON lines ``{"src", "dst"}``)."""

    endpoint: str
    manifest: str
    objects: int
    concurrency: int
    access_key: str
    secret_key: str
    bucket: str = ""
    prefix: str = ""
    dst_prefix: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BulkSpec:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a contender reports. ``seconds`` times only the copy call itself."""

    ok: bool
    seconds: float
    cpu_s: float = 0.0
    parts: int = 0
    bytes: int = 0
    objects: int = 0
    retries: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
