"""Start-up: ``--help``, ``--version`` and ``plan`` load neither the engine nor aiohttp
(checked in a fresh interpreter), and the one-line helps of the lazily loaded commands are
the ones their modules register."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from partcopy import process
from partcopy.cli.app import COMMANDS, build_parser
from partcopy.cli.common import Parser
from partcopy.emulator.thread import EmulatorThread

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


def test_help_speaks_to_users() -> None:
    """``--help`` says what the tool and each command do, in words for users (no module
    docstring markup), and lists the exit statuses."""
    top = " ".join(build_parser().format_help().split())
    assert "``" not in top and "verified multipart copy" in top
    assert "Exit status: 0" in top and "130 interrupted" in top
    for command in COMMANDS:
        sub = build_parser([command.name])
        actions = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        own = actions[0].choices[command.name]
        assert own.description, command.name  # the one-line help, or a longer text of its own
        assert "``" not in own.format_help(), command.name


def _own_parser(name: str) -> argparse.ArgumentParser:
    sub = build_parser([name])
    actions = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices[name]


def test_every_flag_is_explained_consistently() -> None:
    """Every argument has help, none points at the source, file flags read ``PATH``, and a
    single-sided ``--profile`` does not speak of both sides."""
    for command in COMMANDS:
        own = _own_parser(command.name)
        flags = {s: a for a in own._actions for s in a.option_strings}
        for action in own._actions:
            assert action.help, (command.name, action.option_strings or action.dest)
        text = own.format_help()
        assert ".py" not in text and "cli/" not in text, command.name
        for flag in ("--journal", "--report"):
            if flag in flags:
                assert flags[flag].metavar == "PATH", (command.name, flag)
        if "--profile" in flags and "--src-profile" not in flags:
            assert "both sides" not in (flags["--profile"].help or ""), command.name
        if "--include" in flags:
            rules = " ".join(f"{flags[f].help}" for f in ("--include", "--exclude"))
            assert "included by default" in rules and "order" in rules, command.name


def test_bench_shows_its_scratch_prefix_as_required() -> None:
    usage = " ".join(_own_parser("bench").format_usage().split())
    assert usage.endswith(" SRC DST_PREFIX") and "[DST_PREFIX]" not in usage


_CP_PROBE = """
import json, sys
from partcopy.cli import main
status = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("structlog", "rich") or m in (
    "partcopy.cli.prefix", "partcopy.cli.bulk", "partcopy.engine.bulk",
    "partcopy.engine.bulkrun", "partcopy.engine.prefixcopy", "sqlite3", "partcopy.engine.journal",
    "partcopy.engine.resume", "partcopy.transports.signing.cos"))
sys.stderr.write(f"STATUS {status} MODULES " + json.dumps(loaded) + "\\n")
"""


def _cp_modules(url: str, *extra: str) -> tuple[str, list[str]]:
    """Copy one object in a fresh interpreter; its status and which optional modules loaded."""
    env = {**os.environ, "PARTCOPY_ACCESS_KEY_ID": "partcopy"}
    env["PARTCOPY_SECRET_ACCESS_KEY"] = "partcopy-secret"
    argv = ["cp", "s3://src/k", "s3://dst/k", "--endpoint-url", url, "--quiet", *extra]
    proc = subprocess.run(
        [sys.executable, "-c", _CP_PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("STATUS "))
    status, _, modules = line.removeprefix("STATUS ").partition(" MODULES ")
    return status, json.loads(modules)


def test_a_one_object_copy_that_logs_nothing_loads_no_logging_or_prefix_machinery(
    tmp_path: Path,
) -> None:
    """structlog (with rich and pygments) loads with the first event shown; the prefix and
    bulk runners only for ``--recursive``; the journal (and SQLite) only with ``--journal``;
    another dialect's signer never."""
    with EmulatorThread(dialect="s3", objects=["src/k=1MiB", "dst/x=0"]) as emu:
        assert _cp_modules(emu.url) == ("0", [])
        status, modules = _cp_modules(emu.url, "--log-level", "info")
        assert status == "0" and "structlog" in modules and "partcopy.engine.bulk" not in modules
        status, modules = _cp_modules(emu.url, "--journal", str(tmp_path / "j.db"))
    assert status == "0" and "sqlite3" in modules and "partcopy.engine.resume" in modules
    assert "structlog" not in modules and "partcopy.transports.signing.cos" not in modules


_ENTRY = """
import atexit, gc, sys, threading
from partcopy.cli import app
atexit.register(lambda: print("teardown"))
if sys.argv[1] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, args=(5,)).start()
    atexit.register(stop.set)
app.main = lambda: (print("threshold", gc.get_threshold()[0]), 3)[1]
app.entry()
"""


@pytest.mark.parametrize("kind", ["plain", "thread"])
def test_the_console_script_tunes_the_collector_and_skips_the_teardown(kind: str) -> None:
    """``entry`` (the command's own process, never ``main``) raises the first GC threshold,
    flushes what was printed and leaves with main's status without the interpreter's
    teardown; with another thread alive, exit handlers matter and run as usual."""
    proc = subprocess.run(
        [sys.executable, "-c", _ENTRY, kind], capture_output=True, text=True, timeout=60
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 3 and lines[0] == f"threshold {process.GC_THRESHOLD}"
    assert lines[1:] == ([] if kind == "plain" else ["teardown"])
    assert gc.get_threshold()[0] < process.GC_THRESHOLD  # this process: untouched


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    """``from partcopy import X`` for each name of ``__all__``: the lazy table and the
    list of names agree, and each name is the object its module defines."""
    import partcopy

    lazy = set(partcopy._LAZY)
    assert lazy == set(partcopy.__all__) - {"__version__"}
    for name in partcopy.__all__:
        assert getattr(partcopy, name) is not None, name
