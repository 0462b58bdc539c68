"""The flags ``cp`` and ``bulk`` share: endpoints, regions, part size, budget, mode, TLS.

One place registers and checks them, so the two commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from partcopy.cli import positive_int, size_arg
from partcopy.errors import UsageError
from partcopy.planners import PROFILES

__all__ = ["add_copier_flags", "check_copier_flags", "warn_insecure"]


def add_copier_flags(p: Any, *, many: bool, concurrency_help: str, profile_help: str) -> None:
    """Register the shared flags on parser ``p``; ``many``: help speaks of many objects."""
    s = "s" if many else ""
    p.add_argument("--endpoint-url", help=f"endpoint of the source{s} (and destination{s})")
    p.add_argument("--dst-endpoint-url", help=f"endpoint of the destination{s}, if different")
    p.add_argument("--region", help="region (signing and default endpoints)")
    p.add_argument("--dst-region", help=f"region of the destination{s}, if different")
    p.add_argument("--part-size", type=size_arg("part size"), help="preferred part size")
    p.add_argument(
        "--concurrency", type=positive_int("concurrency"), default=64, help=concurrency_help
    )
    p.add_argument(
        "--mode",
        choices=("auto", "copy", "relay"),
        default="auto",
        help="auto: server-side copy within one store, relay between stores",
    )
    p.add_argument("--profile", choices=sorted(PROFILES), help=profile_help)
    p.add_argument(
        "--max-attempts",
        type=positive_int("max attempts"),
        default=10,
        help=f"attempts per request before {'an object' if many else 'the copy'} fails "
        "(default 10)",
    )
    p.add_argument(
        "--fixed-concurrency",
        action="store_true",
        help="keep --concurrency fixed instead of lowering it while "
        f"{'a' if many else 'the'} store throttles",
    )
    p.add_argument(
        "--no-verify-tls",
        action="store_true",
        help="do not verify TLS certificates (insecure: anyone on the path can read keys)",
    )


def check_copier_flags(args: argparse.Namespace) -> None:
    """``UsageError`` for values the argument types let through (a part size of 0)."""
    if args.part_size == 0:
        raise UsageError("invalid part size '0': must be positive")


def warn_insecure(args: argparse.Namespace) -> None:
    """Say on stderr that ``--no-verify-tls`` is in force."""
    if args.no_verify_tls:
        sys.stderr.write(
            "partcopy: warning: TLS certificate verification is off (--no-verify-tls)\n"
        )
