"""Start-up: ``--help``, ``--version`` and ``plan`` load neither the engine nor aiohttp
(checked in a fresh interpreter), and the one-line helps of the lazily loaded commands are
the ones their modules register."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from partcopy.cli.app import COMMANDS, build_parser
from partcopy.cli.common import Parser

_PROBE = """
import json, sys
from partcopy.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m == "aiohttp" or m.startswith(("partcopy.engine",
    "aiohttp.", "partcopy.transports.http", "partcopy.emulator")))
sys.stderr.write("MODULES " + json.dumps(heavy) + "\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["plan", "--profile", "s3", "--size", "1GiB", "--json"], []],
    ids=["help", "version", "plan", "nothing"],
)
def test_light_commands_import_neither_the_engine_nor_aiohttp(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, timeout=60
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("MODULES "))
    assert json.loads(line.removeprefix("MODULES ")) == []
    if argv[:1] == ["plan"]:
        assert json.loads(proc.stdout)["part_count"] == 16  # 64 MiB parts


def test_import_partcopy_is_light_and_names_load_on_use() -> None:
    code = (
        "import sys, partcopy; assert 'aiohttp' not in sys.modules;"
        "assert partcopy.Copier.__name__ == 'Copier' and 'aiohttp' in sys.modules;"
        "from partcopy import plan, UsageError; print(partcopy.__version__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(AttributeError, match="no_such_name"):
        import partcopy

        _ = partcopy.no_such_name  # type: ignore[attr-defined]


def test_every_command_help_matches_its_module() -> None:
    full = build_parser()  # every command registered for real
    actions = [a for a in full._actions if isinstance(a, argparse._SubParsersAction)]
    real = {c.dest: c.help for c in actions[0]._choices_actions}
    assert {c.name: c.help for c in COMMANDS} == real
    assert isinstance(full, Parser)
