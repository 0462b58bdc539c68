"""One shard of a bulk run, as a Dask worker runs it: a picklable spec in, a summary out.

Shard ``k`` of ``n`` holds the manifest lines whose number minus one is ``k`` modulo
``n``; it reads the manifest itself (streamed, so nothing but the spec travels), keeps its
own journal ``PATH.shardK`` and report ``PATH.shardK``, and copies with its share of the
per-endpoint budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio

from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy
from partcopy.engine.report import BulkSummary

__all__ = ["LogSetup", "ShardSpec", "run_shard", "shard_path"]

LogSetup = Callable[[str], None]
"""Configures logging in a worker at a level name; a module-level function, so it pickles."""


def shard_path(path: str, index: int) -> str:
    """The file of shard ``index`` for a journal or report at ``path``: ``PATH.shardK``."""
    return f"{path}.shard{index}"


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """Everything a worker needs for its shard. No secrets: credentials come from the
    worker's environment."""

    manifest: str
    index: int
    count: int
    options: BulkOptions
    settings: CopierSettings
    journal: str | None = None
    """The shard's own journal file (``PATH.shardK``), or None."""
    report: str | None = None
    """The shard's own report file (``PATH.shardK``), or None."""
    log_level: str = "warning"
    log_setup: LogSetup | None = None
    """Called with ``log_level`` in the worker before the shard runs (the CLI passes its own
    setup); None leaves the worker's logging as it is."""


def run_shard(spec: ShardSpec) -> BulkSummary:
    """Run one shard to the end on a fresh event loop (the function Dask calls)."""
    if spec.log_setup is not None:
        spec.log_setup(spec.log_level)

    async def main() -> BulkSummary:
        return await bulk_copy(
            spec.manifest,
            options=spec.options,
            settings=spec.settings,
            journal=spec.journal,
            report=spec.report,
            shard=(spec.index, spec.count),
        )

    return anyio.run(main)
