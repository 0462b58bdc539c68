"""``partcopy providers``: the provider rows (limits, endpoints, ETag rules, quirks)."""

from __future__ import annotations

import argparse
import sys

from partcopy.cli.common import Parser, print_json
from partcopy.providers import PROVIDERS, describe, markdown_table, quirk_words
from partcopy.units import format_size

__all__ = ["add_providers", "run_providers"]


def add_providers(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser("providers", help="list the stores partcopy knows (each a --provider value)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument(
        "--markdown", action="store_true", help="print the Markdown table the README shows"
    )
    p.set_defaults(handler=run_providers)


def run_providers(args: argparse.Namespace) -> int:
    if args.json:
        print_json({"providers": [describe(row) for row in PROVIDERS.values()]})
    elif args.markdown:
        print(markdown_table(), end="")
    else:
        print_table()
    return 0


_COLUMNS = ("provider", "store", "dialect", "parts", "max object", "server copy", "quirks")


def _rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for row in PROVIDERS.values():
        lim = row.limits
        rows.append(
            (
                row.name,
                row.title,
                row.dialect,
                f"{format_size(lim.min_part)}–{format_size(lim.max_part)} × {lim.max_parts}",
                format_size(lim.max_object),
                "yes" if row.server_side_copy else "no (relay)",
                "; ".join(quirk_words(row)) or "",
            )
        )
    return rows


def print_table() -> None:
    """A table on a terminal; piped, one tab-separated line per provider (for grep and cut:
    a terminal-width table would wrap every row over many lines)."""
    if not sys.stdout.isatty():
        for line in (_COLUMNS, *_rows()):
            print("\t".join(line))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*_COLUMNS)
    for line in _rows():
        table.add_row(*line)
    Console().print(table)
