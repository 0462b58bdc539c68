"""Bulk runs on Dask: the manifest split into shards, one shard per worker, one report.

The client process only plans: it sends each worker a :class:`ShardSpec` (paths and
settings, never the manifest's lines), waits, then merges the shard reports into one file
and the shard summaries into one summary. The per-endpoint budget and the objects in
flight are divided among the workers, so the whole cluster keeps the limits one process
would. Paths must be visible to the workers at the same names (one machine, or a shared
file system); credentials come from each worker's environment.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from partcopy.config import shown_url
from partcopy.engine.bulk import BulkOptions, CopierSettings, check_manifest
from partcopy.engine.ledger import BulkLedger
from partcopy.engine.report import BulkSummary, open_report
from partcopy.errors import UsageError
from partcopy.scale.shard import LogSetup, ShardSpec, require_distributed, run_shard, shard_path

__all__ = [
    "SCHEDULER_TIMEOUT_S",
    "connect_scheduler",
    "local_client",
    "require_distributed",
    "run_bulk",
    "shard_specs",
]

log = logging.getLogger(__name__)


SCHEDULER_TIMEOUT_S = 10.0
"""How long joining a Dask scheduler may take, its handshake included."""


def connect_scheduler(address: str, *, timeout: float = SCHEDULER_TIMEOUT_S) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, or a ``UsageError`` naming
    it within about ``timeout`` seconds. ``distributed`` waits for the handshake without a
    deadline, so a service there that accepts the connection and never answers (or answers
    something else) is probed first, under the deadline."""
    distributed = require_distributed()
    why = f"cannot reach the Dask scheduler {address!r}"
    local = address.startswith("inproc://")  # this process's own scheduler: no probe
    try:
        if not local:
            distributed.comm.get_address_host_port(address)  # parsed, not resolved
    except ValueError as exc:
        raise UsageError(f"{why}: {exc}") from None

    async def probe() -> None:
        comm = await distributed.comm.connect(address, timeout=timeout)
        comm.abort()

    try:
        if not local:
            asyncio.run(asyncio.wait_for(probe(), timeout))
    except TimeoutError:
        raise UsageError(f"{why}: no Dask scheduler answered within {timeout:g} s") from None
    except OSError as exc:
        raise UsageError(f"{why}: {exc}") from None
    except Exception as exc:  # a service that is not Dask: its bytes fail to decode
        raise UsageError(f"{why}: it did not answer as Dask ({type(exc).__name__})") from None
    try:
        return distributed.Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"{why}: {exc}") from None


