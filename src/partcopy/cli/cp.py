"""``partcopy cp``: arguments, progress bar and JSON summary around ``Copier.copy``.

Bad input (URLs, sizes, credentials) is reported as one line on stderr with exit status 2
before any request; a copy that fails after its retries exits 1, with ``--json`` saying
whether the upload was aborted or left open (``error.upload_id``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import anyio

from partcopy.cli.common import (
    add_copier_flags,
    check_copier_flags,
    copier_settings,
    fail_usage,
    path_arg,
    print_json,
    warn_insecure,
)
from partcopy.cli.fidelity import FidelityArgs, add_fidelity_flags, fidelity_from_args
from partcopy.cli.interrupts import interrupt_exit_status, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.cli.prefixflags import add_prefix_flags
from partcopy.engine.copier import Copier
from partcopy.engine.events import (
    Aborting,
    Event,
    Failed,
    PartCompleted,
    PartRetried,
    Planned,
)
from partcopy.engine.job import Mode
from partcopy.engine.relay import copy_or_relay
from partcopy.engine.result import CopyResult, failure_dict
from partcopy.errors import PartcopyError, PlanError, UsageError
from partcopy.urls import Location, parse_url

__all__ = ["add_cp"]


def add_cp(sub: Any) -> None:
    """Register ``cp`` on the CLI's subparsers."""
    p = sub.add_parser("cp", help="copy one object, verified, server-side where possible")
    p.add_argument("source", metavar="SRC", help="s3://, obs://, cos:// or qs:// URL")
    p.add_argument("destination", metavar="DST", help="destination URL")
    add_copier_flags(
        p,
        many=False,
        concurrency_help="requests in flight per endpoint (default 64)",
        provider_help="the destination's store, a row of 'partcopy providers' (limits, ETag "
        "rules, quirks): e.g. minio, obs2 for OBS 2.0 (default: the URL scheme's row)",
    )
    p.add_argument(
        "--journal",
        type=path_arg("journal"),
        metavar="PATH",
        help="record the copy in this SQLite journal: the same command again, or "
        "'partcopy resume --journal PATH', resumes it after a crash or Ctrl-C",
    )
    p.add_argument(
        "--restart-on-change",
        action="store_true",
        help="with --journal: start over when the source changed since the journaled run",
    )
    p.add_argument(
        "--recursive",
        action="store_true",
        help="SRC and DST are prefixes: copy every object under SRC to the same relative "
        "key under DST",
    )
    add_prefix_flags(p, sync=False)
    add_fidelity_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object when done")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_cp, sync=False)


_PREFIX_ONLY = ("filters", "dry_run", "max_objects", "workers", "report", "dask_local", "dask")


def _refuse_prefix_flags(args: argparse.Namespace) -> None:
    """A prefix-copy flag on a one-object cp is a mistake, not something to ignore."""
    for name in _PREFIX_ONLY:
        if getattr(args, name):
            flag = "--include/--exclude" if name == "filters" else "--" + name.replace("_", "-")
            raise UsageError(f"{flag} needs --recursive (SRC and DST as prefixes)")


class _Tally:
    """What the events said so far: enough for a failure summary and the progress bar."""

    def __init__(self) -> None:
        self.planned: Planned | None = None
        self.bytes_done = 0
        self.parts_done = 0
        self.retries = 0
        self.copier: Copier | None = None
        self.failed: Failed | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, PartCompleted):
            self.bytes_done += event.size
            self.parts_done += 1
        elif isinstance(event, PartRetried):
            self.retries += 1
        elif isinstance(event, Planned):
            self.planned = event
        elif isinstance(event, Failed):
            self.failed = event
        elif isinstance(event, Aborting) and event.cancelled:
            # At once: the abort may wait for its answer up to the cleanup bound.
            sys.stderr.write(
                f"partcopy: interrupted; aborting the upload {event.upload_id} of "
                f"{event.destination} (waiting up to {event.timeout:g}s for the store); "
                "Ctrl-C again stops waiting and leaves it open\n"
            )
            sys.stderr.flush()


