"""(g) bulk: objects per second for many small objects.

100 000 virtual objects of 1-64 KiB (seeded through the emulator's admin endpoint) are
copied within the emulator by partcopy's bulk runner (manifest of JSON lines, one shared
Copier, concurrency 64: HEAD, single CopyObject, HEAD of the copy to verify each), and by
``rclone copy --transfers 64`` when rclone is on PATH.
"""

from __future__ import annotations

import json
import random
import urllib.request

from benchmarks.common import BUCKET, Context, absent_row, row_from_run
from benchmarks.contenders.spec import BulkSpec
from benchmarks.machine import utc_now
from benchmarks.procs import ACCESS_KEY, SECRET_KEY, EmulatorProcess, EmulatorSpec, run_contender
from benchmarks.report import Column, Row, ScenarioResult

TITLE = "bulk: objects/s for many small objects"
COLUMNS = (
    Column("objects", "objects", "{:d}"),
    Column("seconds", "seconds"),
    Column("objects_per_s", "objects/s", "{:.0f}"),
    Column("cpu_s", "CPU s"),
    Column("server_cpu_s", "emulator CPU s"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
    Column("retries", "retries", "{:d}"),
)
BATCH = 5_000


def seed_objects(url: str, count: int, prefix: str, seed: int = 1) -> int:
    """Create ``count`` small virtual objects through the admin endpoint; their total size."""
    rng = random.Random(seed)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    total = 0
    for start in range(0, count, BATCH):
        items = []
        for i in range(start, min(count, start + BATCH)):
            size = rng.randint(1024, 64 * 1024)
            total += size
            items.append({"bucket": BUCKET, "key": f"{prefix}{i:07d}", "size": size})
        request = urllib.request.Request(
            url + "/_emulator/objects",
            data=json.dumps({"objects": items}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with opener.open(request, timeout=120) as resp:
            resp.read()
    return total


def run(ctx: Context) -> ScenarioResult:
    count = 500 if ctx.quick else 100_000
    concurrency = 64
    manifest = ctx.out_dir / "bulk-manifest.jsonl"
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    with manifest.open("w") as out:
        for i in range(count):
            key = f"small/{i:07d}"
            src, dst = f"s3://{BUCKET}/{key}", f"s3://{BUCKET}/copied/{key}"
            out.write(json.dumps({"src": src, "dst": dst}) + "\n")
    rows: list[Row] = []
    with EmulatorProcess(EmulatorSpec(objects=(f"{BUCKET}/.keep=1",))) as emu:
        ctx.log(f"bulk: seeding {count} objects")
        total = seed_objects(emu.url, count, "small/")
        spec = BulkSpec(
            endpoint=emu.url,
            manifest=str(manifest),
            objects=count,
            concurrency=concurrency,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            bucket=BUCKET,
            prefix="small/",
            dst_prefix="rclone/",
        )
        contenders = [("partcopy", "partcopy_bulk")]
        if ctx.machine.rclone:
            contenders.append(("rclone", "rclone_bulk"))
        for contender, module in contenders:
            ctx.log(f"bulk: {contender} copying {count} objects")
            before = emu.cpu_seconds()
            run = run_contender(module, spec.as_dict(), timeout=3600)
            seconds = float(run.outcome.get("seconds") or 0.0)
            copied = int(run.outcome.get("objects") or 0)
            extra = {
                "objects": copied,
                "objects_per_s": copied / seconds if seconds > 0 else None,
                "server_cpu_s": emu.cpu_seconds() - before,
            }
            rows.append(row_from_run(contender, f"c={concurrency}", run, extra))
        if not ctx.machine.rclone:
            rows.append(absent_row("rclone", f"c={concurrency}", "rclone is not on PATH"))
    return ScenarioResult(
        scenario="bulk",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={"objects": count, "bytes": total, "concurrency": concurrency},
        columns=COLUMNS,
        rows=rows,
        plot_key="objects_per_s",
        plot_label="objects per second",
    )
