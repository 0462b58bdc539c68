"""The bulk runner: copy every object of a manifest through one shared copier.

The manifest is streamed through a fixed number of worker tasks pulling from one
iterator, so memory is O(concurrency) whatever the manifest's length: no task, coroutine
or result exists for an object before a worker takes it, and outcomes are written to the
report (and counted into the summary) as they finish. One ``Copier`` serves every object,
so the per-endpoint concurrency budget is shared by all of them; the engine decides per
object between a single copy, a multipart copy and a relay. With a ledger (``--journal``)
finished objects are recorded, and skipped when the run is repeated.

The runner takes its copier as an ``ObjectCopier`` (what it calls, not the class), so this
module never imports ``engine.copier``: ``Copier.copy_prefix`` runs prefix copies through
it without an import cycle. ``engine.bulk`` builds the ``Copier`` a whole run uses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, cast

import anyio
import anyio.lowlevel

from partcopy.engine.events import Event, EventCallback, PartRetried
from partcopy.engine.fidelity import FidelityOptions
from partcopy.engine.job import Mode, check_choices
from partcopy.engine.ledger import BulkLedger, FinishedObject
from partcopy.engine.manifest import (
    ManifestEntry,
    ManifestFormat,
    ManifestItem,
    ManifestProblem,
    check_regular,
    read_manifest,
)
from partcopy.engine.relay import copy_or_relay
from partcopy.engine.report import (
    BulkSummary,
    ErrorInfo,
    ObjectOutcome,
    ReportWriter,
)
from partcopy.engine.result import CopyResult
from partcopy.errors import ConfigError, PartcopyError, UsageError
from partcopy.logs import get_logger
from partcopy.transports.base import ListedObject
from partcopy.urls import Location

__all__ = ["BulkOptions", "BulkRun", "ObjectCopier", "check_manifest", "run_bulk"]

_log = get_logger("partcopy.bulk")
_YIELD_EVERY = 256
"""A worker that only skips lines (ledger hits, bad lines) yields to the loop this often."""


class ObjectCopier(Protocol):
    """What the bulk runner needs of a copier (``engine.copier.Copier`` is one)."""

    async def copy(
        self,
        source: str | Location,
        destination: str | Location,
        *,
        part_size: int | None = ...,
        concurrency: int | None = ...,
        mode: Mode = ...,
        provider: str | None = ...,
        on_event: EventCallback | None = ...,
        source_facts: ListedObject | None = ...,
        fidelity: FidelityOptions | None = ...,
    ) -> CopyResult:
        """Copy one object and verify it (``Copier.copy``)."""
        ...


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """How a bulk run copies: objects in flight, part size and mode for every object.

    ``concurrency`` is the number of objects in flight; the per-endpoint request budget is
    the ``Copier``'s own ``concurrency``.
    """

    concurrency: int = 64
    part_size: int | None = None
    mode: Mode = "auto"
    manifest_format: ManifestFormat | None = None
    job_concurrency: int | None = None
    """Part workers of one object (and the planner's wave size); default: the Copier's.
    Dask shards keep the undivided value so every object gets the same plan."""
    provider: str | None = None
    """Destination provider row for every object (default: each destination dialect's row)."""
    fidelity: FidelityOptions = field(default_factory=FidelityOptions)
    """Tags, encryption, checksum proof, layout and content checks for every object."""

    def __post_init__(self) -> None:
        for value in (self.concurrency, self.job_concurrency):
            if value is not None and (isinstance(value, bool) or value < 1):
                raise UsageError(f"invalid concurrency {value!r}: must be at least 1")
        check_choices(self.part_size, self.mode, self.provider)


def check_manifest(path: str | os.PathLike[str]) -> None:
    """``ConfigError`` naming the manifest unless it is a readable file (before any request)."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise ConfigError(f"cannot read manifest {name!r}: it is a directory")
    check_regular(name)  # /dev/zero or a FIFO would never end
    try:
        with open(name, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {name!r}: {exc.strerror}") from None


class BulkRun:
    """One bulk run's state: the shared iterator, the report and the ledger."""

    def __init__(
        self,
        items: Iterator[ManifestItem],
        copier: ObjectCopier,
        options: BulkOptions,
        report: ReportWriter,
        ledger: BulkLedger | None,
        on_outcome: Callable[[ObjectOutcome], None] | None,
    ) -> None:
        self.items = items
        self.copier = copier
        self.options = options
        self.report = report
        self.ledger = ledger
        self.on_outcome = on_outcome

    def finish(self, outcome: ObjectOutcome) -> None:
        """Record (ledger first, so a reported object is a recorded one) and report."""
        if self.ledger is not None and outcome.status == "ok":
            assert outcome.src is not None and outcome.dst is not None
            self.ledger.record(
                FinishedObject(
                    outcome.src,
                    outcome.dst,
                    outcome.bytes,
                    outcome.parts,
                    outcome.etag,
                    outcome.mode,
                    outcome.source_etag,
                )
            )
        self.report.write(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def without_copy(self, item: ManifestItem) -> ObjectOutcome | None:
        """The outcome of a line that needs no copy (bad, or finished before), else None."""
        if isinstance(item, ManifestProblem):
            return ObjectOutcome(
                item.line,
                None,
                None,
                "invalid",
                error=ErrorInfo("ManifestError", f"line {item.line}: {item.reason}"),
            )
        if self.ledger is None:
            return None
        done = self.ledger.finished(item.src, item.dst)
        if done is None:
            return None
        if item.facts is not None and not done.same_source(item.facts.size, item.facts.etag):
            # The source changed since it was copied (or the record cannot tell): skipping
            # it would leave the old object at the destination and call the run complete.
            return None
        return ObjectOutcome(
            item.line,
            item.src,
            item.dst,
            "skipped",
            done.bytes,
            done.parts,
            done.etag,
            0,
            done.mode,
        )

    async def copy(self, entry: ManifestEntry) -> ObjectOutcome:
        """Copy one object; a failure is an outcome, never an exception."""
        retries = 0
        src, dst = entry.locations or (entry.src, entry.dst)
        # A copy's own callback replaces the Copier's: hand it every event still.
        forward = cast("EventCallback | None", getattr(self.copier, "on_event", None))

        def count(event: Event) -> None:
            nonlocal retries
            if isinstance(event, PartRetried):
                retries += 1
            if forward is not None:
                forward(event)

        async def attempt(mode: Mode) -> CopyResult:
            return await self.copier.copy(
                src,
                dst,
                part_size=self.options.part_size,
                concurrency=self.options.job_concurrency,
                mode=mode,
                provider=self.options.provider,
                on_event=count,
                source_facts=entry.facts,
                fidelity=self.options.fidelity,
            )

        try:
            result = await copy_or_relay(attempt, self.options.mode)
        except PartcopyError as exc:
            _log.warning("object failed", line=entry.line, src=entry.src, error=type(exc).__name__)
            return ObjectOutcome(
                entry.line, entry.src, entry.dst, "failed", retries=retries, error=ErrorInfo.of(exc)
            )
        return ObjectOutcome(
            entry.line,
            entry.src,
            entry.dst,
            "ok",
            result.bytes,
            result.parts,
            result.etag,
            result.retries,
            result.mode,
            source_etag=result.source_etag or (entry.facts.etag if entry.facts else None),
        )

    async def process(self, item: ManifestItem) -> bool:
        """Copy, skip or report one item; True when it sent requests (a real copy)."""
        outcome = self.without_copy(item)
        copied = outcome is None
        if outcome is None:
            assert isinstance(item, ManifestEntry)
            outcome = await self.copy(item)
        self.finish(outcome)
        return copied

    async def worker(self) -> None:
        # Every worker pulls from the one shared iterator: next() never awaits, so no two
        # workers ever take the same line.
        quiet = 0
        for item in self.items:
            if await self.process(item):
                quiet = 0
            else:
                quiet += 1
                if quiet % _YIELD_EVERY == 0:
                    await anyio.lowlevel.checkpoint()


async def run_bulk(
    manifest: str | os.PathLike[str],
    copier: ObjectCopier,
    *,
    options: BulkOptions | None = None,
    report: ReportWriter | None = None,
    ledger: BulkLedger | None = None,
    shard: tuple[int, int] = (0, 1),
    on_outcome: Callable[[ObjectOutcome], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> BulkSummary:
    """Copy every object of ``manifest`` (or of its ``shard=(k, n)``) with ``copier``.

    Each line's outcome goes to ``report`` (and ``on_outcome``) as it finishes; returns the
    summary. A bad line or a failed object never stops the run; ``ledger`` skips objects a
    previous run finished and records the ones this run finishes.
    """
    options = options or BulkOptions()
    check_manifest(manifest)
    writer = report or ReportWriter()
    items = read_manifest(manifest, fmt=options.manifest_format, shard=shard)
    run = BulkRun(items, copier, options, writer, ledger, on_outcome)
    started = clock()
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(options.concurrency):
                tg.start_soon(run.worker)
    finally:
        items.close()
    summary = writer.summary(clock() - started)
    _log.info("bulk run finished", **summary.as_dict())
    return summary
