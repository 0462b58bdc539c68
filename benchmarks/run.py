"""``python -m benchmarks.run SCENARIO [--quick] [--repeat N] [--out DIR]``.

Each scenario starts its own emulator process, runs every contender in a process of its
own, prints a table, and writes ``<scenario>.json`` and ``<scenario>.png`` to the output
directory (``benchmarks/results``; ``benchmarks/results/quick`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import Context
from benchmarks.machine import describe_machine
from benchmarks.procs import ROOT
from benchmarks.report import ScenarioResult, print_result, save_result

SCENARIOS: dict[str, str] = {
    "overhead": "benchmarks.overhead",
    "schedule": "benchmarks.schedule",
    "stragglers": "benchmarks.stragglers",
    "faults": "benchmarks.faults",
    "memory": "benchmarks.memory",
    "relay": "benchmarks.relay",
    "bulk": "benchmarks.bulk",
    "large": "benchmarks.large",
    "startup": "benchmarks.startup",
    "throttle": "benchmarks.throttle",
    "listing": "benchmarks.listing",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    p.add_argument("scenario", choices=[*SCENARIOS, "all"], help="what to measure")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in seconds")
    p.add_argument("--repeat", type=int, default=1, help="runs per contender")
    p.add_argument(
        "--pick",
        choices=("median", "best"),
        default="median",
        help="which of the repeated runs to report (best: the fastest, as timeit does)",
    )
    p.add_argument("--out", type=Path, help="output directory for JSON and PNG files")
    p.add_argument(
        "--profile", action="store_true", help="pyinstrument each contender (<out>/profiles/)"
    )
    return p


def run_scenario(name: str, ctx: Context) -> ScenarioResult:
    """Run one scenario, print its table, write its JSON and plot."""
    module = importlib.import_module(SCENARIOS[name])
    result: ScenarioResult = module.run(ctx)
    print_result(result)
    json_path, png_path = save_result(result, ctx.out_dir)
    ctx.log(f"wrote {json_path}" + (f" and {png_path}" if png_path else ""))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1:
        sys.stderr.write(f"invalid --repeat {args.repeat!r}: must be at least 1\n")
        return 2
    out = args.out or (ROOT / "benchmarks" / "results" / ("quick" if args.quick else ""))
    command = "python -m benchmarks.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    ctx = Context(
        quick=args.quick,
        out_dir=out,
        machine=describe_machine(),
        command=command,
        repeat=args.repeat,
        profile=args.profile,
        pick=args.pick,
        log=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    failed = []
    for name in names:
        result = run_scenario(name, ctx)
        if not all(row.ok for row in result.rows if not (row.error or "").startswith("absent")):
            failed.append(name)
    if failed:
        ctx.log("contenders failed in: " + ", ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
