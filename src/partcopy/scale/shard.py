"""One shard of a bulk run, as a Dask worker runs it: a picklable spec in, a summary out.

Shard ``k`` of ``n`` holds the manifest lines whose number minus one is ``k`` modulo
``n``; it reads the manifest itself (streamed, so nothing but the spec travels), keeps its
own journal ``PATH.shardK`` and report ``PATH.shardK``, and copies with its share of the
per-endpoint budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy
from partcopy.engine.logs import configure_logging
from partcopy.engine.report import BulkSummary

__all__ = ["ShardSpec", "run_shard", "shard_path"]


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


def run_shard(spec: ShardSpec) -> BulkSummary:
    """Run one shard to the end on a fresh event loop (the function Dask calls)."""
    configure_logging(spec.log_level)

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
