"""``partcopy bench``: sweep the user's own store and print what it sustains.

A table (throughput, p50/p99 request latency, throttle rate per point), ``--json`` for
one JSON object (also when a failure or an interrupt stops the sweep: ``"status":
"failed"`` and the ``error``), ``--plot FILE.png`` for a chart (matplotlib, from the
``bench`` extra, imported only then). Everything written goes under
``DST_PREFIX/partcopy-bench-<id>/`` and is deleted again. Bad input is exit 2 with one
line, before any request.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import anyio

from partcopy.cli.common import (
    add_identity_flags,
    add_provider_flag,
    check_identity_flags,
    fail_usage,
    identity_options,
    positive_int,
    print_json,
    warn_insecure,
)
from partcopy.cli.interrupts import interrupt_exit_status, sigterm_as_sigint
from partcopy.cli.logs import LEVELS, configure_logging
from partcopy.errors import PartcopyError, UsageError
from partcopy.units import format_size, parse_size

__all__ = ["add_bench", "run_bench_command"]


def add_bench(sub: Any) -> None:
    """Register ``bench`` on the CLI's subparsers."""
    p = sub.add_parser(
        "bench", help="measure your store: part size x concurrency, or objects/s for a prefix"
    )
    p.add_argument(
        "source",
        metavar="SRC",
        help="an object (s3://bucket/key: part size x concurrency sweep) or a prefix ending "
        "in / (objects/s sweep over its objects)",
    )
    p.add_argument(
        "destination",
        metavar="DST_PREFIX",
        help="scratch prefix ending in /: copies go under it and are deleted afterwards "
        "(bench writes nowhere else)",
    )
    p.add_argument("--endpoint-url", help="endpoint of the store (default: the provider's)")
    p.add_argument("--region", help="region of the store")
    add_provider_flag(
        p, help="the store's provider row: part limits and rules (default: from the URL scheme)"
    )
    add_identity_flags(p, sides=False)
    p.add_argument(
        "--max-attempts",
        type=positive_int("max attempts"),
        default=5,
        help="attempts per request before a point fails (default 5)",
    )
    p.add_argument(
        "--part-sizes",
        default="8MiB,32MiB,128MiB",
        metavar="LIST",
        help="part sizes for an object sweep (default 8MiB,32MiB,128MiB)",
    )
    p.add_argument(
        "--concurrency",
        default="4,16,64",
        metavar="LIST",
        help="requests in flight at each point (default 4,16,64)",
    )
    p.add_argument(
        "--max-objects",
        type=positive_int("max objects"),
        default=500,
        metavar="N",
        help="objects of a prefix copied at each point (default 500)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object when done")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the sweep into this PNG")
    p.add_argument("--log-level", choices=LEVELS, default="warning", help="stderr log level")
    p.set_defaults(handler=run_bench_command)


def _list(text: str, what: str, parse: Any) -> tuple[int, ...]:
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise UsageError(f"invalid {what} {text!r}: expected a comma-separated list")
    if not all(items):  # '4,,8': a value left out by mistake, not to be skipped silently
        raise UsageError(f"invalid {what} {text!r}: an item of the list is empty")
    return tuple(parse(item) for item in items)


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"invalid concurrency {text!r}: expected a whole number") from None


def _settings(args: argparse.Namespace) -> Any:
    from partcopy.engine.bench import BenchSettings, check_bench

    check_identity_flags(args)
    settings = BenchSettings(
        source=args.source,
        destination=args.destination,
        endpoint_url=args.endpoint_url,
        region=args.region,
        part_sizes=_list(args.part_sizes, "part sizes", lambda t: parse_size(t, what="part size")),
        concurrency=_list(args.concurrency, "concurrency", _count),
        max_objects=args.max_objects,
        max_attempts=args.max_attempts,
        provider=args.provider,
        **identity_options(args),
    )
    check_bench(settings)
    if args.plot is not None:
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise UsageError(f"cannot draw {args.plot!r}: {folder!r} is not a writable folder")
        try:
            import matplotlib  # noqa: F401 - only checking it is there, before any request
        except ImportError:
            raise UsageError(
                f"cannot draw {args.plot!r}: matplotlib is not installed "
                "(pip install 'partcopy[bench]')"
            ) from None
    return settings


