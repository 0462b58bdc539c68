"""(h) listing: does ``partcopy ls --recursive --json`` of 1,000,000 keys stay in 150 MiB?

The emulator (its own process) holds 1,000,000 virtual objects under one prefix; the
listing runs as ``python -m partcopy ls s3://bench/tree/ --recursive --json`` in a process
of its own, its output counted as it streams (never stored), and its peak RSS read from
the kernel (wait4). A bare ``import partcopy.cli.app`` process is the baseline. Target:
peak RSS < 150 MiB, whatever the number of keys (a listing holds one page at a time).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

from benchmarks.common import BUCKET, Context
from benchmarks.machine import utc_now
from benchmarks.procs import (
    ACCESS_KEY,
    ROOT,
    SECRET_KEY,
    ChildUsage,
    EmulatorProcess,
    EmulatorSpec,
    _child_env,
    _reap,
)
from benchmarks.report import Column, Row, ScenarioResult, Target

TITLE = "peak RSS of a recursive listing"
COLUMNS = (
    Column("keys", "keys", "{:d}"),
    Column("listed", "listed", "{:d}"),
    Column("seconds", "seconds"),
    Column("keys_per_second", "keys/s", "{:.0f}"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.1f}"),
    Column("cpu_s", "CPU s"),
)
LIMIT_MIB = 150.0
BATCH = 50_000


def _seed(url: str, count: int) -> None:
    """Create ``count`` virtual objects through the emulator's admin endpoint, in batches."""
    for start in range(0, count, BATCH):
        specs = [
            f"{BUCKET}/tree/d{i % 100:02d}/k{i:07d}.bin=1KiB"
            for i in range(start, min(start + BATCH, count))
        ]
        body = json.dumps({"objects": specs}).encode()
        request = urllib.request.Request(f"{url}/_emulator/objects", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=600) as answer:
            answer.read()


def _measure(argv: list[str], timeout: float) -> tuple[ChildUsage, float, bytes, int]:
    """Run ``argv``; its usage, wall seconds, the last bytes of its stdout, its size."""
    env = _child_env(
        {"PARTCOPY_ACCESS_KEY_ID": ACCESS_KEY, "PARTCOPY_SECRET_ACCESS_KEY": SECRET_KEY}
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    tail, size = b"", 0
    with proc.stdout:
        while chunk := proc.stdout.read(1 << 20):
            size += len(chunk)
            tail = (tail + chunk)[-4096:]
    usage = _reap(proc, timeout)
    return usage, time.monotonic() - started, tail, size


def _listed(tail: bytes) -> int | None:
    """The ``"objects": N`` count at the end of the streamed JSON object."""
    marker = b'"objects": '
    at = tail.rfind(marker)
    if at < 0:
        return None
    digits = tail[at + len(marker) :].split(b",", 1)[0]
    return int(digits) if digits.strip().isdigit() else None


def run(ctx: Context) -> ScenarioResult:
    keys = 3_000 if ctx.quick else 1_000_000
    rows: list[Row] = []
    with EmulatorProcess(EmulatorSpec(objects=(f"{BUCKET}/warm=1",))) as emu:
        ctx.log(f"listing: seeding {keys} virtual objects")
        _seed(emu.url, keys)
        if not ctx.quick:  # the baseline: what importing the CLI alone costs
            base, _, _, _ = _measure([sys.executable, "-c", "import partcopy.cli.app"], 120)
            rows.append(
                Row("python", "import partcopy.cli.app", True, {"peak_rss_mib": base.peak_rss_mib})
            )
        ctx.log(f"listing: partcopy ls --recursive --json over {keys} keys")
        argv = [
            sys.executable,
            "-m",
            "partcopy",
            "ls",
            f"s3://{BUCKET}/tree/",
            "--recursive",
            "--json",
            "--endpoint-url",
            emu.url,
            "--region",
            "us-east-1",
        ]
        usage, seconds, tail, size = _measure(argv, 3600)
        listed = _listed(tail)
        ok = usage.exit_status == 0 and listed == keys
        rows.append(
            Row(
                "partcopy",
                "ls --recursive --json",
                ok,
                {
                    "keys": keys,
                    "listed": listed,
                    "seconds": seconds,
                    "keys_per_second": (listed or 0) / seconds if seconds > 0 else None,
                    "peak_rss_mib": usage.peak_rss_mib,
                    "cpu_s": usage.cpu_s,
                    "output_mib": size / 2**20,
                },
                None if ok else f"exit {usage.exit_status}, listed {listed}",
            )
        )
    return ScenarioResult(
        scenario="listing",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={"keys": keys, "page_size": 1000},
        columns=COLUMNS,
        rows=rows,
        targets=[
            Target(
                f"peak_rss_mib: partcopy ls of {keys} keys",
                usage.peak_rss_mib if ok else None,
                LIMIT_MIB,
                "<=",
            )
        ],
        plot_key="peak_rss_mib",
        plot_label="peak RSS (MiB)",
        emulator={"cpu_s": emu.usage.cpu_s if emu.usage else None},
    )
