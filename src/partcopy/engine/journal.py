"""The crash-safe job journal: one SQLite file recording jobs and the parts they proved.

A journal lets a copy that died (kill -9, power loss, Ctrl-C) resume where it stopped:
each job row pins the source (size, ETag, version), the plan and the upload id; each part
row holds the ETag the store answered. Part results are buffered and committed in batches
(every ``flush_parts`` parts or ``flush_seconds``, and on every state change), so a
10 000-part copy pays a few dozen commits, not 10 000; a part lost from the buffer by a
crash is simply copied again. WAL mode keeps commits cheap and readers unblocked.

A file that is not a partcopy journal (foreign SQLite, garbage, truncated, a newer
schema) raises ``JournalError`` (a ``UsageError``, exit 2) on open: never a crash, never
a silent fresh start over somebody else's data. An empty (0-byte) file is what SQLite
takes it for, a new database: a new journal starts in it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TypeVar, cast

from partcopy.engine.joblock import JobLocks
from partcopy.errors import JournalError, JournalWriteError

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "UNFINISHED_STATES",
    "JobRecord",
    "JobState",
    "Journal",
    "PartRecord",
    "PlanRecord",
    "open_journal",
]

APPLICATION_ID: Final = 0x50435031
"""``PRAGMA application_id`` of every partcopy journal (ASCII ``PCP1``)."""
SCHEMA_VERSION: Final = 1
"""``PRAGMA user_version``: the schema this module reads and writes."""
_T = TypeVar("_T")
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_HEADER_SIZE: Final = 100
_MAGIC: Final = "partcopy-journal"

JobState = Literal["planned", "running", "completed", "failed", "aborted"]
JOB_STATES: Final[tuple[JobState, ...]] = ("planned", "running", "completed", "failed", "aborted")
UNFINISHED_STATES: Final[frozenset[JobState]] = frozenset({"planned", "running", "failed"})
"""States a resume picks up: not yet done and the upload (if any) was kept."""

_SCHEMA: Final = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    source            TEXT    NOT NULL,
    destination       TEXT    NOT NULL,
    source_size       INTEGER NOT NULL,
    source_etag       TEXT,
    source_version    TEXT,
    part_size         INTEGER NOT NULL,
    part_count        INTEGER NOT NULL,
    first_part_number INTEGER NOT NULL,
    mode              TEXT    NOT NULL,
    upload_id         TEXT,
    options           TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN
                          ('planned', 'running', 'completed', 'failed', 'aborted')),
    error             TEXT,
    result_etag       TEXT,
    created_at        REAL    NOT NULL,
    updated_at        REAL    NOT NULL
);
CREATE INDEX jobs_by_route ON jobs (source, destination, state);
CREATE TABLE parts (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    etag        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (job_id, part_number)
) WITHOUT ROWID;
"""

_STORE_OPTIONS: Final = ("endpoint_url", "dst_endpoint_url")
"""Job options naming the stores a job's upload lives on."""

