"""(a) overhead: how many parts/s a client drives when the store answers instantly.

A virtual 80 GiB object in 16 MiB parts (5 120 parts), zero latency, concurrency 10:
parts/s, CPU seconds and peak RSS for partcopy, boto3's managed copy and (when on PATH)
rclone, each in its own process against the same emulator process.
"""

from __future__ import annotations

from benchmarks.common import (
    BUCKET,
    WARM_KEY,
    WARM_OBJECT,
    Context,
    GiB,
    MiB,
    absent_row,
    copy_spec,
    run_median,
)
from benchmarks.common import row_from_run as _row
from benchmarks.machine import utc_now
from benchmarks.procs import EmulatorProcess, EmulatorSpec
from benchmarks.report import Column, Row, ScenarioResult, Target

TITLE = "client overhead at zero latency"
COLUMNS = (
    Column("parts", "parts", "{:d}"),
    Column("seconds", "seconds"),
    Column("parts_per_s", "parts/s", "{:.0f}"),
    Column("cpu_s", "CPU s (copy)"),
    Column("proc_cpu_s", "CPU s (process)"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
    Column("server_cpu_s", "emulator CPU s"),
    Column("vs_boto3", "× boto3 parts/s"),
)


def run(ctx: Context) -> ScenarioResult:
    size, part, conc = (64 * 5 * MiB, 5 * MiB, 10) if ctx.quick else (80 * GiB, 16 * MiB, 10)
    params = {"size": size, "part_size": part, "parts": -(-size // part), "concurrency": conc}
    emu_spec = EmulatorSpec(latency_ms=0.0, objects=(f"{BUCKET}/src={size}", WARM_OBJECT))
    rows: list[Row] = []
    with EmulatorProcess(emu_spec) as emu:
        for contender, module in (("partcopy", "partcopy_lib"), ("boto3", "boto3_managed")):
            ctx.log(f"overhead: {contender} copying {params['parts']} parts")
            spec = copy_spec(
                emu.url,
                "src",
                f"dst-{contender}",
                size=size,
                part_size=part,
                concurrency=conc,
                options={"warmup_key": WARM_KEY},
            )
            best, _ = run_median(
                module,
                spec,
                ctx.repeat,
                pick=ctx.pick,
                emulator=emu,
                profile=ctx.profile_path("overhead", contender, f"c={conc}"),
            )
            rows.append(_row(contender, f"c={conc}", best))
        if ctx.machine.rclone:
            spec = copy_spec(
                emu.url,
                "src",
                "dst-rclone",
                size=size,
                part_size=part,
                concurrency=conc,
                options={"warmup_key": WARM_KEY},
            )
            best, _ = run_median("rclone_cli", spec, ctx.repeat, pick=ctx.pick, emulator=emu)
            rows.append(_row("rclone", f"c={conc}", best))
        else:
            rows.append(absent_row("rclone", f"c={conc}", "rclone is not on PATH"))
    emulator = {"cpu_s": emu.usage.cpu_s if emu.usage else None}
    boto = next((r for r in rows if r.contender == "boto3" and r.ok), None)
    base = boto.get("parts_per_s") if boto else None
    final: list[Row] = []
    for r in rows:
        pps = r.get("parts_per_s")
        ratio = pps / base if isinstance(pps, float) and isinstance(base, float) else None
        final.append(Row(r.contender, r.case, r.ok, {**r.metrics, "vs_boto3": ratio}, r.error))
    pc = next((r for r in final if r.contender == "partcopy"), None)
    measured = pc.get("vs_boto3") if pc else None
    targets = [
        Target(
            "vs_boto3: partcopy parts/s ÷ boto3 parts/s",
            measured if isinstance(measured, float) else None,
            6.0,
            ">=",
        )
    ]
    return ScenarioResult(
        scenario="overhead",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params=params,
        columns=COLUMNS,
        rows=final,
        targets=targets,
        plot_key="parts_per_s",
        plot_label="parts per second",
        emulator=emulator,
    )
