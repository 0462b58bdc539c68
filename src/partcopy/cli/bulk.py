"""``partcopy bulk``: arguments, progress and the summary around the bulk runner.

Bad input (a manifest that cannot be read, journal, report, endpoints, sizes) is one line on
stderr with exit status 2 before any request. A malformed manifest line is no such error:
the manifest is read once, as the run goes, so a bad line is that line's failure, named on
stderr (``partcopy: manifest line N: why``, the first 20 by line number, then how many more)
and in the report. Exit 0 when every line was copied or skipped as finished; 1 when an
object failed or a manifest line was malformed.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from partcopy.cli.common import (
    add_copier_flags,
    check_copier_flags,
    copier_settings,
    fail_usage,
    failed_json,
    interrupted,
    path_arg,
    report_summary,
    warn_insecure,
)
from partcopy.cli.interrupts import AbortNotice, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.cli.prefixflags import add_workers_flags
from partcopy.engine.bulk import BulkOptions, CopierSettings, bulk_copy, check_manifest
from partcopy.engine.report import BulkSummary, ObjectOutcome, read_report
from partcopy.errors import PartcopyError, UsageError

__all__ = ["add_bulk", "run_bulk_command", "run_dask"]


def add_bulk(sub: Any) -> None:
    """Register ``bulk`` on the CLI's subparsers."""
    p = sub.add_parser("bulk", help="copy every object of a manifest (JSON lines or CSV)")
    p.add_argument(
        "manifest",
        metavar="MANIFEST",
        help='JSON lines {"src": URL, "dst": URL} or CSV src,dst (by extension or content); '
        'lines may add the source\'s "size" and "etag" (CSV src,dst,size,etag): one request '
        "per small object",
    )
    add_copier_flags(
        p,
        many=True,
        concurrency_help="requests in flight per endpoint and objects in flight (default 64), "
        "divided among the worker processes",
        provider_help="every destination's store, a row of 'partcopy providers' (limits, ETag "
        "rules, quirks; default: each URL scheme's row)",
    )
    p.add_argument(
        "--journal",
        type=path_arg("journal"),
        metavar="PATH",
        help="SQLite journal: a rerun skips finished objects",
    )
    p.add_argument(
        "--report", metavar="PATH", help="write one JSON line per manifest line to this file"
    )
    add_workers_flags(
        p,
        "worker processes on this machine, each with 1/N of the budget "
        "(default: one per core, at most --concurrency, one for under 2,000 lines; "
        "1: this process only)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON summary when done")
    p.add_argument("--quiet", action="store_true", help="no progress or summary line")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_bulk_command)


