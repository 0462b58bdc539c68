"""(d) faults: the engine issue's fault mix: does every copy complete, and how much slower?

5 % 503 SlowDown, 2 % ETag-less 200, 2 % error-bodied 200, 1 % connection reset and 1 %
+2 s delay on part requests, over the schedule workload at concurrency 10; each contender
is run several times under faults (completion rate) and once fault-free (the baseline).
partcopy runs as shipped (adaptive concurrency: AIMD on 503 SlowDown) and with a fixed
concurrency, because random 503s are indistinguishable from real throttling to AIMD.
"""

from __future__ import annotations

from benchmarks.common import Context
from benchmarks.machine import utc_now
from benchmarks.report import Column, Row, ScenarioResult, Target
from benchmarks.schedule import workload
from benchmarks.timing import Case, run_cases

TITLE = "fault mix: completion rate and slowdown vs fault-free"
FAULT_MIX = (
    "slowdown:0.05",
    "noetag:0.02",
    "error200:0.02",
    "reset:0.01",
    "delay:0.01:2s",
)
COLUMNS = (
    Column("parts", "parts", "{:d}"),
    Column("completed", "completed", "{:d}"),
    Column("runs", "runs", "{:d}"),
    Column("seconds", "seconds (median)", "{:.3f}"),
    Column("vs_fault_free", "÷ fault-free", "{:.3f}"),
    Column("retries", "retries", "{:d}"),
    Column("retry_reasons", "retries by reason", "{}"),
    Column("min_concurrency", "lowest concurrency", "{:d}"),
    Column("cpu_s", "CPU s"),
)


def run(ctx: Context) -> ScenarioResult:
    concurrency = 10
    runs = 1 if ctx.quick else max(ctx.repeat, 5)
    cases = [
        Case("partcopy", "partcopy_lib", concurrency),
        Case("partcopy", "partcopy_lib", concurrency, {"adaptive": False}, "fixed"),
        Case("boto3", "boto3_managed", concurrency),
        Case("rclone", "rclone_cli", concurrency),
    ]
    clean_rows, clean_emu = run_cases(ctx, workload(ctx.quick), cases, "fault-free", 1)
    fault_rows, fault_emu = run_cases(ctx, workload(ctx.quick, FAULT_MIX), cases, "faults", runs)
    rows: list[Row] = []
    for clean, faulted in zip(clean_rows, fault_rows, strict=True):
        base = clean.get("seconds") if clean.ok else None
        label = clean.case.removeprefix(f"c={concurrency}")
        rows.append(
            Row(clean.contender, f"fault-free{label}", clean.ok, clean.metrics, clean.error)
        )
        secs = faulted.get("seconds")
        ratio = (
            secs / base
            if faulted.ok and isinstance(secs, float) and isinstance(base, float) and base > 0
            else None
        )
        rows.append(
            Row(
                faulted.contender,
                f"fault mix{label}",
                faulted.ok,
                {**faulted.metrics, "vs_fault_free": ratio},
                faulted.error,
            )
        )
    pc = next((r for r in rows if r.contender == "partcopy" and r.case == "fault mix"), None)
    completed = pc.get("completed") if pc else None
    total = pc.get("runs") if pc else None
    rate = (
        completed / total
        if isinstance(completed, int) and isinstance(total, int) and total
        else None
    )
    slowdown = pc.get("vs_fault_free") if pc else None
    targets = [
        Target("completed: partcopy completion rate", rate, 1.0, ">="),
        Target(
            "vs_fault_free: partcopy slowdown",
            slowdown if isinstance(slowdown, float) else None,
            1.25,
            "<=",
        ),
    ]
    params = {**workload(ctx.quick, FAULT_MIX).params(), "concurrency": concurrency}
    stats = fault_emu.get("stats") or {}
    notes = [
        "under faults, the emulator saw every Complete list only ETags it issued: "
        f"{stats.get('every_complete_issued')}; uploads left open: {stats.get('open_uploads')}; "
        f"faults fired: {stats.get('faults')}"
    ]
    return ScenarioResult(
        scenario="faults",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params=params,
        columns=COLUMNS,
        rows=rows,
        targets=targets,
        notes=notes,
        plot_key="seconds",
        plot_label="seconds (median of runs)",
        emulator={"fault_free": clean_emu, "faults": fault_emu},
    )
