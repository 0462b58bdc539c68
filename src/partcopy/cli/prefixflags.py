"""The flags of prefix commands (``cp --recursive``, ``sync``, ``ls``, ``bulk``'s Dask
flags), apart from what runs them: a one-object ``cp`` builds its parser from here without
importing the prefix and bulk machinery."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from partcopy.cli.common import positive_int

__all__ = [
    "FilterAction",
    "add_dask_flags",
    "add_filter_flags",
    "add_prefix_flags",
    "add_workers_flags",
]


class FilterAction(argparse.Action):
    """Collects ``--include``/``--exclude`` into one ordered list of (action, glob)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        rules = list(getattr(namespace, self.dest, None) or [])
        rules.append((self.const, values))
        setattr(namespace, self.dest, rules)


def add_filter_flags(p: Any) -> None:
    """``--include G`` / ``--exclude G``, repeatable, kept in the order given."""
    rule = {
        "include": "every key is included by default; --include and --exclude apply in the "
        "order given, and the last one matching a key decides",
        "exclude": "e.g. --exclude '*' --include '*.jpg' keeps only the .jpg keys",
    }
    for flag, verb in (("--include", "include"), ("--exclude", "exclude")):
        p.add_argument(
            flag,
            dest="filters",
            action=FilterAction,
            const=verb,
            default=[],
            metavar="GLOB",
            help=f"{verb} keys (relative to the prefix) matching GLOB, repeatable: {rule[verb]}",
        )


def add_prefix_flags(p: Any, *, sync: bool) -> None:
    """The flags ``cp --recursive`` and ``sync`` share (besides the copier flags)."""
    add_filter_flags(p)
    p.add_argument("--dry-run", action="store_true", help="print what would happen, send no write")
    p.add_argument(
        "--max-objects",
        type=positive_int("max objects"),
        metavar="N",
        help="consider at most N source objects",
    )
    p.add_argument("--report", metavar="PATH", help="one JSON line per object (and deletion)")
    add_workers_flags(
        p,
        "copy in N worker processes on this machine, each with 1/N of the budget, fed "
        "as the listing goes (default 1: this process)",
    )
    if sync:
        from partcopy.engine.syncplan import COMPARE_MODES  # sync's parser only

        p.add_argument(
            "--delete", action="store_true", help="delete destination keys the source lacks"
        )
        p.add_argument(
            "--compare",
            choices=COMPARE_MODES,
            default="mtime",
            help="when ETags are not comparable: same size is enough (size), ETags must "
            "match (etag), or the source must not be newer (mtime, the default)",
        )


def add_dask_flags(
    p: Any, local_help: str = "run on a local Dask cluster of N workers (threads of this process)"
) -> Any:
    """``--dask-local N`` / ``--dask ADDRESS`` (one or the other); returns their group."""
    dask = p.add_mutually_exclusive_group()
    dask.add_argument(
        "--dask-local",
        type=positive_int("number of Dask workers"),
        metavar="N",
        help=local_help,
    )
    dask.add_argument("--dask", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS")
    return dask


def add_workers_flags(p: Any, workers_help: str) -> None:
    """``--workers N``, or ``--dask-local N`` (the same) or ``--dask ADDRESS``: one of them."""
    dask = add_dask_flags(p, "the same as --workers N (worker processes on this machine)")
    dask.add_argument(
        "--workers", type=positive_int("number of workers"), metavar="N", help=workers_help
    )
