"""One shard of a bulk run, as a Dask worker runs it: a picklable spec in, a summary out.

Shard ``k`` of ``n`` holds the manifest lines whose number minus one is ``k`` modulo
``n``; it reads the manifest itself (streamed, so nothing but the spec travels), keeps its
own journal ``PATH.shardK`` and report ``PATH.shardK``, and copies with its share of the
per-endpoint budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy
from partcopy.engine.report import BulkSummary
from partcopy.errors import ConfigError

__all__ = ["STOP_POLL_S", "LogSetup", "ShardSpec", "run_shard", "shard_path"]

STOP_POLL_S = 0.25
"""How long one wait of a running shard on its stop event lasts (its client stopping the run)."""

LogSetup = Callable[[str], None]
"""Configures logging in a worker at a level name; a module-level function, so it pickles."""


def require_distributed() -> Any:
    """The ``distributed`` module, or ``ConfigError`` saying how to install it."""
    try:
        import distributed
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise ConfigError(
            "Dask is not installed: pip install 'partcopy[dask]' to use --dask/--dask-local"
        ) from None
    return distributed


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
    stop: str | None = None
    """The name of the Dask ``Event`` the client sets to stop the run (Ctrl-C, SIGTERM, a
    failed shard): the shard cancels its copies, which abort their open uploads (or keep
    them for the journal), and returns. None: the shard runs to the end."""


def run_shard(spec: ShardSpec) -> BulkSummary:
    """Run one shard to the end on a fresh event loop (the function Dask calls)."""
    if spec.log_setup is not None:
        spec.log_setup(spec.log_level)

    stop = _stop_event(spec.stop)

    async def main() -> BulkSummary:
        summary = BulkSummary()

        async def copy() -> None:
            nonlocal summary
            summary = await bulk_copy(
                spec.manifest,
                options=spec.options,
                settings=spec.settings,
                journal=spec.journal,
                report=spec.report,
                shard=(spec.index, spec.count),
            )
            tg.cancel_scope.cancel()  # done: stop watching

        async def watch() -> None:
            # each wait returns within STOP_POLL_S, so a finished shard ends soon
            stopped = False
            while not stopped:
                stopped = await anyio.to_thread.run_sync(stop.wait, STOP_POLL_S)
            tg.cancel_scope.cancel()  # the copies abort (or keep) their uploads, shielded

        async with anyio.create_task_group() as tg:
            tg.start_soon(copy)
            if stop is not None:
                tg.start_soon(watch)
        return summary

    return anyio.run(main)


def _stop_event(name: str | None) -> Any:
    """The run's stop ``Event`` on the scheduler of the worker running this shard."""
    if name is None:
        return None
    return require_distributed().Event(name)
