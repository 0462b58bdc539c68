"""partcopy's bulk runner (``bulk_copy``) over a JSON-lines manifest, one shared Copier."""

from __future__ import annotations

import logging
import os

import anyio

from benchmarks.contenders.spec import BulkSpec, Outcome, Stopwatch

__all__ = ["run_bulk"]


def run_bulk(spec: BulkSpec) -> Outcome:
    """Copy every manifest line with ``partcopy.engine.bulk.bulk_copy``."""
    import structlog

    from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    os.environ["PARTCOPY_ACCESS_KEY_ID"] = spec.access_key
    os.environ["PARTCOPY_SECRET_ACCESS_KEY"] = spec.secret_key
    options = BulkOptions(concurrency=spec.concurrency)
    settings = CopierSettings(endpoint_url=spec.endpoint, concurrency=spec.concurrency)

    async def go() -> object:
        return await bulk_copy(spec.manifest, options=options, settings=settings)

    with Stopwatch() as sw:
        summary = anyio.run(go)
    ok = getattr(summary, "ok", 0)
    failed = getattr(summary, "failed", 0)
    return Outcome(
        ok=failed == 0 and ok == spec.objects,
        seconds=sw.seconds,
        cpu_s=sw.cpu_s,
        objects=ok,
        bytes=getattr(summary, "bytes", 0),
        retries={"all": getattr(summary, "retries", 0)} if getattr(summary, "retries", 0) else {},
        error=None if failed == 0 else f"{failed} object(s) failed",
        extra={"modes": str(dict(getattr(summary, "modes", {})))},
    )
