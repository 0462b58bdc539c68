"""``rclone copy --transfers N`` of a whole prefix, run only when rclone is on PATH."""

from __future__ import annotations

import shutil

from benchmarks.contenders.rclone_cli import rclone_env, run_measured
from benchmarks.contenders.spec import BulkSpec, Outcome

__all__ = ["run_bulk"]


def run_bulk(spec: BulkSpec) -> Outcome:
    """Copy ``bucket/prefix`` to ``bucket/dst_prefix`` server-side with rclone."""
    exe = shutil.which("rclone")
    if exe is None:
        return Outcome(False, 0.0, error="rclone is not on PATH")
    argv = [
        exe,
        "copy",
        f"emu:{spec.bucket}/{spec.prefix}",
        f"emu:{spec.bucket}/{spec.dst_prefix}",
        f"--transfers={spec.concurrency}",
        f"--checkers={spec.concurrency}",
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
        objects=spec.objects if ok else 0,
        error=None if ok else (stderr.strip().splitlines() or ["rclone failed"])[-1],
        extra={"rclone_peak_rss_mib": rss_mib},
    )
