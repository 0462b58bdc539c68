"""What machine a benchmark ran on, so every result carries its context."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Machine", "describe_machine", "utc_now"]


@dataclass(frozen=True, slots=True)
class Machine:
    """Cores, CPU model, OS and Python: enough to judge whether two runs compare."""

    cores: int
    cpu_model: str
    system: str
    python: str
    rclone: str | None
    """rclone's path when it is on PATH, else None (its scenarios report it absent)."""
    load: tuple[float, float, float]
    """The 1, 5 and 15 minute load averages when the run started (others' work skews it)."""
    niceness: int
    """The harness's nice value (children inherit it): negative when run with priority."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine() -> Machine:
    """The machine this process runs on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return Machine(
        cores=cores or 1,
        cpu_model=_cpu_model(),
        system=f"{platform.system()} {platform.release()}",
        python=sys.version.split()[0],
        rclone=shutil.which("rclone"),
        load=os.getloadavg(),
        niceness=os.nice(0),
    )


def utc_now() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
