"""The ``partcopy`` command line: argument parsing and output only, no copy logic.

Exit status: 0 done; 1 the copy failed after its retries; 2 bad input or usage, with one
line on stderr naming the bad value, before any request is sent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from partcopy.cli.bulk import add_bulk
from partcopy.cli.common import Handler, Parser
from partcopy.cli.cp import add_cp
from partcopy.cli.demo import add_demo
from partcopy.cli.ls import add_ls
from partcopy.cli.plan import add_plan
from partcopy.cli.prefix import add_sync
from partcopy.cli.resume import add_resume
from partcopy.cli.uploads import add_uploads
from partcopy.emulator.cli import add_emulator
from partcopy.version import __version__

__all__ = ["COMMANDS", "build_parser", "entry", "main"]


# --- entry point -----------------------------------------------------------------------

COMMANDS: list[Callable[[argparse._SubParsersAction[Parser]], None]] = [
    add_plan,
    add_demo,
    add_cp,
    add_resume,
    add_uploads,
    add_emulator,
    add_bulk,
    add_sync,
    add_ls,
]


def build_parser() -> Parser:
    parser = Parser(prog="partcopy", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"partcopy {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
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
