"""``partcopy emulator``: serve one dialect on loopback until SIGINT/SIGTERM.

Prints its URL on one line once it listens, so scripts and tests can read it. Secret keys
can come from a file or the environment so they never show in the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.faults import FaultSpec, parse_fault
from partcopy.emulator.objects import ObjectSpec, parse_object
from partcopy.emulator.server import DIALECTS, QUIRKS, Emulator
from partcopy.errors import PartcopyError, UsageError

__all__ = ["SECRET_ENV", "add_emulator", "parse_user", "run_emulator"]

SECRET_ENV = "PARTCOPY_EMULATOR_SECRET_KEY"
"""The environment variable ``--secret-key`` falls back to."""


def _read_secret(path: str, what: str) -> str:
    """The first line of ``path`` (a secret kept out of the process list)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path!r}: {exc.strerror}") from None
    secret = text.splitlines()[0].strip() if text.strip() else ""
    if not secret:
        raise UsageError(f"{what} file {path!r} is empty")
    return secret


def parse_user(text: str) -> tuple[str, str]:
    """``AK:SK`` or ``AK:@FILE`` (the secret read from FILE); errors never echo a secret."""
    access_key, sep, secret = text.partition(":")
    if not sep or not access_key or not secret:
        raise UsageError(
            "invalid --user value: expected ACCESS_KEY:SECRET_KEY or ACCESS_KEY:@FILE "
            "(the value is not shown: it may hold a secret)"
        )
    if secret.startswith("@"):
        secret = _read_secret(secret[1:], f"user {access_key!r} secret key")
    return access_key, secret


def _arg(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _non_negative(what: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: not a number") from None
        if not math.isfinite(value):  # inf would make every data request wait forever
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: not a finite number")
        if value < 0:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: must not be negative")
        return value

    return convert


def _access_key(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError(f"invalid access key {text!r}: must not be empty")
    return text


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected 0..65535")
    return int(text)


def add_emulator(sub: Any) -> None:
    """Register the ``emulator`` subcommand on the CLI's subparsers."""
    p = sub.add_parser(
        "emulator",
        help="serve an S3/OBS/COS/QingStor emulator on loopback",
        description="Serve an in-memory object store speaking one dialect. Default "
        f"credentials: access key {DEFAULT_ACCESS_KEY!r}, secret key {DEFAULT_SECRET_KEY!r}.",
    )
    p.add_argument(
        "--dialect",
        required=True,
        choices=DIALECTS,
        help="the wire protocol to speak: s3 (also S3-compatible stores), obs, cos or qingstor",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=0, help="port (default: a free one)")
    p.add_argument(
        "--access-key",
        type=_access_key,
        default=DEFAULT_ACCESS_KEY,
        help=f"the access key requests must be signed with (default {DEFAULT_ACCESS_KEY!r})",
    )
    p.add_argument(
        "--secret-key",
        default=None,
        help=f"the access key's secret (default: ${SECRET_ENV}, else {DEFAULT_SECRET_KEY!r}); "
        "prefer --secret-key-file or the environment: a flag shows in the process list",
    )
    p.add_argument(
        "--secret-key-file", metavar="FILE", help="read the secret key from FILE's first line"
    )
    p.add_argument(
        "--user",
        action="append",
        type=_arg(parse_user),
        default=[],
        metavar="AK:SK",
        help="another key pair, its own owner (repeatable; AK:@FILE reads the secret from FILE)",
    )
    p.add_argument(
        "--latency-ms",
        type=_non_negative("latency"),
        default=0.0,
        help="added to every data request (copy part, upload part, get, put)",
    )
    p.add_argument(
        "--gbps",
        type=_non_negative("bandwidth"),
        default=0.0,
        help="modelled bandwidth in Gbit/s: a request moving N bytes waits N*8/(gbps*1e9) s",
    )
    p.add_argument(
        "--fault",
        action="append",
        type=_arg(parse_fault),
        default=[],
        metavar="SPEC",
        help="KIND:RATE[:ARG][@OPS][#LIMIT], e.g. slowdown:0.05, delay:0.01:2s, throttle:8",
    )
    p.add_argument(
        "--object",
        action="append",
        type=_arg(parse_object),
        default=[],
        metavar="BUCKET/KEY=SIZE",
        help="create a virtual (pattern) object; its bucket is created too",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for faults, ids and patterns")
    p.add_argument(
        "--quirk",
        action="append",
        choices=sorted(QUIRKS),
        default=[],
        help="behave like another store: uploads-no-key-marker lists uploads without "
        "NextKeyMarker, paged by upload id (SeaweedFS)",
    )
    p.add_argument(
        "--default-sse",
        choices=["AES256"],
        default=None,
        help="encrypt every object written without encryption headers with store-managed "
        "keys and answer so, as AWS S3 buckets have done by default since 2023 (s3, obs, "
        "cos); default: no default encryption",
    )
    p.set_defaults(handler=run_emulator)


async def _serve(emu: Emulator) -> None:
    await emu.start()
    sys.stdout.write(emu.url + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def run_emulator(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 2 with one line on stderr for unusable input."""
    faults: list[FaultSpec] = args.fault
    objects: list[ObjectSpec] = args.object
    try:
        if args.secret_key is not None and args.secret_key_file is not None:
            raise UsageError("give --secret-key or --secret-key-file, not both")
        secret = args.secret_key
        if args.secret_key_file is not None:
            secret = _read_secret(args.secret_key_file, "secret key")
        if secret is None:
            secret = os.environ.get(SECRET_ENV) or DEFAULT_SECRET_KEY
        emu = Emulator(
            args.dialect,
            host=args.host,
            port=args.port,
            access_key=args.access_key,
            secret_key=secret,
            users=args.user,
            latency_ms=args.latency_ms,
            gbps=args.gbps,
            faults=faults,
            objects=objects,
            seed=args.seed,
            quirks=args.quirk,
            default_sse=args.default_sse,
        )
        asyncio.run(_serve(emu))
    except PartcopyError as exc:
        sys.stderr.write(f"partcopy: error: {exc}\n")
        return exc.exit_status
    return 0
