"""Prefix copies and syncs: listings turned into work for the bulk runner's workers.

The source prefix (and for a sync the destination prefix) is listed as a stream and
planned by :mod:`partcopy.engine.syncplan`; each copy goes to a fixed set of workers
through a bounded channel, so memory is one listing page per side plus the objects in
flight, whatever the number of keys. Copies reuse the bulk runner (journal, report,
summary) with the listing's size and ETag as source facts; deletions are retried requests
of their own. A dry run sends no write: it reports what it would copy and delete.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import IO, Literal, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from partcopy.engine.bulkrun import BulkOptions, BulkRun, ObjectCopier
from partcopy.engine.events import guarded
from partcopy.engine.filters import KeyFilter
from partcopy.engine.ledger import BulkLedger
from partcopy.engine.listing import PAGE_SIZE, ListedPrefix
from partcopy.engine.manifest import ManifestEntry
from partcopy.engine.orphans import PrefixLocation, parse_prefix_url
from partcopy.engine.report import BulkSummary, ErrorInfo, ObjectOutcome, ReportWriter
from partcopy.engine.syncplan import (
    Action,
    CompareMode,
    CopyAction,
    DeleteAction,
    SameAction,
    plan_copy,
    plan_sync,
)
from partcopy.errors import NotFound, PartcopyError, UsageError
from partcopy.logs import get_logger
from partcopy.transports.base import ListedObject
from partcopy.urls import Location, parse_url

__all__ = [
    "CopyPool",
    "PrefixCopier",
    "PrefixOptions",
    "Sender",
    "as_directory",
    "check_prefixes",
    "run_prefix",
]

_log = get_logger("partcopy.prefix")


@dataclass(frozen=True, slots=True)
class PrefixOptions:
    """What a prefix copy or sync selects and how a sync decides."""

    keys: KeyFilter = field(default_factory=KeyFilter)
    compare: CompareMode = "mtime"
    delete: bool = False
    """Sync only: delete destination keys the source does not have."""
    dry_run: bool = False
    max_objects: int | None = None
    page_size: int = PAGE_SIZE
    """Keys per listing request (every dialect allows at most 1000)."""

    def __post_init__(self) -> None:
        if self.compare not in ("size", "etag", "mtime"):
            raise UsageError(f"invalid compare mode {self.compare!r}: expected size, etag or mtime")
        if self.max_objects is not None and (
            isinstance(self.max_objects, bool) or self.max_objects < 1
        ):
            raise UsageError(f"invalid max objects {self.max_objects!r}: must be at least 1")
        if not 1 <= self.page_size <= PAGE_SIZE:
            raise UsageError(f"invalid page size {self.page_size!r}: must be 1 to {PAGE_SIZE}")


def as_directory(location: str | PrefixLocation) -> PrefixLocation:
    """The prefix as a directory (``s3://b/photos`` means ``photos/``), as aws-cli does.

    An empty prefix is the whole bucket; a prefix with a version id is no prefix.
    """
    loc = location if isinstance(location, PrefixLocation) else parse_prefix_url(location)
    if loc.prefix and not loc.prefix.endswith("/"):
        loc = PrefixLocation(loc.scheme, loc.bucket, loc.prefix + "/")
    return loc


def check_prefixes(
    source: PrefixLocation, destination: PrefixLocation, *, same_store: bool = True
) -> None:
    """Refuse (``UsageError``) a destination inside the source or the other way round:
    the copy would list and copy its own output. On two endpoints that may still be one
    store (a name and its address, say), the same overlap is a logged warning."""
    if (source.scheme, source.bucket) != (destination.scheme, destination.bucket):
        return
    if not (
        source.prefix.startswith(destination.prefix) or destination.prefix.startswith(source.prefix)
    ):
        return
    if same_store:
        raise UsageError(
            f"invalid destination {destination.url!r}: it overlaps the source "
            f"{source.url!r} in the same bucket, so the copy would copy its own output"
        )
    _log.warning(
        "overlapping prefixes on two endpoints: if they are one store, the copy copies its "
        "own output",
        source=source.url,
        destination=destination.url,
    )


def _manifest_line(src: str, dst: str, facts: ListedObject) -> str:
    """A bulk manifest line carrying the listing's facts (they spare the source HEAD)."""
    doc: dict[str, object] = {"src": src, "dst": dst}
    if facts.etag:
        doc.update(size=facts.size, etag=facts.etag)
    return json.dumps(doc) + "\n"


class PrefixCopier(ObjectCopier, Protocol):
    """What a prefix run needs of its copier (``engine.copier.Copier`` is one); given as a
    value, so this module never imports the copier that runs it."""

    def same_store(self, source: str | Location, destination: str | Location) -> bool:
        """Whether both locations reach one store (no request)."""
        ...

    def list_objects(
        self,
        prefix: str | PrefixLocation,
        *,
        recursive: bool = ...,
        role: Literal["source", "destination"] = ...,
        ordered: bool = ...,
        page_size: int = ...,
    ) -> AsyncIterator[ListedObject | ListedPrefix]:
        """The objects under ``prefix``, paged, as they come."""
        ...

    async def delete(
        self, location: str | Location, *, role: Literal["source", "destination"] = ...
    ) -> None:
        """Delete one object (retried)."""
        ...


class Sender(Protocol):
    """Where copies go instead of this process's workers (``scale.workers.ProcessPool``)."""

    async def send(self, entry: ManifestEntry) -> None: ...

    async def receive(self) -> None:
        """Hand the outcomes that came back to ``finish`` now."""
        ...


CopyPool = Callable[[Callable[[ObjectOutcome], None]], AbstractAsyncContextManager[Sender]]
"""Opens a pool that sends each outcome to the given ``finish``; leaving it waits for all."""


class _PrefixRun:
    """One prefix copy or sync: the bulk run it feeds and its own counts."""

    def __init__(
        self,
        copier: PrefixCopier,
        source: PrefixLocation,
        destination: PrefixLocation,
        options: PrefixOptions,
        run: BulkRun,
        report: ReportWriter,
        on_listed: Callable[[ListedObject], None] | None,
        manifest: IO[str] | None = None,
    ) -> None:
        self.copier = copier
        self.source = source
        self.destination = destination
        self.options = options
        self.run = run
        self.report = report
        self.on_listed = on_listed
        self.manifest = manifest
        self.line = 0

    # Listed keys are carried as Locations, never re-parsed from URL text: a key may hold
    # a tab, which no URL carries.
    def src_loc(self, relative: str) -> Location:
        return Location(self.source.scheme, self.source.bucket, self.source.prefix + relative)

    def dst_loc(self, relative: str) -> Location:
        d = self.destination
        return Location(d.scheme, d.bucket, d.prefix + relative)

    def actions(self, sync: bool) -> AsyncIterator[Action]:
        opts = self.options
        listing = self.copier.list_objects(self.source, ordered=sync, page_size=opts.page_size)
        if not sync:
            return plan_copy(listing, self.source.prefix, opts.keys, max_objects=opts.max_objects)
        target = self.copier.list_objects(
            self.destination, role="destination", ordered=True, page_size=opts.page_size
        )
        return plan_sync(
            listing,
            self.source.prefix,
            target,
            self.destination.prefix,
            opts.keys,
            compare=opts.compare,
            delete=opts.delete,
            max_objects=opts.max_objects,
        )

    def work(self, action: Action) -> ManifestEntry | DeleteAction | None:
        """Count ``action``; the work a worker must do for it (None: nothing to send)."""
        if not action.relative and not self.destination.prefix:
            # The source prefix's own folder marker ("photos/") has no name in a bucket
            # root: it is passed over, as aws-cli does, and not counted as a failure.
            return None
        if not isinstance(action, DeleteAction):
            self.line += 1
            self.report.listed += 1
            if self.on_listed is not None:
                self.on_listed(action.source)
        if isinstance(action, SameAction):
            self.report.skipped_same += 1
            return None
        if isinstance(action, CopyAction):
            src_loc, dst_loc = self.src_loc(action.relative), self.dst_loc(action.relative)
            src, dst = src_loc.url, dst_loc.url
            if self.options.dry_run:
                outcome = ObjectOutcome(self.line, src, dst, "would_copy", action.source.size)
                self.run.finish(outcome)
                return None
            if self.manifest is not None:
                self._to_manifest(self.manifest, src_loc, dst_loc, action.source)
                return None
            return ManifestEntry(self.line, src, dst, action.source, (src_loc, dst_loc))
        if self.options.dry_run:
            url = self.dst_loc(action.relative).url
            self.run.finish(ObjectOutcome(0, None, url, "would_delete", action.target.size))
            return None
        return action

    def _to_manifest(
        self, manifest: IO[str], src: Location, dst: Location, facts: ListedObject
    ) -> None:
        """Write the copy as a manifest line, if its URLs read back as these keys."""
        for loc in (src, dst):
            try:
                same = parse_url(loc.url) == loc
            except UsageError:
                same = False
            if not same:
                error = ErrorInfo(
                    "UsageError",
                    f"the key {loc.key!r} cannot travel in a manifest URL (it holds a control "
                    "character): copy it without --dask",
                )
                self.run.finish(ObjectOutcome(self.line, src.url, dst.url, "failed", error=error))
                return
        manifest.write(_manifest_line(src.url, dst.url, facts))

    async def delete(self, action: DeleteAction) -> None:
        loc = self.dst_loc(action.relative)
        url = loc.url
        try:
            await self.copier.delete(loc)
        except NotFound:
            pass  # gone already: what the delete was for
        except PartcopyError as exc:
            self._delete_failed(url, exc)
            return
        self.run.finish(ObjectOutcome(0, None, url, "deleted", action.target.size, mode="delete"))

    def _delete_failed(self, url: str, exc: PartcopyError) -> None:
        _log.warning("delete failed", dst=url, error=type(exc).__name__)
        error = ErrorInfo.of(exc)
        self.run.finish(ObjectOutcome(0, None, url, "failed", mode="delete", error=error))

    async def worker(self, items: MemoryObjectReceiveStream[ManifestEntry | DeleteAction]) -> None:
        async with items:
            async for item in items:
                if isinstance(item, DeleteAction):
                    await self.delete(item)
                else:
                    await self.run.process(item)


async def run_prefix(
    copier: PrefixCopier,
    source: str | PrefixLocation,
    destination: str | PrefixLocation,
    *,
    sync: bool = False,
    options: PrefixOptions | None = None,
    bulk: BulkOptions | None = None,
    report: ReportWriter | None = None,
    ledger: BulkLedger | None = None,
    on_outcome: Callable[[ObjectOutcome], None] | None = None,
    on_listed: Callable[[ListedObject], None] | None = None,
    manifest: IO[str] | None = None,
    copy_pool: CopyPool | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> BulkSummary:
    """Copy every selected object under ``source`` to ``destination`` (``sync``: only
    what is missing or differs, and with ``options.delete`` remove the extras).

    Prefixes are directories (``as_directory``); overlapping prefixes in one bucket are
    refused before any request. Returns the bulk summary with ``listed``,
    ``skipped_same`` and ``deleted`` filled in. With ``manifest``, the copies are written
    there as bulk manifest lines (with the listing's size and ETag) instead of being made:
    how a Dask run hands them to its workers; deletions are still made here. With
    ``copy_pool`` the copies go to that pool (worker processes) as they are listed.
    A listing that fails raises its error once the queued work is done; ``report`` then
    holds the counts of what was done (``report.summary(seconds)``).
    """
    options = options or PrefixOptions()
    bulk = bulk or BulkOptions()
    if options.delete and not sync:
        raise UsageError(
            "delete (--delete) needs sync: a recursive copy (copy_prefix) never deletes"
        )
    src, dst = as_directory(source), as_directory(destination)
    same = copier.same_store(
        Location(src.scheme, src.bucket, src.prefix), Location(dst.scheme, dst.bucket, dst.prefix)
    )
    check_prefixes(src, dst, same_store=same)
    writer = report or ReportWriter()
    # The caller's callbacks observe the run: a bug in one is logged, never the run's end.
    outcome = guarded(on_outcome, "on_outcome")
    run = BulkRun(iter(()), copier, bulk, writer, ledger, outcome)
    job = _PrefixRun(
        copier, src, dst, options, run, writer, guarded(on_listed, "on_listed"), manifest
    )
    started = clock()
    send, receive = anyio.create_memory_object_stream[ManifestEntry | DeleteAction](
        bulk.concurrency
    )
    failure: PartcopyError | None = None
    async with AsyncExitStack() as stack:
        pool = await stack.enter_async_context(copy_pool(run.finish)) if copy_pool else None
        async with anyio.create_task_group() as tg:
            async with receive:
                for _ in range(bulk.concurrency):
                    tg.start_soon(job.worker, receive.clone())
            async with send:
                try:
                    async for action in job.actions(sync):
                        item = job.work(action)
                        if pool is not None and isinstance(item, ManifestEntry):
                            # The ledger is read here, where it lives: a worker never sees it.
                            done = run.without_copy(item)
                            if done is None:
                                await pool.send(item)
                            else:
                                run.finish(done)
                        elif item is not None:
                            await send.send(item)
                        elif pool is not None and job.line % 256 == 0:
                            await pool.receive()  # outcomes flow back while nothing is sent
                except PartcopyError as exc:
                    # A listing failed: what is queued still finishes (and is reported),
                    # then the run fails with the listing's own error, not a group of one.
                    failure = exc
    if failure is not None:
        _log.warning("listing failed", error=type(failure).__name__, listed=writer.listed)
        raise failure
    summary = writer.summary(clock() - started)
    _log.info("prefix run finished", sync=sync, **summary.as_dict())
    return summary
