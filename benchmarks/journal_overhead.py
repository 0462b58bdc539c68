"""What the journal costs: a 10 000-part copy at zero latency, journal on vs off.

Two stores: the in-memory transport (no HTTP, so the journal's share is as large as it
can get) and the S3 emulator in its own process on loopback (the real HTTP transport).
Runs alternate on and off (in turn first); the median of each is reported, with the
journal's commit count.

    .venv/bin/python -m benchmarks.journal_overhead [--repeat N] [--parts N] [--store S]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from benchmarks.procs import ACCESS_KEY, SECRET_KEY, EmulatorProcess, EmulatorSpec
from partcopy import Copier
from partcopy.cli.logs import configure_logging
from partcopy.engine.journal import Journal
from partcopy.store.memory import MemoryStore
from partcopy.transports.memory import MemoryTransport
from partcopy.transports.signing.common import Credentials

PART = 5 * 1024**2
CONCURRENCY = 64


def _memory_copier(parts: int) -> Callable[[Journal | None], Copier]:
    def make(journal: Journal | None) -> Copier:
        store = MemoryStore(seed=1)  # a fresh store each run: no history to slow it down
        store.create_bucket("src")
        store.create_bucket("dst")
        store.put_virtual("src", "big", parts * PART)
        transport = MemoryTransport(store)
        return Copier(concurrency=CONCURRENCY, transport=transport, journal=journal)

    return make


def _emulator_copier(url: str) -> Callable[[Journal | None], Copier]:
    creds = Credentials(ACCESS_KEY, SECRET_KEY)
    return lambda journal: Copier(
        concurrency=CONCURRENCY,
        endpoint_url=url,
        credentials=creds,
        journal=journal,
        adaptive=False,
    )


def _one(make: Callable[[Journal | None], Copier], journaled: bool, tmp: Path) -> dict[str, Any]:
    journal = Journal(tmp / f"j-{time.monotonic_ns()}.db") if journaled else None

    async def main() -> tuple[float, float]:
        async with make(journal) as copier:
            started, cpu = time.perf_counter(), time.process_time()
            result = await copier.copy("s3://src/big", "s3://dst/big", part_size=PART)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert result.parts > 0
        return seconds, cpu

    seconds, cpu = anyio.run(main)
    commits = journal.commits if journal is not None else 0
    if journal is not None:
        journal.close()
    return {"seconds": seconds, "cpu_s": cpu, "commits": commits}


def _measure(
    name: str, make: Callable[[Journal | None], Copier], parts: int, repeat: int, tmp: Path
) -> dict[str, Any]:
    _one(make, False, tmp)  # warm-up (imports, connection pool, caches)
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for i in range(repeat):
        for journaled in (False, True) if i % 2 == 0 else (True, False):
            runs[journaled].append(_one(make, journaled, tmp))

    def median(journaled: bool, key: str) -> float:
        return statistics.median(r[key] for r in runs[journaled])

    return {
        "store": name,
        "parts": parts,
        "concurrency": CONCURRENCY,
        "repeat": repeat,
        "off_s": [round(r["seconds"], 3) for r in runs[False]],
        "on_s": [round(r["seconds"], 3) for r in runs[True]],
        "median_off_s": round(median(False, "seconds"), 3),
        "median_on_s": round(median(True, "seconds"), 3),
        "overhead_pct": round((median(True, "seconds") / median(False, "seconds") - 1) * 100, 1),
        # Client CPU (this process, writer thread included): robust on a loaded machine.
        "median_off_cpu_s": round(median(False, "cpu_s"), 3),
        "median_on_cpu_s": round(median(True, "cpu_s"), 3),
        "cpu_overhead_pct": round((median(True, "cpu_s") / median(False, "cpu_s") - 1) * 100, 1),
        "journal_commits": runs[True][-1]["commits"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--parts", type=int, default=10_000)
    p.add_argument("--store", choices=("memory", "emulator", "both"), default="both")
    args = p.parse_args(argv)
    configure_logging("warning")
    out = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if args.store in ("memory", "both"):
            out.append(_measure("memory", _memory_copier(args.parts), args.parts, args.repeat, tmp))
            print(json.dumps(out[-1]), file=sys.stderr)
        if args.store in ("emulator", "both"):
            objects = (f"src/big={args.parts * PART}", "dst/keep=1")
            with EmulatorProcess(EmulatorSpec(objects=objects)) as emu:
                out.append(
                    _measure("emulator", _emulator_copier(emu.url), args.parts, args.repeat, tmp)
                )
            print(json.dumps(out[-1]), file=sys.stderr)
    print(json.dumps({"journal_overhead": out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
