"""The bulk runner: copy every object of a manifest through one shared ``Copier``.

The manifest is streamed through a fixed number of worker tasks pulling from one
iterator, so memory is O(concurrency) whatever the manifest's length: no task, coroutine
or result exists for an object before a worker takes it, and outcomes are written to the
report (and counted into the summary) as they finish. One ``Copier`` serves every object,
so the per-endpoint concurrency budget is shared by all of them; the engine decides per
object between a single copy, a multipart copy and a relay. With a ledger (``--journal``)
finished objects are recorded, and skipped when the run is repeated.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel

from partcopy.config import check_endpoint_url
from partcopy.engine.copier import Copier
from partcopy.engine.events import Event, PartRetried
from partcopy.engine.fidelity import FidelityOptions
from partcopy.engine.job import Mode, check_choices
from partcopy.engine.journal import Journal
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
    open_report,
)
from partcopy.engine.result import CopyResult
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import ConfigError, PartcopyError, UsageError
from partcopy.logs import get_logger

__all__ = [
    "BulkOptions",
    "BulkRun",
    "CopierSettings",
    "bulk_copy",
    "check_manifest",
    "run_bulk",
]

_log = get_logger("partcopy.bulk")
_YIELD_EVERY = 256
"""A worker that only skips lines (ledger hits, bad lines) yields to the loop this often."""


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
    profile: str | None = None
    """Destination limits profile for every object (default: each destination's dialect)."""
    fidelity: FidelityOptions = field(default_factory=FidelityOptions)
    """Tags, encryption, checksum proof, layout and content checks for every object."""

    def __post_init__(self) -> None:
        for value in (self.concurrency, self.job_concurrency):
            if value is not None and (isinstance(value, bool) or value < 1):
                raise UsageError(f"invalid concurrency {value!r}: must be at least 1")
        check_choices(self.part_size, self.mode, self.profile)


@dataclass(frozen=True, slots=True)
class CopierSettings:
    """How a bulk run builds its ``Copier``: endpoints, regions, budget, attempts.

    Holds no secret, so it can be shipped to Dask workers: credentials always come from
    the environment (or the named AWS profiles) of the process that copies.
    """

    endpoint_url: str | None = None
    dst_endpoint_url: str | None = None
    region: str | None = None
    dst_region: str | None = None
    concurrency: int = 64
    """Requests in flight per endpoint, shared by every object of the run."""
    max_attempts: int = 10
    adaptive: bool = True
    """Lower the budget while a store throttles (False: keep it fixed)."""
    verify_tls: bool = True
    profile: str | None = None
    src_profile: str | None = None
    dst_profile: str | None = None
    addressing_style: str | None = None
    proxy: str | None = field(default=None, repr=False)  # its URL may carry a password
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.concurrency, bool) or self.concurrency < 1:
            raise UsageError(f"invalid concurrency {self.concurrency!r}: must be at least 1")
        for what, url in (
            ("endpoint URL", self.endpoint_url),
            ("destination endpoint URL", self.dst_endpoint_url),
        ):
            if url is not None:
                check_endpoint_url(url, what=what)

    def copier(self, journal: Journal | None = None) -> Copier:
        """A new ``Copier`` with these settings (and ``journal`` for part-level resume)."""
        return Copier(
            concurrency=self.concurrency,
            endpoint_url=self.endpoint_url,
            dst_endpoint_url=self.dst_endpoint_url,
            region=self.region,
            dst_region=self.dst_region,
            retry=RetryPolicy(max_attempts=self.max_attempts),
            journal=journal,
            adaptive=self.adaptive,
            verify_tls=self.verify_tls,
            profile=self.profile,
            src_profile=self.src_profile,
            dst_profile=self.dst_profile,
            addressing_style=self.addressing_style,
            proxy=self.proxy,
            ca_bundle=self.ca_bundle,
        )


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
        copier: Copier,
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

        def count(event: Event) -> None:
            nonlocal retries
            if isinstance(event, PartRetried):
                retries += 1

        async def attempt(mode: Mode) -> CopyResult:
            return await self.copier.copy(
                src,
                dst,
                part_size=self.options.part_size,
                concurrency=self.options.job_concurrency,
                mode=mode,
                profile=self.options.profile,
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
    copier: Copier,
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


async def bulk_copy(
    manifest: str | os.PathLike[str],
    *,
    options: BulkOptions | None = None,
    settings: CopierSettings | None = None,
    journal: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] = (0, 1),
    on_outcome: Callable[[ObjectOutcome], None] | None = None,
) -> BulkSummary:
    """A whole bulk run from files: the manifest, a journal to resume with, a report.

    Opens (and closes) the ledger, the report and a ``Copier`` built from ``settings``.
    Unusable files are a ``UsageError`` before any request.
    """
    settings = settings or CopierSettings()
    check_manifest(manifest)
    ledger = BulkLedger(journal) if journal is not None else None
    stream = None
    try:
        stream = open_report(report) if report is not None else None
        async with settings.copier(ledger.journal if ledger is not None else None) as copier:
            return await run_bulk(
                manifest,
                copier,
                options=options,
                report=ReportWriter(stream),
                ledger=ledger,
                shard=shard,
                on_outcome=on_outcome,
            )
    finally:
        if stream is not None:
            stream.close()
        if ledger is not None:
            ledger.close()
