"""(h) large: one large object at zero latency, whole processes, side by side.

A virtual 80 GiB object in 16 MiB parts (5,120 parts), concurrency 10, zero latency:
``partcopy cp``, ``rclone copyto`` (rclone 1.75 with ``--s3-upload-concurrency 10``: its
part copies run 10 at a time too; at 20 ms a request, 64 parts take 1.49 s at 1 and 0.21 s
at 10) and a Python process running boto3's managed copy, each timed from process start to
exit (interpreter start-up, imports, HEAD, every part, Complete), in turn per
repeat against the same emulator process. Rows: median seconds and parts/s over repeats,
min-max as error bars. The targets' ratios are taken pair by pair (each repeat runs every
tool in turn, so a pair shares the machine's speed of the moment) and the median pair is
quoted: on a shared machine whose speed drifts, the ratio of two medians taken at
different moments says more about the drift than about the tools.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks.common import BUCKET, Context, GiB, MiB
from benchmarks.contenders.rclone_cli import rclone_env
from benchmarks.contenders.spec import Stopwatch
from benchmarks.machine import clean_env, tool_path, utc_now
from benchmarks.procs import ACCESS_KEY, ROOT, SECRET_KEY, EmulatorProcess, EmulatorSpec
from benchmarks.report import Column, Row, ScenarioResult, Target, Value

TITLE = "one large object at zero latency, whole process"
COLUMNS = (
    Column("parts", "parts", "{:d}"),
    Column("seconds", "seconds (median)"),
    Column("parts_per_s", "parts/s (median)", "{:.0f}"),
    Column("parts_per_s_min", "min", "{:.0f}"),
    Column("parts_per_s_max", "max", "{:.0f}"),
    Column("cpu_s", "client CPU s"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
    Column("x_rclone", "x rclone (pairs)", "{:.2f}"),
    Column("x_boto3", "x boto3 (pairs)", "{:.2f}"),
)

Run = tuple[bool, float, float, float, str]
"""One whole process: ok, wall seconds, CPU seconds, peak RSS MiB, last line of stderr."""


def _measure(argv: list[str], env: dict[str, str], stdin: str | None) -> Run:
    """Run ``argv`` to its end: ok, wall seconds, CPU seconds, peak RSS MiB, last stderr."""
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        with Stopwatch() as sw:
            proc = subprocess.Popen(
                argv, env=env, stdin=inp, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT
            )
            _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        last = (err.read().strip().splitlines() or [""])[-1][:200]
    cpu = ru.ru_utime + ru.ru_stime
    return proc.returncode == 0, sw.seconds, cpu, ru.ru_maxrss / 1024.0, last


def run(ctx: Context) -> ScenarioResult:
    size, part, conc = (64 * 5 * MiB, 5 * MiB, 10) if ctx.quick else (80 * GiB, 16 * MiB, 10)
    parts = -(-size // part)
    base = clean_env()
    ours = {**base, "PARTCOPY_ACCESS_KEY_ID": ACCESS_KEY, "PARTCOPY_SECRET_ACCESS_KEY": SECRET_KEY}
    with EmulatorProcess(EmulatorSpec(latency_ms=0.0, objects=(f"{BUCKET}/src={size}",))) as emu:
        src = f"s3://{BUCKET}/src"
        tools: list[tuple[str, str, list[str], dict[str, str], str | None]] = [
            (
                "partcopy",
                "cp",
                [
                    *(tool_path("partcopy") or "partcopy", "cp", src, "DST", "--quiet"),
                    *("--endpoint-url", emu.url, "--part-size", str(part)),
                    *("--concurrency", str(conc)),
                ],
                ours,
                None,
            )
        ]
        if ctx.machine.rclone:
            tools.append(
                (
                    "rclone",
                    "copyto",
                    [
                        *(ctx.machine.rclone, "copyto", f"emu:{BUCKET}/src", "emu:DST"),
                        f"--s3-copy-cutoff={part // MiB}M",
                        *(f"--s3-upload-concurrency={conc}", "--s3-no-check-bucket"),
                    ],
                    rclone_env(emu.url, ACCESS_KEY, SECRET_KEY),
                    None,
                )
            )
        spec = {
            "endpoint": emu.url,
            "bucket": BUCKET,
            "key": "src",
            "dst_key": "DST",
            "size": size,
            "part_size": part,
            "concurrency": conc,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
        }
        tools.append(
            (
                "boto3",
                "managed copy",
                [sys.executable, "-m", "benchmarks.contenders", "boto3_managed"],
                base,
                json.dumps(spec),
            )
        )
        results: dict[str, list[Run]] = {t[0]: [] for t in tools}
        for rep in range(max(1, ctx.repeat)):
            for name, _case, argv, env, stdin in tools:
                dst = f"dst-{name}-{rep}"
                args = [
                    a.replace("DST", f"{BUCKET}/{dst}" if name == "rclone" else dst) for a in argv
                ]
                if name == "partcopy":
                    args[3] = f"s3://{BUCKET}/{dst}"
                ctx.log(f"large: run {rep + 1}: {name}")
                emu.check_alive()
                text = None if stdin is None else stdin.replace('"DST"', json.dumps(dst))
                results[name].append(_measure(args, env, text))
    pairs = paired_ratios(results)
    rows = [
        _row(name, case, parts, results[name], pairs if name == "partcopy" else {})
        for name, case, *_ in tools
    ]
    return ScenarioResult(
        scenario="large",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={
            "size": size,
            "part_size": part,
            "parts": parts,
            "concurrency": conc,
            "repeats": max(1, ctx.repeat),
            "rclone": ctx.machine.rclone_version,
        },
        columns=COLUMNS,
        rows=rows,
        targets=_targets(pairs),
        notes=["Whole processes from start to exit, in turn per repeat, one emulator process."],
        plot_key="parts_per_s",
        plot_label="parts per second (median, min-max bars)",
    )


def paired_ratios(results: dict[str, list[Run]], ours: str = "partcopy") -> dict[str, list[float]]:
    """For each other tool, its seconds ÷ ours in every repeat where both finished (how many
    times faster we were, pair by pair)."""
    mine = results.get(ours, [])
    return {
        other: [t[1] / m[1] for m, t in zip(mine, runs, strict=False) if m[0] and t[0] and m[1] > 0]
        for other, runs in results.items()
        if other != ours
    }


def _row(name: str, case: str, parts: int, runs: list[Run], pairs: dict[str, list[float]]) -> Row:
    ok = [r for r in runs if r[0]]
    if not ok:
        return Row(name, case, False, {}, runs[-1][4] if runs else "no run")
    rates = [parts / r[1] for r in ok]
    middle = sorted(ok, key=lambda r: r[1])[(len(ok) - 1) // 2]
    metrics: dict[str, Value] = {
        "parts": parts,
        "seconds": middle[1],
        "parts_per_s": statistics.median(rates),
        "parts_per_s_min": min(rates),
        "parts_per_s_max": max(rates),
        "cpu_s": middle[2],
        "peak_rss_mib": middle[3],
    }
    for other, ratios in pairs.items():
        if ratios:
            metrics[f"x_{other}"] = statistics.median(ratios)
            metrics[f"x_{other}_min"] = min(ratios)
            metrics[f"x_{other}_max"] = max(ratios)
            metrics[f"x_{other}_all"] = " ".join(f"{r:.3f}" for r in ratios)
    return Row(
        name, case, len(ok) == len(runs), metrics, None if len(ok) == len(runs) else runs[-1][4]
    )


def _targets(pairs: dict[str, list[float]]) -> list[Target]:
    targets: list[Target] = []
    for other, limit in (("rclone", 1.0), ("boto3", 6.0)):
        ratios = pairs.get(other)
        if ratios:
            measured = statistics.median(ratios)
            targets.append(Target(f"whole process x {other} (median pair)", measured, limit, ">="))
    return targets
