"""Separate processes for the emulator and each contender, with per-process rusage.

Every contender runs in its own child (``python -m benchmarks.contenders NAME``) and is
reaped with ``os.wait4``, so its CPU seconds and peak RSS are its own; the emulator runs
in another child so serving requests is never billed to the client under test.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "ACCESS_KEY",
    "PROFILE_ENV",
    "ROOT",
    "SECRET_KEY",
    "ChildUsage",
    "ContenderRun",
    "EmulatorProcess",
    "EmulatorSpec",
    "free_port",
    "run_contender",
]

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: children run here so ``benchmarks`` is importable."""

PROFILE_ENV = "PARTCOPY_BENCH_PROFILE"
"""When set in a contender's environment, its run is profiled into this file."""
ACCESS_KEY = "AKIDBENCHMARK000000"
SECRET_KEY = "bench-secret-key-not-real-0000000000000"
_URL_RE = re.compile(r"https?://[0-9A-Za-z.\-\[\]:]+:\d+")


@dataclass(frozen=True, slots=True)
class ChildUsage:
    """What the kernel accounted to one reaped child (and its waited-for descendants)."""

    cpu_s: float
    peak_rss_mib: float
    exit_status: int

    @classmethod
    def from_rusage(cls, status: int, ru: Any) -> ChildUsage:
        return cls(
            cpu_s=float(ru.ru_utime + ru.ru_stime),
            peak_rss_mib=ru.ru_maxrss / 1024.0,  # Linux reports KiB
            exit_status=os.waitstatus_to_exitcode(status),
        )


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(ROOT) if not path else f"{ROOT}{os.pathsep}{path}"
    env["PYTHONUNBUFFERED"] = "1"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.pop(name, None)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    if extra:
        env.update(extra)
    return env


def _reap(proc: subprocess.Popen[Any], timeout: float | None) -> ChildUsage:
    """Wait for ``proc`` with ``os.wait4`` (its own rusage); kill it after ``timeout``."""
    timer: threading.Timer | None = None
    if timeout is not None:
        timer = threading.Timer(timeout, _kill_quietly, args=(proc.pid,))
        timer.daemon = True
        timer.start()
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    finally:
        if timer is not None:
            timer.cancel()
    usage = ChildUsage.from_rusage(status, ru)
    proc.returncode = usage.exit_status  # reaped here: tell Popen so it never waits again
    return usage


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class EmulatorSpec:
    """How to start ``partcopy emulator``: dialect, latency model, faults, seeded objects."""

    dialect: str = "s3"
    latency_ms: float = 0.0
    gbps: float | None = None
    faults: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    """``BUCKET/KEY=SIZE`` entries (virtual objects)."""
    extra_args: tuple[str, ...] = ()

    def argv(self, port: int, profile: Path | None = None) -> list[str]:
        prefix = [sys.executable]
        if profile is not None:  # pyinstrument writes the text profile when it stops
            prefix += ["-m", "pyinstrument", "-r", "text", "-o", str(profile)]
        argv = [
            *prefix,
            "-m",
            "partcopy",
            "emulator",
            "--dialect",
            self.dialect,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--access-key",
            ACCESS_KEY,
            "--secret-key",
            SECRET_KEY,
            "--latency-ms",
            repr(self.latency_ms),
        ]
        if self.gbps is not None:
            argv += ["--gbps", repr(self.gbps)]
        for fault in self.faults:
            argv += ["--fault", fault]
        for obj in self.objects:
            argv += ["--object", obj]
        return argv + list(self.extra_args)


@dataclass
class EmulatorProcess:
    """``partcopy emulator`` in its own process, ready when it prints its URL.

    Use as a context manager; on exit it is stopped and its CPU seconds are in ``usage``.
    """

    spec: EmulatorSpec
    start_timeout: float = 30.0
    profile: Path | None = None
    """Run the emulator under pyinstrument, writing its profile here when it stops."""
    url: str = ""
    usage: ChildUsage | None = None
    _proc: subprocess.Popen[str] | None = field(default=None, repr=False)
    _stderr: Any = field(default=None, repr=False)

    def __enter__(self) -> EmulatorProcess:
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(
            self.spec.argv(0, self.profile),  # binds a free port and prints its URL
            cwd=ROOT,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self._proc, lines), daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise RuntimeError(f"emulator did not print its URL within {self.start_timeout}s")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                tail = self.stderr_tail()
                self.close()
                raise RuntimeError(f"emulator exited before it was ready:\n{tail}")
            match = _URL_RE.search(line)
            if match:
                self.url = match.group(0).rstrip("/")
                return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _stop(self) -> None:
        proc = self._proc
        if proc is None or self.usage is not None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            self.usage = _reap(proc, timeout=10.0)
        else:
            self.usage = ChildUsage(0.0, 0.0, proc.returncode)
        if proc.stdout is not None:
            proc.stdout.close()

    def check_alive(self) -> None:
        """Raise with the emulator's exit status and stderr if it is no longer running."""
        if self._proc is None or self._proc.poll() is None:
            return
        raise RuntimeError(
            f"the emulator at {self.url} exited with status {self._proc.returncode}:\n"
            + self.stderr_tail()
        )

    def cpu_seconds(self) -> float:
        """CPU seconds the running emulator has used so far (to bill it per contender)."""
        if self._proc is None or self._proc.poll() is not None:
            return 0.0
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def stderr_tail(self, lines: int = 20) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return "\n".join(self._stderr.read().splitlines()[-lines:])

    def close(self) -> None:
        self._stop()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Forward the child's stdout lines (and keep draining so it never blocks)."""
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.put(line)
    except ValueError:  # closed under us at shutdown
        pass
    lines.put(None)


@dataclass(frozen=True, slots=True)
class ContenderRun:
    """One contender's outcome (its own JSON) plus the kernel's accounting of its process."""

    name: str
    outcome: Mapping[str, Any]
    usage: ChildUsage
    stderr_tail: str
    server_cpu_s: float | None = None
    """CPU seconds the emulator process spent while this contender ran."""

    @property
    def ok(self) -> bool:
        return bool(self.outcome.get("ok")) and self.usage.exit_status == 0


def run_contender(
    name: str,
    spec: Mapping[str, Any],
    *,
    timeout: float = 900.0,
    env: Mapping[str, str] | None = None,
    argv_prefix: Sequence[str] = (),
) -> ContenderRun:
    """Run contender ``name`` on ``spec`` in a fresh child; return its outcome and usage.

    The child reads the spec as JSON on stdin and prints one JSON outcome as its last
    stdout line (see ``benchmarks.contenders.__main__``).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [*argv_prefix, sys.executable, "-m", "benchmarks.contenders", name],
            cwd=ROOT,
            env=_child_env(env),
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            text=True,
        )
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(dict(spec)))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        usage = _reap(proc, timeout)
        out.seek(0)
        err.seek(0)
        stdout_lines = out.read().strip().splitlines()
        stderr_tail = "\n".join(err.read().splitlines()[-30:])
    outcome: dict[str, Any]
    try:
        outcome = json.loads(stdout_lines[-1]) if stdout_lines else {}
    except json.JSONDecodeError:
        outcome = {}
    if not outcome:
        outcome = {
            "ok": False,
            "error": f"contender exited {usage.exit_status} without a result: "
            + (stderr_tail.splitlines()[-1] if stderr_tail else "no output"),
        }
    return ContenderRun(name, outcome, usage, stderr_tail)