class _Bar:
    """A rich progress bar fed by events: bytes, parts, rate and retries. On stderr, the
    terminal it is shown for: stdout carries only the JSON, perhaps into a file."""

    def __init__(self, tally: _Tally) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.tally = tally
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TextColumn("parts {task.fields[parts]}"),
            TextColumn("retries {task.fields[retries]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task("copy", total=None, parts="0/?", retries=0)
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        self.tally(event)
        planned = self.tally.planned
        if isinstance(event, Planned):
            self.progress.update(self.task, total=event.size, description=event.mode)
        now = time.monotonic()
        if now - self._last < 0.1 and not isinstance(event, Planned):
            return
        self._last = now
        total = planned.part_count if planned else "?"
        self.progress.update(
            self.task,
            completed=self.tally.bytes_done,
            parts=f"{self.tally.parts_done}/{total}",
            retries=self.tally.retries,
        )

    def finish(self, size: int | None) -> None:
        planned = self.tally.planned
        if size is not None:
            self.progress.update(self.task, completed=size)
        parts = f"{self.tally.parts_done}/{planned.part_count}" if planned else "?"
        self.progress.update(self.task, retries=self.tally.retries, parts=parts)


async def _copy(
    args: argparse.Namespace, on_event: Any, tally: _Tally, fidelity: FidelityArgs
) -> CopyResult:
    settings = copier_settings(args)  # the same copier flags as bulk and prefix runs
    async with settings.copier(
        args.journal, on_event=on_event, restart_on_change=args.restart_on_change
    ) as copier:
        tally.copier = copier  # its concurrency summary goes into a failure's JSON

        async def attempt(mode: Mode) -> CopyResult:
            # Validates URLs, sizes and credentials before any request; with --journal it
            # resumes an unfinished run of the same copy (engine/resume.py).
            return await copier.copy(
                args.source,
                args.destination,
                part_size=args.part_size,
                concurrency=args.concurrency,
                mode=mode,
                provider=args.provider,
                source_sse_c=fidelity.source_sse_c,
                destination_sse_c=fidelity.destination_sse_c,
                fidelity=fidelity.options,
            )

        # In auto mode a server-side copy the store refuses (unsupported, another zone) is
        # done again as a relay (engine/relay.py).
        return await copy_or_relay(attempt, args.mode)


def into_folder(source: str, destination: str) -> str:
    """The destination of one object, as aws-cli reads it: one that ends with ``/``, or
    names only a bucket, is a folder, and the source's name goes under it
    (``s3://b/one`` into ``s3://b/fold/`` is ``s3://b/fold/one``). Anything else, or a
    source whose URL is bad (its own error comes later), is the destination as given."""
    scheme, sep, rest = destination.partition("://")
    bucket, _, key = rest.partition("/")
    if not sep or (key and not key.endswith("/")):
        return destination
    try:
        name = parse_url(source).key.rsplit("/", 1)[-1]
    except UsageError:
        return destination
    return Location(scheme, bucket, key + name).url if name else destination


def run_cp(args: argparse.Namespace) -> int:
    """The ``cp`` handler: exit 0 done, 1 failed after retries, 2 bad input."""
    if args.restart_on_change and args.journal is None:  # it would be silently ignored
        return fail_usage(
            UsageError(
                "--restart-on-change needs --journal PATH: it restarts a journaled copy "
                "whose source changed"
            )
        )
    if args.recursive:
        from partcopy.cli.prefix import run_prefix_command  # the prefix machinery, only here

        return run_prefix_command(args)
    args.destination = into_folder(args.source, args.destination)
    try:
        configure_logging(args.log_level)
        _refuse_prefix_flags(args)
        check_copier_flags(args)
        fidelity = fidelity_from_args(args)
    except UsageError as exc:
        return fail_usage(exc)
    warn_insecure(args)
    tally = _Tally()
    bar = _Bar(tally) if not (args.json or args.quiet) and sys.stderr.isatty() else None
    started = time.monotonic()
    try:
        with sigterm_as_sigint():
            if bar is not None:
                with bar.progress:
                    result = anyio.run(_copy, args, bar, tally, fidelity)
                    bar.finish(result.bytes)
            else:
                result = anyio.run(_copy, args, tally, tally, fidelity)
    except (UsageError, PlanError) as exc:  # a layout the destination cannot take: exit 2
        return fail_usage(exc)
    except PartcopyError as exc:
        _report_failure(args, exc, tally, time.monotonic() - started)
        return 1
    except KeyboardInterrupt:
        _report_interrupt(args, tally, time.monotonic() - started)
        return interrupt_exit_status()
    if args.json:
        print_json(result.as_dict())
    elif not args.quiet:
        for change in tally.planned.changed if tally.planned else ():
            sys.stderr.write(f"partcopy: note: {change}\n")
        sys.stderr.write(
            f"copied {result.source} -> {result.destination}: {result.bytes} bytes, "
            f"{result.parts} part(s), mode {result.mode}, etag {result.etag}, "
            f"verified by {result.verification}, "
            f"{result.retries} retries, {result.seconds:.2f}s\n"
        )
    return 0


def _report_interrupt(args: argparse.Namespace, tally: _Tally, seconds: float) -> None:
    """Say truthfully what an interrupt left: the job's own ``Failed`` event names an
    upload that is kept (journal) or that could not be aborted."""
    failed = tally.failed
    upload_id = failed.upload_id if failed is not None else None
    if args.journal is not None and upload_id is not None:
        from partcopy.engine.resume import resume_hint  # loads the journal's machinery

        why = resume_hint(args.journal)
    elif failed is not None:
        why = failed.message.removeprefix("interrupted; ")
    else:
        why = "no upload was started"
    planned = tally.planned
    if args.json:  # --json still ends with exactly one object
        print_json(
            failure_dict(
                KeyboardInterrupt(f"interrupted; {why}"),
                source=args.source,
                destination=args.destination,
                mode=planned.mode if planned else None,
                size=planned.size if planned else None,
                parts=planned.part_count if planned else None,
                part_size=planned.part_size if planned else None,
                retries=tally.retries,
                seconds=seconds,
                upload_id=upload_id,
            )
        )
    sys.stderr.write(f"partcopy: interrupted; {why}\n")


def _report_failure(
    args: argparse.Namespace, exc: PartcopyError, tally: _Tally, seconds: float
) -> None:
    planned = tally.planned
    if args.json:
        print_json(
            failure_dict(
                exc,
                source=args.source,
                destination=args.destination,
                mode=planned.mode if planned else None,
                size=planned.size if planned else None,
                parts=planned.part_count if planned else None,
                part_size=planned.part_size if planned else None,
                retries=tally.retries,
                seconds=seconds,
                concurrency=tally.copier.concurrency_summary() if tally.copier else None,
            )
        )
    upload_id = getattr(exc, "upload_id", None)
    kept = f" (upload {upload_id} left open)" if upload_id else ""
    sys.stderr.write(f"partcopy: copy failed: {type(exc).__name__}: {exc}{kept}\n")
