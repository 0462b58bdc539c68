"""The settings of partcopy's own processes: the allocator serves asyncio's read buffers
from the heap (no mmap, mremap and munmap per answer), unless the user tuned it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's allocator only",
)

_PROBE = """
import sys
from partcopy import process
tuned = process.tune_allocator()
buf = bytes(256 * 1024 + 1)  # asyncio's read buffer: 256 KiB for every answer read
where = id(buf)
heap = [line.split()[0] for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
low, high = (int(x, 16) for x in heap[0].split("-")) if heap else (0, 0)
print(tuned, low <= where < high)
"""


def _probe(env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _clean_env() -> dict[str, str]:
    names = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
    return {k: v for k, v in os.environ.items() if k not in names}


def test_a_tuned_process_reads_into_heap_memory_not_a_fresh_mapping() -> None:
    assert _probe(_clean_env()) == "True True"


def test_the_users_malloc_tunables_win() -> None:
    # glibc's default: a block of 256 KiB is a mapping of its own, as it is untuned
    env = {**_clean_env(), "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
    assert _probe(env) == "False False"
