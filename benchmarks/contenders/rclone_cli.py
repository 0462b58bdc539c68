"""rclone's server-side multipart copy (``rclone copyto``), run only when rclone is on PATH.

The remote is configured entirely through ``RCLONE_CONFIG_EMU_*`` environment variables,
so no config file is read or written.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from benchmarks.contenders.spec import CopySpec, Outcome, Stopwatch
from benchmarks.machine import tool_path

__all__ = ["rclone_env", "run", "run_measured"]


def rclone_env(endpoint: str, access_key: str, secret_key: str) -> dict[str, str]:
    """Environment for an rclone remote named ``emu`` pointing at the emulator.

    ``AWS_CA_BUNDLE`` is left out: rclone applies it to its plain-HTTP transport too and then
    fails every request with "unsupported transport" (this machine sets it globally).
    """
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(
        {
            "RCLONE_CONFIG_EMU_TYPE": "s3",
            "RCLONE_CONFIG_EMU_PROVIDER": "Other",
            "RCLONE_CONFIG_EMU_ENDPOINT": endpoint,
            "RCLONE_CONFIG_EMU_ACCESS_KEY_ID": access_key,
            "RCLONE_CONFIG_EMU_SECRET_ACCESS_KEY": secret_key,
            "RCLONE_CONFIG_EMU_REGION": "us-east-1",
            "RCLONE_CONFIG_EMU_FORCE_PATH_STYLE": "true",
            "RCLONE_CONFIG": os.devnull,  # no config file read or written
        }
    )
    return env


def run(spec: CopySpec) -> Outcome:
    """``rclone copyto emu:b/src emu:b/dst --s3-copy-cutoff <part size>``."""
    exe = tool_path("rclone")
    if exe is None:
        return Outcome(False, 0.0, error="rclone is not on PATH")
    cutoff_mib = max(spec.part_size // (1024 * 1024), 5)
    argv = [
        exe,
        "copyto",
        f"emu:{spec.bucket}/{spec.key}",
        f"emu:{spec.target_bucket}/{spec.dst_key}",
        f"--s3-copy-cutoff={cutoff_mib}M",
        f"--s3-upload-concurrency={spec.concurrency}",
        "--s3-no-check-bucket",
        "--retries=10",
    ]
    env = rclone_env(spec.endpoint, spec.access_key, spec.secret_key)
    code, cpu_s, rss_mib, stderr, sw = run_measured(argv, env)
    ok = code == 0
    return Outcome(
        ok=ok,
        seconds=sw.seconds,
        cpu_s=cpu_s,
        parts=spec.parts if ok else 0,
        bytes=spec.size if ok else 0,
        error=None if ok else (stderr.strip().splitlines() or ["rclone failed"])[-1],
        extra={"rclone_peak_rss_mib": rss_mib},
    )


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[int, float, float, str, Stopwatch]:
    """Run ``argv``; its exit status, CPU seconds and peak RSS (wait4), stderr, wall time."""
    with tempfile.TemporaryFile("w+") as err, Stopwatch() as sw:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    return proc.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, stderr, sw
