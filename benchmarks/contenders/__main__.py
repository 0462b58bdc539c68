"""``python -m benchmarks.contenders NAME``: run one contender on a JSON spec from stdin.

Prints one JSON line: the contender's ``Outcome`` (whose ``seconds`` and ``cpu_s`` cover
the copy call only), the CPU seconds of the whole ``run`` (client set-up included) and the
peak RSS before and after it; the parent adds the kernel's accounting from ``wait4``.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.contenders.spec import BulkSpec, CopySpec, Outcome
from benchmarks.procs import PROFILE_ENV


def _peak_rss_mib() -> float:
    """This program's peak RSS (VmHWM): unlike ru_maxrss, it does not count the copy of
    the parent that existed between fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m benchmarks.contenders NAME < spec.json\n")
        return 2
    name = argv[0]
    raw: dict[str, Any] = json.loads(sys.stdin.read())
    module = importlib.import_module(f"benchmarks.contenders.{name}")
    profile_path = os.environ.get(PROFILE_ENV)
    profiler = None
    if profile_path:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
    rss_base = _peak_rss_mib()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    try:
        if profiler is not None:
            profiler.start()
        if name.endswith("_bulk"):
            outcome: Outcome = module.run_bulk(BulkSpec.from_dict(raw))
        else:
            outcome = module.run(CopySpec.from_dict(raw))
    except Exception as exc:  # a contender that crashes is a failed run, reported as such
        traceback.print_exc()
        outcome = Outcome(False, time.perf_counter() - wall0, error=f"{type(exc).__name__}: {exc}")
    finally:
        if profiler is not None:
            profiler.stop()
            path = Path(profile_path or "profile.txt")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(profiler.output_text(unicode=True, show_all=False))
    result = outcome.as_dict()
    result["run_cpu_s"] = time.process_time() - cpu0
    result["rss_base_mib"] = rss_base
    result["rss_peak_mib"] = _peak_rss_mib()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
