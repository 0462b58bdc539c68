"""``partcopy uploads list|abort``: list or abort incomplete multipart uploads under a
bucket/prefix, in any dialect. Exit status: 0 done; 1 a request or an abort failed; 2 bad input;
128 + the signal when Ctrl-C or SIGTERM stopped it (``--json`` still prints one object).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import anyio

from partcopy.cli.common import (
    add_identity_flags,
    check_identity_flags,
    fail_usage,
    failed_json,
    positive_int,
    print_json,
    warn_insecure,
)
from partcopy.cli.interrupts import interrupt_exit_status, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.config import EndpointConfig, resolve_endpoint
from partcopy.engine.orphans import (
    AbortOutcome,
    PrefixLocation,
    abort_upload,
    abort_uploads,
    list_uploads,
    parse_prefix_url,
    split_by_age,
)
from partcopy.engine.retry import Retrier, RetryPolicy
from partcopy.errors import PartcopyError, UsageError
from partcopy.transports import make_transport
from partcopy.transports.address import bucket_host_refusal
from partcopy.transports.base import UploadInfo
from partcopy.transports.network import Network, resolve_network
from partcopy.units import parse_duration
from partcopy.urls import SCHEMES

__all__ = ["add_uploads", "run_uploads"]


def add_uploads(sub: Any) -> None:
    """Register ``uploads list|abort`` on the CLI's subparsers."""
    p = sub.add_parser("uploads", help="list or abort incomplete multipart uploads")
    p.add_argument("action", choices=("list", "abort"), help="list, or abort them")
    p.add_argument("url", metavar="URL", help="bucket and optional key prefix: s3://bkt/dir/")
    p.add_argument("--endpoint-url", help="endpoint of the store")
    p.add_argument("--region", help="region (signing and default endpoints)")
    add_identity_flags(p, sides=False)
    p.add_argument(
        "--max-attempts",
        type=positive_int("max attempts"),
        default=10,
        help="attempts per request before it fails (default 10)",
    )
    age = p.add_mutually_exclusive_group()
    age.add_argument(
        "--older-than",
        type=_duration,
        metavar="DURATION",
        help="only uploads started at least this long ago (90s, 15m, 2h, 7d; a unit is "
        "required); abort needs this or --all",
    )
    age.add_argument(
        "--all",
        action="store_true",
        help="abort: every upload under the prefix, however young (a running copy's too)",
    )
    age.add_argument(
        "--upload-id",
        metavar="ID",
        help="abort: only this upload, of the key URL names (s3://bkt/key), as a failed "
        "copy's message names it",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="abort: say what would be aborted, abort nothing"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_uploads)


def _duration(text: str) -> float:
    try:
        return parse_duration(text, what="--older-than", unit_required=True)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _upload_dict(u: UploadInfo) -> dict[str, object]:
    initiated = u.initiated.isoformat() if u.initiated is not None else None
    return {"bucket": u.bucket, "key": u.key, "upload_id": u.upload_id, "initiated": initiated}


@dataclass(frozen=True, slots=True)
class _DryRun:
    """What ``abort --dry-run`` found: the uploads it would abort and the younger ones."""

    would_abort: tuple[UploadInfo, ...]
    kept: tuple[UploadInfo, ...]


def _config(
    args: argparse.Namespace, loc: PrefixLocation, network: Network | None
) -> EndpointConfig:
    config = resolve_endpoint(
        SCHEMES[loc.scheme],
        endpoint_url=args.endpoint_url,
        region=args.region,
        profile=args.profile,
        addressing=args.addressing_style,
        network=network,
    )
    refusal = bucket_host_refusal(config.endpoint_url, config.addressing)
    if refusal is not None and config.dialect != "cos":  # every upload is in a bucket
        raise refusal
    return config


def _check_upload_id(args: argparse.Namespace, loc: PrefixLocation) -> None:
    """``--upload-id`` names one upload of one key: the URL must name that key."""
    if not args.upload_id.strip() or any(c.isspace() for c in args.upload_id):
        raise UsageError(f"invalid upload id {args.upload_id!r}: empty or holding a space")
    if not loc.prefix or loc.prefix.endswith("/"):
        raise UsageError(
            f"--upload-id needs the upload's key in the URL (s3://bucket/key), not {args.url!r}"
        )


