"""Per-job locks of a journal: one process runs a journaled job at a time.

A lock is a POSIX record lock on byte ``job_id`` of a sidecar file (``<journal>.lock``),
so the kernel drops it the moment its process dies (kill -9 included): a lock is never
stale, and nothing needs cleaning up. A refused lock names the holder's process id
(``F_GETLK``). SQLite's own locks on the journal file are left alone: a record lock of
ours on that file would be released by SQLite closing any descriptor of it.
"""

from __future__ import annotations

import errno
import os
import struct
import sys
from pathlib import Path

from partcopy.errors import JobBusy, JournalError

__all__ = ["JobLocks"]

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no per-job locks
    fcntl = None  # type: ignore[assignment]

# struct flock on Linux (l_type, l_whence, l_start, l_len, l_pid), natively aligned.
_FLOCK = "@hhqqi4x"


class JobLocks:
    """The per-job locks of one journal file, held by this process."""

    def __init__(self, journal_path: Path) -> None:
        self.path = journal_path.with_name(journal_path.name + ".lock")
        self._fd: int | None = None
        self._held: set[int] = set()

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            except OSError as exc:
                raise JournalError(
                    f"cannot open the lock file {str(self.path)!r}: {exc.strerror}"
                ) from None
        return self._fd

    def acquire(self, job_id: int) -> None:
        """Lock ``job_id`` for this process; ``JobBusy`` naming the holder if it is taken."""
        if fcntl is None or job_id in self._held:
            return
        fd = self._open()
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, job_id)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise JournalError(f"cannot lock job {job_id}: {exc.strerror}") from None
            holder = self._holder(fd, job_id)
            where = f"process {holder}" if holder else "another process"
            raise JobBusy(f"job {job_id} is running in {where}") from None
        self._held.add(job_id)

    def release(self, job_id: int) -> None:
        """Unlock ``job_id`` (harmless when not held)."""
        if fcntl is None or self._fd is None or job_id not in self._held:
            return
        self._held.discard(job_id)
        fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, job_id)

    def close(self) -> None:
        """Drop every lock of this process on the file."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._held.clear()
            os.close(fd)

    @staticmethod
    def _holder(fd: int, job_id: int) -> int | None:
        """The process id holding ``job_id``'s lock (Linux), else None."""
        if fcntl is None or not sys.platform.startswith("linux"):
            return None
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, job_id, 1, 0)
        try:
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        except OSError:
            return None
        kind, _, _, _, pid = struct.unpack(_FLOCK, answer)
        return pid if kind != fcntl.F_UNLCK and pid > 0 else None