class _Progress:
    """A live line of objects done on a terminal (nothing is buffered per object), on
    stderr: the terminal it is shown for (stdout may be a file)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.counts = {"ok": 0, "skipped": 0, "failed": 0}
        self.task = self.progress.add_task(self._text(), total=None)

    @property
    def done(self) -> int:
        """Objects finished so far, whatever their outcome."""
        return sum(self.counts.values())

    def _text(self) -> str:
        c = self.counts
        return f"{self.done} objects: {c['ok']} ok, {c['skipped']} skipped, {c['failed']} failed"

    def __call__(self, outcome: ObjectOutcome) -> None:
        key = "failed" if outcome.status in ("failed", "invalid") else outcome.status
        self.counts[key] += 1
        if self.done % 50 == 0:
            self.progress.update(self.task, description=self._text())


class _InvalidLines:
    """The malformed manifest lines of a run: the first ``SHOWN`` by line number with why,
    and how many there were (bounded memory, however many lines are bad)."""

    SHOWN = 20

    def __init__(self, then: Callable[[ObjectOutcome], None] | None = None) -> None:
        self.then = then
        self.first: list[tuple[int, str]] = []
        self.count = 0

    def __call__(self, outcome: ObjectOutcome) -> None:
        if outcome.status == "invalid":
            self.add(outcome)
        if self.then is not None:
            self.then(outcome)

    def add(self, outcome: ObjectOutcome) -> None:
        self.count += 1
        why = outcome.error.message if outcome.error is not None else f"line {outcome.line}"
        if len(self.first) < self.SHOWN or outcome.line < self.first[-1][0]:
            bisect.insort(self.first, (outcome.line, why))
            del self.first[self.SHOWN :]

    def read_report(self, path: str) -> None:
        """Take the invalid lines from a finished run's report (a Dask run's outcomes
        never pass through this process)."""
        with open(path, encoding="utf-8") as fh:
            for outcome in read_report(fh):
                if outcome.status == "invalid":
                    self.add(outcome)

    def write(self, out: TextIO, invalid: int) -> None:
        """One stderr line per line shown, one for the rest (``invalid`` in all)."""
        for _, why in self.first:
            out.write(f"partcopy: manifest {why}\n")
        more = invalid - len(self.first)
        if more > 0 and self.first:
            out.write(f"partcopy: {more} more malformed manifest line(s) (--report lists all)\n")
        elif more > 0:  # a Dask run without a report: its outcomes stayed on the workers
            out.write(f"partcopy: {more} malformed manifest line(s) (--report lists them)\n")


def _settings(args: argparse.Namespace) -> tuple[BulkOptions, CopierSettings]:
    check_copier_flags(args)
    options = BulkOptions(
        concurrency=args.concurrency,
        part_size=args.part_size,
        mode=args.mode,
        provider=args.provider,
    )
    settings = copier_settings(args)
    return options, settings


def run_dask(
    args: argparse.Namespace, manifest: str, options: BulkOptions, settings: CopierSettings
) -> BulkSummary:
    """Run ``manifest`` on the Dask cluster the arguments name (``--dask-local N`` or
    ``--dask ADDRESS``), with ``--journal`` and ``--report`` (also used by prefix copies)."""
    from partcopy.scale import local_client, run_bulk
    from partcopy.scale.executor import connect_scheduler

    common: dict[str, Any] = {
        "options": options,
        "settings": settings,
        "journal": args.journal,
        "report": args.report,
        "log_level": args.log_level,
        "log_setup": configure_logging,
    }
    if args.dask_local is not None:
        # Workers as threads of this process: on the 2-core machines this is tuned for, one
        # process's event loops keep up with the I/O and spawning interpreters costs seconds
        # and CPU (measured: ~330 vs ~240 objects/s). Use --dask for process workers.
        with local_client(args.dask_local, processes=False) as client:
            return run_bulk(client, manifest, **common)
    with connect_scheduler(args.dask) as client:
        return run_bulk(client, manifest, **common)


def run_bulk_command(args: argparse.Namespace) -> int:
    """The ``bulk`` handler: exit 0 all done, 1 some object failed or line was bad, 2 usage."""
    try:
        configure_logging(args.log_level)
        options, settings = _settings(args)
        check_manifest(args.manifest)
        workers = _workers(args)
    except UsageError as exc:
        return fail_usage(exc)
    warn_insecure(args)
    bar = None if args.json or args.quiet or not sys.stderr.isatty() else _Progress()
    invalid = _InvalidLines(bar)
    notice = AbortNotice()  # on Ctrl-C: once, that the open uploads are being aborted
    try:
        with sigterm_as_sigint():  # `kill PID` aborts (or, journaled, keeps) as Ctrl-C does
            if args.dask is not None:
                summary = run_dask(args, args.manifest, options, settings)
                if summary.invalid and args.report is not None:
                    invalid.read_report(args.report)
            elif bar is not None:
                with bar.progress:
                    summary = anyio.run(_local, args, options, settings, invalid, workers, notice)
            else:
                summary = anyio.run(_local, args, options, settings, invalid, workers, notice)
    except UsageError as exc:
        return fail_usage(exc)
    except PartcopyError as exc:
        if args.json:
            failed_json(type(exc).__name__, str(exc))
        sys.stderr.write(f"partcopy: bulk run failed: {type(exc).__name__}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return interrupted(args, notice)
    invalid.write(sys.stderr, summary.invalid)
    return report_summary(args, summary)


def _workers(args: argparse.Namespace) -> int:
    """Worker processes for this run: asked (``--workers``, ``--dask-local``) or one per core."""
    from partcopy.scale.workers import check_workers, default_workers

    asked = args.workers if args.workers is not None else args.dask_local
    if asked is None:
        return default_workers(args.concurrency, args.manifest)
    return check_workers(asked, args.concurrency)


async def _local(
    args: argparse.Namespace,
    options: BulkOptions,
    settings: CopierSettings,
    on_outcome: Callable[[ObjectOutcome], None],
    workers: int,
    notice: AbortNotice | None = None,
) -> BulkSummary:
    if workers > 1:
        from partcopy.scale.workers import run_bulk_workers

        return await run_bulk_workers(
            args.manifest,
            workers,
            options=options,
            settings=settings,
            journal=args.journal,
            report=args.report,
            on_outcome=on_outcome,
            log_level=args.log_level,
            log_setup=configure_logging,
            on_event=notice,
        )
    return await bulk_copy(
        args.manifest,
        options=options,
        settings=settings,
        journal=args.journal,
        report=args.report,
        on_outcome=on_outcome,
        on_event=notice,
    )
