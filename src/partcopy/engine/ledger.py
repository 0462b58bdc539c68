"""The bulk ledger: which manifest objects a bulk run has finished, in the journal file.

A bulk run with ``--journal`` records every object it copied (source, destination, size,
parts, ETag, mode, and the source ETag it was pinned to) in a ``bulk_objects`` table of the
same SQLite file as the job journal, committed before its report line is written. A rerun
skips every recorded object, so a killed run resumes without copying a finished object
twice; where the rerun knows the source's size and ETag (a listing, a manifest line with
both), a record of another size or ETag is no longer finished
(``FinishedObject.same_source``). Lookups are by primary key: memory stays O(1) however
many objects the ledger holds.

The file is opened through :class:`~partcopy.engine.journal.Journal` first, so a foreign
or corrupt file is a ``JournalError`` exactly as for ``cp --journal``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from partcopy.engine.journal import Journal
from partcopy.errors import JournalError

__all__ = ["BulkLedger", "FinishedObject"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS bulk_objects (
    source      TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    bytes       INTEGER NOT NULL,
    parts       INTEGER NOT NULL,
    etag        TEXT,
    mode        TEXT,
    finished_at REAL    NOT NULL,
    source_etag TEXT,
    PRIMARY KEY (source, destination)
) WITHOUT ROWID
"""
_ADD_SOURCE_ETAG: Final = "ALTER TABLE bulk_objects ADD COLUMN source_etag TEXT"
"""Files written before the column existed gain it; their rows hold NULL (not known)."""


@dataclass(frozen=True, slots=True)
class FinishedObject:
    """What the ledger remembers of one copied object."""

    source: str
    destination: str
    bytes: int
    parts: int
    etag: str | None
    mode: str | None
    source_etag: str | None = None
    """The source's ETag when it was copied (None: not recorded)."""

    def same_source(self, size: int, etag: str | None) -> bool:
        """Whether the source (as a listing now shows it) is the one that was copied.

        Without both ETags (a record from before they were kept, a listing that shows
        none) nothing proves it: the object is copied again rather than skipped on a guess.
        """
        if self.source_etag is None or etag is None or size != self.bytes:
            return False
        return self.source_etag.strip('"') == etag.strip('"')


class BulkLedger:
    """Finished objects of a bulk run, in the journal file at ``path``.

    ``journal`` is the job journal opened on the same file (for part-level resume of
    large objects). Not thread-safe: one ledger per event loop.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self.journal = Journal(self.path)
        self._now = wall_clock
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            self.journal.close()
            raise JournalError(f"cannot open journal {str(self.path)!r}: {exc}") from None
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(bulk_objects)")}
            if "source_etag" not in columns:
                conn.execute(_ADD_SOURCE_ETAG)
        except sqlite3.Error as exc:
            conn.close()
            self.journal.close()
            raise JournalError(
                f"journal {str(self.path)!r}: cannot add bulk table: {exc}"
            ) from None
        self._conn: sqlite3.Connection | None = conn
        try:  # jobs finished outside a bulk run (by `partcopy resume`) count as done too
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'completed')")
            self._completed_jobs = bool(row.fetchone()[0])
        except sqlite3.Error as exc:
            self.close()
            raise JournalError(f"journal {str(self.path)!r}: read failed: {exc}") from None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError(f"journal {str(self.path)!r} is closed")
        return self._conn

    def finished(self, source: str, destination: str) -> FinishedObject | None:
        """The record of ``source`` -> ``destination`` if a run finished it, else None.

        A copy whose job the journal holds as completed is finished as well: ``partcopy
        resume`` completed it after the run was killed, or the run died between
        completing it and recording it here. (Looked up only when the file held such a
        job when it was opened: a first run pays nothing for it.)"""
        try:
            db = self._db()
            row = db.execute(
                "SELECT bytes, parts, etag, mode, source_etag FROM bulk_objects "
                "WHERE source = ? AND destination = ?",
                (source, destination),
            ).fetchone()
            if row is None and self._completed_jobs:
                row = db.execute(
                    "SELECT source_size, part_count, result_etag, mode, source_etag FROM jobs "
                    "WHERE source = ? AND destination = ? AND state = 'completed' "
                    "ORDER BY id DESC LIMIT 1",
                    (source, destination),
                ).fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {str(self.path)!r}: read failed: {exc}") from None
        if row is None:
            return None
        size, parts, etag, mode, source_etag = row
        return FinishedObject(source, destination, int(size), int(parts), etag, mode, source_etag)

    def record(self, done: FinishedObject) -> None:
        """Commit one finished object (durable against a crash of the process)."""
        try:
            self._db().execute(
                "INSERT OR REPLACE INTO bulk_objects "
                "(source, destination, bytes, parts, etag, mode, finished_at, source_etag) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    done.source,
                    done.destination,
                    done.bytes,
                    done.parts,
                    done.etag,
                    done.mode,
                    self._now(),
                    done.source_etag,
                ),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {str(self.path)!r}: write failed: {exc}") from None

    def count(self) -> int:
        """How many finished objects the ledger holds."""
        try:
            row = self._db().execute("SELECT COUNT(*) FROM bulk_objects").fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {str(self.path)!r}: read failed: {exc}") from None
        return int(row[0])

    def close(self) -> None:
        """Close the ledger and its journal. Closing twice is harmless."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.journal.close()

    def __enter__(self) -> BulkLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BulkLedger({str(self.path)!r})"
