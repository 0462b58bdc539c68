"""(b) schedule: how close a copy comes to the ideal schedule under a latency model.

640 parts of 16 MiB, each taking 20 ms + size / 4 Gb/s at the emulator, at concurrency 10
and 64: makespan ÷ ideal, where ideal = ceil(parts / concurrency) × per-part time. The
``floor`` row is no tool: prepared requests on blocking sockets, the least a client can do
(``contenders/floor_copy.py``), so its ratio is what the emulator and the machine allow and
every other row's excess over it is that contender's own cost.
"""

from __future__ import annotations

from benchmarks.common import Context, MiB
from benchmarks.machine import utc_now
from benchmarks.report import ScenarioResult, Target
from benchmarks.timing import SCHEDULE_COLUMNS, Case, Workload, run_cases

TITLE = "makespan vs the ideal schedule (20 ms + 4 Gb/s per part)"
LIMITS = {10: 1.03, 64: 1.10}


def workload(quick: bool, faults: tuple[str, ...] = ()) -> Workload:
    """640 × 16 MiB parts at 20 ms + 4 Gb/s (quick: 40 parts)."""
    parts = 40 if quick else 640
    return Workload(parts * 16 * MiB, 16 * MiB, 20.0, 4.0, faults)


def run(ctx: Context) -> ScenarioResult:
    work = workload(ctx.quick)
    concs = (10,) if ctx.quick else (10, 64)
    cases = [Case("partcopy", "partcopy_lib", c) for c in concs]
    cases += [Case("boto3", "boto3_managed", c) for c in concs]
    cases += [Case("rclone", "rclone_cli", c) for c in concs]
    cases += [Case("floor", "floor_copy", c) for c in concs]
    rows, emulator = run_cases(ctx, work, cases, "schedule")
    targets = []
    for c in concs:
        row = next((r for r in rows if r.contender == "partcopy" and r.case == f"c={c}"), None)
        value = row.get("vs_ideal") if row else None
        targets.append(
            Target(
                f"vs_ideal: partcopy c={c}",
                value if isinstance(value, float) else None,
                LIMITS[c],
                "<=",
            )
        )
    return ScenarioResult(
        scenario="schedule",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params=work.params(),
        columns=SCHEDULE_COLUMNS,
        rows=rows,
        targets=targets,
        plot_key="vs_ideal",
        plot_label="makespan ÷ ideal",
        emulator=emulator,
    )
