"""``partcopy cp --recursive`` and ``partcopy sync``: prefix copies from listings.

Bad input (URLs, globs, overlapping prefixes, ``--delete`` without sync, sizes, endpoints)
is one line on stderr with exit status 2 before any request. Exit 0 when every selected
object was copied (or found the same) and every deletion made; 1 otherwise (the report
says which). ``--json`` prints the bulk summary plus ``listed``, ``skipped_same`` and
``deleted``; a dry run prints what it would copy and delete, and sends no write. A run
that a listing error stops (after finishing the work already queued) exits 1 with that
summary of what it did, status ``"failed"`` and the ``"error"``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import IO, Any

import anyio

from partcopy.cli.bulk import run_dask
from partcopy.cli.common import (
    add_copier_flags,
    check_copier_flags,
    copier_settings,
    fail_usage,
    interrupted,
    path_arg,
    print_json,
    report_summary,
    summary_line,
    warn_insecure,
)
from partcopy.cli.fidelity import prefix_fidelity
from partcopy.cli.interrupts import AbortNotice, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.cli.prefixflags import FilterAction, add_filter_flags, add_prefix_flags
from partcopy.engine.bulk import BulkOptions, CopierSettings
from partcopy.engine.filters import KeyFilter
from partcopy.engine.ledger import BulkLedger
from partcopy.engine.orphans import PrefixLocation
from partcopy.engine.prefixcopy import CopyPool, PrefixOptions, as_directory, run_prefix
from partcopy.engine.report import BulkSummary, ObjectOutcome, ReportWriter, open_report
from partcopy.errors import PartcopyError, UsageError
from partcopy.transports.base import ListedObject

__all__ = ["FilterAction", "add_filter_flags", "add_prefix_flags", "add_sync", "run_prefix_command"]


def add_sync(sub: Any) -> None:
    """Register ``sync`` on the CLI's subparsers."""
    p = sub.add_parser("sync", help="copy only what is missing or differs under a prefix")
    p.add_argument("source", metavar="SRC_PREFIX", help="s3://bucket/prefix/ (or obs, cos, qs)")
    p.add_argument("destination", metavar="DST_PREFIX", help="destination prefix URL")
    add_copier_flags(
        p,
        many=True,
        concurrency_help="requests in flight per endpoint (default 64)",
        provider_help="the destination's store, a row of 'partcopy providers' (limits, ETag "
        "rules, quirks; default: the URL scheme's row)",
    )
    p.add_argument(
        "--journal",
        type=path_arg("journal"),
        metavar="PATH",
        help="SQLite journal: a rerun skips finished objects",
    )
    add_prefix_flags(p, sync=True)
    p.add_argument("--json", action="store_true", help="print one JSON summary when done")
    p.add_argument("--quiet", action="store_true", help="no progress or summary line")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_prefix_command, sync=True)


