"""Settings for a process partcopy runs as a whole: the command's, and its worker processes.

Never applied by the library to its user's process: a program that embeds partcopy keeps
its own garbage collector and allocator settings.
"""

from __future__ import annotations

import gc
import os
import sys

__all__ = ["GC_THRESHOLD", "MMAP_THRESHOLD", "tune"]

GC_THRESHOLD = 10_000
"""The first-generation GC threshold (Python's default is 700). A copy allocates tens of
short-lived containers per request; at 700 the collector ran ~330 times in a 5,120-part
copy and cost 0.13-0.23 s of its ~1.8 s of CPU, against ~0.02 s here."""

MMAP_THRESHOLD = 4 * 1024 * 1024
"""glibc's malloc serves a block of 128 KiB or more by mmap (and unmaps it when freed), and
asyncio reads every answer into a fresh 256 KiB buffer, shrinks it to what arrived and
frees it: mmap, mremap, munmap and a page fault for each response, about a tenth of a
5,120-part copy's time in the kernel. Blocks under this size come from the heap instead."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ALLOCATOR_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def tune() -> None:
    """Apply the GC threshold and, on Linux with glibc, the allocator's mmap threshold
    (unless the environment already sets glibc's malloc tunables: the user's choice wins)."""
    _, second, third = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, second, third)
    tune_allocator()


def tune_allocator() -> bool:
    """Raise glibc's mmap threshold (the heap's trim threshold with it, as glibc itself does
    when it adapts the threshold). False where it does not apply: not Linux, not glibc, or
    tunables given in the environment."""
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _ALLOCATOR_ENV):
        return False
    import ctypes  # only here: a few milliseconds of import

    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: left alone
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and mallopt(_M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD)
    )
