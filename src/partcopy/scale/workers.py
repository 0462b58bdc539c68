"""All cores of one machine: bulk work copied by N worker processes, fed by one reader.

The parent reads the manifest (or a listing), skips what the ledger says is finished and
sends the rest to the workers in small batches through one bounded queue; each worker
runs its own event loop and ``Copier`` with 1/N of the per-endpoint budget and sends its
outcomes back in batches. The parent is the only writer of the ledger and the report, so
a run's journal, report and summary are the same as one process's, and a rerun skips
finished objects whatever the number of workers. Memory is O(concurrency) per process:
the queue holds at most two batches per worker and a worker holds one batch plus the
objects in flight. Standard library ``multiprocessing`` only (spawned processes, so each
starts clean and reads the environment, credentials included, as it is now).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing import connection
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream

from partcopy import process
from partcopy.engine.bulk import BulkOptions, BulkRun, CopierSettings, check_manifest
from partcopy.engine.events import Aborting, Event, EventCallback, Failed
from partcopy.engine.ledger import BulkLedger
from partcopy.engine.manifest import ManifestEntry, ManifestItem, read_manifest
from partcopy.engine.report import BulkSummary, ErrorInfo, ObjectOutcome, ReportWriter, open_report
from partcopy.errors import PartcopyError, UsageError
from partcopy.logs import get_logger
from partcopy.scale.shard import LogSetup

__all__ = [
    "MAX_WORKERS_PER_CORE",
    "MIN_LINES_FOR_WORKERS",
    "ProcessPool",
    "WorkerSpec",
    "check_workers",
    "cores",
    "default_workers",
    "run_bulk_workers",
]

MAX_WORKERS_PER_CORE = 4
"""More processes than this many per core only add start-up time and memory."""
MIN_LINES_FOR_WORKERS = 2_000
"""Below this many manifest lines a run stays in one process unless told otherwise."""
_POLL = 0.2
"""How often a blocked queue wait looks up from it (parent alive? worker dead?)."""
_STOP_GRACE = 60.0
"""How long stopped workers get to abort their uploads before they are terminated."""
_FLUSH_GRACE = 0.5
"""Seconds a stopped run still reads its workers before it kills them (a second Ctrl-C)."""
_CLEANUP = 60.0
"""How long the uploads of one object a dead worker held may take to be found and aborted."""
_PR_SET_PDEATHSIG = 1
_log = get_logger("partcopy.workers")


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_workers(concurrency: int, manifest: str | os.PathLike[str] | None = None) -> int:
    """One worker per core, but never more workers than requests in flight, and one
    process alone for a manifest of fewer than ``MIN_LINES_FOR_WORKERS`` lines (starting
    an interpreter costs more than such a run gains)."""
    count = max(1, min(cores(), concurrency))
    if count > 1 and manifest is not None and _short(manifest):
        return 1
    return count


def _short(manifest: str | os.PathLike[str]) -> bool:
    """Whether the file has fewer than ``MIN_LINES_FOR_WORKERS`` lines (reads no further)."""
    try:
        with open(manifest, "rb") as fh:
            for lines, _ in enumerate(fh, 1):
                if lines >= MIN_LINES_FOR_WORKERS:
                    return False
    except OSError:
        return True  # reported by the run itself
    return True


def check_workers(workers: int, concurrency: int) -> int:
    """The worker count to use for ``workers`` asked (``UsageError`` beyond the machine's
    bound); capped by ``concurrency`` so that every worker has at least one request."""
    if isinstance(workers, bool) or workers < 1:
        raise UsageError(f"invalid number of workers {workers!r}: must be at least 1")
    bound = MAX_WORKERS_PER_CORE * cores()
    if workers > bound:
        raise UsageError(
            f"invalid number of workers {workers}: at most {bound} "
            f"({MAX_WORKERS_PER_CORE} per core on this machine's {cores()})"
        )
    return min(workers, concurrency)


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What one worker process needs. No secrets: credentials come from its environment."""

    index: int
    options: BulkOptions
    settings: CopierSettings
    log_level: str = "warning"
    log_setup: LogSetup | None = None


