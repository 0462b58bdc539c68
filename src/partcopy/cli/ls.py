"""``partcopy ls URL``: what partcopy sees under a prefix (and what filters select).

Like ``aws s3 ls``: one level by default (``PRE dir/`` lines and objects, in key order, named
relative to the prefix up to its last ``/``: ``ls s3://b/photos`` shows ``PRE photos/``,
``PRE photos2/`` and ``photos``), every key in full with ``--recursive``. Filters match the key
from that last ``/`` on. Lines are printed as pages arrive, and
``--json`` streams one JSON object (``{"url", "entries": [...], "objects", "prefixes",
"bytes", "status", "error"}``), so a listing of millions of keys never sits in memory. Exit 0
listed, 1 the listing failed, 2 bad input (before any request), 128 + the signal when Ctrl-C
or SIGTERM stopped it (the JSON object is still closed: ``"status": "failed"``, error
``KeyboardInterrupt``).

A URL with no bucket (``s3://``, ``obs://``, ``cos://``, ``qs://``) lists the buckets the
credentials own, as ``aws s3 ls`` does: one ``creation-date name`` line each, or with
``--json`` ``{"url", "entries": [{"bucket", "created", "region"}], "buckets", "status",
"error"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from typing import Any, TextIO

import anyio

from partcopy.cli.common import (
    add_identity_flags,
    check_identity_flags,
    fail_usage,
    identity_options,
    warn_insecure,
)
from partcopy.cli.interrupts import interrupt_exit_status, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.cli.prefixflags import add_filter_flags
from partcopy.engine.copier import Copier
from partcopy.engine.filters import KeyFilter
from partcopy.engine.listing import ListedPrefix
from partcopy.engine.orphans import PrefixLocation, parse_prefix_url
from partcopy.errors import PartcopyError, UsageError
from partcopy.providers import SCHEMES
from partcopy.transports.base import BucketInfo, ListedObject

__all__ = ["add_ls", "run_ls"]


def add_ls(sub: Any) -> None:
    """Register ``ls`` on the CLI's subparsers."""
    p = sub.add_parser("ls", help="list objects under a prefix (one level, or --recursive)")
    p.add_argument(
        "url",
        metavar="URL",
        help="s3://bucket[/prefix] (or obs, cos, qs); a prefix lists every key that starts "
        "with it, named from its last '/' on (s3://b/photos shows photos/ and photos2/); "
        "s3:// alone lists the buckets",
    )
    p.add_argument(
        "--recursive", action="store_true", help="every key, not one level, named in full"
    )
    add_filter_flags(p)
    p.add_argument("--endpoint-url", help="endpoint of the store")
    p.add_argument("--region", help="region (signing and default endpoints)")
    add_identity_flags(p, sides=False)
    p.add_argument("--json", action="store_true", help="stream one JSON object")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_ls)


def _entry_dict(entry: ListedObject | ListedPrefix) -> dict[str, object]:
    if isinstance(entry, ListedPrefix):
        return {"prefix": entry.prefix}
    return {
        "key": entry.key,
        "size": entry.size,
        "etag": entry.etag,
        "last_modified": entry.last_modified.isoformat() if entry.last_modified else None,
        "storage_class": entry.storage_class,
    }


def _directory(prefix: str) -> str:
    """The prefix up to and with its last ``/``: what one-level names are relative to."""
    return prefix[: prefix.rfind("/") + 1]


INTERRUPTED = "interrupted"
"""The error message of a listing that Ctrl-C or SIGTERM stopped."""


def _outcome(error: BaseException | None) -> tuple[str, dict[str, str] | None]:
    """The JSON object's ``status`` and ``error`` for a listing that ended with ``error``."""
    if error is None:
        return "completed", None
    message = INTERRUPTED if isinstance(error, KeyboardInterrupt) else str(error)
    return "failed", {"type": type(error).__name__, "message": message}


def _end_output(
    out: TextIO, as_json: bool, closed: bool, counts: str, error: BaseException | None
) -> bool:
    """End a listing's output unless ``closed``: the JSON object's tail (its ``counts``,
    ``status`` and ``error``) or nothing; True, the output being closed."""
    if closed:
        return True
    if as_json:
        status, failure = _outcome(error)
        out.write(f'], {counts}, "status": "{status}", "error": {json.dumps(failure)}}}\n')
    out.flush()
    return True