async def _uploads(
    args: argparse.Namespace, loc: PrefixLocation
) -> list[UploadInfo] | AbortOutcome | _DryRun:
    network = resolve_network(
        proxy=args.proxy,
        ca_bundle=args.ca_bundle,
        verify_tls=not args.no_verify_tls,
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
    )
    config = _config(args, loc, network)
    async with network.session(16, 16) as session:
        transport = make_transport(
            config.dialect,
            config.endpoint_url,
            config.region,
            config.credentials,
            session,
            addressing=config.addressing,
            network=network,
        )
        # Retried as a copy's requests are: one 500 must not fail a cleanup.
        retrier = Retrier(RetryPolicy(max_attempts=args.max_attempts))
        try:
            if args.action == "abort" and args.upload_id is not None:
                if args.dry_run:
                    found = await list_uploads(transport, loc.bucket, loc.prefix, retrier=retrier)
                    mine = (
                        u for u in found if (u.key, u.upload_id) == (loc.prefix, args.upload_id)
                    )
                    return _DryRun(tuple(mine), ())
                return await abort_upload(
                    transport, loc.bucket, loc.prefix, args.upload_id, retrier=retrier
                )
            if args.action == "abort" and args.dry_run:
                found = await list_uploads(transport, loc.bucket, loc.prefix, retrier=retrier)
                would, young = split_by_age(found, args.older_than)
                return _DryRun(tuple(would), tuple(young))
            if args.action == "abort":
                return await abort_uploads(
                    transport, loc.bucket, loc.prefix, older_than=args.older_than, retrier=retrier
                )
            found = await list_uploads(transport, loc.bucket, loc.prefix, retrier=retrier)
            return split_by_age(found, args.older_than)[0]
        finally:
            await transport.aclose()


def run_uploads(args: argparse.Namespace) -> int:
    """The ``uploads`` handler: 0 done, 1 a request or an abort failed, 2 bad input, 128 +
    the signal when interrupted."""
    try:
        configure_logging(args.log_level)
        for flag in ("all", "dry_run", "upload_id"):  # abort's: on list they'd be ignored
            if args.action == "list" and getattr(args, flag):
                raise UsageError(
                    f"--{flag.replace('_', '-')} needs 'uploads abort': list aborts nothing "
                    "(--older-than filters what it lists)"
                )
        if (
            args.action == "abort"
            and args.older_than is None
            and not args.all
            and args.upload_id is None
        ):
            raise UsageError(
                "uploads abort needs --older-than DURATION or --all (or --upload-id ID): "
                "without one it would abort every upload under the prefix, a running copy's too"
            )
        check_identity_flags(args)
        loc = parse_prefix_url(args.url)
        if args.upload_id is not None:
            _check_upload_id(args, loc)
        _config(args, loc, None)
    except UsageError as exc:
        return fail_usage(exc)
    warn_insecure(args)
    try:
        with sigterm_as_sigint():  # `kill PID` ends as Ctrl-C does: one JSON object
            outcome = anyio.run(_uploads, args, loc)
    except UsageError as exc:
        return fail_usage(exc)
    except PartcopyError as exc:
        if args.json:
            failed_json(exc.kind, str(exc))
        sys.stderr.write(f"partcopy: uploads {args.action} failed: {exc.kind}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        message = _interrupted(args)
        if args.json:
            failed_json("KeyboardInterrupt", message)
        sys.stderr.write(f"partcopy: uploads {args.action} {message}\n")
        return interrupt_exit_status()
    if isinstance(outcome, list):
        if args.json:
            print_json({"status": "completed", "uploads": [_upload_dict(u) for u in outcome]})
        else:
            for u in outcome:
                initiated = u.initiated.isoformat() if u.initiated is not None else "-"
                sys.stdout.write(f"{initiated}\t{u.key}\t{u.upload_id}\n")
        return 0
    if isinstance(outcome, _DryRun):
        _report_dry_run(args, outcome)
        return 0
    if args.json:
        print_json(
            {
                "status": "failed" if outcome.failed else "completed",
                "dry_run": False,
                "aborted": [_upload_dict(u) for u in outcome.aborted],
                "kept": [_upload_dict(u) for u in outcome.kept],
                "failed": [{**_upload_dict(u), "error": why} for u, why in outcome.failed],
            }
        )
    else:
        for u in outcome.aborted:
            sys.stdout.write(f"aborted\t{u.key}\t{u.upload_id}\n")
        for u, why in outcome.failed:
            sys.stderr.write(f"partcopy: could not abort {u.key} {u.upload_id}: {why}\n")
        sys.stderr.write(
            f"{len(outcome.aborted)} aborted, {len(outcome.kept)} younger kept, "
            f"{len(outcome.failed)} failed\n"
        )
    return 1 if outcome.failed else 0


def _interrupted(args: argparse.Namespace) -> str:
    """What an interrupted run left, truthfully: aborts already answered stay done."""
    if args.action == "abort" and not args.dry_run:
        return (
            f"interrupted; uploads under {args.url} may be aborted in part: "
            f"'partcopy uploads list {args.url}' shows those left"
        )
    return "interrupted; nothing was changed"


def _report_dry_run(args: argparse.Namespace, outcome: _DryRun) -> None:
    if args.json:
        print_json(
            {
                "status": "completed",
                "dry_run": True,
                "would_abort": [_upload_dict(u) for u in outcome.would_abort],
                "kept": [_upload_dict(u) for u in outcome.kept],
            }
        )
        return
    for u in outcome.would_abort:
        sys.stdout.write(f"would abort\t{u.key}\t{u.upload_id}\n")
    sys.stderr.write(
        f"dry run: {len(outcome.would_abort)} would be aborted, {len(outcome.kept)} younger kept\n"
    )