@dataclass(frozen=True, slots=True)
class _Said:
    """An event of a worker's copier that the parent reports: an ``Aborting`` and the
    ``Failed`` that says whether that abort happened."""

    index: int
    event: Event


@dataclass(frozen=True, slots=True)
class _Result:
    """The outcome of the object the parent numbered ``number``."""

    number: int
    outcome: ObjectOutcome


_Batch = list[tuple[int, ManifestEntry]]
"""Objects for one worker, each with the number the parent gave it."""


@dataclass(frozen=True, slots=True)
class _Done:
    """A worker's last message: it ended, cleanly or with ``error``."""

    index: int
    error: str | None = None


def _shares(count: int, options: BulkOptions, settings: CopierSettings) -> WorkerSpec:
    """A worker's share of the budgets (every object keeps the undivided plan)."""
    return WorkerSpec(
        index=0,
        options=replace(
            options,
            concurrency=max(1, options.concurrency // count),
            job_concurrency=options.job_concurrency or settings.concurrency,
        ),
        settings=replace(settings, concurrency=max(1, settings.concurrency // count)),
    )


# --- the worker process -----------------------------------------------------------------


def _next_batch(inbox: Connection, parent: int, stopped: threading.Event) -> _Batch | None:
    """The next batch, or None at the end, once stopped, or once the parent is gone."""
    while not stopped.is_set():
        try:
            if inbox.poll(_POLL):
                batch: _Batch | None = inbox.recv()
                return batch
        except (EOFError, OSError):  # the parent closed its end, or died
            return None
        if os.getppid() != parent:
            return None
    return None


class _Outbox:
    """A worker's messages to the parent, sent by a thread of their own over the worker's
    own pipe: a copy never waits for the parent, and no lock is shared with another worker
    (a worker killed mid-message leaves a torn message on its own pipe, nowhere else)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._send_all, name="partcopy-outbox", daemon=True)
        self._thread.start()

    def put(self, message: object) -> None:
        self._queue.put(message)

    def _send_all(self) -> None:
        while True:
            message = self._queue.get()
            if message is _CLOSE:
                return
            try:
                self._conn.send(message)
            except OSError:  # the parent is gone: nobody reads
                return

    def close(self) -> None:
        """Send what is queued, then close (the parent reads until the end)."""
        self._queue.put(_CLOSE)
        self._thread.join()
        self._conn.close()


_CLOSE = object()


class _Orphaned(Exception):
    """The parent died: stop copying (nobody would record the outcomes)."""


async def _watch_terminate(scope: anyio.CancelScope) -> None:
    """Cancel the worker's copies (each aborts its upload) when the parent sends SIGTERM."""
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


async def _serve(spec: WorkerSpec, inbox: Connection, outbox: _Outbox, parent: int) -> None:
    stopped = threading.Event()

    async def copy_all(
        run: BulkRun, entries: MemoryObjectReceiveStream[tuple[int, ManifestEntry]]
    ) -> None:
        async with entries:
            async for number, entry in entries:
                if os.getppid() != parent:
                    raise _Orphaned
                # Each outcome goes back at once: the parent journals it, and an object
                # finished here but not yet journaled there would be copied again on a rerun.
                outbox.put(_Result(number, await run.copy(entry)))

    async def work(run: BulkRun) -> None:
        send, receive = anyio.create_memory_object_stream[tuple[int, ManifestEntry]](
            spec.options.concurrency
        )
        async with anyio.create_task_group() as tg:
            for _ in range(spec.options.concurrency):
                tg.start_soon(copy_all, run, receive.clone())
            receive.close()
            async with send:
                while True:
                    batch = await anyio.to_thread.run_sync(
                        _next_batch, inbox, parent, stopped, abandon_on_cancel=True
                    )
                    if batch is None:
                        break
                    for entry in batch:
                        await send.send(entry)

    aborting: set[str] = set()

    def forward(event: Event) -> None:
        if isinstance(event, Aborting):
            aborting.add(event.job_id)
        elif not (isinstance(event, Failed) and event.job_id in aborting):
            return
        outbox.put(_Said(spec.index, event))

    try:
        async with spec.settings.copier(on_event=forward) as copier:
            run = BulkRun(iter(()), copier, spec.options, ReportWriter(), None, None)
            async with anyio.create_task_group() as outer:
                outer.start_soon(_watch_terminate, outer.cancel_scope)
                await work(run)
                outer.cancel_scope.cancel()  # done: stop watching for SIGTERM
    finally:
        stopped.set()


def _die_with(parent: int) -> None:
    """Have the kernel send SIGTERM here when the parent dies (Linux), so copies stop at
    once, as they would in one killed process; elsewhere the worker polls its parent."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: polling os.getppid() still stops it
        pass
    if os.getppid() != parent:  # died before the request was made
        os._exit(1)


def _worker_main(spec: WorkerSpec, inbox: Connection, sent: Connection, parent: int) -> None:
    """A worker process: copy batches until the end marker, then say it is done.

    Ctrl-C reaches the parent alone (a terminal signals the whole process group); the
    parent stops workers with SIGTERM, which cancels their copies cleanly.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    process.tune()  # a process of partcopy's own, tuned as the command's is
    if spec.log_setup is not None:
        spec.log_setup(spec.log_level)
    error: str | None = None
    outbox = _Outbox(sent)
    try:
        anyio.run(_serve, spec, inbox, outbox, parent)
    except BaseException as exc:  # reported to the parent, which fails the run
        error = f"{type(exc).__name__}: {exc}"
    outbox.put(_Done(spec.index, error))
    outbox.close()


# --- the parent ---------------------------------------------------------------------------


class ProcessPool:
    """``count`` worker processes copying ``ManifestEntry`` items sent with ``send``.

    Each outcome is handed to ``finish`` on the caller's event loop (so a ledger or report
    used there stays on one thread). Leaving the block waits for every outcome;
    cancellation stops the workers (their copies are aborted as a cancelled copy's are).
    ``on_event`` hears the workers' ``Aborting`` events and the ``Failed`` events that say
    how each of those aborts ended (one is made up here, upload left open, for an abort a
    stopped worker never finished).

    Each worker has a pipe of its own each way, fed and read by the parent alone, so a
    worker that dies (SIGKILL, out of memory) holds no lock another needs. The parent
    knows which objects each worker holds: when one dies, the objects it had not finished
    fail, named, after the uploads of their keys begun since they were sent are aborted
    (their ids died with it; the bulk ledger never resumes an upload, so none is kept), and
    the other workers copy the rest.
    """

    def __init__(
        self,
        count: int,
        options: BulkOptions,
        settings: CopierSettings,
        finish: Callable[[ObjectOutcome], None],
        *,
        log_level: str = "warning",
        log_setup: LogSetup | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        share = _shares(count, options, settings)
        self.count = count
        self.finish = finish
        self.on_event = on_event
        self._settings = settings
        self._provider = options.provider
        self._aborting: dict[str, tuple[int, Aborting]] = {}
        """The aborts a worker has begun and not yet said the end of, by job id."""
        self.batch_size = max(1, min(64, share.options.concurrency))
        context = multiprocessing.get_context("spawn")
        self._inboxes: list[Connection] = []
        self._outboxes: list[Connection] = []
        self._ends: list[tuple[Connection, Connection]] = []
        """The worker's ends of its pipes, closed here once it has started."""
        self._procs = []
        for k in range(count):
            inbox_r, inbox_w = context.Pipe(duplex=False)
            outbox_r, outbox_w = context.Pipe(duplex=False)
            self._inboxes.append(inbox_w)
            self._outboxes.append(outbox_r)
            self._ends.append((inbox_r, outbox_w))
            self._procs.append(
                context.Process(
                    target=_worker_main,
                    args=(
                        replace(share, index=k, log_level=log_level, log_setup=log_setup),
                        inbox_r,
                        outbox_w,
                        os.getpid(),
                    ),
                    name=f"partcopy-worker-{k}",
                    daemon=True,
                )
            )
        self._batch: _Batch = []
        self._numbers = itertools.count()
        self._held: list[dict[int, tuple[ManifestEntry, datetime]]] = [{} for _ in range(count)]
        """What each worker was sent and has not said the outcome of, by number."""
        self._open: set[int] = set(range(count))
        """Workers whose pipe to here is still open."""
        self._gone: set[int] = set()
        """Workers that ended and whose end was handled."""
        self._done: dict[int, str | None] = {}
        self._arrived: collections.deque[tuple[int, _Result | _Said | _Done]] = collections.deque()
        # One reader of the workers' pipes at a time: a Ctrl-C leaves the loop's waiting
        # thread in _collect while the stop reads (and closes) the same pipes.
        self._reading = threading.Lock()
        self.deaths: list[str] = []
        """What each worker that died left, in words."""

    async def __aenter__(self) -> ProcessPool:
        for proc, ends in zip(self._procs, self._ends, strict=True):
            proc.start()
            for end in ends:
                end.close()
        return self

    async def send(self, entry: ManifestEntry) -> None:
        """Queue one object for a worker (waits while every worker has enough)."""
        self._batch.append((next(self._numbers), entry))
        if len(self._batch) >= self.batch_size:
            batch, self._batch = self._batch, []
            await self._put(batch)
            await self._receive(wait=False)  # outcomes flow back while the reader reads

    async def _put(self, batch: _Batch) -> None:
        """Send ``batch`` to the least busy live worker holding at most two batches."""
        while True:
            await self._receive(wait=False)
            live = [k for k in range(self.count) if k not in self._gone]
            if not live:
                raise PartcopyError(
                    "every worker process died: " + "; ".join(self.deaths)
                    if self.deaths
                    else "every worker process ended"
                )
            k = min(live, key=lambda k: len(self._held[k]))
            if len(self._held[k]) <= 2 * self.batch_size:
                break
            await self._receive(wait=True)
        now = datetime.now(UTC)
        for number, entry in batch:
            self._held[k][number] = (entry, now)
        try:
            await anyio.to_thread.run_sync(self._inboxes[k].send, batch)
        except OSError:  # it died: what it holds fails when its end is handled
            await self._receive(wait=False)

    async def receive(self) -> None:
        """Hand outcomes that came back to ``finish`` now, without waiting."""
        await self._receive(wait=False)
        await anyio.lowlevel.checkpoint()

    async def _receive(self, *, wait: bool) -> None:
        """Hand the outcomes that came back to ``finish`` (waiting ``_POLL`` at most), and
        handle the end of every worker that ended."""
        if wait:
            await anyio.to_thread.run_sync(self._collect, _POLL)
        self._take_waiting()
        for k in range(self.count):
            if k not in self._gone and self._procs[k].exitcode is not None:
                self._drain(k)
                self._gone.add(k)
                await self._bury(k)

    def _collect(self, timeout: float) -> None:
        """Wait ``timeout`` at most for messages or a worker's end, and keep what came in
        ``_arrived``: a cancelled wait drops what its thread returns, and an outcome or
        abort dropped there would never be journaled or counted."""
        with self._reading:
            self._collect_once(timeout)

    def _collect_once(self, timeout: float) -> None:
        readers: list[Any] = [self._outboxes[k] for k in self._open]
        readers += [p.sentinel for k, p in enumerate(self._procs) if k not in self._gone]
        if not readers:
            return
        for ready in connection.wait(readers, timeout):
            if not isinstance(ready, Connection):
                continue
            k = self._outboxes.index(ready)
            while k in self._open:
                try:
                    if not ready.poll():
                        break
                    self._arrived.append((k, ready.recv()))
                except (EOFError, OSError):  # it ended (a torn last message is dropped)
                    self._open.discard(k)
                    ready.close()

    def _drain(self, k: int) -> None:
        """Everything worker ``k`` sent, now that it has ended (to the end of its pipe)."""
        with self._reading:
            self._drain_once(k)

    def _drain_once(self, k: int) -> None:
        conn = self._outboxes[k]
        while k in self._open:
            try:
                if not conn.poll(_POLL) and self._procs[k].exitcode is None:
                    return
                self._arrived.append((k, conn.recv()))
            except (EOFError, OSError):
                self._open.discard(k)
                conn.close()

    def _take(self, k: int, message: _Result | _Said | _Done) -> None:
        if isinstance(message, _Done):
            self._done[message.index] = message.error
        elif isinstance(message, _Said):
            event = message.event
            if isinstance(event, Aborting):
                self._aborting[event.job_id] = (message.index, event)
            elif isinstance(event, Failed):
                self._aborting.pop(event.job_id, None)
            if self.on_event is not None:
                self.on_event(event)
        elif self._held[k].pop(message.number, None) is not None:
            self.finish(message.outcome)

    async def _bury(self, k: int) -> None:
        """Worker ``k`` ended: fail what it held, after aborting the uploads it may have left."""
        self._take_waiting()
        held = self._held[k]
        if k in self._done and not held:
            return  # a clean end, or an error said in its _Done (raised at the end)
        status = self._procs[k].exitcode
        how = (
            f"killed by {signal.Signals(-status).name}"
            if status is not None and status < 0 and -status in signal.valid_signals()
            else f"exit status {status}"
        )
        aborted = left = 0
        unsure: list[str] = []
        if held:
            async with self._settings.copier() as copier:
                for entry, sent in held.values():
                    with anyio.move_on_after(_CLEANUP) as scope:
                        try:
                            done, failed = await copier.abort_uploads_since(
                                entry.locations[1] if entry.locations else entry.dst,
                                sent,
                                provider=self._provider,
                            )
                        except PartcopyError:
                            unsure.append(entry.dst)
                            continue
                        aborted += done
                        left += failed
                    if scope.cancelled_caught:
                        unsure.append(entry.dst)
        said = f"worker process {k} died ({how})"
        if held:
            said += (
                f" holding {len(held)} unfinished object(s): {aborted} open upload(s) of "
                f"theirs aborted"
            )
            if left or unsure:
                said += (
                    f", {left + len(unsure)} may be left open ('partcopy uploads list' shows them)"
                )
        self.deaths.append(said)
        _log.warning(said)
        for number in sorted(held):
            entry, _ = held.pop(number)
            self.finish(
                ObjectOutcome(
                    entry.line,
                    entry.src,
                    entry.dst,
                    "failed",
                    error=ErrorInfo("WorkerDied", f"not copied: {said}"),
                )
            )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                try:
                    await self._finish_all()
                except BaseException:
                    self._stop()
                    raise
            else:
                self._stop()
        finally:
            for conn in self._inboxes:
                conn.close()

    async def _finish_all(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            await self._put(batch)
        for k in range(self.count):
            if k not in self._gone:
                with contextlib.suppress(OSError):  # it died: handled below
                    await anyio.to_thread.run_sync(self._inboxes[k].send, None)
        while len(self._gone) < self.count:
            await self._receive(wait=True)
        for proc in self._procs:
            proc.join(_STOP_GRACE)
        failed = {k: error for k, error in self._done.items() if error is not None}
        if failed:
            k, error = next(iter(failed.items()))
            raise PartcopyError(f"worker process {k} failed: {error}")

    def _stop(self) -> None:
        """Stop every worker (each aborts its copies), then make sure all are gone.

        While they stop, what they send is taken as it comes (their outcomes journaled, their
        aborts reported): a worker whose pipe is not read cannot exit. A worker still
        running at the deadline, or when this wait is itself interrupted (a second Ctrl-C),
        is killed: none outlives the run."""
        for proc in self._procs:
            if proc.pid is not None and proc.exitcode is None:
                proc.terminate()  # SIGTERM: the worker cancels its copies
        deadline = time.monotonic() + _STOP_GRACE
        try:
            self._take_waiting()
            while self._running() and time.monotonic() < deadline:
                self._collect(max(0.0, min(_POLL, deadline - time.monotonic())))
                self._take_waiting()
            self._take_waiting()
        finally:
            with contextlib.suppress(KeyboardInterrupt):  # a third Ctrl-C: kill them now
                self._flush(_FLUSH_GRACE)
            self._kill_running()
            for k in list(self._open):
                self._drain(k)
            self._take_waiting()  # what they said before they were killed (small, whole writes)
            self._cut_short({k for k in range(self.count) if k not in self._done})

    def _flush(self, seconds: float) -> None:
        """Take what the running workers send for ``seconds`` before they are killed: each
        says which abort it begins just before the request, from a sender thread that may
        not have written it yet."""
        deadline = time.monotonic() + seconds
        while self._running() and time.monotonic() < deadline:
            self._collect(max(0.0, min(_POLL, deadline - time.monotonic())))
            self._take_waiting()

    def _running(self) -> list[int]:
        return [k for k, p in enumerate(self._procs) if p.pid is not None and p.exitcode is None]

    def _take_waiting(self) -> None:
        """Take every message that came back and nobody has taken yet, without waiting."""
        self._collect(0)
        while self._arrived:
            self._take(*self._arrived.popleft())

    def _kill_running(self) -> None:
        """SIGKILL the workers still running (and wait for each, 5 s at most)."""
        running = self._running()
        for k in running:
            self._procs[k].kill()
        for k in running:
            self._procs[k].join(5)

    def _cut_short(self, workers: set[int]) -> None:
        """Say that the aborts ``workers`` (killed, or dead) had begun may be left open."""
        for job_id, (k, begun) in list(self._aborting.items()):
            if k not in workers:
                continue
            del self._aborting[job_id]
            if self.on_event is not None:
                self.on_event(
                    Failed(
                        job_id,
                        "Cancelled",
                        f"the abort of upload {begun.upload_id} of {begun.destination} was "
                        f"cut short (worker process {k} stopped): it may be left open",
                        begun.upload_id,
                    )
                )


async def run_bulk_workers(
    manifest: str | os.PathLike[str],
    workers: int,
    *,
    options: BulkOptions | None = None,
    settings: CopierSettings | None = None,
    journal: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    on_outcome: Callable[[ObjectOutcome], None] | None = None,
    log_level: str = "warning",
    log_setup: LogSetup | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_event: EventCallback | None = None,
) -> BulkSummary:
    """``bulk_copy`` on ``workers`` processes: same ledger, report and summary
    (``on_event`` hears the workers' aborts, as ``ProcessPool`` says)."""
    options = options or BulkOptions()
    settings = settings or CopierSettings()
    check_manifest(manifest)
    ledger = BulkLedger(journal) if journal is not None else None
    stream = None
    items = read_manifest(manifest, fmt=options.manifest_format)
    try:
        stream = open_report(report) if report is not None else None
        writer = ReportWriter(stream)
        async with settings.copier() as unused:  # never sends: BulkRun's ledger and report
            run = BulkRun(iter(()), unused, options, writer, ledger, on_outcome)
            started = clock()
            async with ProcessPool(
                workers,
                options,
                settings,
                run.finish,
                log_level=log_level,
                log_setup=log_setup,
                on_event=on_event,
            ) as pool:
                await feed(pool, run, items)
        return writer.summary(clock() - started)
    finally:
        items.close()
        if stream is not None:
            stream.close()
        if ledger is not None:
            ledger.close()


async def feed(pool: ProcessPool, run: BulkRun, items: Iterable[ManifestItem]) -> None:
    """Send every item that needs a copy to ``pool``; report the others at once."""
    quiet = 0
    for item in items:
        outcome = run.without_copy(item)
        if outcome is None:
            assert isinstance(item, ManifestEntry)
            await pool.send(item)
            continue
        run.finish(outcome)
        quiet += 1
        if quiet % 256 == 0:
            await pool.receive()