def run_bench_command(args: argparse.Namespace) -> int:
    """The ``bench`` handler: 0 every point measured and cleaned up, 1 a point failed or
    something it wrote could not be deleted (named on stderr and in the JSON), 2 bad input,
    128 + the signal when interrupted (130 Ctrl-C, 143 SIGTERM)."""
    try:
        configure_logging(args.log_level)
        settings = _settings(args)
    except UsageError as exc:
        return fail_usage(exc)
    from partcopy.engine.bench import run_bench

    warn_insecure(args)
    measured: list[Any] = []  # the points so far, for the JSON of a run that stops early

    def show(point: Any) -> None:
        measured.append(point)
        if not args.json:
            _print_point(point)

    if not args.json:
        _print_header(settings.prefix_mode)
    left: list[str] = []
    try:
        with sigterm_as_sigint():  # `kill PID` deletes the copies as Ctrl-C does
            points = anyio.run(run_bench, settings, show, left)
    except UsageError as exc:
        return fail_usage(exc)
    except PartcopyError as exc:
        if args.json:
            _print_result(settings, measured, left, exc)
        sys.stderr.write(f"partcopy: bench failed: {type(exc).__name__}: {exc}\n")
        _report_left(left)
        return 1
    except KeyboardInterrupt as exc:
        if args.json:  # --json still ends with exactly one object
            _print_result(settings, measured, left, exc)
        cleaned = "the copies made so far were deleted" if not left else "see below"
        sys.stderr.write(f"partcopy: interrupted ({cleaned})\n")
        _report_left(left)
        return interrupt_exit_status()
    status = 1 if left or any(p.error for p in points) else 0
    if args.plot is not None:
        try:
            _plot(points, args.plot, settings.source)
        except OSError as exc:
            sys.stderr.write(f"partcopy: cannot write the plot {args.plot!r}: {exc.strerror}\n")
            status = 1
    if args.json:
        _print_result(settings, points, left, None, failed=status != 0)
    _report_left(left)
    return status


def _print_result(
    settings: Any,
    points: list[Any],
    left: list[str],
    error: BaseException | None,
    *,
    failed: bool = True,
) -> None:
    """The one ``--json`` object: every point measured (all of them, or those before a
    failure or an interrupt), what could not be deleted, and how the run ended."""
    print_json(
        {
            "source": settings.source,
            "destination": settings.destination,
            "kind": "prefix" if settings.prefix_mode else "object",
            "points": [p.as_dict() for p in points],
            "left_behind": left,
            "status": "failed" if failed or error is not None else "completed",
            "error": None
            if error is None
            else {
                "type": type(error).__name__,
                "message": "interrupted" if isinstance(error, KeyboardInterrupt) else str(error),
            },
        }
    )


def _report_left(left: list[str]) -> None:
    """Name what the bench wrote and could not delete: the user has to."""
    if not left:
        return
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    sys.stderr.write(
        f"partcopy: warning: could not delete {len(left)} object(s) the bench wrote; "
        f"delete them yourself: {shown}\n"
    )


def _print_header(prefix: bool) -> None:
    first = "objects" if prefix else "part size"
    rate = "objects/s" if prefix else "MiB/s"
    print(
        f"{first:>10} {'conc':>5} {'seconds':>8} {rate:>10} {'requests':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'throttled':>9}"
    )


def _print_point(point: Any) -> None:
    """One row; an object point shows the part size the copy used, and the one asked for
    where the planner chose another (the store's limits, an object smaller than a part)."""
    asked = ""
    if point.kind == "prefix":
        first = str(point.objects)
    else:
        first = "-" if point.part_size is None else format_size(point.part_size)
        if point.part_size != point.asked_part_size:
            asked = f"  (asked {format_size(point.asked_part_size)})"
    rate = point.objects_per_s if point.kind == "prefix" else point.mib_per_s
    print(
        f"{first:>10} {point.concurrency:>5} {point.seconds:>8.2f} {rate:>10.1f} "
        f"{point.requests:>8} {point.p50_ms:>8.1f} {point.p99_ms:>8.1f} "
        f"{point.throttle_rate:>8.1%}{asked}" + (f"  error: {point.error}" if point.error else ""),
        flush=True,
    )


def _plot(points: list[Any], path: str, source: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    prefix = bool(points) and points[0].kind == "prefix"
    if prefix:
        xs = [p.concurrency for p in points]
        ax.plot(xs, [p.objects_per_s for p in points], marker="o", label="objects/s")
        ax.set_ylabel("objects per second")
    else:
        for asked in sorted({p.asked_part_size for p in points}):  # one line per size asked
            row = [p for p in points if p.asked_part_size == asked]
            used = sorted({p.part_size for p in row if p.part_size is not None})
            label = f"part size {format_size(asked)}"
            if used and used != [asked]:
                shown = ", ".join(map(format_size, used))
                label = f"part size {shown} (asked {format_size(asked)})"
            ax.plot(
                [p.concurrency for p in row],
                [p.mib_per_s for p in row],
                marker="o",
                label=label,
            )
        ax.set_ylabel("throughput (MiB/s)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("requests in flight (concurrency)")
    ax.set_title(f"partcopy bench: {source}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