class _Printer:
    """Writes entries as they come: text lines, or the pieces of one JSON object."""

    def __init__(self, out: TextIO, loc: PrefixLocation, as_json: bool, recursive: bool) -> None:
        self.out = out
        self.loc = loc
        self.as_json = as_json
        self.recursive = recursive
        self.base = len(_directory(loc.prefix))
        self.objects = self.prefixes = self.bytes = 0
        self.closed = False
        if as_json:
            out.write('{"url": ' + json.dumps(loc.url) + ', "entries": [')

    def entry(self, entry: ListedObject | ListedPrefix) -> None:
        if isinstance(entry, ListedPrefix):
            self.prefixes += 1
        else:
            self.objects += 1
            self.bytes += entry.size
        if self.as_json:
            sep = "" if self.objects + self.prefixes == 1 else ", "
            self.out.write(sep + json.dumps(_entry_dict(entry)))
            return
        if isinstance(entry, ListedPrefix):
            self.out.write(f"{'PRE':>30} {entry.prefix[self.base :]}\n")
            return
        when = entry.last_modified.strftime("%Y-%m-%d %H:%M:%S") if entry.last_modified else "-"
        name = entry.key if self.recursive else entry.key[self.base :]
        self.out.write(f"{when:19} {entry.size:>10} {name}\n")

    def close(self, error: BaseException | None = None) -> None:
        """End the output (once: an interrupt after a failure adds nothing)."""
        counts = f'"objects": {self.objects}, "prefixes": {self.prefixes}, "bytes": {self.bytes}'
        self.closed = _end_output(self.out, self.as_json, self.closed, counts, error)


class _BucketPrinter:
    """Writes buckets as they come: ``date name`` lines, or the pieces of one JSON object."""

    def __init__(self, out: TextIO, url: str, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.count = 0
        self.closed = False
        if as_json:
            out.write('{"url": ' + json.dumps(url) + ', "entries": [')

    def bucket(self, bucket: BucketInfo) -> None:
        self.count += 1
        if self.as_json:
            entry = {
                "bucket": bucket.name,
                "created": bucket.created.isoformat() if bucket.created else None,
                "region": bucket.region,
            }
            self.out.write(("" if self.count == 1 else ", ") + json.dumps(entry))
            return
        when = bucket.created.strftime("%Y-%m-%d %H:%M:%S") if bucket.created else "-"
        self.out.write(f"{when:19} {bucket.name}\n")

    def close(self, error: BaseException | None = None) -> None:
        """End the output (once: an interrupt after a failure adds nothing)."""
        self.closed = _end_output(
            self.out, self.as_json, self.closed, f'"buckets": {self.count}', error
        )


def _bucket_scheme(url: str) -> str | None:
    """The scheme of a URL that names no bucket (``s3://``), else None."""
    scheme, sep, rest = url.partition("://")
    return scheme if sep and not rest and scheme in SCHEMES else None


async def _list_buckets(args: argparse.Namespace, scheme: str, printer: _BucketPrinter) -> None:
    async with Copier(
        endpoint_url=args.endpoint_url,
        region=args.region,
        **identity_options(args),
    ) as copier:
        try:
            async for bucket in copier.list_buckets(scheme):
                printer.bucket(bucket)
        except PartcopyError as exc:
            printer.close(exc)
            raise
        printer.close()


async def _list(
    args: argparse.Namespace, loc: PrefixLocation, keys: KeyFilter, printer: _Printer
) -> None:
    base = len(_directory(loc.prefix))
    async with Copier(
        endpoint_url=args.endpoint_url,
        region=args.region,
        **identity_options(args),
    ) as copier:
        try:
            async for entry in copier.list_objects(loc, recursive=args.recursive):
                name = entry.prefix if isinstance(entry, ListedPrefix) else entry.key
                if keys.keeps(name[base:]):
                    printer.entry(entry)
        except PartcopyError as exc:
            printer.close(exc)
            raise
        printer.close()


def run_ls(args: argparse.Namespace) -> int:
    """The ``ls`` handler: exit 0 listed, 1 the listing failed, 2 bad input, 128 + the
    signal when interrupted."""
    try:
        configure_logging(args.log_level)
        check_identity_flags(args)
        scheme = _bucket_scheme(args.url)
        if scheme is None:
            loc = parse_prefix_url(args.url)
            keys = KeyFilter.of(args.filters)
        elif args.recursive or args.filters:
            flag = "--recursive" if args.recursive else "--include/--exclude"
            raise UsageError(
                f"{flag} applies to the keys of one bucket, not to {args.url!r} (the bucket list)"
            )
        warn_insecure(args)
    except UsageError as exc:
        return fail_usage(exc)
    printer: _Printer | _BucketPrinter
    if scheme is not None:
        buckets = printer = _BucketPrinter(sys.stdout, args.url, args.json)
        listing = partial(anyio.run, _list_buckets, args, scheme, buckets)
    else:
        objects = printer = _Printer(sys.stdout, loc, args.json, args.recursive)
        listing = partial(anyio.run, _list, args, loc, keys, objects)
    try:
        with sigterm_as_sigint():  # `kill PID` ends the output as Ctrl-C does
            listing()
    except UsageError as exc:
        return fail_usage(exc)
    except PartcopyError as exc:
        sys.stderr.write(f"partcopy: ls failed: {type(exc).__name__}: {exc}\n")
        return 1
    except KeyboardInterrupt as exc:
        # --json still ends with exactly one object: the entries printed so far, "failed"
        printer.close(exc)
        sys.stderr.write(f"partcopy: ls {INTERRUPTED}\n")
        return interrupt_exit_status()
    return 0
