"""The ``partcopy`` command line: argument parsing and output only, no copy logic.

Exit status: 0 done; 1 the copy failed after its retries; 2 bad input or usage, with one
line on stderr naming the bad value, before any request is sent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from partcopy.errors import PartcopyError, UsageError
from partcopy.planners import PROFILES, CopyPlan, get_profile, plan
from partcopy.units import format_size, parse_size

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
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


def print_json(obj: object) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    sys.stdout.flush()


def fail_usage(exc: PartcopyError) -> int:
    """Report bad input as one line on stderr; return its exit status."""
    sys.stderr.write(f"partcopy: error: {exc}\n")
    return exc.exit_status


# --- plan ------------------------------------------------------------------------------


def _add_plan(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("plan", help="show how an object would be split into parts")
    p.add_argument(
        "--profile",
        required=True,
        choices=sorted(PROFILES),
        metavar="PROFILE",
        help="destination limits: " + ", ".join(PROFILES),
    )
    p.add_argument("--size", required=True, type=size_arg("size"), help="object size")
    p.add_argument("--part-size", type=size_arg("part size"), help="preferred part size")
    p.add_argument(
        "--concurrency",
        type=positive_int("concurrency"),
        help="workers; the part count is tuned to fill the last wave",
    )
    p.add_argument(
        "--single-threshold",
        type=size_arg("single-copy threshold"),
        help="copy objects up to this size with one CopyObject",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_run_plan)


def _run_plan(args: argparse.Namespace) -> int:
    try:
        if args.part_size is not None and args.part_size == 0:
            raise UsageError("invalid part size '0': must be positive")
        result = plan(
            args.size,
            get_profile(args.profile),
            args.part_size,
            args.concurrency,
            single_threshold=args.single_threshold,
        )
    except PartcopyError as exc:
        return fail_usage(exc)
    if args.json:
        print_json(result.as_dict())
    else:
        _print_plan_table(result)
    return 0


def _print_plan_table(p: CopyPlan, limit: int = 12) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"profile [bold]{p.limits.name}[/]  size {p.size} ({format_size(p.size)})  "
        f"mode [bold]{p.mode}[/]  part size {p.part_size} ({format_size(p.part_size)})  "
        f"parts {p.part_count}"
    )
    for adj in p.adjustments:
        asked = "default" if adj.requested is None else str(adj.requested)
        console.print(f"  adjusted: {asked} -> {adj.chosen}: {adj.reason}")
    table = Table("part", "first", "last", "bytes")
    count = p.part_count
    shown = (
        list(range(count))
        if count <= limit
        else [*range(limit // 2), *range(count - limit // 2, count)]
    )
    previous = -1
    for index in shown:
        if index != previous + 1:
            table.add_row("…", "…", "…", "…")
        t = p.task(p.first_part_number + index)
        table.add_row(str(t.part_number), str(t.first), str(t.last), str(t.size))
        previous = index
    console.print(table)


# --- demo ----------------------------------------------------------------------------


def _add_demo(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "demo",
        help="copy a multi-GiB object through the built-in emulator (no cloud account)",
    )
    p.add_argument("--size", type=size_arg("size"), help="object size (default 8GiB)")
    p.add_argument("--part-size", type=size_arg("part size"), help="part size (default 64MiB)")
    p.add_argument(
        "--concurrency", type=positive_int("concurrency"), help="parts in flight (default 16)"
    )
    p.add_argument("--no-faults", action="store_true", help="turn off the light fault mix")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from partcopy.demo import DemoConfig
    from partcopy.demo import main as demo_main

    overrides: dict[str, object] = {
        name: value
        for name, value in (
            ("size", args.size),
            ("part_size", args.part_size),
            ("concurrency", args.concurrency),
        )
        if value is not None
    }
    if args.no_faults:
        overrides["faults"] = ()
    try:
        config = DemoConfig(**overrides)  # type: ignore[arg-type]
    except UsageError as exc:
        return fail_usage(exc)
    return demo_main(config, json_output=args.json, quiet=args.quiet)


# --- cp ------------------------------------------------------------------------------


def _add_cp(sub: argparse._SubParsersAction[_Parser]) -> None:
    from partcopy.cp_cli import add_cp  # its own module: cli.py stays free of copy logic

    add_cp(sub)


# --- emulator --------------------------------------------------------------------------


def _add_emulator(sub: argparse._SubParsersAction[_Parser]) -> None:
    from partcopy.emulator.cli import add_emulator  # its own module, like cp

    add_emulator(sub)


# --- resume, uploads ------------------------------------------------------------------


def _add_resume(sub: argparse._SubParsersAction[_Parser]) -> None:
    from partcopy.resume_cli import add_resume  # its own module, like cp

    add_resume(sub)


def _add_uploads(sub: argparse._SubParsersAction[_Parser]) -> None:
    from partcopy.resume_cli import add_uploads

    add_uploads(sub)


# --- bulk ----------------------------------------------------------------------------


def _add_bulk(sub: argparse._SubParsersAction[_Parser]) -> None:
    from partcopy.bulk_cli import add_bulk  # its own module, like cp

    add_bulk(sub)


# --- entry point -----------------------------------------------------------------------

COMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [
    _add_plan,
    _add_demo,
    _add_cp,
    _add_resume,
    _add_uploads,
    _add_emulator,
    _add_bulk,
]


def build_parser() -> _Parser:
    parser = _Parser(prog="partcopy", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (also used by ``python -m partcopy``)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


def entry() -> NoReturn:
    sys.exit(main())