_JOB_COLUMNS: Final = (
    "id, source, destination, source_size, source_etag, source_version, part_size, "
    "part_count, first_part_number, mode, upload_id, options, state, error, result_etag, "
    "created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """The plan a job was started with; a resume must reuse it, part for part."""

    part_size: int
    part_count: int
    first_part_number: int
    mode: str
    """``"multipart"`` (server-side part copies), ``"relay"`` or ``"single"``."""

    @property
    def part_numbers(self) -> range:
        return range(self.first_part_number, self.first_part_number + self.part_count)

    def part_size_of(self, part_number: int, source_size: int) -> int:
        """The planned byte count of one part (the last one may be shorter)."""
        index = part_number - self.first_part_number
        if not 0 <= index < self.part_count:
            raise IndexError(f"part {part_number} is not in this plan")
        first = index * self.part_size
        return min(first + self.part_size, source_size) - first


@dataclass(frozen=True, slots=True)
class PartRecord:
    """One part the store proved with an ETag."""

    part_number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as the journal holds it. ``options`` is whatever the caller needs to
    rebuild the copy (endpoints, mode, attributes) and never holds secrets."""

    id: int
    source: str
    destination: str
    source_size: int
    source_etag: str | None
    source_version: str | None
    plan: PlanRecord
    upload_id: str | None
    options: Mapping[str, object] = field(hash=False)
    state: JobState
    error: str | None
    result_etag: str | None
    created_at: float
    updated_at: float

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED_STATES


def _check_header(path: Path) -> bool:
    """True when ``path`` exists and starts like an SQLite file; JournalError otherwise.

    False means there is no journal yet: no file, or an empty one (a new journal will be
    created in it).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JournalError(f"cannot read journal {str(path)!r}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise JournalError(f"journal {str(path)!r} is a directory, not a file")
    if not stat.S_ISREG(mode):  # a FIFO or device would block the open, or never end
        raise JournalError(f"journal {str(path)!r} is not a regular file")
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEADER_SIZE)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JournalError(f"cannot read journal {str(path)!r}: {exc.strerror}") from None
    if not head:
        return _empty_is_new(path)
    if not head.startswith(_SQLITE_MAGIC):
        raise JournalError(f"journal {str(path)!r} is not a partcopy journal (not SQLite)")
    if len(head) < _HEADER_SIZE:
        raise JournalError(f"journal {str(path)!r} is truncated ({len(head)} bytes)")
    return True


def _empty_is_new(path: Path) -> bool:
    """False (a new journal) for a 0-byte file, as SQLite takes it (``mktemp`` makes
    one); ``JournalError`` when a write-ahead log beside it still holds data: SQLite would
    delete that log, and with it whatever the truncated journal had left in it."""
    wal = path.with_name(path.name + "-wal")
    try:
        left = wal.stat().st_size
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JournalError(f"cannot read {str(wal)!r}: {exc.strerror}") from None
    if left:
        raise JournalError(
            f"journal {str(path)!r} is empty but its log {str(wal)!r} holds {left} bytes "
            "(truncated?): not starting a new journal over it"
        )
    return False


class Journal:
    """A partcopy journal file. Thread-safe for one process; every call is short.

    ``record_part`` appends to a buffer and commits it itself, on the caller's thread,
    once ``flush_parts`` parts wait or the oldest has waited ``flush_seconds``: while parts
    keep coming (a busy event loop) the commits are batched there, with no thread
    contending for the GIL. A small writer thread commits what is left when no new part
    arrives to do it, so every part is durable within ``2 * flush_seconds`` of being
    recorded. ``flush()``, every state change, every read and ``close()`` commit at once.
    ``flush_seconds=None`` commits only at ``flush_parts`` (and at those calls).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        flush_parts: int = 512,
        flush_seconds: float | None = 0.02,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        if not self.path.name:  # '', '.' or '/': a folder, and no name for the lock file
            raise JournalError(f"invalid journal path {str(path)!r}: give a file name")
        self._may_create = create
        self.locks = JobLocks(self.path)
        """Per-job locks: one process runs a journaled job at a time (``engine.joblock``)."""
        self._flush_parts = max(1, flush_parts)
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._now = wall_clock
        self._oldest = 0.0
        """When the oldest buffered part was recorded (``clock``)."""
        # Lock order: _db_lock (SQLite use) before _cond (buffer and flags).
        self._db_lock = threading.RLock()
        self._cond = threading.Condition(threading.Lock())
        self._committed = threading.Condition(threading.Lock())  # for wait_committed
        self._pending: list[tuple[int, int, str, int]] = []
        self._commits = 0
        self._closing = False
        self._writer: threading.Thread | None = None
        self._writer_idle = False
        self._writer_error: JournalWriteError | None = None
        self._conn: sqlite3.Connection | None = self._open()

    # --- opening --------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        exists = _check_header(self.path)
        if not exists and not self._may_create:
            if self.path.exists():  # an empty file: a journal only once a copy writes it
                raise JournalError(f"journal {str(self.path)!r} is empty: it records no job")
            raise JournalError(f"no journal at {str(self.path)!r}")
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {str(self.path)!r}: {exc}") from None
        try:
            if exists:
                self._validate(conn)
            else:
                self._create(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except JournalError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise JournalError(
                f"journal {str(self.path)!r} is corrupt or unreadable: {exc}"
            ) from None
        return conn

    def _validate(self, conn: sqlite3.Connection) -> None:
        name = str(self.path)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise JournalError(f"journal {name!r} is a SQLite file of another application")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise JournalError(
                f"journal {name!r} has schema version {version}; this partcopy reads "
                f"version {SCHEMA_VERSION}"
            )
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            first = " ".join(str(check).split())
            raise JournalError(f"journal {name!r} is corrupt: {first}")
        row = conn.execute("SELECT value FROM meta WHERE key = 'magic'").fetchone()
        if row is None or row[0] != _MAGIC:
            raise JournalError(f"journal {name!r} is missing its partcopy marker")

    def _create(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("magic", _MAGIC), ("schema", str(SCHEMA_VERSION))],
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # --- plumbing -------------------------------------------------------------------

    @property
    def commits(self) -> int:
        """How many transactions this journal committed (for tests and benchmarks)."""
        return self._commits

    def wait_committed(self, count: int, timeout: float) -> bool:
        """Block until ``commits`` reaches ``count`` (False on timeout): for tests."""
        with self._committed:
            return self._committed.wait_for(lambda: self._commits >= count, timeout)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError(f"journal {str(self.path)!r} is closed")
        if self._writer_error is not None:
            raise self._writer_error
        return self._conn

    def _take(self) -> list[tuple[int, int, str, int]]:
        with self._cond:
            batch, self._pending = self._pending, []
            return batch

    def _commit(self, work: Callable[[sqlite3.Connection], _T], what: str = "write") -> _T:
        """Run ``work`` and the buffered parts in one transaction (``_db_lock`` held)."""
        conn = self._db()
        try:
            conn.execute("BEGIN IMMEDIATE")
            batch = self._take()
            if batch:
                conn.executemany(
                    "INSERT OR REPLACE INTO parts (job_id, part_number, etag, size) "
                    "VALUES (?, ?, ?, ?)",
                    batch,
                )
            result = work(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise JournalWriteError(f"journal {str(self.path)!r}: {what} failed: {exc}") from None
        with self._committed:
            self._commits += 1
            self._committed.notify_all()
        return result

    def _write(self, sql: str, params: Iterable[object] = ()) -> sqlite3.Cursor:
        """Commit the buffered parts and then one statement, in one transaction."""
        with self._db_lock:
            return self._commit(lambda conn: conn.execute(sql, tuple(params)))

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        with self._db_lock:
            if self._pending:
                self._commit(lambda conn: None)
            try:
                rows = self._db().execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"journal {str(self.path)!r}: read failed: {exc}") from None
            return cast(list[tuple[object, ...]], rows)

    def flush(self) -> None:
        """Commit every buffered part result now."""
        with self._db_lock:
            if self._pending:
                self._commit(lambda conn: None)

    def _start_writer(self) -> None:
        """Start the background writer (``_cond`` held)."""
        thread = threading.Thread(target=self._write_loop, name="partcopy-journal", daemon=True)
        self._writer = thread
        thread.start()

    def _due(self) -> bool:
        """Whether the buffer must be committed now (``_cond`` held)."""
        if len(self._pending) >= self._flush_parts:
            return True
        seconds = self._flush_seconds
        return seconds is not None and self._clock() - self._oldest >= seconds

    def _write_loop(self) -> None:
        # The writer steps in only for a batch twice overdue: while parts keep coming the
        # owner commits them, and two threads committing would fight over the GIL.
        grace = 2 * (self._flush_seconds or 0.0)
        while True:
            with self._cond:
                while not self._closing:
                    if not self._pending:
                        self._writer_idle = True
                        self._cond.wait()
                        self._writer_idle = False
                        continue
                    left = self._oldest + grace - self._clock()
                    if left <= 0:
                        break
                    self._cond.wait(timeout=left)
                if self._closing:
                    return  # close() commits what is left
            try:
                self.flush()
            except JournalWriteError as exc:
                self._writer_error = exc  # raised by the next call of the owner
                return

    def close(self) -> None:
        """Stop the writer, commit the buffer and close. Closing twice is harmless."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.join()
        with self._db_lock:
            if self._conn is None:
                return
            try:
                if self._writer_error is None:
                    self.flush()
            finally:
                self._conn.close()
                self._conn = None
                self.locks.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # --- jobs -----------------------------------------------------------------------

    def create_job(
        self,
        *,
        source: str,
        destination: str,
        source_size: int,
        source_etag: str | None,
        source_version: str | None,
        plan: PlanRecord,
        options: Mapping[str, object] | None = None,
    ) -> JobRecord:
        """Record a new job in state ``planned`` (no upload yet)."""
        now = self._now()
        try:
            options_json = json.dumps(dict(options or {}), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise JournalError(f"job options cannot be journaled: {exc}") from None
        cur = self._write(
            "INSERT INTO jobs (source, destination, source_size, source_etag, source_version, "
            "part_size, part_count, first_part_number, mode, upload_id, options, state, "
            "error, result_etag, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 'planned', NULL, NULL, ?, ?)",
            (
                source,
                destination,
                source_size,
                source_etag,
                source_version,
                plan.part_size,
                plan.part_count,
                plan.first_part_number,
                plan.mode,
                options_json,
                now,
                now,
            ),
        )
        job_id = cur.lastrowid
        assert job_id is not None
        return self.job(job_id)

    def set_upload(self, job_id: int, upload_id: str) -> JobRecord:
        """Record the upload id the moment it exists, and mark the job ``running``."""
        self._write(
            "UPDATE jobs SET upload_id = ?, state = 'running', error = NULL, updated_at = ? "
            "WHERE id = ?",
            (upload_id, self._now(), job_id),
        )
        return self.job(job_id)

    def set_state(
        self,
        job_id: int,
        state: JobState,
        *,
        error: str | None = None,
        result_etag: str | None = None,
    ) -> JobRecord:
        """Move a job to ``state`` (committing buffered parts first)."""
        if state not in JOB_STATES:
            raise ValueError(f"unknown job state {state!r}")
        self._write(
            "UPDATE jobs SET state = ?, error = ?, result_etag = COALESCE(?, result_etag), "
            "updated_at = ? WHERE id = ?",
            (state, error, result_etag, self._now(), job_id),
        )
        return self.job(job_id)

    def job(self, job_id: int) -> JobRecord:
        """One job by id; ``JournalError`` when there is none."""
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise JournalError(f"journal {str(self.path)!r} has no job {job_id}")
        return self._job_from_row(rows[0])

    def jobs(self) -> list[JobRecord]:
        """Every job, oldest first."""
        return [self._job_from_row(r) for r in self._read(f"SELECT {_JOB_COLUMNS} FROM jobs")]

    def unfinished_jobs(self) -> list[JobRecord]:
        """Jobs a resume should pick up, oldest first."""
        return [j for j in self.jobs() if j.unfinished]

    def find_unfinished(
        self, source: str, destination: str, options: Mapping[str, object] | None = None
    ) -> JobRecord | None:
        """The newest unfinished job copying ``source`` to ``destination``, if any.

        With ``options``, only a job journaled with the same endpoint URLs: the same
        bucket and key on another store is another object, and its upload is not there.
        """
        rows = self._read(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE source = ? AND destination = ? "
            "AND state IN ('planned', 'running', 'failed') ORDER BY id DESC",
            (source, destination),
        )
        for row in rows:
            record = self._job_from_row(row)
            if options is None or all(
                name not in record.options or record.options[name] == options.get(name)
                for name in _STORE_OPTIONS  # a job that names no endpoint matches any
            ):
                return record
        return None

    def _job_from_row(self, row: tuple[object, ...]) -> JobRecord:
        try:
            (
                job_id,
                source,
                destination,
                size,
                etag,
                version,
                part_size,
                part_count,
                first,
                mode,
                upload_id,
                options,
                state,
                error,
                result_etag,
                created,
                updated,
            ) = row
            parsed = json.loads(cast(str, options))
            if not isinstance(parsed, dict) or state not in JOB_STATES:
                raise ValueError("bad options or state")
            return JobRecord(
                id=cast(int, job_id),
                source=cast(str, source),
                destination=cast(str, destination),
                source_size=cast(int, size),
                source_etag=cast("str | None", etag),
                source_version=cast("str | None", version),
                plan=PlanRecord(
                    cast(int, part_size), cast(int, part_count), cast(int, first), cast(str, mode)
                ),
                upload_id=cast("str | None", upload_id),
                options=parsed,
                state=state,
                error=cast("str | None", error),
                result_etag=cast("str | None", result_etag),
                created_at=cast(float, created),
                updated_at=cast(float, updated),
            )
        except (ValueError, TypeError) as exc:
            raise JournalError(
                f"journal {str(self.path)!r} holds a corrupt job row: {exc}"
            ) from None

    # --- parts ----------------------------------------------------------------------

    def record_part(self, job_id: int, part_number: int, etag: str, size: int) -> None:
        """Buffer one proven part; committed now if the batch is due, else soon."""
        with self._cond:
            if self._closing:
                raise JournalError(f"journal {str(self.path)!r} is closed")
            if not self._pending:
                self._oldest = self._clock()
            self._pending.append((job_id, part_number, etag, size))
            due = self._due()
            if not due and len(self._pending) == 1 and self._flush_seconds is not None:
                if self._writer is None:
                    self._start_writer()
                elif self._writer_idle:
                    self._cond.notify_all()  # the writer times this batch
        if due:
            self.flush()

    def forget_parts(self, job_id: int, part_numbers: Iterable[int] | None = None) -> None:
        """Drop part results (all of the job's when ``part_numbers`` is None)."""

        def forget(conn: sqlite3.Connection) -> None:
            if part_numbers is None:
                conn.execute("DELETE FROM parts WHERE job_id = ?", (job_id,))
            else:
                conn.executemany(
                    "DELETE FROM parts WHERE job_id = ? AND part_number = ?",
                    [(job_id, n) for n in part_numbers],
                )

        with self._db_lock:
            self._commit(forget)

    def parts(self, job_id: int) -> dict[int, PartRecord]:
        """The job's proven parts by part number (buffered ones included)."""
        rows = self._read(
            "SELECT part_number, etag, size FROM parts WHERE job_id = ? ORDER BY part_number",
            (job_id,),
        )
        return {
            cast(int, n): PartRecord(cast(int, n), cast(str, e), cast(int, s)) for n, e, s in rows
        }


def open_journal(journal: str | os.PathLike[str] | Journal | None) -> tuple[Journal | None, bool]:
    """A ``Journal`` for a path (owned: the caller must close it) or the one given (not)."""
    if journal is None or isinstance(journal, Journal):
        return journal, False
    return Journal(Path(journal)), True
