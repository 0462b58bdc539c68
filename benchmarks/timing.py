"""Schedule scenarios' shared runner: contenders × concurrencies on one latency-modelled
emulator, each row carrying its makespan divided by the ideal schedule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common import (
    BUCKET,
    WARM_KEY,
    WARM_OBJECT,
    Context,
    absent_row,
    copy_spec,
    emulator_stats,
    ideal_seconds,
    part_seconds,
    row_from_run,
    run_median,
)
from benchmarks.procs import EmulatorProcess, EmulatorSpec
from benchmarks.report import Column, Row

__all__ = ["SCHEDULE_COLUMNS", "Case", "Workload", "run_cases"]

SCHEDULE_COLUMNS = (
    Column("parts", "parts", "{:d}"),
    Column("ideal_s", "ideal s", "{:.3f}"),
    Column("seconds", "makespan s", "{:.3f}"),
    Column("vs_ideal", "÷ ideal", "{:.3f}"),
    Column("retries", "retries", "{:d}"),
    Column("hedges", "hedges", "{:d}"),
    Column("cpu_s", "CPU s"),
    Column("server_cpu_s", "emulator CPU s"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
)


@dataclass(frozen=True, slots=True)
class Workload:
    """One object and the emulator's latency model (and faults) it is copied under."""

    size: int
    part_size: int
    latency_ms: float
    gbps: float | None
    faults: tuple[str, ...] = ()

    @property
    def parts(self) -> int:
        return -(-self.size // self.part_size)

    @property
    def per_part(self) -> float:
        return part_seconds(self.part_size, self.latency_ms, self.gbps)

    def ideal(self, concurrency: int) -> float:
        return ideal_seconds(self.parts, concurrency, self.per_part)

    def params(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "part_size": self.part_size,
            "parts": self.parts,
            "latency_ms": self.latency_ms,
            "gbps": self.gbps,
            "per_part_s": self.per_part,
            "faults": " ".join(self.faults) or "none",
        }


@dataclass(frozen=True, slots=True)
class Case:
    """A contender at one concurrency, with its options (e.g. hedging off)."""

    contender: str
    module: str
    concurrency: int
    options: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def case(self) -> str:
        return f"c={self.concurrency}" + (f" {self.label}" if self.label else "")


def run_cases(
    ctx: Context, work: Workload, cases: Sequence[Case], tag: str, repeat: int | None = None
) -> tuple[list[Row], dict[str, Any]]:
    """Run every case (``repeat`` times, default ``ctx.repeat``) against one emulator
    process; rows carry ``vs_ideal`` and ``completed`` of ``runs``.

    Returns the rows and what the emulator said of itself (its stats and CPU seconds).
    """
    spec = EmulatorSpec(
        latency_ms=work.latency_ms,
        gbps=work.gbps,
        faults=work.faults,
        objects=(f"{BUCKET}/src={work.size}", WARM_OBJECT),
    )
    rows: list[Row] = []
    with EmulatorProcess(spec) as emu:
        for n, case in enumerate(cases):
            if case.contender == "rclone" and not ctx.machine.rclone:
                rows.append(absent_row("rclone", case.case, "rclone is not on PATH"))
                continue
            ctx.log(f"{tag}: {case.contender} {case.case}: {work.parts} parts")
            cspec = copy_spec(
                emu.url,
                "src",
                f"dst-{tag}-{n}",
                size=work.size,
                part_size=work.part_size,
                concurrency=case.concurrency,
                options={"warmup_key": WARM_KEY, **case.options},
            )
            best, runs = run_median(
                case.module,
                cspec,
                repeat or ctx.repeat,
                pick=ctx.pick,
                emulator=emu,
                profile=ctx.profile_path(tag, case.contender, case.case),
            )
            ideal = work.ideal(case.concurrency)
            seconds = float(best.outcome.get("seconds") or 0.0)
            ratios = [
                float(r.outcome.get("seconds") or 0.0) / ideal for r in runs if r.ok and ideal > 0
            ]
            extra = {
                "ideal_s": ideal,
                "vs_ideal": seconds / ideal if best.ok and ideal > 0 else None,
                # the plot's error bars: the spread of the repeats
                "vs_ideal_min": min(ratios) if ratios else None,
                "vs_ideal_max": max(ratios) if ratios else None,
                "completed": sum(1 for r in runs if r.ok),
                "runs": len(runs),
                "all_seconds": " ".join(f"{r.outcome.get('seconds') or 0:.3f}" for r in runs),
            }
            rows.append(row_from_run(case.contender, case.case, best, extra))
        stats = emulator_stats(emu.url)
    info: dict[str, Any] = {"stats": stats, "cpu_s": emu.usage.cpu_s if emu.usage else None}
    return rows, info
