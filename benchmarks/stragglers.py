"""(c) stragglers: the schedule workload with 2 % of part requests delayed by 2 s.

Hedged part requests should keep the makespan within 1.2× the no-straggler ideal; the
same copy with hedging off, and boto3's, show what stragglers cost without them.
"""

from __future__ import annotations

from benchmarks.common import Context
from benchmarks.machine import utc_now
from benchmarks.report import ScenarioResult, Target
from benchmarks.schedule import workload
from benchmarks.timing import SCHEDULE_COLUMNS, Case, run_cases

TITLE = "2 % of parts delayed 2 s: makespan vs the no-straggler ideal"
FAULTS = ("delay:0.02:2s",)
LIMIT = 1.2


def run(ctx: Context) -> ScenarioResult:
    work = workload(ctx.quick, FAULTS)
    concs = (10,) if ctx.quick else (10, 64)
    cases = [Case("partcopy", "partcopy_lib", c, {"hedge": True}, "hedged") for c in concs]
    cases += [Case("partcopy", "partcopy_lib", c, {"hedge": False}, "no hedge") for c in concs]
    cases += [Case("boto3", "boto3_managed", c) for c in concs]
    cases += [Case("rclone", "rclone_cli", c) for c in concs]
    rows, emulator = run_cases(ctx, work, cases, "stragglers")
    targets = []
    for c in concs:
        row = next(
            (r for r in rows if r.contender == "partcopy" and r.case == f"c={c} hedged"), None
        )
        value = row.get("vs_ideal") if row else None
        targets.append(
            Target(
                f"vs_ideal: partcopy hedged c={c}",
                value if isinstance(value, float) else None,
                LIMIT,
                "<=",
            )
        )
    return ScenarioResult(
        scenario="stragglers",
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
        plot_label="makespan ÷ no-straggler ideal",
        emulator=emulator,
    )
