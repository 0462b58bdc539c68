"""The ``partcopy`` command line: argument parsing and output only, no copy logic.

Exit status: 0 done; 1 the copy failed after its retries; 2 bad input or usage, with one
line on stderr naming the bad value, before any request is sent.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import NoReturn

from partcopy import process, truststore
from partcopy.cli.common import Handler, Parser
from partcopy.version import __version__

__all__ = ["COMMANDS", "Command", "build_parser", "entry", "main"]


# --- entry point -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: where its parser and handler live, and its one-line help.

    Only the chosen command's module is imported: ``--help``, ``--version`` and ``plan``
    load neither the engine nor aiohttp.
    """

    name: str
    module: str
    add: str
    help: str

    def register(self, sub: argparse._SubParsersAction[Parser]) -> None:
        add: Callable[[argparse._SubParsersAction[Parser]], None] = getattr(
            import_module(self.module), self.add
        )
        add(sub)


COMMANDS: tuple[Command, ...] = (
    Command(
        "plan", "partcopy.cli.plan", "add_plan", "show how an object would be split into parts"
    ),
    Command(
        "providers",
        "partcopy.cli.providers",
        "add_providers",
        "list the stores partcopy knows (each a --provider value)",
    ),
    Command(
        "demo",
        "partcopy.cli.demo",
        "add_demo",
        "copy a multi-GiB object through the built-in emulator (no cloud account)",
    ),
    Command(
        "cp", "partcopy.cli.cp", "add_cp", "copy one object, verified, server-side where possible"
    ),
    Command(
        "resume",
        "partcopy.cli.resume",
        "add_resume",
        "finish every unfinished copy recorded in a journal",
    ),
    Command(
        "uploads",
        "partcopy.cli.uploads",
        "add_uploads",
        "list or abort incomplete multipart uploads",
    ),
    Command(
        "emulator",
        "partcopy.emulator.cli",
        "add_emulator",
        "serve an S3/OBS/COS/QingStor emulator on loopback",
    ),
    Command(
        "bulk",
        "partcopy.cli.bulk",
        "add_bulk",
        "copy every object of a manifest (JSON lines or CSV)",
    ),
    Command(
        "sync",
        "partcopy.cli.prefix",
        "add_sync",
        "copy only what is missing or differs under a prefix",
    ),
    Command(
        "bench",
        "partcopy.cli.bench",
        "add_bench",
        "measure your store: part size x concurrency, or objects/s for a prefix",
    ),
    Command(
        "ls", "partcopy.cli.ls", "add_ls", "list objects under a prefix (one level, or --recursive)"
    ),
)


DESCRIPTION = (
    "Copy large objects and whole prefixes within and between object stores (Amazon S3 and "
    "S3-compatible stores, Huawei OBS, Tencent COS, QingStor) by verified multipart copy."
)
EPILOG = (
    "Exit status: 0 done; 1 a copy failed after its retries (its message and --json say "
    "whether the upload was aborted or kept for resume with --journal); 2 bad input, named "
    "on one line before any request is sent; 130 interrupted. 'partcopy COMMAND --help' "
    "describes a command."
)


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """The parser, with full definitions for the command ``argv`` names (every command's
    when ``argv`` is None) and a one-line entry for each of the others."""
    parser = Parser(prog="partcopy", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"partcopy {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    chosen = None if argv is None else _chosen(argv)
    for command in COMMANDS:
        if argv is None or command.name == chosen:
            command.register(sub)
            registered = sub.choices[command.name]
            if registered.description is None:  # `partcopy CMD --help` says what CMD does
                registered.description = command.help
        else:
            sub.add_parser(command.name, help=command.help, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (also used by ``python -m partcopy``)."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    handler: Handler = args.handler
    return handler(args)


def entry() -> NoReturn:
    """The console script (and ``python -m partcopy``): a whole process of its own, whose
    collector and allocator are tuned for copying (``partcopy.process``)."""
    process.tune()
    truststore.defer()  # the system's CA certificates: on the first https request
    try:
        status = main()
    except BrokenPipeError:
        # stdout's reader went away (`partcopy ls | head`): stop quietly, as a program
        # killed by SIGPIPE would, and let nothing try that pipe again on the way out.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = SIGPIPE_STATUS
    leave(status)


SIGPIPE_STATUS = 128 + 13
"""The exit status of a command whose output pipe was closed (as if killed by SIGPIPE)."""


def leave(status: int) -> NoReturn:
    """End the command's process with ``status``, skipping the interpreter's teardown
    (freeing every module and object: 40-60 ms after a large copy) once output is flushed
    and logging shut down. A process that started threads or worker processes (``--workers``,
    Dask) has exit handlers that matter: it exits the usual way."""
    if threading.active_count() > 1 or any(
        name in sys.modules for name in ("multiprocessing", "distributed")
    ):
        sys.exit(status)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader went away before the last of the output
            status = status or SIGPIPE_STATUS
        except (OSError, ValueError):  # a closed stream: nothing to tell
            pass
    os._exit(status)
