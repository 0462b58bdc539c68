"""``partcopy plan``: show how an object would be split into parts (no request is sent)."""

from __future__ import annotations

import argparse

from partcopy.cli.common import (
    Parser,
    fail_usage,
    positive_int,
    print_json,
    provider_name,
    size_arg,
)
from partcopy.errors import PartcopyError, UsageError
from partcopy.planners import CopyPlan, get_profile, plan
from partcopy.providers import PROVIDERS, get_provider
from partcopy.units import format_size

__all__ = ["add_plan", "print_plan_table", "run_plan"]


def add_plan(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser("plan", help="show how an object would be split into parts")
    p.add_argument(
        "--profile",
        "--provider",
        dest="profile",
        required=True,
        type=provider_name,
        metavar="NAME",
        help="the destination's provider row (its limits): " + ", ".join(PROVIDERS),
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
    p.set_defaults(handler=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    try:
        if args.part_size is not None and args.part_size == 0:
            raise UsageError("invalid part size '0': must be positive")
        result = plan(
            args.size,
            get_profile(args.profile),
            args.part_size,
            args.concurrency,
            single_threshold=args.single_threshold,
            range_floor=get_provider(args.profile).range_copy_floor,  # a server-side copy
        )
    except PartcopyError as exc:
        return fail_usage(exc)
    if args.json:
        print_json(result.as_dict())
    else:
        print_plan_table(result)
    return 0


def print_plan_table(p: CopyPlan, limit: int = 12) -> None:
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
