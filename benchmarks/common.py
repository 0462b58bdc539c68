"""Shared pieces of the scenarios: run context, ideal schedules, rows from contender runs."""

from __future__ import annotations

import json
import math
import statistics
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.contenders.spec import CopySpec
from benchmarks.machine import Machine
from benchmarks.procs import (
    ACCESS_KEY,
    PROFILE_ENV,
    SECRET_KEY,
    ContenderRun,
    EmulatorProcess,
    run_contender,
)
from benchmarks.report import Row, Value

__all__ = [
    "BUCKET",
    "WARM_KEY",
    "WARM_OBJECT",
    "Context",
    "GiB",
    "MiB",
    "absent_row",
    "copy_spec",
    "emulator_stats",
    "ideal_seconds",
    "part_seconds",
    "row_from_run",
    "run_median",
]

MiB = 1024**2
GiB = 1024**3
BUCKET = "bench"
WARM_KEY = "warm"
WARM_OBJECT = f"{BUCKET}/{WARM_KEY}=320MiB"
"""Copied once (64 parts of 5 MiB, untimed) by each contender before its measured copy, so
that up to 64 connections are open and lazy imports done: the timed copy is the steady
state (opening 62 connections at once costs partcopy ~0.12 s in the first wave here)."""


@dataclass(frozen=True, slots=True)
class Context:
    """How a scenario is run: quick (smoke-test sizes) or full, how often, where to write."""

    quick: bool
    out_dir: Path
    machine: Machine
    command: str
    repeat: int = 1
    log: Callable[[str], None] = print
    profile: bool = False
    """Profile each contender's first run with pyinstrument (``<out>/profiles/``)."""
    pick: str = "median"
    """Which of the ``repeat`` runs a row reports: ``median`` or ``best`` (fastest)."""

    def profile_path(self, scenario: str, contender: str, case: str) -> Path | None:
        """Where a contender's profile goes, or None when not profiling."""
        if not self.profile:
            return None
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in case)
        return self.out_dir / "profiles" / f"{scenario}-{contender}-{safe}.txt"


def part_seconds(part_size: int, latency_ms: float, gbps: float | None) -> float:
    """The emulator's time for one part: ``latency_ms`` plus ``size / gbps`` (gigabits/s)."""
    transfer = 0.0 if not gbps else part_size * 8 / (gbps * 1e9)
    return latency_ms / 1000.0 + transfer


def ideal_seconds(parts: int, concurrency: int, per_part: float) -> float:
    """The ideal schedule: ``ceil(parts / concurrency)`` waves of one part time each."""
    return math.ceil(parts / concurrency) * per_part


def copy_spec(
    endpoint: str,
    key: str,
    dst_key: str,
    *,
    size: int,
    part_size: int,
    concurrency: int,
    options: Mapping[str, Any] | None = None,
    dst_endpoint: str = "",
) -> CopySpec:
    """A spec for copying ``BUCKET/key`` to ``BUCKET/dst_key`` on the benchmark emulator."""
    return CopySpec(
        endpoint=endpoint,
        bucket=BUCKET,
        key=key,
        dst_key=dst_key,
        size=size,
        part_size=part_size,
        concurrency=concurrency,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        dst_endpoint=dst_endpoint,
        options=dict(options or {}),
    )


def run_median(
    name: str,
    spec: CopySpec,
    repeat: int,
    *,
    emulator: EmulatorProcess | Sequence[EmulatorProcess] | None = None,
    profile: Path | None = None,
    pick: str = "median",
    vary_key: bool = True,
    timeout: float = 900.0,
) -> tuple[ContenderRun, list[ContenderRun]]:
    """Run a contender ``repeat`` times (fresh child each); the chosen run, and all.

    ``pick`` is ``median`` (by seconds) or ``best`` (the fastest, as timeit reports: on a
    shared machine the least disturbed run). Failed runs sort last, so the pick is among
    the successful ones when any succeeded.
    ``emulator``'s CPU seconds during each run are recorded; with ``profile``, the first
    run is profiled with pyinstrument into that file.
    """
    runs: list[ContenderRun] = []
    for i in range(max(1, repeat)):
        s = spec
        if vary_key and i:
            s = CopySpec.from_dict({**spec.as_dict(), "dst_key": f"{spec.dst_key}.{i}"})
        env = {PROFILE_ENV: str(profile)} if profile is not None and i == 0 else None
        servers = [emulator] if isinstance(emulator, EmulatorProcess) else list(emulator or [])
        for server in servers:
            server.check_alive()
        before = sum(e.cpu_seconds() for e in servers)
        run = run_contender(name, s.as_dict(), timeout=timeout, env=env)
        for server in servers:
            server.check_alive()
        if servers:
            run = replace(run, server_cpu_s=sum(e.cpu_seconds() for e in servers) - before)
        runs.append(run)
    ranked = sorted(runs, key=lambda r: (not r.ok, float(r.outcome.get("seconds") or 0.0)))
    good = [r for r in ranked if r.ok]
    pool = good or ranked
    return (pool[0] if pick == "best" else pool[(len(pool) - 1) // 2]), runs


def row_from_run(
    contender: str, case: str, run: ContenderRun, extra: Mapping[str, Value] | None = None
) -> Row:
    """A table row: seconds, parts/s, CPU seconds (copy call and process), peak RSS."""
    out = run.outcome
    seconds = float(out.get("seconds") or 0.0)
    parts = int(out.get("parts") or 0)
    retries = out.get("retries") or {}
    metrics: dict[str, Value] = {
        "seconds": seconds,
        "parts": parts,
        "parts_per_s": parts / seconds if seconds > 0 and parts else None,
        "cpu_s": float(out.get("cpu_s") or 0.0) or run.usage.cpu_s,
        "proc_cpu_s": run.usage.cpu_s,
        "peak_rss_mib": _peak_rss(run),
        "server_cpu_s": run.server_cpu_s,
        "retries": sum(int(v) for v in retries.values()) if isinstance(retries, dict) else 0,
        "retry_reasons": json.dumps(retries, sort_keys=True) if retries else "",
    }
    for key, value in (out.get("extra") or {}).items():
        if isinstance(value, (int, float, str, bool)) or value is None:
            metrics[key] = value
    if extra:
        metrics.update(extra)
    error = None if run.ok else str(out.get("error") or f"exit {run.usage.exit_status}")
    return Row(contender, case, run.ok, metrics, error)


def _peak_rss(run: ContenderRun) -> float:
    """The contender program's own peak RSS (VmHWM, reported by its child), else the kernel's
    ru_maxrss from wait4 (which also counts the forked copy of the harness before exec)."""
    own = run.outcome.get("rss_peak_mib")
    return float(own) if isinstance(own, int | float) and own > 0 else run.usage.peak_rss_mib


def absent_row(contender: str, case: str, why: str) -> Row:
    """A row for a contender that could not run here (e.g. rclone not on PATH)."""
    return Row(contender, case, False, {}, f"absent: {why}")


def emulator_stats(url: str, paths: Sequence[str] = ("/_emulator/stats",)) -> dict[str, Any]:
    """The emulator's stats document (parts copied, peak in flight, faults fired), or {}."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path in paths:
        try:
            with opener.open(url + path, timeout=5) as resp:
                data = json.loads(resp.read())
                if isinstance(data, dict):
                    return data
        except (OSError, ValueError):
            continue
    return {}


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else math.nan
