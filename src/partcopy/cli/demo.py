"""``partcopy demo``: a verified multi-GiB copy through the built-in emulator, no network.

The emulator runs in this process on a free loopback port with a latency model (a fixed
delay per part plus size / bandwidth) and a light fault mix; the copy runs through the
public ``Copier`` with a live progress bar; the result is then checked independently of
the engine (sampled byte ranges of source and destination compared, the emulator's own
record of what it issued) and summarised against the ideal schedule.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import anyio

from partcopy.cli.common import Parser, fail_usage, positive_int, size_arg
from partcopy.cli.logs import configure_logging
from partcopy.config import Credentials
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator
from partcopy.engine.copier import Copier
from partcopy.engine.events import Event, PartCompleted, PartRetried, Planned
from partcopy.engine.result import CopyResult
from partcopy.errors import PlanError, UsageError
from partcopy.planners import get_profile, plan
from partcopy.transports import make_transport
from partcopy.transports.base import Transport
from partcopy.units import GiB, KiB, MiB, format_size

__all__ = [
    "LIGHT_FAULTS",
    "DemoConfig",
    "DemoReport",
    "ProgressBar",
    "add_demo",
    "ideal_seconds",
    "main",
    "render_report",
    "run_demo",
    "run_demo_command",
]

LIGHT_FAULTS = (
    "slowdown:0.01",
    "noetag:0.01",
    "error200:0.01",
    "reset:0.01",
    "delay:0.015:3s",
)
"""503 SlowDown, ETag-less and error-bodied 200s, resets, and stragglers delayed 3 s."""
DEMO_BUCKET, DEMO_SOURCE_KEY, DEMO_DESTINATION_KEY = "partcopy-demo", "source.bin", "copy.bin"
DEMO_SOURCE = f"s3://{DEMO_BUCKET}/{DEMO_SOURCE_KEY}"
DEMO_DESTINATION = f"s3://{DEMO_BUCKET}/{DEMO_DESTINATION_KEY}"


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """What the demo copies and under which conditions."""

    size: int = 8 * GiB
    part_size: int = 64 * MiB
    concurrency: int = 16
    latency_ms: float = 30.0
    gbps: float = 1.0
    faults: tuple[str, ...] = LIGHT_FAULTS
    seed: int = 1
    samples: int = 16
    """Byte ranges read back from source and destination and compared."""
    sample_size: int = 256 * KiB

    def __post_init__(self) -> None:
        if self.size < 1 or self.part_size < 1 or self.concurrency < 1:
            raise UsageError(
                f"invalid demo: size {self.size!r}, part size {self.part_size!r} and "
                f"concurrency {self.concurrency!r} must all be positive"
            )
        # PlanError (as 'partcopy plan' says it) for an object S3 cannot hold, before the
        # emulator starts; the copy plans it again with the same limits.
        plan(self.size, get_profile("s3"), self.part_size, self.concurrency)

    def part_seconds(self, part_size: int) -> float:
        """The emulator's time for one part: latency plus size over bandwidth (Gbit/s)."""
        transfer = part_size * 8 / (self.gbps * 1e9) if self.gbps > 0 else 0.0
        return self.latency_ms / 1000.0 + transfer


