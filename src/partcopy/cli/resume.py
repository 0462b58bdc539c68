"""``partcopy resume``: arguments and output only.

``resume`` rebuilds every unfinished job of a journal from what the journal holds
(endpoints, mode, plan; credentials from the environment) and finishes it.
Exit status: 0 done; 1 a job failed, or was not resumed because another live process runs
it (the others still are; it is reported, named, with that process); 2 bad input, before
any request.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import anyio

from partcopy.cli.common import (
    add_identity_flags,
    check_identity_flags,
    fail_usage,
    identity_options,
    path_arg,
    print_json,
    warn_insecure,
)
from partcopy.cli.interrupts import interrupt_exit_status, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.engine.copier import Copier
from partcopy.engine.journal import JobRecord, Journal
from partcopy.engine.result import error_dict, failure_dict
from partcopy.engine.resume import ResumeOutcome, prepare_record, resume_hint, run_journaled
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import JobBusy, PartcopyError, UsageError

__all__ = ["add_resume", "run_resume"]


# --- resume ----------------------------------------------------------------------------


def add_resume(sub: Any) -> None:
    """Register ``resume`` on the CLI's subparsers."""
    p = sub.add_parser("resume", help="finish every unfinished copy recorded in a journal")
    p.add_argument(
        "--journal",
        required=True,
        type=path_arg("journal"),
        metavar="PATH",
        help="the journal file",
    )
    p.add_argument(
        "--restart-on-change",
        action="store_true",
        help="start a job over when its source changed (default: abort it, SourceChanged)",
    )
    p.add_argument(
        "--max-attempts",
        type=_positive("max attempts"),
        default=10,
        help="attempts per request before a job fails (default 10)",
    )
    # The journal keeps endpoints and regions, never who or how: a job started with a
    # profile, a proxy or a private CA is resumed with the same flags.
    add_identity_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object when done")
    p.add_argument("--quiet", action="store_true", help="no summary lines")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_resume)


def _positive(what: str) -> Callable[[str], int]:
    def convert(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: must be at least 1")
        return int(text)

    return convert


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _copier_for(record: JobRecord, journal: Journal, args: argparse.Namespace) -> Copier:
    o = record.options
    concurrency = o.get("concurrency")
    return Copier(
        concurrency=concurrency if isinstance(concurrency, int) and concurrency > 0 else 64,
        endpoint_url=_text(o.get("endpoint_url")),
        dst_endpoint_url=_text(o.get("dst_endpoint_url")),
        region=_text(o.get("region")),
        dst_region=_text(o.get("dst_region")),
        retry=RetryPolicy(max_attempts=args.max_attempts),
        journal=journal,
        restart_on_change=args.restart_on_change,
        **identity_options(args),
    )


async def _resume(args: argparse.Namespace, journal: Journal) -> list[ResumeOutcome]:
    copiers: list[Copier] = []
    try:
        # Every job is rebuilt (URLs, endpoints, credentials checked) before any request.
        prepared = []
        for record in journal.unfinished_jobs():
            copier = _copier_for(record, journal, args)
            copiers.append(copier)
            prepared.append((record, *prepare_record(copier, journal, record)))
        outcomes: list[ResumeOutcome] = []
        for record, job, hooks in prepared:
            try:
                result = await run_journaled(
                    job, hooks, record=record, restart_on_change=args.restart_on_change
                )
            except JobBusy as exc:  # another live process runs it: left to it, reported
                outcomes.append(
                    ResumeOutcome(record.id, record.source, record.destination, None, exc, record)
                )
            except PartcopyError as exc:
                left = journal.job(record.id)  # what the journal keeps now
                outcomes.append(
                    ResumeOutcome(record.id, record.source, record.destination, None, exc, left)
                )
            else:
                outcomes.append(
                    ResumeOutcome(record.id, record.source, record.destination, result, None)
                )
        return outcomes
    finally:
        for copier in copiers:
            await copier.aclose()


def run_resume(args: argparse.Namespace) -> int:
    """The ``resume`` handler: 0 all done, 1 a job failed or is held by another process,
    2 bad input or journal."""
    try:
        configure_logging(args.log_level)
        check_identity_flags(args)
        journal = Journal(args.journal, create=False)  # a typo must not make a new one
    except UsageError as exc:
        return fail_usage(exc)
    warn_insecure(args)
    try:
        with sigterm_as_sigint():
            outcomes = anyio.run(_resume, args, journal)
    except UsageError as exc:
        return fail_usage(exc)
    except KeyboardInterrupt:
        message = f"interrupted; {resume_hint(args.journal)}"
        if args.json:  # --json still ends with exactly one object
            error = error_dict(KeyboardInterrupt(message))
            print_json({"status": "failed", "journal": args.journal, "jobs": [], "error": error})
        sys.stderr.write(f"partcopy: {message}\n")
        return interrupt_exit_status()
    finally:
        journal.close()
    failed = [o for o in outcomes if o.error is not None]
    if args.json:
        print_json(
            {
                "status": "failed" if failed else "completed",
                "journal": args.journal,
                "jobs": [_outcome_dict(o) for o in outcomes],
            }
        )
    elif not args.quiet:
        if not outcomes:
            sys.stderr.write(f"nothing to resume in {args.journal}\n")
        for o in outcomes:
            if o.result is not None:
                r = o.result
                sys.stderr.write(
                    f"resumed {o.source} -> {o.destination}: {r.bytes} bytes, {r.parts} "
                    f"part(s), etag {r.etag}, {r.seconds:.2f}s\n"
                )
            elif isinstance(o.error, JobBusy):
                sys.stderr.write(
                    f"partcopy: job {o.job_id} {o.source} -> {o.destination} not resumed: "
                    f"{o.error} (left to it)\n"
                )
            else:
                sys.stderr.write(
                    f"partcopy: resume of {o.source} -> {o.destination} failed: "
                    f"{type(o.error).__name__}: {o.error}\n"
                )
    if not failed:
        return 0
    return max(_exit_status(e) for e in _errors(failed))


def _exit_status(error: BaseException) -> int:
    """A job another process runs was not resumed: 1, as a failed one (not bad input: the
    other jobs went ahead), whatever ``JobBusy`` is for a ``cp`` on that job alone."""
    if isinstance(error, JobBusy):
        return 1
    return error.exit_status if isinstance(error, PartcopyError) else 1


def _errors(outcomes: list[ResumeOutcome]) -> list[BaseException]:
    return [o.error for o in outcomes if o.error is not None]


def _outcome_dict(o: ResumeOutcome) -> dict[str, object]:
    if o.result is not None:
        return {"job": o.job_id, **o.result.as_dict()}
    assert o.error is not None
    left = o.record  # the journal's record after the attempt: its plan, its upload
    known: dict[str, Any] = {}
    if left is not None:
        plan = left.plan
        known = {
            "mode": plan.mode,
            "size": left.source_size,
            "parts": plan.part_count,
            "part_size": plan.part_size,
            # A job still unfinished keeps its upload for the next resume: name it.
            "upload_id": left.upload_id if left.unfinished else None,
        }
    doc = failure_dict(o.error, source=o.source, destination=o.destination, **known)
    return {"job": o.job_id, **doc}
