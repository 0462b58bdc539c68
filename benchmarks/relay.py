"""(f) relay: partcopy's relay between two emulators vs a bare aiohttp GET→PUT pipe.

A virtual 1 GiB object on emulator A is relayed in 16 MiB parts (ranged GET streamed into
UploadPart) to emulator B at concurrency 8, zero latency: throughput is then what the
client (and the two emulators, on the same cores) can push. partcopy also hashes every
byte (MD5, checked against the part ETag, and by default CRC64NVME, combined into the
object's full checksum that the destination must show); the bare pipe checks nothing.
The ``--checksum off`` row measures what the CRC64NVME proof costs.
"""

from __future__ import annotations

from benchmarks.common import BUCKET, Context, MiB, copy_spec, row_from_run, run_median
from benchmarks.machine import utc_now
from benchmarks.procs import EmulatorProcess, EmulatorSpec
from benchmarks.report import Column, Row, ScenarioResult, Target

TITLE = "relay throughput between two emulators vs a bare GET→PUT pipe"
COLUMNS = (
    Column("parts", "parts", "{:d}"),
    Column("seconds", "seconds", "{:.3f}"),
    Column("mib_per_s", "MiB/s", "{:.0f}"),
    Column("vs_bare", "÷ bare pipe", "{:.3f}"),
    Column("cpu_s", "CPU s"),
    Column("server_cpu_s", "emulators CPU s"),
    Column("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
    Column("retries", "retries", "{:d}"),
)


def run(ctx: Context) -> ScenarioResult:
    part = 16 * MiB
    parts, concurrency = (4, 2) if ctx.quick else (64, 8)
    size = parts * part
    source = EmulatorSpec(objects=(f"{BUCKET}/src={size}",))
    target = EmulatorSpec(objects=(f"{BUCKET}/.keep=1",))
    rows: list[Row] = []
    with EmulatorProcess(source) as a, EmulatorProcess(target) as b:
        for n, (contender, module, checksum) in enumerate(
            (
                ("bare pipe", "bare_pipe", "auto"),
                ("partcopy", "partcopy_lib", "auto"),
                ("partcopy --checksum off", "partcopy_lib", "off"),
            )
        ):
            ctx.log(f"relay: {contender}: {parts} parts")
            spec = copy_spec(
                a.url,
                "src",
                f"dst-{n}",
                size=size,
                part_size=part,
                concurrency=concurrency,
                dst_endpoint=b.url,
                options={"mode": "relay", "checksum": checksum},
            )
            best, _ = run_median(
                module,
                spec,
                ctx.repeat,
                pick=ctx.pick,
                emulator=(a, b),
                profile=ctx.profile_path("relay", contender, f"c={concurrency}"),
            )
            seconds = float(best.outcome.get("seconds") or 0.0)
            moved = int(best.outcome.get("bytes") or 0)
            rate = moved / MiB / seconds if best.ok and seconds > 0 else None
            rows.append(row_from_run(contender, f"c={concurrency}", best, {"mib_per_s": rate}))
    bare = rows[0].get("mib_per_s")
    final = []
    for r in rows:
        got = r.get("mib_per_s")
        ratio = got / bare if isinstance(got, float) and isinstance(bare, float) else None
        final.append(Row(r.contender, r.case, r.ok, {**r.metrics, "vs_bare": ratio}, r.error))
    measured = final[1].get("vs_bare")
    return ScenarioResult(
        scenario="relay",
        title=TITLE,
        date=utc_now(),
        machine=ctx.machine,
        command=ctx.command,
        quick=ctx.quick,
        params={"size": size, "part_size": part, "parts": parts, "concurrency": concurrency},
        columns=COLUMNS,
        rows=final,
        targets=[
            Target(
                "vs_bare: partcopy relay throughput ÷ bare pipe",
                measured if isinstance(measured, float) else None,
                0.8,
                ">=",
            )
        ],
        plot_key="mib_per_s",
        plot_label="MiB/s relayed",
    )
