"""Throttling: the emulator answers SlowDown whenever more than N copy parts are in flight.

partcopy's adaptive concurrency (max 4×N) should settle at about N within a few seconds and
finish with far fewer throttled answers than the same copy at a fixed concurrency of 4×N.
Run ``python -m benchmarks.throttle [--quick] [--n N]``: prints a table and writes
``benchmarks/results/throttle.json``; ``python -m benchmarks.run throttle`` runs it in the
harness (``run(ctx)``) with targets: >= 3x fewer throttled answers, converged within 5 s.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import anyio

from benchmarks.common import Context
from benchmarks.machine import utc_now
from benchmarks.report import Column, Row, ScenarioResult, Target
from partcopy.cli.logs import configure_logging
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.adaptive import LimiterStatistics
from partcopy.engine.copier import Copier
from partcopy.engine.retry import RetryPolicy

__all__ = ["RunResult", "Scenario", "main", "run", "run_copy", "run_scenario"]

MiB = 1024**2
RESULTS = Path(__file__).parent / "results"
CREDS = {
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One throttled copy: the store's in-flight bound N, the object and the part latency."""

    n: int = 8
    size: int = 2048 * MiB
    part_size: int = 5 * MiB
    latency_ms: float = 40.0
    max_attempts: int = 200
    """High enough that the fixed-concurrency copy finishes too, so both can be compared."""
    sample_every: float = 0.02

    @property
    def parts(self) -> int:
        return -(-self.size // self.part_size)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one copy did: the store's and the client's view of throttling and concurrency."""

    mode: str
    concurrency_max: int
    status: str
    seconds: float
    throttled_store: int
    throttled_client: int
    retries: int
    parts: int
    peak_in_flight_store: int
    final_limit: int
    min_limit: int
    converged_after: float | None
    """Seconds from the start until the limit first reached <= N (None: never)."""
    in_flight_le_n_after_convergence: float | None
    """Share of samples after convergence with at most N requests in flight."""
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    """(seconds, limit, in flight) over time, for plots."""


def _stats(copier: Copier) -> LimiterStatistics | None:
    stats = list(copier.limiter_statistics().values())
    return stats[0] if stats else None


async def run_copy(
    emu: EmulatorThread, scenario: Scenario, *, adaptive: bool, key: str
) -> RunResult:
    """Copy the scenario's object once at max concurrency 4×N, adaptive or fixed."""
    conc = 4 * scenario.n
    before = emu.call(emu.emulator.stats)
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()
    status = "completed"
    retries = 0
    async with Copier(
        concurrency=conc,
        endpoint_url=emu.url,
        env=CREDS,
        adaptive=adaptive,
        retry=RetryPolicy(max_attempts=scenario.max_attempts),
    ) as copier:

        async def sample() -> None:
            while True:
                stats = _stats(copier)
                if stats is not None:
                    samples.append((time.monotonic() - started, stats.limit, stats.in_flight))
                await anyio.sleep(scenario.sample_every)

        async with anyio.create_task_group() as tg:
            tg.start_soon(sample)
            try:
                result = await copier.copy(
                    "s3://bench-src/object.bin",
                    f"s3://bench-dst/{key}",
                    part_size=scenario.part_size,
                    concurrency=conc,
                )
                retries = result.retries
            except Exception as exc:  # a failed copy is a result here, not a crash
                status = f"failed: {type(exc).__name__}"
            tg.cancel_scope.cancel()
        final = _stats(copier)
    seconds = time.monotonic() - started
    after = emu.call(emu.emulator.stats)
    converged = next((t for t, limit, _ in samples if limit <= scenario.n), None)
    later = [inf for t, _, inf in samples if converged is not None and t >= converged]
    share = sum(1 for inf in later if inf <= scenario.n) / len(later) if later else None
    return RunResult(
        mode="adaptive" if adaptive else "fixed",
        concurrency_max=conc,
        status=status,
        seconds=round(seconds, 3),
        throttled_store=after.faults.get("throttle", 0) - before.faults.get("throttle", 0),
        throttled_client=final.throttled if final else 0,
        retries=retries,
        parts=after.parts_copied - before.parts_copied,
        peak_in_flight_store=after.peak_in_flight,
        final_limit=final.limit if final else conc,
        min_limit=final.min_limit if final else conc,
        converged_after=None if converged is None else round(converged, 3),
        in_flight_le_n_after_convergence=None if share is None else round(share, 3),
        samples=samples,
    )


def run_scenario(scenario: Scenario) -> list[RunResult]:
    """The same copy at fixed 4×N, then adaptive (max 4×N), against one throttling emulator."""
    objects = [f"bench-src/object.bin={scenario.size}", "bench-dst/.keep=0"]
    results = []
    for adaptive in (False, True):
        # A fresh emulator per run so the store's peak in flight is this run's own.
        with EmulatorThread(
            dialect="s3",
            objects=objects,
            latency_ms=scenario.latency_ms,
            faults=[f"throttle:{scenario.n}"],
        ) as emu:
            key = "adaptive.bin" if adaptive else "fixed.bin"
            copy = functools.partial(run_copy, emu, scenario, adaptive=adaptive, key=key)
            results.append(anyio.run(copy))
    return results


def _table(scenario: Scenario, results: Sequence[RunResult]) -> str:
    head = (
        f"throttle:{scenario.n}  object {scenario.size // MiB} MiB in {scenario.parts} parts of "
        f"{scenario.part_size // MiB} MiB, {scenario.latency_ms:g} ms per copy, max concurrency "
        f"{4 * scenario.n}"
    )
    cols = (
        "mode",
        "status",
        "throttled (store)",
        "throttled (client)",
        "retries",
        "final limit",
        "min limit",
        "converged after s",
        "<=N in flight after",
        "seconds",
    )
    rows = [
        (
            r.mode,
            r.status,
            r.throttled_store,
            r.throttled_client,
            r.retries,
            r.final_limit,
            r.min_limit,
            "-" if r.converged_after is None else r.converged_after,
            "-"
            if r.in_flight_le_n_after_convergence is None
            else f"{r.in_flight_le_n_after_convergence:.0%}",
            r.seconds,
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in (c, *(row[i] for row in rows))) for i, c in enumerate(cols)]
    lines = [head, "  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


RATIO_TARGET = 3.0
CONVERGENCE_TARGET = 5.0


def run(ctx: Context) -> ScenarioResult:
    """The scenario in the benchmark harness (``python -m benchmarks.run throttle``)."""
    configure_logging("warning")
    scenario = Scenario(size=(400 if ctx.quick else 2048) * MiB)
    fixed, adaptive = run_scenario(scenario)
    keys = (
        "throttled_store",
        "throttled_client",
        "retries",
        "final_limit",
        "min_limit",
        "converged_after",
        "in_flight_le_n_after_convergence",
        "seconds",
    )
    rows = [
        Row(
            "partcopy",
            f"{r.mode} max={r.concurrency_max}",
            r.status == "completed",
            {k: getattr(r, k) for k in keys},
            None if r.status == "completed" else r.status,
        )
        for r in (fixed, adaptive)
    ]
    ratio = fixed.throttled_store / max(adaptive.throttled_store, 1)
    return ScenarioResult(
        scenario="throttle",
        title=f"SlowDown beyond {scenario.n} copy parts in flight: fixed 4xN vs adaptive",
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={k: v for k, v in asdict(scenario).items() if isinstance(v, int | float)},
        columns=[
            Column("throttled_store", "throttled", "{:.0f}"),
            Column("retries", "retries", "{:.0f}"),
            Column("final_limit", "final limit", "{:.0f}"),
            Column("min_limit", "min limit", "{:.0f}"),
            Column("converged_after", "converged s", "{:.2f}"),
            Column("in_flight_le_n_after_convergence", "<=N after", "{:.0%}"),
            Column("seconds", "seconds", "{:.2f}"),
        ],
        rows=rows,
        targets=[
            Target("fixed/adaptive throttled answers", round(ratio, 2), RATIO_TARGET, ">="),
            Target(
                "adaptive: seconds to limit <= N",
                adaptive.converged_after,
                CONVERGENCE_TARGET,
                "<=",
            ),
        ],
        notes=["client and emulator (a thread) share one process; counts, not times, matter"],
        plot_key="throttled_store",
        plot_label="throttled answers",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throttle", description=__doc__)
    parser.add_argument("--n", type=int, default=8, help="the store's in-flight bound N")
    parser.add_argument("--quick", action="store_true", help="a smaller object (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS / "throttle.json")
    args = parser.parse_args(argv)
    configure_logging("warning")
    scenario = Scenario(n=args.n, size=(400 if args.quick else 2048) * MiB)
    results = run_scenario(scenario)
    print(_table(scenario, results))
    fixed, adaptive = results
    ratio = fixed.throttled_store / max(adaptive.throttled_store, 1)
    print(f"fixed/adaptive throttled answers: {ratio:.1f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "scenario": asdict(scenario),
        "results": [asdict(r) for r in results],
        "fixed_over_adaptive_throttled": round(ratio, 2),
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
