"""Helpers every ``partcopy`` command shares: argument types, the copier flag group, JSON output
and exit-status helpers. A leaf of cli/: it imports no command module.

One place registers and checks the flags ``cp`` and ``bulk`` share (endpoints, regions, part
size, budget, mode, TLS), so the two commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from partcopy.errors import PartcopyError, UsageError
from partcopy.providers import PROVIDERS
from partcopy.units import parse_size

if TYPE_CHECKING:
    from partcopy.cli.interrupts import AbortNotice
    from partcopy.engine.report import BulkSummary
    from partcopy.engine.settings import CopierSettings

__all__ = [
    "Handler",
    "Parser",
    "add_copier_flags",
    "add_identity_flags",
    "add_provider_flag",
    "check_copier_flags",
    "check_identity_flags",
    "copier_settings",
    "fail_usage",
    "failed_json",
    "identity_options",
    "interrupted",
    "path_arg",
    "positive_int",
    "print_json",
    "provider_name",
    "report_summary",
    "size_arg",
    "warn_insecure",
]

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"partcopy: error: {message}\n")


def size_arg(what: str) -> Callable[[str], int]:
    """An argparse type for SIZE values that names the option in its error."""

    def convert(text: str) -> int:
        try:
            return parse_size(text, what=what)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def provider_name(text: str) -> str:
    """An argparse type for a provider row's name (``partcopy providers`` lists them)."""
    if text not in PROVIDERS:
        known = ", ".join(PROVIDERS)
        raise argparse.ArgumentTypeError(f"unknown provider {text!r}: expected one of {known}")
    return text


def add_provider_flag(p: Any, *, help: str, dest: str = "provider", **kwargs: Any) -> None:
    """``--provider NAME``: the row whose limits, endpoints, ETag rules and quirks apply.

    ``--part-limits`` is a hidden alias (its first name, kept for scripts written with it).
    """
    p.add_argument("--provider", dest=dest, type=provider_name, metavar="NAME", help=help, **kwargs)
    p.add_argument(
        "--part-limits", dest=dest, type=provider_name, help=argparse.SUPPRESS, default=None
    )


def seconds_arg(what: str) -> Callable[[str], float]:
    """An argparse type for a timeout in seconds: above 0, at most a day."""

    def convert(text: str) -> float:
        from partcopy.errors import ConfigError
        from partcopy.transports.network import check_timeout

        try:
            return check_timeout(float(text), what)
        except (ValueError, ConfigError):
            raise argparse.ArgumentTypeError(
                f"invalid {what} {text!r}: expected seconds above 0, at most a day (86400)"
            ) from None

    return convert


