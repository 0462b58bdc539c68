"""partcopy through its library API: ``async with Copier(...) as c: await c.copy(...)``.

Options: ``hedge`` (default true: the Copier's default policy; false turns hedging off),
``hedge_policy`` (``HedgePolicy`` fields, to try other thresholds),
``adaptive`` (default true; false fixes the concurrency instead of AIMD on throttling),
``mode`` (``auto``, ``copy`` or ``relay``), ``warmup_key`` (an object copied once, untimed,
before the measured copy: connections and lazy imports are then warm for every contender).
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from benchmarks.contenders.spec import CopySpec, Outcome, Stopwatch

__all__ = ["run"]


async def _copy(spec: CopySpec) -> Outcome:
    import structlog

    from partcopy import Copier
    from partcopy.config import Credentials
    from partcopy.engine.fidelity import FidelityOptions

    # Benchmarks measure copying, not log rendering: warnings and errors only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    kwargs: dict[str, Any] = {
        "concurrency": spec.concurrency,
        "endpoint_url": spec.endpoint,
        "credentials": Credentials(spec.access_key, spec.secret_key),
    }
    if spec.dst_endpoint:
        kwargs["dst_endpoint_url"] = spec.dst_endpoint
    if not spec.options.get("hedge", True):
        kwargs["hedge"] = None
    elif spec.options.get("hedge_policy"):
        from partcopy.engine.hedge import HedgePolicy

        kwargs["hedge"] = HedgePolicy(**spec.options["hedge_policy"])
    if not spec.options.get("adaptive", True):
        kwargs["adaptive"] = False
    error: str | None = None
    result: Any = None
    async with Copier(**kwargs) as copier:
        warm = spec.options.get("warmup_key")
        if warm:
            await copier.copy(
                f"s3://{spec.bucket}/{warm}",
                f"s3://{spec.target_bucket}/{warm}-{spec.dst_key}",
                part_size=5 * 1024 * 1024,
            )
        with Stopwatch() as sw:
            try:
                result = await copier.copy(
                    f"s3://{spec.bucket}/{spec.key}",
                    f"s3://{spec.target_bucket}/{spec.dst_key}",
                    part_size=spec.part_size,
                    mode=spec.options.get("mode", "auto"),
                    fidelity=FidelityOptions(checksum=spec.options.get("checksum", "auto")),
                )
            except Exception as exc:  # reported, not raised: a failed copy is a result
                error = f"{type(exc).__name__}: {exc}"
    if result is None:
        return Outcome(False, sw.seconds, sw.cpu_s, error=error)
    return Outcome(
        ok=True,
        seconds=sw.seconds,
        cpu_s=sw.cpu_s,
        parts=result.parts,
        bytes=result.bytes,
        retries=dict(result.retries_by_reason),
        extra={
            "hedges": result.hedges,
            "mode": result.mode,
            "min_concurrency": None if result.concurrency is None else result.concurrency.min,
            "throttled": None if result.concurrency is None else result.concurrency.throttled,
        },
    )


def run(spec: CopySpec) -> Outcome:
    """Copy one object with partcopy's Copier."""
    return anyio.run(_copy, spec)
