"""(e) memory: does a copy's peak RSS stay flat as the part count grows tenfold?

1 000 vs 10 000 parts of 5 MiB at zero latency, concurrency 10; the peak RSS of each
contender's process (kernel accounting via wait4). Target: partcopy grows < 10 MiB.
"""

from __future__ import annotations

from benchmarks.common import BUCKET, Context, MiB, copy_spec, row_from_run, run_median
from benchmarks.machine import utc_now
from benchmarks.procs import EmulatorProcess, EmulatorSpec
from benchmarks.report import Column, Row, ScenarioResult, Target

TITLE = "peak RSS as the part count grows tenfold"
COLUMNS = (
    Column("parts", "parts", "{:d}"),
    Column("seconds", "seconds"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.1f}"),
    Column("rss_growth_mib", "growth MiB", "{:.1f}"),
    Column("cpu_s", "CPU s"),
)
PART = 5 * MiB


def run(ctx: Context) -> ScenarioResult:
    small, large = (20, 100) if ctx.quick else (1_000, 10_000)
    concurrency = 10
    objects = (f"{BUCKET}/small={small * PART}", f"{BUCKET}/large={large * PART}")
    rows: list[Row] = []
    with EmulatorProcess(EmulatorSpec(objects=objects)) as emu:
        for contender, module in (("partcopy", "partcopy_lib"), ("boto3", "boto3_managed")):
            first: Row | None = None
            for key, parts in (("small", small), ("large", large)):
                ctx.log(f"memory: {contender} {parts} parts")
                spec = copy_spec(
                    emu.url,
                    key,
                    f"dst-{contender}-{key}",
                    size=parts * PART,
                    part_size=PART,
                    concurrency=concurrency,
                )
                best, _ = run_median(
                    module,
                    spec,
                    ctx.repeat,
                    pick=ctx.pick,
                    emulator=emu,
                    profile=ctx.profile_path("memory", contender, f"{parts}"),
                )
                row = row_from_run(contender, f"{parts} parts", best)
                if first is not None:
                    a, b = first.get("peak_rss_mib"), row.get("peak_rss_mib")
                    growth = b - a if isinstance(a, float) and isinstance(b, float) else None
                    row = Row(
                        row.contender,
                        row.case,
                        row.ok,
                        {**row.metrics, "rss_growth_mib": growth},
                        row.error,
                    )
                first = first or row
                rows.append(row)
    pc = next(
        (r for r in rows if r.contender == "partcopy" and r.get("rss_growth_mib") is not None),
        None,
    )
    measured = pc.get("rss_growth_mib") if pc else None
    targets = [
        Target(
            f"rss_growth_mib: partcopy {small} -> {large} parts",
            measured if isinstance(measured, float) else None,
            10.0,
            "<=",
        )
    ]
    return ScenarioResult(
        scenario="memory",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={"part_size": PART, "small_parts": small, "large_parts": large},
        columns=COLUMNS,
        rows=rows,
        targets=targets,
        plot_key="peak_rss_mib",
        plot_label="peak RSS (MiB)",
        emulator={"cpu_s": emu.usage.cpu_s if emu.usage else None},
    )