def positive_int(what: str) -> Callable[[str], int]:
    """An argparse type for counts that must be at least 1."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid {what} {text!r}: expected a whole number"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: must be at least 1")
        return value

    return convert


def path_arg(what: str) -> Callable[[str], str]:
    """An argparse type for a file path that must name a file: an empty or blank one (an
    unset shell variable, say) is refused naming it, not taken as the current folder."""

    def convert(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"invalid {what} path {text!r}: give a file name")
        return text

    return convert


def print_json(obj: object) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    sys.stdout.flush()


def fail_usage(exc: PartcopyError) -> int:
    """Report bad input as one line on stderr; return its exit status."""
    sys.stderr.write(f"partcopy: error: {exc}\n")
    return exc.exit_status


def interrupted(args: argparse.Namespace, notice: AbortNotice | None = None) -> int:
    """Say a bulk or prefix run was interrupted (and how to resume it, or what its aborts
    left), as one JSON object too with ``--json``; exit status 128 + the signal (130
    Ctrl-C, 143 SIGTERM)."""
    from partcopy.cli.interrupts import interrupt_exit_status

    hint = " (rerun with the same --journal to resume)" if args.journal else ""
    left = notice.outcome() if notice is not None else None
    if left is not None:
        hint += f"; {left}"
    if args.json:
        failed_json("KeyboardInterrupt", f"interrupted{hint}")
    sys.stderr.write(f"partcopy: interrupted{hint}\n")
    return interrupt_exit_status()


def failed_json(kind: str, message: str) -> None:
    """The one JSON object of a run that ended before it had a summary to print."""
    print_json({"status": "failed", "error": {"type": kind, "message": message}})


def report_summary(args: argparse.Namespace, summary: BulkSummary) -> int:
    """A finished bulk or prefix run's summary: the JSON object (``--json``), else one line
    on stderr unless ``--quiet``; exit 0 when every object succeeded, else 1."""
    if args.json:
        print_json(summary.as_dict())
    elif not args.quiet:
        sys.stderr.write(summary_line(summary) + "\n")
    return 0 if summary.succeeded else 1


def summary_line(summary: BulkSummary) -> str:
    """The summary in words, for a person (``--json`` has every count for a program)."""
    from partcopy.units import format_size

    counts = [
        (summary.ok, "copied"),
        (summary.skipped_same, "already the same"),
        (summary.skipped, "done before (journal)"),
        (summary.deleted, "deleted"),
        (summary.would_copy, "to copy (dry run)"),
        (summary.would_delete, "to delete (dry run)"),
        (summary.failed, "failed"),
        (summary.invalid, "invalid manifest line(s)"),
    ]
    said = ", ".join(f"{n} {what}" for n, what in counts if n) or "nothing to do"
    rate = f", {summary.objects_per_second:.1f} objects/s" if summary.ok else ""
    retries = f", {summary.retries} retried request(s)" if summary.retries else ""
    return (
        f"partcopy: {said}; {format_size(summary.bytes)} in {summary.seconds:.2f} s{rate}{retries}"
    )


# --- the flags cp and bulk share ---------------------------------------------------------


def add_copier_flags(p: Any, *, many: bool, concurrency_help: str, provider_help: str) -> None:
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
    add_provider_flag(p, help=provider_help)
    add_identity_flags(p, many=many)
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


def add_identity_flags(p: Any, *, many: bool = False, sides: bool = True) -> None:
    """Who the copy is (AWS profiles, per side with ``sides``) and how it reaches stores."""
    s = "s" if many else ""
    both = " for both sides" if sides else ""
    p.add_argument("--profile", help=f"AWS config profile{both} (~/.aws/config)")
    if sides:
        p.add_argument("--src-profile", help=f"AWS config profile for the source{s} only")
        p.add_argument("--dst-profile", help=f"AWS config profile for the destination{s} only")
    p.add_argument(
        "--addressing-style",
        choices=("auto", "path", "virtual"),
        help="bucket in the host name (virtual) or the path; auto: virtual only on the "
        "provider's own endpoints (default auto, or the profile's s3.addressing_style)",
    )
    p.add_argument(
        "--proxy", metavar="URL", help="HTTP(S) proxy for every request (else HTTPS_PROXY...)"
    )
    p.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="PEM file of CA certificates to trust (else AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE)",
    )
    p.add_argument(
        "--no-verify-tls",
        action="store_true",
        help="do not verify TLS certificates (insecure: anyone on the path can read keys)",
    )
    p.add_argument(
        "--connect-timeout",
        type=seconds_arg("connect timeout"),
        metavar="SECONDS",
        help="give up a connection attempt after this long (default 10); it is retried",
    )
    p.add_argument(
        "--read-timeout",
        type=seconds_arg("read timeout"),
        metavar="SECONDS",
        help="give up a request whose answer takes longer (default 60; a server-side copy "
        "gets this plus its bytes at 16 MiB/s); it is retried",
    )


def check_copier_flags(args: argparse.Namespace) -> None:
    """``UsageError`` for values the argument types let through (a part size of 0) and for
    flags that contradict each other."""
    if args.part_size == 0:
        raise UsageError("invalid part size '0': must be positive")
    check_identity_flags(args)


def check_identity_flags(args: argparse.Namespace) -> None:
    """``UsageError`` naming contradicting identity or TLS flags."""
    split = [f for f in ("src_profile", "dst_profile") if getattr(args, f, None)]
    if args.profile and split:
        other = "--" + split[0].replace("_", "-")
        raise UsageError(
            f"conflicting flags: --profile {args.profile!r} and {other}: give one profile "
            "for both sides or one per side"
        )
    if args.ca_bundle and getattr(args, "no_verify_tls", False):
        raise UsageError(f"conflicting flags: --ca-bundle {args.ca_bundle!r} and --no-verify-tls")
    # Checked here too (bulk builds its copiers later, in workers): before any request.
    from partcopy.transports.aws_profile import load_profile
    from partcopy.transports.network import resolve_network

    names = {args.profile, getattr(args, "src_profile", None), getattr(args, "dst_profile", None)}
    for name in names - {None}:
        load_profile(name)
    resolve_network(proxy=args.proxy, ca_bundle=args.ca_bundle)


def warn_insecure(args: argparse.Namespace) -> None:
    """Say on stderr that ``--no-verify-tls`` is in force, and that a password in
    ``--proxy`` shows in the process list (a proxy with credentials is legitimate, so it
    is used: the environment is the place for it, as for the store's own keys)."""
    if args.no_verify_tls:
        sys.stderr.write(
            "partcopy: warning: TLS certificate verification is off (--no-verify-tls)\n"
        )
    proxy = getattr(args, "proxy", None)
    if proxy and urlsplit(proxy).password:
        from partcopy.config import shown_url

        sys.stderr.write(
            f"partcopy: warning: the password in --proxy {shown_url(proxy)} shows in the "
            "process list; set HTTPS_PROXY (or HTTP_PROXY) in the environment instead\n"
        )


def copier_settings(args: argparse.Namespace) -> CopierSettings:
    """The endpoint, identity and network settings of the copier flags (bulk and prefix runs)."""
    from partcopy.engine.settings import CopierSettings  # the engine loads only when a copy runs

    return CopierSettings(
        endpoint_url=args.endpoint_url,
        dst_endpoint_url=args.dst_endpoint_url,
        region=args.region,
        dst_region=args.dst_region,
        concurrency=args.concurrency,
        max_attempts=args.max_attempts,
        adaptive=not args.fixed_concurrency,
        **identity_options(args),
    )


def identity_options(args: argparse.Namespace) -> dict[str, Any]:
    """The identity and network flags (``add_identity_flags``) as the keyword arguments
    ``Copier``, ``CopierSettings`` and ``BenchSettings`` take: one mapping, so a flag
    added there reaches every command."""
    options: dict[str, Any] = {
        "profile": args.profile,
        "addressing_style": args.addressing_style,
        "proxy": args.proxy,
        "ca_bundle": args.ca_bundle,
        "verify_tls": not args.no_verify_tls,
        "connect_timeout": args.connect_timeout,
        "read_timeout": args.read_timeout,
    }
    if hasattr(args, "src_profile"):  # the commands with two sides
        options.update(src_profile=args.src_profile, dst_profile=args.dst_profile)
    return options
