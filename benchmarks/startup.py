"""(i) startup: how long a command that sends nothing takes, whole process.

``partcopy --help``, ``partcopy --version`` and ``partcopy plan`` (none may import the
engine or aiohttp) against ``rclone --help``, each run in turn ``repeat`` × 5 times after
one untimed run (so Python's bytecode cache is warm, as for an installed tool); rows
report the median and min-max. The target: ``partcopy --help`` within 0.15 s.
"""

from __future__ import annotations

import statistics
import subprocess
import time

from benchmarks.common import Context
from benchmarks.machine import clean_env, tool_path, utc_now
from benchmarks.report import Column, Row, ScenarioResult, Target, Value

TITLE = "start-up of commands that send nothing, whole process"
COLUMNS = (
    Column("seconds", "seconds (median)", "{:.3f}"),
    Column("seconds_min", "min", "{:.3f}"),
    Column("seconds_max", "max", "{:.3f}"),
    Column("runs", "runs", "{:d}"),
)


def _time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def run(ctx: Context) -> ScenarioResult:
    env = clean_env()
    partcopy = tool_path("partcopy") or "partcopy"
    commands: list[tuple[str, str, list[str]]] = [
        ("partcopy", "--help", [partcopy, "--help"]),
        ("partcopy", "--version", [partcopy, "--version"]),
        ("partcopy", "plan", [partcopy, "plan", "--profile", "s3", "--size", "1TiB", "--json"]),
    ]
    if ctx.machine.rclone:
        commands.append(("rclone", "--help", [ctx.machine.rclone, "--help"]))
    times: dict[int, list[float]] = {i: [] for i in range(len(commands))}
    for _, _, argv in commands:
        _time(argv, env)  # untimed: bytecode cache and page cache warm
    runs = 2 if ctx.quick else 5 * max(1, ctx.repeat)
    for _ in range(runs):
        for i, (_, _, argv) in enumerate(commands):
            times[i].append(_time(argv, env))
    rows = []
    for i, (name, case, _) in enumerate(commands):
        metrics: dict[str, Value] = {
            "seconds": statistics.median(times[i]),
            "seconds_min": min(times[i]),
            "seconds_max": max(times[i]),
            "runs": len(times[i]),
        }
        rows.append(Row(name, case, True, metrics))
    help_s = rows[0].get("seconds")
    return ScenarioResult(
        scenario="startup",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={"runs": runs, "rclone": ctx.machine.rclone_version},
        columns=COLUMNS,
        rows=rows,
        targets=[
            Target(
                "partcopy --help seconds",
                float(help_s) if isinstance(help_s, float) else None,
                0.15,
                "<=",
            )
        ],
        notes=["Commands run in turn; the machine's load skews all of them alike."],
        plot_key="seconds",
        plot_label="seconds per process (median, min-max bars)",
    )
