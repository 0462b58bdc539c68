"""Journaled copies and resume: record a job as it runs, pick it up after a crash.

``JournalHooks`` records one job's lifecycle (plan, upload id, verified parts, outcome).
``run_journaled`` runs a prepared job against a journal: when the journal holds an
unfinished job for the same source and destination, it re-heads the source (a changed
ETag or version aborts the old upload and raises ``SourceChanged``, or starts over when
``restart_on_change``), reconciles the journal with ListParts, and copies only what is
missing. ``resume_all`` does that for every unfinished job of a journal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from partcopy.engine.fidelity import FidelityOptions
from partcopy.engine.finished import already_complete
from partcopy.engine.hooks import JobHooks, JobPlan, ResumePoint
from partcopy.engine.journal import JobRecord, JobState, Journal, PlanRecord
from partcopy.engine.reconcile import list_all_parts, reconcile, source_unchanged
from partcopy.engine.result import CopyResult
from partcopy.errors import (
    CopyError,
    JobBusy,
    JournalError,
    JournalWriteError,
    NotFound,
    SourceChanged,
    TransportError,
)
from partcopy.logs import get_logger
from partcopy.transports.base import PartInfo

if TYPE_CHECKING:
    from partcopy.engine.job import CopyJob

__all__ = [
    "JobPreparer",
    "JournalHooks",
    "ResumeOutcome",
    "job_options",
    "prepare_record",
    "prepare_resume",
    "resume_all",
    "resume_hint",
    "run_journaled",
]

T = TypeVar("T")
_log = get_logger("partcopy.resume")


class JobPreparer(Protocol):
    """What rebuilds a journaled job without sending a request (``Copier.prepare``)."""

    def prepare(
        self,
        source: str,
        destination: str,
        *,
        part_size: int | str | None = None,
        concurrency: int | None = None,
        mode: Literal["auto", "copy", "relay"] = "auto",
        provider: str | None = None,
        single_threshold: int | str | None = None,
        hooks: JobHooks | None = None,
        fidelity: FidelityOptions | None = None,
    ) -> CopyJob: ...


def resume_hint(journal_path: str) -> str:
    """The one line telling a user how to pick an interrupted copy up again."""
    return (
        f"the upload was kept; resume with: partcopy resume --journal {journal_path} "
        "(or run the same command again)"
    )


class JournalHooks:
    """``JobHooks`` that write one job's lifecycle into a ``Journal``.

    A new job is recorded at ``on_planned``; a resumed one is ``attach``-ed to its
    existing record first, so nothing is recorded twice.
    """

    def __init__(self, journal: Journal, options: Mapping[str, object] | None = None) -> None:
        self.journal = journal
        self.options: Mapping[str, object] = dict(options or {})
        self.record: JobRecord | None = None
        self._locked: int | None = None
        self._remaining = -1
        """Parts still to record; at 0 the journal is flushed before Complete is sent."""

    def attach(self, record: JobRecord) -> None:
        """Continue ``record`` instead of recording a new job."""
        self.record = record
        self._remaining = record.plan.part_count - len(self.journal.parts(record.id))

    @property
    def job_id(self) -> int | None:
        return None if self.record is None else self.record.id

    def _id(self) -> int:
        if self.record is None:
            raise RuntimeError("the job was not planned yet")
        return self.record.id

    def release(self) -> None:
        """Drop the lock taken on a job this hook recorded (see ``on_planned``)."""
        if self._locked is not None:
            self.journal.locks.release(self._locked)
            self._locked = None

    async def on_planned(self, job: JobPlan) -> None:
        if self.record is not None:
            return
        info = job.source_info
        self.record = self.journal.create_job(
            source=str(job.source),
            destination=str(job.destination),
            source_size=info.size,
            source_etag=info.etag,
            source_version=info.version_id,
            plan=PlanRecord(
                part_size=job.plan.part_size,
                part_count=job.plan.part_count,
                first_part_number=job.plan.first_part_number,
                mode=job.mode,
            ),
            options=self.options,
        )
        self.journal.locks.acquire(self.record.id)
        self._locked = self.record.id
        self._remaining = job.plan.part_count

    async def on_upload_created(self, upload_id: str) -> None:
        self.record = self.journal.set_upload(self._id(), upload_id)

    async def on_part_done(self, part_number: int, etag: str, size: int) -> None:
        self.journal.record_part(self._id(), part_number, etag, size)
        self._remaining -= 1
        if self._remaining == 0:
            # Every part is proven: commit them before Complete is sent, so a crash just
            # after Complete still finds them (engine.finished recognises the job done).
            self.journal.flush()

    async def on_completed(self, result: CopyResult) -> None:
        if self.record is not None:
            self.record = self.journal.set_state(
                self.record.id, "completed", result_etag=result.etag
            )

    async def on_failed(self, error: BaseException, upload_id: str | None) -> None:
        if self.record is None:
            return
        message = f"{type(error).__name__}: {error}".rstrip(": ")
        # An upload left open can be resumed ("failed"); without one the job is over.
        state: JobState = "failed" if upload_id is not None else "aborted"
        try:
            self.record = self.journal.set_state(self.record.id, state, error=message)
        except JournalError as exc:  # disk full: the copy's own error is what to report
            _log.warning("journal could not record the failure", error=str(exc))
        except JournalWriteError as exc:
            _log.warning("journal could not record the failure", error=str(exc))


def job_options(job: CopyJob, endpoints: Mapping[str, str | None]) -> dict[str, object]:
    """What ``partcopy resume`` needs to rebuild the job (never credentials or keys)."""
    o = job.options
    return {
        "mode": o.mode,
        "concurrency": o.concurrency,
        "part_size": o.part_size,
        "profile": o.profile,
        "single_threshold": o.single_threshold,
        "fidelity": dataclasses.asdict(o.fidelity),  # plain values: no key is in there
        **{k: v for k, v in endpoints.items() if v is not None},
    }


def _fidelity(value: object) -> FidelityOptions:
    """The journaled fidelity options (defaults for a journal written before them)."""
    if not isinstance(value, dict):
        return FidelityOptions()
    known = {f.name for f in dataclasses.fields(FidelityOptions)}
    return FidelityOptions(**{k: v for k, v in value.items() if k in known})


async def _retried(job: CopyJob, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
    return await job.retrier.call(operation, fn)


async def _abort(job: CopyJob, upload_id: str) -> str | None:
    """Abort an upload left by an earlier run; None when done (or already gone)."""
    dst, end = job.destination, job.dst

    async def abort() -> None:
        async with end.limiter:
            await end.transport.abort(dst.bucket, dst.key, upload_id)

    try:
        await _retried(job, "abort", abort)
    except NotFound:  # the upload (or its bucket) is gone already
        return None
    except TransportError as exc:
        return str(exc)
    return None


async def _list_parts(job: CopyJob, upload_id: str) -> dict[int, PartInfo] | None:
    """Every part of the upload, or None when the store no longer has the upload."""
    dst, end = job.destination, job.dst

    async def listing() -> dict[int, PartInfo]:
        async with end.limiter:
            return await list_all_parts(end.transport, dst.bucket, dst.key, upload_id)

    try:
        return await _retried(job, "list_parts", listing)
    except NotFound:  # the store no longer has the upload
        return None
    except TransportError as exc:
        raise CopyError(f"could not list the parts of upload {upload_id}: {exc}") from exc


async def prepare_resume(
    job: CopyJob, journal: Journal, record: JobRecord, *, restart_on_change: bool = False
) -> ResumePoint | CopyResult | None:
    """Where to pick ``record`` up, its result when it already completed (a crash just
    after Complete: see ``engine.finished``), or None to start the job afresh.

    Sends HEAD (source) and ListParts (destination); aborts the old upload when the source
    changed, and then raises ``SourceChanged`` unless ``restart_on_change``.
    """
    upload_id = record.upload_id
    if record.plan.mode != "single":
        # A create whose answer never came back (the process died waiting, or a lost
        # answer it retried) left an upload this journal does not name: abort it.
        await job.abort_strays(upload_id, datetime.fromtimestamp(record.created_at, UTC))
    if upload_id is None or record.plan.mode == "single":
        journal.set_state(record.id, "aborted", error="superseded: nothing to resume")
        return None
    info = await job.head_source()
    if not source_unchanged(record, info):
        problem = await _abort(job, upload_id)
        what = (
            f"source {job.source} changed since the journaled copy started: ETag "
            f"{info.etag} version {info.version_id} size {info.size} (was "
            f"{record.source_etag} version {record.source_version} size {record.source_size})"
        )
        kept = None if problem is None else upload_id
        journal.set_state(
            record.id, "failed" if kept else "aborted", error=f"SourceChanged: {what}"
        )
        _log.info("source_changed", job=record.id, upload_id=upload_id, aborted=kept is None)
        if restart_on_change and kept is None:
            return None
        suffix = (
            f"; the old upload {upload_id} was aborted"
            if kept is None
            else f"; the old upload {upload_id} could not be aborted: {problem}"
        )
        raise SourceChanged(what + suffix, upload_id=kept)
    listed = await _list_parts(job, upload_id)
    if listed is None:
        done = await already_complete(job, journal, record, info)
        if done is not None:
            return done
        journal.set_state(record.id, "aborted", error="the upload no longer exists")
        return None
    outcome = reconcile(record, journal.parts(record.id), listed)
    if outcome.recopy:
        journal.forget_parts(record.id, outcome.recopy)
    _log.info(
        "resuming",
        job=record.id,
        upload_id=upload_id,
        kept=len(outcome.kept),
        recopy=len(outcome.recopy),
        planned=record.plan.part_count,
    )
    return ResumePoint(
        upload_id=upload_id,
        source_etag=record.source_etag,
        source_version_id=record.source_version,
        part_size=record.plan.part_size,
        done=dict(outcome.kept),
        checksums={
            n: part.checksum
            for n, part in listed.items()
            if n in outcome.kept and part.checksum is not None
        },
        journal=str(journal.path),
    )


async def run_journaled(
    job: CopyJob,
    hooks: JournalHooks,
    *,
    record: JobRecord | None = None,
    restart_on_change: bool = False,
) -> CopyResult:
    """Run ``job`` recorded in ``hooks.journal``, resuming its unfinished predecessor.

    ``job`` must have been prepared with ``hooks``. ``record`` names the job to resume;
    by default the newest unfinished job with the same source and destination.
    """
    journal = hooks.journal
    if record is None:
        record = journal.find_unfinished(str(job.source), str(job.destination), hooks.options)
    if record is None:
        try:
            return await job.run(None)
        finally:
            hooks.release()
            journal.flush()
    journal.locks.acquire(record.id)  # JobBusy while another process runs it
    try:
        resume = await prepare_resume(job, journal, record, restart_on_change=restart_on_change)
        if isinstance(resume, CopyResult):
            journal.set_state(record.id, "completed", result_etag=resume.etag)
            return resume
        if resume is not None:
            hooks.attach(record)
        return await job.run(resume)
    finally:
        journal.locks.release(record.id)
        hooks.release()
        journal.flush()


@dataclass(frozen=True, slots=True)
class ResumeOutcome:
    """One resumed job: its journal id and either its result or its error."""

    job_id: int
    source: str
    destination: str
    result: CopyResult | None
    error: Exception | None
    record: JobRecord | None = None
    """The journal's record of the job after a failed attempt (its plan, and the upload
    it keeps for the next resume while the job is unfinished)."""


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def prepare_record(
    copier: JobPreparer, journal: Journal, record: JobRecord
) -> tuple[CopyJob, JournalHooks]:
    """Rebuild the job of a journaled ``record`` (no request sent; ``UsageError`` if bad)."""
    opts = record.options
    mode = opts.get("mode")
    profile = opts.get("profile")
    hooks = JournalHooks(journal, opts)
    fidelity = _fidelity(opts.get("fidelity"))
    job = copier.prepare(
        record.source,
        record.destination,
        # A kept layout is planned from the source again (and checked against the record).
        part_size=None if fidelity.preserve_layout else record.plan.part_size,
        concurrency=_int_or_none(opts.get("concurrency")),
        mode=mode if mode in ("copy", "relay") else "auto",
        provider=profile if isinstance(profile, str) else None,
        single_threshold=_int_or_none(opts.get("single_threshold")),
        hooks=hooks,
        fidelity=fidelity,
    )
    return job, hooks


async def resume_all(
    copier: JobPreparer, journal: Journal, *, restart_on_change: bool = False
) -> list[ResumeOutcome]:
    """Resume every unfinished job of ``journal`` through ``copier``, one after another.

    A failing job does not stop the others; each outcome carries its result or error. A
    job another live process runs is left to it: its outcome is that ``JobBusy``.
    """
    outcomes: list[ResumeOutcome] = []
    for record in journal.unfinished_jobs():
        try:
            job, hooks = prepare_record(copier, journal, record)
            result = await run_journaled(
                job, hooks, record=record, restart_on_change=restart_on_change
            )
        except JobBusy as exc:  # nothing was sent for it: the journal has it as it was
            outcomes.append(
                ResumeOutcome(record.id, record.source, record.destination, None, exc, record)
            )
        except Exception as exc:
            left = journal.job(record.id)
            outcomes.append(
                ResumeOutcome(record.id, record.source, record.destination, None, exc, left)
            )
        else:
            outcomes.append(
                ResumeOutcome(record.id, record.source, record.destination, result, None)
            )
    return outcomes