@contextmanager
def local_client(workers: int, *, processes: bool = True) -> Iterator[Any]:
    """A ``distributed.Client`` on a new ``LocalCluster`` of ``workers`` single-threaded
    workers on loopback (``processes=False``: threads of this process, no sockets)."""
    if isinstance(workers, bool) or workers < 1:
        raise UsageError(f"invalid number of Dask workers {workers!r}: must be at least 1")
    distributed = require_distributed()
    network: dict[str, Any] = {"host": "127.0.0.1"} if processes else {}
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address=None,
        silence_logs=40,
        **network,
    )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def shard_specs(
    manifest: str,
    count: int,
    *,
    options: BulkOptions,
    settings: CopierSettings,
    journal: str | None,
    report: str | None,
    log_level: str = "warning",
    log_setup: LogSetup | None = None,
    stop: str | None = None,
) -> list[ShardSpec]:
    """The ``count`` shard specs of a run, each with its share of the budgets."""
    shard_options = replace(
        options,
        concurrency=max(1, options.concurrency // count),
        job_concurrency=options.job_concurrency or settings.concurrency,
    )
    shard_settings = replace(settings, concurrency=max(1, settings.concurrency // count))
    return [
        ShardSpec(
            manifest=manifest,
            index=k,
            count=count,
            options=shard_options,
            settings=shard_settings,
            journal=None if journal is None else shard_path(journal, k),
            report=None if report is None else shard_path(report, k),
            log_level=log_level,
            log_setup=log_setup,
            stop=stop,
        )
        for k in range(count)
    ]


def _merge_reports(report: str, shards: list[ShardSpec]) -> None:
    """Concatenate the shard reports into ``report`` (streamed) and remove them."""
    with open_report(report) as out:
        for spec in shards:
            assert spec.report is not None
            with open(spec.report, encoding="utf-8") as part:
                shutil.copyfileobj(part, out)
    for spec in shards:
        assert spec.report is not None
        os.unlink(spec.report)


STOP_WAIT_S = 60.0
"""How long a stopped run waits for its shards to abort their uploads and return."""


def _stop_shards(client: Any, name: str, futures: list[Any]) -> None:
    """Tell the running shards to stop (their copies abort their open uploads) and wait,
    at most ``STOP_WAIT_S``, for them to return; a shard still running then is named."""
    distributed = require_distributed()
    event = distributed.Event(name, client=client)
    event.set()
    try:
        distributed.wait(futures, timeout=STOP_WAIT_S)
    except TimeoutError:
        running = [f.key for f in futures if not f.done()]
        log.warning("Dask shards still running after %gs: %s", STOP_WAIT_S, ", ".join(running))
    finally:
        event.clear()


def run_bulk(
    client: Any,
    manifest: str | os.PathLike[str],
    *,
    options: BulkOptions | None = None,
    settings: CopierSettings | None = None,
    journal: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    shards: int | None = None,
    log_level: str = "warning",
    log_setup: LogSetup | None = None,
) -> BulkSummary:
    """Run a bulk copy on the Dask cluster of ``client``; returns the merged summary.

    ``shards`` defaults to the number of workers; shard ``k`` keeps its journal in
    ``JOURNAL.shardK``, so rerun with the same number of shards to resume. Bad files are a
    ``UsageError`` before any task is sent, and so is a ``settings.proxy`` with a password
    (the settings travel in the task graph; the workers' ``HTTPS_PROXY`` keeps it out).
    """
    options = options or BulkOptions()
    settings = settings or CopierSettings()
    if settings.proxy is not None and urlsplit(settings.proxy).password:
        # The settings travel in the task graph: a password would be in it as plain text.
        raise UsageError(
            f"a proxy URL with a password ({shown_url(settings.proxy)}) is not sent to Dask "
            "workers: set HTTPS_PROXY in the workers' environment instead"
        )
    manifest = os.path.abspath(os.fspath(manifest))
    check_manifest(manifest)
    workers = sorted(client.scheduler_info()["workers"])
    count = shards if shards is not None else max(1, len(workers))
    if isinstance(count, bool) or count < 1:
        raise UsageError(f"invalid number of shards {count!r}: must be at least 1")
    journal_path = None if journal is None else os.path.abspath(os.fspath(journal))
    report_path = None if report is None else os.path.abspath(os.fspath(report))
    token = uuid.uuid4().hex[:8]
    stop_name = f"partcopy-bulk-{token}-stop"
    specs = shard_specs(
        manifest,
        count,
        options=options,
        settings=settings,
        journal=journal_path,
        report=report_path,
        log_level=log_level,
        log_setup=log_setup,
        stop=stop_name,
    )
    for spec in specs:  # every journal shard must open before any request is sent
        if spec.journal is not None:
            BulkLedger(spec.journal).close()
    if report_path is not None:
        open_report(report_path).close()
    started = time.monotonic()
    futures = [
        client.submit(
            run_shard,
            spec,
            key=f"partcopy-bulk-{token}-shard{spec.index}",
            pure=False,
            retries=0,
            workers=[workers[spec.index % len(workers)]] if workers else None,
            allow_other_workers=True,
        )
        for spec in specs
    ]
    try:
        summaries: list[BulkSummary] = client.gather(futures)
    except BaseException:  # Ctrl-C, SIGTERM, a failed shard: no shard keeps copying
        _stop_shards(client, stop_name, futures)
        raise
    if report_path is not None:
        _merge_reports(report_path, specs)
    total = BulkSummary()
    for summary in summaries:
        total = total.merged(summary)
    return total.with_seconds(time.monotonic() - started)
