"""(i) startup: how long a command that sends nothing takes, whole process, and how soon
a copy puts its first request on the wire.

``partcopy --help``, ``partcopy --version`` and ``partcopy plan`` (none may import the
engine or aiohttp) against ``rclone --help``; then ``partcopy cp``, ``rclone copyto`` and
``s5cmd cp`` of one object, timed from process start until a loopback listener has read
their first request's headers (the process is then stopped). Each is run in turn
``repeat`` × 5 times after one untimed run (so Python's bytecode cache is warm, as for an
installed tool); rows report the median and min-max. Targets: ``partcopy --help`` within
0.15 s, ``cp``'s first request within 0.2 s.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
from collections.abc import Callable

from benchmarks.common import Context
from benchmarks.contenders.rclone_cli import rclone_env
from benchmarks.machine import clean_env, tool_path, utc_now
from benchmarks.procs import ACCESS_KEY, SECRET_KEY
from benchmarks.report import Column, Row, ScenarioResult, Target, Value

TITLE = "start-up: commands that send nothing, and a copy's first request"
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


FIRST_REQUEST_DEADLINE = 30.0
"""Seconds a copy may take to send its first request before the run is counted failed."""


def _first_request(argv: Callable[[str], list[str]], env: Callable[[str], dict[str, str]]) -> float:
    """Seconds from starting ``argv(endpoint)`` until a loopback listener at ``endpoint`` has
    read its first request's headers; the process is then killed (nothing answers it)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(FIRST_REQUEST_DEADLINE)
        endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv(endpoint), env=env(endpoint), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(FIRST_REQUEST_DEADLINE)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        raise ConnectionError("the copy closed its connection mid-request")
                    head += chunk
                return time.perf_counter() - started
        finally:
            proc.kill()
            proc.wait(FIRST_REQUEST_DEADLINE)


Timed = Callable[[], float]


def _commands(ctx: Context) -> list[tuple[str, str, Timed]]:
    """(contender, case, one timed run) for every command the scenario times."""
    env = clean_env()
    partcopy = tool_path("partcopy") or "partcopy"

    def whole(argv: list[str]) -> Timed:
        return lambda: _time(argv, env)

    commands: list[tuple[str, str, Timed]] = [
        ("partcopy", "--help", whole([partcopy, "--help"])),
        ("partcopy", "--version", whole([partcopy, "--version"])),
        ("partcopy", "plan", whole([partcopy, "plan", "--profile", "s3", "--size", "1TiB"])),
    ]
    rclone, s5cmd = ctx.machine.rclone, ctx.machine.s5cmd
    if rclone:
        commands.append(("rclone", "--help", whole([rclone, "--help"])))
    ours = {**env, "PARTCOPY_ACCESS_KEY_ID": ACCESS_KEY, "PARTCOPY_SECRET_ACCESS_KEY": SECRET_KEY}
    aws = {**env, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    aws["AWS_REGION"] = "us-east-1"
    cp = [partcopy, "cp", "s3://bench/src", "s3://bench/dst", "--quiet", "--max-attempts", "1"]
    commands.append(
        (
            "partcopy",
            "cp: first request",
            lambda: _first_request(lambda url: [*cp, "--endpoint-url", url], lambda _: ours),
        )
    )
    if rclone:
        rc = [rclone, "copyto", "emu:bench/src", "emu:bench/dst", "--retries", "1"]
        commands.append(
            (
                "rclone",
                "copyto: first request",
                lambda: _first_request(
                    lambda _: rc, lambda url: rclone_env(url, ACCESS_KEY, SECRET_KEY)
                ),
            )
        )
    if s5cmd:
        s5 = ["cp", "s3://bench/src", "s3://bench/dst"]
        commands.append(
            (
                "s5cmd",
                "cp: first request",
                lambda: _first_request(
                    lambda url: [s5cmd, "--endpoint-url", url, "--retry-count", "0", *s5],
                    lambda _: aws,
                ),
            )
        )
    return commands


def run(ctx: Context) -> ScenarioResult:
    commands = _commands(ctx)
    times: dict[int, list[float]] = {i: [] for i in range(len(commands))}
    for _, _, timed in commands:
        timed()  # untimed: bytecode cache and page cache warm
    runs = 2 if ctx.quick else 5 * max(1, ctx.repeat)
    for _ in range(runs):
        for i, (_, _, timed) in enumerate(commands):
            times[i].append(timed())
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
    first = next(r for r in rows if r.contender == "partcopy" and r.case == "cp: first request")
    first_s = first.get("seconds")
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
            ),
            Target(
                "partcopy cp first request seconds",
                float(first_s) if isinstance(first_s, float) else None,
                0.2,
                "<=",
            ),
        ],
        notes=["Commands run in turn; the machine's load skews all of them alike."],
        plot_key="seconds",
        plot_label="seconds per process (median, min-max bars)",
    )