class _Progress:
    """A live line on a terminal: objects and bytes done of those listed so far, rate,
    failures. Updated at most ten times a second."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        # On stderr: stdout carries the JSON summary or the dry-run lines.
        self.progress = Progress(
            TextColumn("{task.description}"), TimeElapsedColumn(), console=Console(stderr=True)
        )
        self.task = self.progress.add_task("listing", total=None)
        self.listed = self.listed_bytes = self.done = self.done_bytes = self.failed = 0
        self.started = time.monotonic()
        self._last = 0.0

    def listed_one(self, entry: ListedObject) -> None:
        self.listed += 1
        self.listed_bytes += entry.size
        self._refresh()

    def outcome(self, outcome: ObjectOutcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
        elif outcome.status in ("ok", "skipped"):
            self.done += 1
            self.done_bytes += outcome.bytes
        self._refresh()

    def _refresh(self) -> None:
        from partcopy.units import format_size

        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        rate = self.done_bytes / max(now - self.started, 1e-9)
        self.progress.update(
            self.task,
            description=f"{self.done}/{self.listed} objects, {format_size(self.done_bytes)}"
            f"/{format_size(self.listed_bytes)} listed so far, {format_size(int(rate))}/s, "
            f"{self.failed} failed",
        )


class _Stopped(Exception):
    """A run that a listing error stopped, with the summary of what it did until then."""

    def __init__(self, error: PartcopyError, summary: BulkSummary) -> None:
        super().__init__(str(error))
        self.error = error
        self.summary = summary


async def _summarised(run: Awaitable[BulkSummary], report: ReportWriter) -> BulkSummary:
    """``run``'s summary; if it fails (not on bad input), ``_Stopped`` with the counts
    ``report`` holds by then: what was copied, skipped and deleted before the failure."""
    started = time.monotonic()
    try:
        return await run
    except UsageError:
        raise
    except PartcopyError as exc:
        raise _Stopped(exc, report.summary(time.monotonic() - started)) from exc


def _failed(args: argparse.Namespace, exc: PartcopyError, summary: BulkSummary) -> int:
    """A run that stopped on ``exc``: the summary of what was done, with status "failed"
    and the error (exactly one JSON object with ``--json``), and one line saying why."""
    doc = summary.as_dict() | {
        "status": "failed",
        "error": {"type": type(exc).__name__, "message": str(exc)},
    }
    if args.json:
        print_json(doc)
    elif not args.quiet:
        sys.stderr.write(summary_line(summary) + "\n")
    what = "sync" if args.sync else "copy"
    sys.stderr.write(f"partcopy: {what} failed: {type(exc).__name__}: {exc}\n")
    return 1


def _dry_run_line(outcome: ObjectOutcome) -> None:
    if outcome.status == "would_copy":
        sys.stdout.write(f"(dry run) copy {outcome.src} -> {outcome.dst}\n")
    elif outcome.status == "would_delete":
        sys.stdout.write(f"(dry run) delete {outcome.dst}\n")


def _workers(args: argparse.Namespace) -> int:
    """Worker processes asked for (``--workers``, ``--dask-local``); 1: this process."""
    from partcopy.scale.workers import check_workers

    asked = args.workers if args.workers is not None else args.dask_local
    return 1 if asked is None else check_workers(asked, args.concurrency)


def _pool(
    args: argparse.Namespace,
    bulk: BulkOptions,
    settings: CopierSettings,
    options: PrefixOptions,
    notice: AbortNotice | None = None,
) -> CopyPool | None:
    """Worker processes for the copies, when asked for (never for a dry run)."""
    workers = _workers(args)
    if workers == 1 or options.dry_run:
        return None
    from partcopy.scale.workers import ProcessPool

    def pool(finish: Callable[[ObjectOutcome], None]) -> ProcessPool:
        return ProcessPool(
            workers,
            bulk,
            settings,
            finish,
            log_level=args.log_level,
            log_setup=configure_logging,
            on_event=notice,
        )

    return pool


def _check(args: argparse.Namespace) -> tuple[PrefixLocation, PrefixLocation, PrefixOptions]:
    """Everything that can be wrong with the arguments, before any request."""
    check_copier_flags(args)
    _workers(args)
    source, destination = as_directory(args.source), as_directory(args.destination)
    options = PrefixOptions(
        keys=KeyFilter.of(args.filters),
        compare=getattr(args, "compare", "mtime"),
        delete=getattr(args, "delete", False),
        dry_run=args.dry_run,
        max_objects=args.max_objects,
    )
    return source, destination, options


def run_prefix_command(args: argparse.Namespace) -> int:
    """The ``sync`` and ``cp --recursive`` handler: exit 0 done, 1 something failed, 2 usage."""
    try:
        configure_logging(args.log_level)
        source, destination, options = _check(args)
    except UsageError as exc:
        return fail_usage(exc)
    warn_insecure(args)
    bar = None if args.json or args.quiet or not sys.stderr.isatty() else _Progress()
    notice = AbortNotice()  # on Ctrl-C: once, that the open uploads are being aborted
    try:
        with sigterm_as_sigint():  # `kill PID` aborts (or, journaled, keeps) as Ctrl-C does
            if args.dask is not None and not options.dry_run:
                summary = _run_dask(args, source, destination, options)
            elif bar is not None:
                with bar.progress:
                    summary = anyio.run(_run, args, source, destination, options, bar, notice)
            else:
                summary = anyio.run(_run, args, source, destination, options, None, notice)
    except UsageError as exc:
        return fail_usage(exc)
    except _Stopped as stopped:
        return _failed(args, stopped.error, stopped.summary)
    except PartcopyError as exc:
        return _failed(args, exc, BulkSummary())
    except KeyboardInterrupt:
        return interrupted(args, notice)
    return report_summary(args, summary)


def _settings(args: argparse.Namespace) -> tuple[CopierSettings, BulkOptions]:
    settings = copier_settings(args)
    bulk = BulkOptions(
        concurrency=args.concurrency,
        part_size=args.part_size,
        mode=args.mode,
        provider=args.provider,
        fidelity=prefix_fidelity(args),
    )
    return settings, bulk


async def _run(
    args: argparse.Namespace,
    source: PrefixLocation,
    destination: PrefixLocation,
    options: PrefixOptions,
    bar: _Progress | None,
    notice: AbortNotice | None = None,
) -> BulkSummary:
    settings, bulk = _settings(args)
    printing = options.dry_run and not (args.json or args.quiet)

    def on_outcome(outcome: ObjectOutcome) -> None:
        if printing:
            _dry_run_line(outcome)
        if bar is not None:
            bar.outcome(outcome)

    ledger = BulkLedger(args.journal) if args.journal is not None else None
    stream = None
    try:
        stream = open_report(args.report) if args.report is not None else None
        report = ReportWriter(stream)
        async with settings.copier(
            ledger.journal if ledger is not None else None,
            on_event=notice,
            restart_on_change=getattr(args, "restart_on_change", False),  # cp --recursive
        ) as copier:
            run = run_prefix(
                copier,
                source,
                destination,
                sync=args.sync,
                options=options,
                bulk=bulk,
                report=report,
                ledger=ledger,
                on_outcome=on_outcome,
                on_listed=bar.listed_one if bar is not None else None,
                copy_pool=_pool(args, bulk, settings, options, notice),
            )
            return await _summarised(run, report)
    finally:
        if stream is not None:
            stream.close()
        if ledger is not None:
            ledger.close()


async def _spool(
    args: argparse.Namespace,
    source: PrefixLocation,
    destination: PrefixLocation,
    options: PrefixOptions,
    manifest: IO[str],
    report: IO[str] | None,
) -> BulkSummary:
    """List (and delete) here; write the copies to ``manifest`` for the Dask workers."""
    settings, bulk = _settings(args)
    writer = ReportWriter(report)
    async with settings.copier() as copier:
        run = run_prefix(
            copier,
            source,
            destination,
            sync=args.sync,
            options=options,
            bulk=bulk,
            report=writer,
            manifest=manifest,
        )
        return await _summarised(run, writer)


def _run_dask(
    args: argparse.Namespace,
    source: PrefixLocation,
    destination: PrefixLocation,
    options: PrefixOptions,
) -> BulkSummary:
    """The listing and deletions in this process, the copies on Dask: the listing becomes a
    manifest (with size and ETag) next to the report or journal, removed afterwards."""
    started = time.monotonic()
    where = os.path.dirname(os.path.abspath(args.report or args.journal or "x")) or None
    settings, bulk = _settings(args)
    with (
        tempfile.NamedTemporaryFile(
            "w+", suffix=".jsonl", prefix=".partcopy-listing-", dir=where, encoding="utf-8"
        ) as manifest,
        tempfile.TemporaryFile("w+", encoding="utf-8") as deletions,
    ):
        report = deletions if args.report is not None else None
        local = anyio.run(_spool, args, source, destination, options, manifest, report)
        manifest.flush()
        copied = BulkSummary()
        if manifest.tell() > 0:
            copied = run_dask(args, manifest.name, bulk, settings)
        if args.report is not None:  # the deletions join the merged shard reports
            deletions.seek(0)
            mode = "a" if manifest.tell() > 0 else "w"
            with open(args.report, mode, encoding="utf-8") as out:
                shutil.copyfileobj(deletions, out)
    return copied.merged(local).with_seconds(time.monotonic() - started)
