"""partcopy through its library API: ``async with Copier(...) as c: await c.copy(...)``."""

from __future__ import annotations

import os
from typing import Any

import anyio

from benchmarks.contenders.spec import CopySpec, Outcome, Stopwatch

__all__ = ["run"]


def _set_credentials(spec: CopySpec) -> None:
    os.environ["PARTCOPY_ACCESS_KEY_ID"] = spec.access_key
    os.environ["PARTCOPY_SECRET_ACCESS_KEY"] = spec.secret_key


async def _copy(spec: CopySpec) -> Outcome:
    import partcopy

    _set_credentials(spec)
    kwargs: dict[str, Any] = {"concurrency": spec.concurrency, "endpoint_url": spec.endpoint}
    error: str | None = None
    result: Any = None
    async with partcopy.Copier(**kwargs) as copier:
        with Stopwatch() as sw:
            try:
                result = await copier.copy(
                    f"s3://{spec.bucket}/{spec.key}",
                    f"s3://{spec.target_bucket}/{spec.dst_key}",
                    part_size=spec.part_size,
                )
            except Exception as exc:  # reported, not raised: a failed copy is a result
                error = f"{type(exc).__name__}: {exc}"
    if result is None:
        return Outcome(False, sw.seconds, sw.cpu_s, error=error)
    retries = dict(getattr(result, "retries", {}) or {})
    return Outcome(
        ok=True,
        seconds=sw.seconds,
        cpu_s=sw.cpu_s,
        parts=int(result.parts),
        bytes=int(result.bytes),
        retries={str(k): int(v) for k, v in retries.items()},
    )


def run(spec: CopySpec) -> Outcome:
    """Copy one object with partcopy's Copier."""
    return anyio.run(_copy, spec)