def ideal_seconds(parts: int, concurrency: int, per_part: float) -> float:
    """The ideal schedule: ``ceil(parts / concurrency)`` waves of one part time each."""
    return math.ceil(parts / concurrency) * per_part


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What the demo did and what it proved."""

    config: DemoConfig
    url: str
    source: str
    destination: str
    result: CopyResult
    ideal_seconds: float
    sampled_ranges: int
    ranges_equal: bool
    destination_size: int
    open_uploads: int
    every_complete_issued: bool
    faults_fired: Mapping[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """Everything checked out: sizes, sampled bytes, only issued ETags, nothing open."""
        return (
            self.ranges_equal
            and self.destination_size == self.result.bytes
            and self.open_uploads == 0
            and self.every_complete_issued
        )

    @property
    def vs_ideal(self) -> float:
        return self.result.seconds / self.ideal_seconds if self.ideal_seconds > 0 else math.nan

    @property
    def bytes_per_second(self) -> float:
        return self.result.bytes / self.result.seconds if self.result.seconds > 0 else math.nan

    def as_dict(self) -> dict[str, object]:
        r = self.result
        return {
            "status": "completed" if self.verified else "failed",
            "source": self.source,
            "destination": self.destination,
            "emulator": self.url,
            "bytes": r.bytes,
            "parts": r.parts,
            "part_size": r.part_size,
            "concurrency": self.config.concurrency,
            "etag": r.etag,
            "seconds": round(r.seconds, 6),
            "ideal_seconds": round(self.ideal_seconds, 6),
            "vs_ideal": round(self.vs_ideal, 4),
            "bytes_per_second": round(self.bytes_per_second),
            "retries": r.retries,
            "retries_by_reason": dict(r.retries_by_reason),
            "hedges": r.hedges,
            "adaptive_concurrency": None if r.concurrency is None else r.concurrency.as_dict(),
            "faults_fired": dict(self.faults_fired),
            "sampled_ranges": self.sampled_ranges,
            "verified": self.verified,
            "error": None,
        }


async def _same_bytes(
    transport: Transport, bucket: str, src: str, dst: str, ranges: list[tuple[int, int]]
) -> bool:
    for first, last in ranges:
        chunks: list[bytes] = []
        for key in (src, dst):
            async with transport.get_range(bucket, key, first, last) as stream:
                chunks.append(b"".join([chunk async for chunk in stream]))
        if chunks[0] != chunks[1] or len(chunks[0]) != last - first + 1:
            return False
    return True


def _sample_ranges(
    size: int, part_size: int, count: int, length: int, seed: int
) -> list[tuple[int, int]]:
    """The object's first and last bytes, plus ranges straddling random part boundaries
    (where a wrong offset would show)."""
    rng = random.Random(seed)
    length = max(1, min(length, size))
    starts = {0, size - length}
    parts = -(-size // part_size)
    for _ in range(max(0, count - 2)):
        boundary = rng.randrange(1, parts) * part_size if parts > 1 else size // 2
        starts.add(min(max(0, boundary - length // 2), size - length))
    return sorted((s, s + length - 1) for s in starts)


async def run_demo(
    config: DemoConfig | None = None, *, on_event: Callable[[Event], None] | None = None
) -> DemoReport:
    """Start the emulator, seed the virtual source, copy it, verify it, and report."""
    config = config or DemoConfig()
    bucket, src_key, dst_key = DEMO_BUCKET, DEMO_SOURCE_KEY, DEMO_DESTINATION_KEY
    emulator = Emulator(
        "s3",
        latency_ms=config.latency_ms,
        gbps=config.gbps,
        faults=config.faults,
        objects=[f"{bucket}/{src_key}={config.size}"],
        seed=config.seed,
    )
    creds = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
    source, destination = DEMO_SOURCE, DEMO_DESTINATION
    async with emulator:
        async with Copier(
            concurrency=config.concurrency,
            endpoint_url=emulator.url,
            credentials=creds,
            on_event=on_event,
            seed=config.seed,
        ) as copier:
            result = await copier.copy(source, destination, part_size=config.part_size)
        emulator.set_faults([])  # read back what was written, not what faults would say
        transport = make_transport("s3", emulator.url, "us-east-1", creds)
        try:
            ranges = _sample_ranges(
                config.size, result.part_size, config.samples, config.sample_size, config.seed
            )
            equal = await _same_bytes(transport, bucket, src_key, dst_key, ranges)
            head = await transport.head(bucket, dst_key)
        finally:
            await transport.aclose()
        stats = emulator.stats()
    per_part = config.part_seconds(result.part_size)
    return DemoReport(
        config=config,
        url=emulator.url,
        source=source,
        destination=destination,
        result=result,
        ideal_seconds=ideal_seconds(result.parts, config.concurrency, per_part),
        sampled_ranges=len(ranges),
        ranges_equal=equal,
        destination_size=head.size,
        open_uploads=stats.open_uploads,
        every_complete_issued=stats.every_complete_issued,
        faults_fired=dict(stats.faults),
    )


def render_report(report: DemoReport) -> list[str]:
    """The summary as lines of rich markup."""
    r, c = report.result, report.config
    waves = math.ceil(r.parts / c.concurrency)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.retries_by_reason.items())) or "none"
    faults = ", ".join(f"{k} {v}" for k, v in sorted(report.faults_fired.items())) or "none"
    mark = "[green]verified[/]" if report.verified else "[red]NOT verified[/]"
    return [
        f"[bold]{report.source}[/] → [bold]{report.destination}[/] "
        f"({format_size(r.bytes)} virtual object, emulator at {report.url})",
        f"  parts        {r.parts} × {format_size(r.part_size)} at concurrency {c.concurrency} "
        f"(latency {c.latency_ms:g} ms + {c.gbps:g} Gb/s per part)",
        f"  makespan     {r.seconds:.2f} s; ideal {report.ideal_seconds:.2f} s "
        f"({waves} waves × {report.ideal_seconds / waves:.3f} s) → "
        f"[bold]{report.vs_ideal:.2f}×[/] the ideal",
        f"  throughput   {format_size(int(report.bytes_per_second))}/s",
        f"  faults       injected by the emulator: {faults}",
        f"  retries      {r.retries} ({reasons}); hedged straggler requests {r.hedges}",
        f"  concurrency  {_concurrency(r)}",
        f"  {mark}     ETag {r.etag} (the composite of {r.parts} verified part ETags); "
        f"size {report.destination_size} = source; {report.sampled_ranges} sampled ranges "
        f"byte-identical: {'yes' if report.ranges_equal else 'NO'}; every Complete listed "
        f"only ETags the store issued: {'yes' if report.every_complete_issued else 'NO'}; "
        f"uploads left open: {report.open_uploads}",
    ]


def _concurrency(result: CopyResult) -> str:
    c = result.concurrency
    if c is None:
        return "fixed"
    if not c.adaptive:
        return f"fixed at {c.max}"
    lowered = "lowered it" if c.min < c.max else "were too few to lower it"
    return (
        f"adaptive: {c.max} at most, {c.min} at the lowest, {c.final} at the end "
        f"({c.throttled} throttled answer(s) {lowered})"
    )


class ProgressBar:
    """A live rich bar fed by copy events: bytes, rate, parts and retries, on stderr (stdout
    carries the summary, perhaps into a file)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            TextColumn("copying"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TextColumn("parts {task.fields[parts]}"),
            TextColumn("retries {task.fields[retries]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task("copy", total=None, parts="0/?", retries=0)
        self._parts = 0
        self._total: int | str = "?"
        self._retries = 0
        self._bytes = 0
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, Planned):
            self._total = event.part_count
            self.progress.update(self.task, total=event.size)
        elif isinstance(event, PartCompleted):
            self._parts += 1
            self._bytes += event.size
        elif isinstance(event, PartRetried):
            self._retries += 1
        now = time.monotonic()
        if now - self._last >= 0.05 or self._parts == self._total:
            self._last = now
            self.progress.update(
                self.task,
                completed=self._bytes,
                parts=f"{self._parts}/{self._total}",
                retries=self._retries,
            )


def main(
    config: DemoConfig | None = None,
    *,
    json_output: bool = False,
    quiet: bool = False,
    on_event: Callable[[Event], None] | None = None,
) -> int:
    """Run the demo for the CLI: a live bar (on a terminal, as ``cp`` shows one), then the
    summary (or one JSON object, also when the copy fails or is interrupted).

    Exit status 0 when the copy completed and verified, 1 otherwise, 128 + the signal when
    Ctrl-C or SIGTERM stopped it. ``on_event`` sees the copy's events (beside the bar).
    """
    import json
    import sys

    from rich.console import Console

    from partcopy.cli.interrupts import interrupt_exit_status, sigterm_as_sigint
    from partcopy.errors import PartcopyError

    configure_logging("error")
    console = Console(stderr=json_output)
    bar = None if (quiet or json_output or not sys.stderr.isatty()) else ProgressBar()
    events = _both(bar, on_event)
    try:
        with sigterm_as_sigint():  # `kill PID` stops the demo as Ctrl-C does
            if bar is None:
                report = anyio.run(lambda: run_demo(config, on_event=events))
            else:
                with bar.progress:
                    report = anyio.run(lambda: run_demo(config, on_event=events))
    except PartcopyError as exc:
        if json_output:  # --json still ends with exactly one object
            sys.stdout.write(json.dumps(_failure(exc)) + "\n")
        console.print(f"[red]the demo copy failed:[/] {type(exc).__name__}: {exc}")
        return 1
    except KeyboardInterrupt as exc:
        if json_output:
            sys.stdout.write(json.dumps(_failure(exc)) + "\n")
        sys.stderr.write("partcopy: demo interrupted (the emulator and its objects are gone)\n")
        return interrupt_exit_status()
    if json_output:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
    else:
        for line in render_report(report):
            console.print(line, highlight=False)
    return 0 if report.verified else 1


def _both(
    first: Callable[[Event], None] | None, second: Callable[[Event], None] | None
) -> Callable[[Event], None] | None:
    """One event callback that calls both (either may be None)."""
    if first is None or second is None:
        return first or second

    def both(event: Event) -> None:
        first(event)
        second(event)

    return both


def _failure(exc: BaseException) -> dict[str, object]:
    """The ``--json`` object of a demo whose copy failed or was interrupted."""
    message = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
    return {
        "status": "failed",
        "source": DEMO_SOURCE,
        "destination": DEMO_DESTINATION,
        "verified": False,
        "error": {"type": type(exc).__name__, "message": message},
    }


# --- the command -------------------------------------------------------------------------


def add_demo(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "demo",
        help="copy a multi-GiB object through the built-in emulator (no cloud account)",
    )
    p.add_argument("--size", type=size_arg("size"), help="object size (default 8GiB)")
    p.add_argument("--part-size", type=size_arg("part size"), help="part size (default 64MiB)")
    p.add_argument(
        "--concurrency", type=positive_int("concurrency"), help="parts in flight (default 16)"
    )
    p.add_argument("--no-faults", action="store_true", help="turn off the light fault mix")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {
        name: value
        for name, value in (
            ("size", args.size),
            ("part_size", args.part_size),
            ("concurrency", args.concurrency),
        )
        if value is not None
    }
    if args.no_faults:
        overrides["faults"] = ()
    try:
        config = DemoConfig(**overrides)  # type: ignore[arg-type]
    except (UsageError, PlanError) as exc:
        return fail_usage(exc)
    return main(config, json_output=args.json, quiet=args.quiet)
