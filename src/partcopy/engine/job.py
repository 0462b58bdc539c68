"""One copy job, start to finish: head, plan, create, parts, complete, verify, or abort.

The lifecycle lives here and nowhere else; state transitions are reported to ``JobHooks``
(a journal) and ``EventCallback`` (progress). Which parts still need copying is an input
(``ResumePoint.done``), and how a part is moved is a ``PartOperation``, so resume and relay
reuse this job unchanged. Proof obligations: Complete lists exactly one verified ETag per
planned part; an upload id that exists is aborted on any failure or cancellation unless the
options say to keep it; a 412 on the pinned source stops every part (``SourceChanged``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

import anyio

from partcopy.engine.content import ContentCheck, compare_content, full_ranges, sample_ranges
from partcopy.engine.events import (
    Aborting,
    Completed,
    ConcurrencyChanged,
    EventCallback,
    Failed,
    PartCompleted,
    PartRetried,
    PartStarted,
    Planned,
)
from partcopy.engine.fidelity import (
    SERVICE_SSE_DIALECTS,
    ChecksumPlan,
    FidelityOptions,
    choose_checksum,
    destination_attributes,
)
from partcopy.engine.hedge import HedgedPart, HedgePolicy, HedgeTracker, UnlimitedSlots
from partcopy.engine.hooks import JobHooks, JobPlan, NoHooks, ResumePoint
from partcopy.engine.logstate import INFO, log_enabled
from partcopy.engine.orphans import list_uploads
from partcopy.engine.parts import CopyPart, Endpoint, ObjectPut, PartOperation
from partcopy.engine.pool import run_pool
from partcopy.engine.proof import (
    check_destination_checksum,
    complete_checksums,
    read_layout,
    read_tags,
)
from partcopy.engine.result import CopyResult
from partcopy.engine.retry import Retrier
from partcopy.engine.verify import (
    Verification,
    composite_etag,
    copy_proven_by_answer,
    etag_is_md5,
    normalize_etag,
    verify_complete,
    verify_destination,
    verify_part,
)
from partcopy.errors import (
    AbortFailed,
    BucketNotFound,
    CopyError,
    NotFound,
    ObjectNotFound,
    PartcopyError,
    PartFailed,
    PlanError,
    PreconditionFailed,
    ServiceError,
    SourceChanged,
    TransportError,
    UsageError,
    VerificationFailed,
)
from partcopy.logs import get_logger
from partcopy.planners import CopyPlan, PartLimits, get_profile, plan, plan_layout
from partcopy.providers import (
    Dialect,
    Provider,
    default_provider,
    get_provider,
    provider_for_server,
)
from partcopy.transports.base import (
    CompleteChecksums,
    CopySource,
    ListedObject,
    ObjectAttributes,
    ObjectInfo,
    SSECustomerKey,
)
from partcopy.units import format_size
from partcopy.urls import Location

__all__ = ["CopyJob", "CopyOptions", "Mode", "check_choices", "destination_provider", "new_job_id"]

T = TypeVar("T")
Mode = Literal["auto", "copy", "relay"]


def destination_provider(dialect: Dialect, profile: str | None) -> Provider:
    """The provider row whose facts (ETag rules, server-side copy) a destination of
    ``dialect`` has: the ``profile`` row when it speaks that dialect, else the dialect's."""
    if profile is not None:
        row = get_provider(profile)
        if row.dialect == dialect:
            return row
    return default_provider(dialect)


CREATE_SKEW = 5.0
"""Seconds of clock difference allowed between this host and the store when telling the
uploads a job's lost CreateMultipartUpload attempts made from other clients' uploads."""
_COMPOSITE_RE = re.compile(r'^"?[0-9a-fA-F]{32}-\d+"?$')
_log = get_logger("partcopy.engine")


def _version(version_id: str | None) -> str | None:
    """A version id worth pinning: S3 says ``null`` for objects in unversioned buckets."""
    return None if not version_id or version_id == "null" else version_id


def _cancel_message(
    kept: str | None, upload: list[str], destination: str, abort_cut: bool = False
) -> str:
    if kept is not None and abort_cut:
        return (
            f"interrupted; the abort of the upload {kept} of {destination} was cut short: "
            f"it may be left open (partcopy uploads list {destination} shows it)"
        )
    if kept is not None:
        return f"interrupted; the upload {kept} could not be aborted and is left open"
    if upload:
        return f"interrupted; the upload was aborted ({upload[0]})"
    return "interrupted before an upload was started"


def new_job_id() -> str:
    """A short random job id for logs, events and journals."""
    return uuid.uuid4().hex[:12]


def check_choices(part_size: int | None, mode: str, profile: str | None) -> None:
    """``UsageError`` for a non-positive part size, an unknown mode or profile."""
    if part_size is not None and part_size <= 0:
        raise UsageError(f"invalid part size {part_size!r}: must be positive")
    if mode not in ("auto", "copy", "relay"):
        raise UsageError(f"invalid mode {mode!r}: expected auto, copy or relay")
    if profile is not None:
        get_profile(profile)


@dataclass(frozen=True, slots=True)
class CopyOptions:
    """Per-copy choices. ``None`` means "the default for this destination"."""

    part_size: int | None = None
    concurrency: int = 64
    mode: Mode = "auto"
    profile: str | None = None
    """Planner profile for the destination (e.g. ``obs2`` for an OBS 2.0 bucket)."""
    single_threshold: int | None = None
    attributes: ObjectAttributes | None = None
    """Replace the source's Content-*, metadata, class and tags on the copy."""
    source_sse_c: SSECustomerKey | None = None
    destination_sse_c: SSECustomerKey | None = None
    abort_on_cancel: bool = True
    """Abort the upload when the job is cancelled (a journal keeps it to resume)."""
    cleanup_timeout: float = 60.0
    """Longest time the shielded abort after a failure or cancellation may take."""
    hedge: HedgePolicy | None = None
    """Re-issue straggling UploadPartCopy requests under this policy (None: never)."""
    fidelity: FidelityOptions = field(default_factory=FidelityOptions)
    """Tags, encryption, ACL, checksum proof, part layout and content checks."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError(f"invalid concurrency {self.concurrency!r}: must be at least 1")
        check_choices(self.part_size, self.mode, self.profile)


@dataclass(slots=True)
class _Counters:
    """Mutable tallies of one job (never shared across jobs)."""

    retries: int = 0


class CopyJob:
    """Copies one object; ``await job.run()`` returns a ``CopyResult`` or raises."""

    def __init__(
        self,
        source: Location,
        destination: Location,
        *,
        src: Endpoint,
        dst: Endpoint,
        part_mode: Literal["copy", "relay"],
        options: CopyOptions,
        retrier_factory: Callable[[Callable[[str, int | None, int, str, float], None]], Retrier],
        on_event: EventCallback | None = None,
        hooks: JobHooks | None = None,
        job_id: str | None = None,
        operation_factory: Callable[[CopyJob, ObjectInfo], PartOperation] | None = None,
        source_facts: ListedObject | None = None,
        put_factory: Callable[[CopyJob, ObjectInfo], ObjectPut] | None = None,
    ) -> None:
        self.job_id = job_id or new_job_id()
        self.source_facts = source_facts
        self._attributes_known = True
        self.source = source
        self.destination = destination
        self.src = src
        self.dst = dst
        self.part_mode = part_mode
        self.options = options
        self.emit = on_event
        self.hooks: JobHooks = hooks if hooks is not None else NoHooks()
        self._has_hooks = hooks is not None
        self.retries_by_reason: dict[str, int] = {}
        self.counters = _Counters()
        self.retrier = retrier_factory(self._on_retry)
        self.hedges: HedgeTracker | None = None
        self._operation_factory = operation_factory
        self._put_factory = put_factory if part_mode == "relay" else None
        self._log = _log
        self._verbose = True
        self._last_limit = self.dst.limiter.limit
        self.left_open: str | None = None
        self.cancelled: tuple[str, str | None] | None = None
        """How a cancelled run ended: its message and the upload it left open, if any."""
        self.abort_cut = False
        """The abort of ``left_open`` was itself interrupted: whether it went is unknown."""
        self.strays_unchecked = False
        """Uploads a lost CreateMultipartUpload answer may have made could not be listed or
        aborted: some may be left open."""
        self.source_tags: str | None = None
        """The source's tags as read (None: not read, or not readable)."""
        self.checksum_plan = ChecksumPlan()
        self.part_checksums: dict[int, str] = {}
        """Each part's checksum as the store (copy) or the relay computed it."""
        self.checksum: str | None = None
        """The destination's checksum that proved the copy (``crc64nvme:…``)."""
        self.content_check: ContentCheck | None = None
        self.layout: tuple[int, ...] | None = None
        self.verification = Verification.SIZE_ONLY
        """What proved the destination (set by the step that proved it)."""
        """An upload whose abort failed after a cancellation (left open, not journaled)."""
        self.provider = destination_provider(destination.dialect, options.profile)
        """The destination's provider row (limits, ETag rules, server-side copy)."""

    # --- events and retries ------------------------------------------------------------

    def _on_retry(
        self, operation: str, part_number: int | None, attempt: int, reason: str, delay: float
    ) -> None:
        self.counters.retries += 1
        seen = self.retries_by_reason.get(reason, 0)
        self.retries_by_reason[reason] = seen + 1
        if reason == "Timeout" and not seen:
            # A store that takes connections and never answers costs a whole deadline per
            # attempt: say so once where warnings are shown, not only at info level.
            self._log.warning(
                "no answer in time: retrying (the connect and read timeouts bound each try)",
                job_id=self.job_id,
                operation=operation,
                attempt=attempt,
            )
        self._log.info(
            "retry",
            operation=operation,
            part_number=part_number,
            attempt=attempt,
            reason=reason,
            delay=round(delay, 3),
        )
        if self.emit is not None:
            self.emit(PartRetried(self.job_id, part_number, operation, attempt, reason, delay))
            self._report_concurrency(self.emit)

    def _report_concurrency(self, emit: EventCallback) -> None:
        """Emit ``ConcurrencyChanged`` when the destination's shared limit has moved."""
        limiter = self.dst.limiter
        if limiter.limit == self._last_limit:
            return  # the common case on every part: no snapshot to build
        stats = limiter.statistics()
        self._last_limit = stats.limit
        emit(
            ConcurrencyChanged(
                self.job_id,
                limiter.name,
                stats.limit,
                stats.in_flight,
                stats.min_limit,
                stats.throttled,
            )
        )

    async def _call(self, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await self.retrier.call(operation, fn)

    # --- lifecycle ---------------------------------------------------------------------

    async def run(self, resume: ResumePoint | None = None) -> CopyResult:
        """Run the job to a verified destination, or raise after cleaning up."""
        started = time.monotonic()
        upload: list[str] = []
        # Per-object info/debug events only where they are shown: a bulk run of small
        # objects at the default level binds and renders nothing per object.
        self._verbose = log_enabled(INFO)
        try:
            if self._verbose:
                from structlog.contextvars import bound_contextvars  # shown: worth loading

                with bound_contextvars(job_id=self.job_id):
                    result = await self._run(resume, started, upload)
            else:
                result = await self._run(resume, started, upload)
        except BaseException as exc:
            await self._report_failure(exc, upload)
            raise
        await self.hooks.on_completed(result)
        if self.emit is not None:
            self.emit(
                Completed(self.job_id, result.etag, result.bytes, result.parts, result.seconds)
            )
        if self._verbose:
            self._log.info(
                "completed",
                job_id=self.job_id,
                etag=result.etag,
                parts=result.parts,
                seconds=result.seconds,
            )
        return result

    async def _report_failure(self, exc: BaseException, upload: list[str]) -> None:
        """Tell the hooks and the events how the job ended and which upload is left open.

        Cancelled too: ``Failed(..., "Cancelled", ...)`` names the upload when it is kept
        (journal) or when its abort failed, so an interrupted caller reports the truth.
        """
        if not isinstance(exc, Exception):
            kept = upload[0] if upload and not self.options.abort_on_cancel else self.left_open
            cut = self.abort_cut and kept == self.left_open
            message = _cancel_message(kept, upload, self.destination.url, cut)
            self.cancelled = (message, kept)
            if self.emit is not None:
                self.emit(Failed(self.job_id, "Cancelled", message, kept))
            with anyio.CancelScope(shield=True):
                await self.hooks.on_failed(exc, kept)
            return
        kept = exc.upload_id if isinstance(exc, CopyError) else None
        if self.emit is not None:
            self.emit(Failed(self.job_id, type(exc).__name__, str(exc), kept))
        # Bad input found by the plan (a layout the destination cannot take) is the
        # caller's to report, as one line; a failed copy is a warning.
        log = self._log.info if isinstance(exc, PlanError | UsageError) else self._log.warning
        log(
            "failed",
            job_id=self.job_id,
            error=type(exc).__name__,
            message=str(exc),
            upload_id=kept,
        )
        with anyio.CancelScope(shield=True):
            await self.hooks.on_failed(exc, kept)

    async def head_source(self) -> ObjectInfo:
        """HEAD the source (retried, under the source endpoint's limit)."""
        src = self.source
        transport = self.src.transport
        sse_c = self.options.source_sse_c

        checksum_mode = self.options.fidelity.checksum != "off"

        async def head() -> ObjectInfo:
            async with self.src.limiter:
                return await transport.head(
                    src.bucket,
                    src.key,
                    version_id=src.version_id,
                    sse_c=sse_c,
                    checksum_mode=checksum_mode,
                )

        try:
            info = await self._call("head_source", head)
        except ServiceError as exc:  # say which side failed: the source
            exc.args = (f"source {src}: {exc.args[0]}", *exc.args[1:])
            raise
        self._adopt_server_row(info)
        return info

    def _adopt_server_row(self, info: ObjectInfo) -> None:
        """A copy within a store whose ``Server`` header names a row (SeaweedFS) takes that
        row's ETag rules when none was named: else its copy-part ETags, which are not the
        ranges' MD5s, would pass for them and a composite-ETag proof would be claimed."""
        if self.options.profile is not None or self.part_mode != "copy":
            return
        row = provider_for_server(self.destination.dialect, info.server)
        if row is not None:
            self.provider = row

    def _listed_info(self) -> ObjectInfo | None:
        """The source as the listing saw it, when that is enough to plan and pin a copy.

        The listing says size, ETag and class but not Content-* or metadata: a single
        CopyObject keeps those itself (no directive), anything else still needs a HEAD.
        """
        facts = self.source_facts
        if (
            facts is None
            or not facts.etag
            or self.source.version_id is not None
            or facts.storage_class not in (None, "STANDARD")
        ):
            return None
        return ObjectInfo(
            bucket=self.source.bucket,
            key=self.source.key,
            size=facts.size,
            etag=facts.etag,
            last_modified=facts.last_modified,
            attributes=ObjectAttributes(),
        )

    async def _source_info(self, resume: ResumePoint | None) -> tuple[ObjectInfo, CopyPlan]:
        """HEAD the source, or trust its listing where the plan allows; and the plan."""
        fidelity = self.options.fidelity
        plain = not fidelity.overrides and fidelity.verify_content == "none"
        info = None if resume is not None or not plain else self._listed_info()
        if info is not None:
            chosen = self._plan(info, resume)
            if self.options.attributes is not None:
                return info, chosen
            if (
                chosen.mode == "single"
                and self.part_mode == "copy"
                and self.options.destination_sse_c is None
            ):
                # CopyObject keeps the source's Content-* and metadata itself; a relay's
                # PUT must carry them, and only a HEAD says what they are.
                self._attributes_known = False
                return info, chosen
        info = await self.head_source()
        self._check_facts(info)
        if fidelity.preserve_layout:
            self.layout = await read_layout(
                self.src,
                self.source,
                info,
                version_id=self.source.version_id or _version(info.version_id),
                sse_c=self.options.source_sse_c,
                workers=min(self.options.concurrency, 16),
                call=self._call,
            )
        self.checksum_plan = choose_checksum(
            fidelity.checksum, info.checksum, self.profile, relay=self.part_mode == "relay"
        )
        chosen = self._plan(info, resume)
        if chosen.mode == "single" and self.part_mode == "relay" and self.checksum_plan.combinable:
            # One PUT proven by the MD5 of the bytes it carried: no checksum to compute.
            self.checksum_plan = ChecksumPlan(reason="a single PUT is proven by its MD5")
        # CopyObject keeps the source's tags itself; parts and a relay's PUT carry them.
        if (chosen.mode != "single" or self.part_mode == "relay") and self._reads_tags():
            version = self.source.version_id or _version(info.version_id)
            self.source_tags = await read_tags(self.src, self.source, version, self._call)
        return info, chosen

    @property
    def profile(self) -> str:
        """The destination's limits profile (provider row)."""
        return self.options.profile or self.provider.name

    def _reads_tags(self) -> bool:
        """Whether the source's tags must be read to carry them: a single CopyObject
        keeps them itself (no tagging directive), given tags replace them."""
        return (
            self.options.fidelity.tags is None
            and (self.options.attributes is None or self.options.attributes.tagging is None)
            and default_provider(self.source.dialect).tagging
            and self.provider.tagging
        )

    def _plan_layout(self, info: ObjectInfo, limits: PartLimits) -> CopyPlan:
        """The plan that keeps the source's part ranges (``--preserve-layout``)."""
        if self.layout is None:  # uploaded in one piece: one CopyObject keeps its MD5 ETag
            if self.part_mode == "relay":
                raise PlanError(
                    "cannot keep the source's layout in a relay: it was uploaded in one piece "
                    "and a relay writes a multipart object (its ETag cannot be the source's)"
                )
            chosen = plan(info.size, limits, single_threshold=limits.single_max)
            if chosen.mode != "single":
                raise PlanError(
                    f"cannot keep the source's layout: one piece of {info.size} bytes is "
                    f"more than one copy of profile {limits.name!r} takes"
                )
            return chosen
        return plan_layout(self.layout, limits)

    def _plan(self, info: ObjectInfo, resume: ResumePoint | None) -> CopyPlan:
        profile = self.profile
        limits = get_profile(profile)
        if self.options.fidelity.preserve_layout:
            chosen = self._plan_layout(info, limits)
            if resume is not None and chosen.part_size != resume.part_size:
                raise PlanError("cannot resume: the source's part layout changed")
            return chosen
        if resume is not None:
            if resume.part_size >= max(info.size, 1):
                # One part of the whole object (a relay of what fits one request): valid
                # at any size, as a last part is, though under the minimum part.
                return CopyPlan(info.size, limits, resume.part_size, "multipart")
            chosen = plan(info.size, limits, resume.part_size, single_threshold=0)
            if chosen.part_size != resume.part_size:
                raise PlanError(
                    f"cannot resume: part size {resume.part_size} is not valid for "
                    f"{info.size} bytes under profile {profile!r}"
                )
            return chosen
        chosen = plan(
            info.size,
            limits,
            self.options.part_size,
            self.options.concurrency,
            single_threshold=self.options.single_threshold,
            range_floor=self.provider.range_copy_floor if self.part_mode == "copy" else 0,
        )
        if chosen.mode == "single" and self.part_mode == "relay" and not self._relay_puts():
            # No server-side single copy between endpoints: one part covering everything.
            return replace(chosen, mode="multipart", part_size=max(info.size, 1))
        return chosen

    def _relay_puts(self) -> bool:
        """Whether an object that fits one request is relayed as one PutObject.

        Not where a CRC proves the copy against the source's own (asked for by name, or
        the source keeps one): that proof combines the parts' checksums on Complete, so
        such a relay stays a one-part (streamed) multipart upload with a full-object CRC.
        A CRC ``auto`` would only compute over the relayed bytes proves no more than the
        PUT's MD5. A SHA is a PUT: only a PUT gives the object a full-object SHA (an
        upload's is a composite, as PutObject with aws-cli or boto3 would not make), its
        value computed over the buffered bytes and checked by the store.
        """
        checksum = self.options.fidelity.checksum
        plan = self.checksum_plan
        return self._put_factory is not None and (
            (plan.algorithm is not None and not plan.combinable)
            or (checksum in ("auto", "off") and plan.source is None)
        )

    def copy_source(self, info: ObjectInfo) -> CopySource:
        """The source pinned to what HEAD saw: its ETag (If-Match), version and size."""
        return CopySource(
            bucket=self.source.bucket,
            key=self.source.key,
            version_id=self.source.version_id or _version(info.version_id),
            if_match=info.etag,
            sse_c=self.options.source_sse_c,
            size=info.size,
        )

    def attributes(self, info: ObjectInfo) -> ObjectAttributes:
        """What the destination carries: the source's attributes unless overridden, its
        tags and encryption as ``fidelity`` says, and the checksum to create it with."""
        attrs = self.options.attributes or info.attributes
        if attrs.sse_c is None and self.options.destination_sse_c is not None:
            attrs = replace(attrs, sse_c=self.options.destination_sse_c)
        return destination_attributes(
            attrs,
            self.options.fidelity,
            source_dialect=self.source.dialect,
            destination=self.provider,
            source_tags=self.source_tags,
            checksum=self.checksum_plan.algorithm,
        )

    def md5_etags(self, info: ObjectInfo) -> bool:
        """Whether the destination's part ETags are MD5s of the bytes: the composite check
        and hedging rely on it (not under SSE-KMS or SSE-C)."""
        return self.options.source_sse_c is None and etag_is_md5(
            self.provider, self.attributes(info)
        )

    async def _run(
        self, resume: ResumePoint | None, started: float, upload: list[str]
    ) -> CopyResult:
        try:
            info, chosen = await self._source_info(resume)
        except PlanError as exc:
            if resume is None:
                raise
            # The journaled parts cannot be planned again under this run's choices (another
            # provider or part size): the upload stays for a resume with the job's own.
            raise CopyError(
                f"{exc}; {self._kept_message(resume)}", upload_id=resume.upload_id
            ) from exc
        if resume is not None and (
            (resume.source_etag and info.etag != resume.source_etag)
            or (resume.source_version_id and info.version_id != resume.source_version_id)
        ):
            raise SourceChanged(
                f"source {self.source} changed since the job started: ETag {info.etag} "
                f"(was {resume.source_etag})",
                upload_id=resume.upload_id,
            )
        put = chosen.mode == "single" and self.part_mode == "relay"
        mode = "single" if chosen.mode == "single" and not put else self.part_mode
        # A relayed PUT is journaled as "single": one request, no upload to resume.
        planned = "single" if chosen.mode == "single" else mode
        await self.hooks.on_planned(
            JobPlan(self.job_id, self.source, self.destination, info, chosen, planned)
        )
        parts = max(chosen.part_count, 1) if put else chosen.part_count
        done = len(resume.done) if resume is not None else 0
        if self.emit is not None:
            self.emit(
                Planned(
                    self.job_id,
                    str(self.source),
                    str(self.destination),
                    mode,
                    info.size,
                    chosen.part_size,
                    parts,
                    done,
                    tuple(
                        f"part size {format_size(a.requested)} -> {format_size(a.chosen)}: "
                        f"{a.reason}"
                        for a in chosen.adjustments
                        if a.requested is not None
                    ),
                )
            )
        if self._verbose:
            self._log.debug("planned", mode=mode, size=info.size, parts=parts)
        upload_id = None
        if put:
            etag, version = await self._relay_put(info)
        elif mode == "single":
            etag, version = await self._single(info)
        else:
            etag, version, upload_id = await self._multipart(info, chosen, resume, upload)
        if self.options.fidelity.verify_content != "none":
            await self._verify_content(info, version)
        return CopyResult(
            source=str(self.source),
            destination=str(self.destination),
            etag=etag,
            parts=parts,
            bytes=info.size,
            part_size=chosen.part_size,
            mode=mode,
            retries=self.counters.retries,
            seconds=time.monotonic() - started,
            retries_by_reason=dict(self.retries_by_reason),
            hedges=self.hedges.hedged if self.hedges is not None else 0,
            upload_id=upload_id,
            version_id=version,
            job_id=self.job_id,
            concurrency=self.dst.limiter.summary(),
            verification=self.verification,
            checksum=self.checksum,
            content_check=self.content_check,
            source_etag=info.etag,
        )

    def _kept_message(self, resume: ResumePoint) -> str:
        """Says that ``resume``'s upload is kept, and how to resume or abort it."""
        how = f" (partcopy resume --journal {resume.journal})" if resume.journal is not None else ""
        return (
            f"the upload {resume.upload_id} is kept: resume it with the settings it was "
            f"started with{how}, or abort it (partcopy uploads abort {self.destination} "
            f"--upload-id {resume.upload_id})"
        )

    # --- single ------------------------------------------------------------------------

    async def _single(self, info: ObjectInfo) -> tuple[str, str | None]:
        dst = self.destination
        transport = self.dst.transport
        defaults = self.dst.encrypts_by_default
        if (
            not self._attributes_known
            and self.provider.dialect in SERVICE_SSE_DIALECTS
            and defaults.get(dst.bucket) is False
        ):
            # A CopyObject that names no encryption takes the bucket's default, never the
            # source's: where this run has seen that default to be none, the source is
            # HEAD-ed first, so an encrypted source is never copied unencrypted.
            info = await self._head_listed(info)
        source = self.copy_source(info)
        attrs = self.attributes(info) if self._attributes_known else None

        version: list[str | None] = [None]
        answered_sse: list[str | None] = [None]
        probed = [False]

        async def copy() -> str:
            try:
                async with self.dst.limiter:
                    result = await transport.copy_object(source, dst.bucket, dst.key, attrs)
            except ServiceError as exc:
                if exc.status >= 500 and not probed[0]:
                    probed[0] = True
                    await self._fail_if_no_bucket(exc)
                raise
            version[0] = _version(result.version_id)
            answered_sse[0] = result.sse
            return verify_complete(result, "copy_object")

        try:
            etag = await self._call("copy_object", copy)
        except PreconditionFailed as exc:
            raise SourceChanged(f"source {self.source} changed during the copy: {exc}") from exc
        if attrs is None or (attrs.sse is None and attrs.sse_c is None):
            defaults[dst.bucket] = answered_sse[0] is not None
        if attrs is None:
            carried = await self._encryption_lost(info, answered_sse[0], etag)
            if carried is not None:
                weaker = version[0]
                again = await self._single(carried)
                if weaker is not None and weaker != again[1]:
                    await self._delete_weaker(weaker)
                return again
        algorithm = self.checksum_plan.algorithm
        expected = self.checksum_plan.source.value if self.checksum_plan.source else None
        by_answer = expected is None and self._proven_by_answer(info, etag)
        if by_answer and algorithm is None:
            self.verification = Verification.SOURCE_MD5
            return etag, version[0]
        # A checksum asked for: HEAD reads what the store recorded, to report it.
        head = await self._head_destination(None, checksum_mode=algorithm is not None)
        verify_destination(head, size=info.size, expected_etag=etag)
        self.verification = Verification.SOURCE_MD5 if by_answer else Verification.ETAG_SIZE
        await self._prove_by_checksum(expected, head, proves=expected is not None)
        return etag, _version(head.version_id)

    def _check_facts(self, found: ObjectInfo) -> None:
        """A source whose ETag is no longer the one its listing or manifest line gave
        changed since: it fails, as a CopyObject pinned to that ETag fails its If-Match,
        whatever path the copy takes."""
        facts = self.source_facts
        listed = facts.etag if facts is not None else None
        if listed and found.etag and normalize_etag(found.etag) != normalize_etag(listed):
            raise SourceChanged(
                f"source {self.source} changed since it was listed "
                f"(ETag {listed} listed, {found.etag} now)"
            )

    async def _head_listed(self, info: ObjectInfo) -> ObjectInfo:
        """HEAD a source known from its listing; its attributes are then carried."""
        found = await self.head_source()
        self._check_facts(found)
        self._attributes_known = True
        return found

    async def _encryption_lost(
        self, info: ObjectInfo, answered: str | None, etag: str
    ) -> ObjectInfo | None:
        """After a CopyObject that named no encryption (the bucket encrypts by default):
        whether the source's own encryption may be stronger than what the copy got.

        An ``AES256`` answer whose ETag is the source's plain MD5 ETag came from a source
        without SSE-KMS or SSE-C (their ETags are not MD5s); an SSE-KMS answer is as strong
        as any source. Otherwise the source is HEAD-ed, and one stored under another
        encryption is returned, to be copied again carrying it; None: nothing was lost."""
        if self.provider.dialect not in SERVICE_SSE_DIALECTS:
            return None
        if answered is not None and answered != "AES256":
            return None
        if answered is not None and copy_proven_by_answer(info.etag, etag, md5_etags=True):
            return None
        found = await self._head_listed(info)
        if found.attributes.sse in (None, "") or found.attributes.sse == answered:
            return None
        self._log.info(
            "copy again with the source's encryption",
            sse=found.attributes.sse,
            stored_as=answered or "none",
        )
        return found

    async def _delete_weaker(self, version_id: str) -> None:
        """Delete the version a copy under the bucket's default encryption left behind the
        one that carries the source's (a versioned bucket keeps both)."""
        dst = self.destination

        async def delete() -> None:
            async with self.dst.limiter:
                await self.dst.transport.delete_object(dst.bucket, dst.key, version_id)

        try:
            await self._call("delete_object", delete)
        except TransportError as problem:
            self._log.warning(
                "a version under the bucket's default encryption is left",
                version_id=version_id,
                error=str(problem),
            )

    async def _relay_put(self, info: ObjectInfo) -> tuple[str, str | None]:
        """Relay the object as one PutObject from one GET pinned to the source's ETag.

        Streamed (the destination's plain ETags are MD5s), the answer's ETag must be the
        MD5 of exactly the bytes relayed, which proves the copy without a HEAD; else the
        bytes went with Content-MD5 and a HEAD checks the size and the answer's ETag.
        """
        assert self._put_factory is not None  # _relay_puts() planned this
        put = self._put_factory(self, info)
        attrs = self.attributes(info)
        version: list[str | None] = [None]
        stored = [False]  # a 2xx that proved nothing: the store may hold unproven bytes
        sent: list[str | None] = [None]  # the checksum of the bytes the PUT named

        async def attempt() -> str:
            result = await put.put(info.size, attrs)
            version[0] = _version(result.version_id)
            sent[0] = result.checksum
            if 200 <= result.status < 300 and result.etag is None and not result.error_code:
                stored[0] = True
            return verify_complete(result, "put_object")

        try:
            etag = await self._call("put_object", attempt)
        except PreconditionFailed as exc:
            raise SourceChanged(f"source {self.source} changed during the copy: {exc}") from exc
        except ObjectNotFound as exc:
            raise SourceChanged(f"source {self.source} disappeared during the copy") from exc
        except TransportError as exc:
            if not stored[0]:
                raise
            # What a PUT answered without proof may be there, wrong: not left as the copy.
            raise await self._discard(VerificationFailed(str(exc))) from exc
        if put.streamed and sent[0] is None:
            source_md5 = self.options.source_sse_c is None and etag_is_md5(
                default_provider(self.source.dialect), info.attributes
            )
            proven = copy_proven_by_answer(info.etag, etag, md5_etags=source_md5)
            self.verification = Verification.SOURCE_MD5 if proven else Verification.RELAYED_MD5
            return etag, version[0]
        head = await self._head_destination(version[0], checksum_mode=sent[0] is not None)
        verify_destination(head, size=info.size, expected_etag=etag)
        self.verification = Verification.ETAG_SIZE
        if sent[0] is not None:
            # The store checked the bytes against the checksum the PUT named; the source's
            # own full-object value, where it has one, is what they must equal.
            source = self.checksum_plan.source
            expected = source.value if source is not None else sent[0]
            await self._prove_by_checksum(expected, head, proves=True)
        return etag, version[0] or _version(head.version_id)

    async def _fail_if_no_bucket(self, exc: ServiceError) -> None:
        """Some stores (SeaweedFS) answer CopyObject into a missing bucket with a 500: ask
        the bucket once (one ListMultipartUploads), so the copy fails at once naming it
        instead of retrying a 500. Any other answer leaves the 500 to the retries."""
        bucket = self.destination.bucket
        try:
            async with self.dst.limiter:
                await self.dst.transport.list_uploads(bucket, max_uploads=1)
        except BucketNotFound as missing:
            raise BucketNotFound(
                missing.status,
                missing.code,
                f"the destination bucket {bucket!r} does not exist "
                f"(CopyObject answered {exc.status} {exc.code or ''})".replace(" )", ")"),
                request_id=missing.request_id,
                operation="copy_object",
            ) from exc
        except PartcopyError:
            return

    def _proven_by_answer(self, info: ObjectInfo, etag: str) -> bool:
        """Whether CopyObject's answer proves the copy (see ``copy_proven_by_answer``):
        the store's provider row must say plain ETags are MD5s, for source and copy alike
        (a CopyObject never leaves its store)."""
        md5_etags = (
            self.options.source_sse_c is None
            and etag_is_md5(self.provider, info.attributes)
            and etag_is_md5(self.provider, self.attributes(info))
        )
        return copy_proven_by_answer(info.etag, etag, md5_etags=md5_etags)

    # --- multipart ---------------------------------------------------------------------

    def _operation(self, info: ObjectInfo) -> PartOperation:
        if self._operation_factory is not None:
            return self._operation_factory(self, info)
        # Two answers for one part are interchangeable only when ETags are content MD5s.
        hedge = self.options.hedge if self.md5_etags(info) else None
        # Hedged, the slots are taken by HedgedPart (a request's age starts with its slot),
        # so the copy itself goes through a limiter that never blocks.
        endpoint = self.dst if hedge is None else Endpoint(self.dst.transport, UnlimitedSlots())
        operation = CopyPart(
            endpoint,
            self.destination.bucket,
            self.destination.key,
            self.copy_source(info),
            self.options.destination_sse_c,
        )
        if hedge is None:
            return operation
        self.hedges = HedgeTracker(hedge)
        return HedgedPart(operation, self.hedges, on_hedge=self._on_hedge, limiter=self.dst.limiter)

    def _on_hedge(self, part_number: int, waited: float) -> None:
        self._log.info("hedge", part_number=part_number, after=round(waited, 3))

    async def _create(self, info: ObjectInfo) -> str:
        dst = self.destination
        transport = self.dst.transport
        attrs = self.attributes(info)
        attempts = 0
        started = datetime.now(UTC)

        async def create() -> str:
            nonlocal attempts
            attempts += 1
            async with self.dst.limiter:
                return await transport.create_multipart(dst.bucket, dst.key, attrs)

        try:
            upload_id = await self._call("create_multipart", create)
        except BaseException as exc:
            # Unless the store answered with an error, the last attempt may have created an
            # upload whose id never arrived (a lost answer, a cancellation while waiting).
            if attempts and not isinstance(exc, ServiceError):
                with anyio.move_on_after(self.options.cleanup_timeout, shield=True):
                    await self.abort_strays(None, started)
            raise
        if attempts > 1:  # an attempt whose answer was lost may have created an upload
            # Shielded: a cancellation here must not lose the id of the upload just made.
            with anyio.move_on_after(self.options.cleanup_timeout, shield=True):
                await self.abort_strays(upload_id, started)
        return upload_id

    async def abort_strays(self, upload_id: str | None, started: datetime) -> None:
        """Abort this key's uploads initiated since ``started``, except ``upload_id``.

        A CreateMultipartUpload whose answer was lost (reset, truncated, timed out, or the
        process died waiting) may still have created an upload no one knows the id of.
        Only uploads of the same key started within the job's window (less
        ``CREATE_SKEW`` for clocks) are taken as its own; one of unknown age is left.
        """
        dst = self.destination
        since = started - timedelta(seconds=CREATE_SKEW)
        self.strays_unchecked = True  # until every stray is listed and aborted
        try:
            uploads = await self._call(
                "list_uploads",
                lambda: list_uploads(self.dst.transport, dst.bucket, dst.key),
            )
        except TransportError as exc:
            self._log.warning(
                "could not look for uploads a lost create may have left",
                job_id=self.job_id,
                error=str(exc),
            )
            return
        unaborted = 0
        for upload in uploads:
            initiated = upload.initiated
            if upload.key != dst.key or upload.upload_id == upload_id or initiated is None:
                continue
            if initiated.tzinfo is None:
                initiated = initiated.replace(tzinfo=UTC)
            if initiated < since:
                continue
            problem = await self._abort(upload.upload_id)
            self._log.info(
                "aborted an upload a lost create left", upload_id=upload.upload_id, error=problem
            )
            unaborted += problem is not None
        self.strays_unchecked = unaborted > 0

    async def _multipart(
        self,
        info: ObjectInfo,
        chosen: CopyPlan,
        resume: ResumePoint | None,
        upload: list[str],
    ) -> tuple[str, str | None, str]:
        if resume is not None:
            upload_id = resume.upload_id
        else:
            try:
                upload_id = await self._create(info)
            except TransportError as exc:
                doubt = (
                    f"; an upload its lost answer created may be left open (partcopy uploads "
                    f"list {self.destination.url} shows it)"
                    if self.strays_unchecked
                    else ""
                )
                raise CopyError(f"could not start the upload: {exc}{doubt}") from exc
        # The abort is registered here, the moment the upload id exists.
        upload.append(upload_id)
        completed = False
        try:
            if resume is None:
                await self.hooks.on_upload_created(upload_id)
            etags: dict[int, str] = dict(resume.done) if resume is not None else {}
            if resume is not None:  # the store's checksums of the parts kept from before
                self.part_checksums.update(resume.checksums)
            await self._parts(upload_id, info, chosen, etags)
            listed = self._listing(chosen, etags, upload_id)
            # The parts' checksums against the source's: a wrong part stops it here.
            checksums, expected = complete_checksums(
                self.checksum_plan, self.part_checksums, chosen, upload_id
            )
            md5s = self.md5_etags(info)
            composite = (
                composite_etag([etag for _, etag in listed], self.provider.composite_etag)
                if md5s
                else None
            )
            if self.part_mode == "copy" and not self.provider.copy_part_etag_md5:
                composite = None  # the store's copy-part ETags are not the ranges' MD5s
            complete_etag, version = await self._complete(
                upload_id, listed, checksums, proof=(info.size, composite)
            )
            completed = True
            self.verification = Verification.PART_ETAGS_SIZE
            if composite is not None and _COMPOSITE_RE.match(complete_etag):
                if normalize_etag(composite) != normalize_etag(complete_etag):
                    raise VerificationFailed(
                        f"Complete returned ETag {complete_etag}, but the verified parts "
                        f"make {composite}"
                    )
                self.verification = Verification.COMPOSITE_ETAG
            elif composite is None:
                self._log.info("part ETags are not MD5s: no composite ETag to check")
            algorithm = self.checksum_plan.algorithm
            head = await self._head_destination(version, checksum_mode=algorithm is not None)
            verify_destination(head, size=info.size, expected_etag=complete_etag)
            # The parts' values are the relay's own (computed over the bytes it read from
            # the source) or combine to the source's: then equal is proof. Else they are
            # the store's own copies' values: recorded, and checked, but no proof.
            proves = self.part_mode == "relay" or (
                self.checksum_plan.combinable and self.checksum_plan.source is not None
            )
            await self._prove_by_checksum(expected, head, proves=proves)
            if self.layout is not None and md5s and info.etag is not None:
                self._check_same_etag(info.etag, complete_etag)
            return complete_etag, version or _version(head.version_id), upload_id
        except BaseException as exc:
            if completed:
                raise
            cancelled = not isinstance(exc, Exception)
            if cancelled and not self.options.abort_on_cancel:
                raise
            if self.emit is not None:  # an interrupted CLI says so now, not after the abort
                timeout = self.options.cleanup_timeout
                dst = self.destination.url
                self.emit(Aborting(self.job_id, dst, upload_id, cancelled, timeout))
            try:
                problem = await self._abort(upload_id)
            except BaseException:  # a second interrupt, mid-abort: the upload may remain
                self.left_open, self.abort_cut = upload_id, True
                raise
            if problem is not None:
                self.left_open = upload_id
            if cancelled:
                raise
            error = self._as_copy_error(exc)
            if problem is not None:
                # Keys that could not be had fail the abort as they failed the copy: once.
                why = " for the same reason" if problem in str(error) else f": {problem}"
                raise AbortFailed(
                    f"{error}; the upload {upload_id} could not be aborted{why}",
                    upload_id=upload_id,
                ) from exc
            if error is exc:
                raise
            raise error from exc

    @staticmethod
    def _as_copy_error(exc: BaseException) -> BaseException:
        if isinstance(exc, CopyError) or not isinstance(exc, PartcopyError):
            return exc
        return CopyError(str(exc))

    def _listing(
        self, chosen: CopyPlan, etags: dict[int, str], upload_id: str
    ) -> list[tuple[int, str]]:
        """Exactly one verified ETag per planned part, in order: or no Complete at all."""
        missing = [n for n in chosen.part_numbers if n not in etags]
        extra = set(etags) - set(chosen.part_numbers)
        if missing or extra:
            raise CopyError(
                f"refusing to complete: {len(missing)} planned part(s) without a verified "
                f"ETag, {len(extra)} unplanned",
                upload_id=upload_id,
            )
        return [(n, etags[n]) for n in chosen.part_numbers]

    async def _parts(
        self, upload_id: str, info: ObjectInfo, chosen: CopyPlan, etags: dict[int, str]
    ) -> None:
        operation = self._operation(info)
        name = operation.name
        retrier = self.retrier
        emit = self.emit
        hooks = self.hooks if self._has_hooks else None
        job_id = self.job_id
        part_checksums = self.part_checksums
        source = self.source

        async def copy_one(number: int) -> None:
            task = chosen.task(number)
            if emit is not None:
                emit(PartStarted(job_id, number, task.size))
            attempts = 0

            async def attempt() -> str:
                nonlocal attempts
                attempts += 1
                result = await operation(upload_id, task)
                etag = verify_part(result, number, name)
                if result.checksum is not None:
                    part_checksums[number] = result.checksum
                return etag

            try:
                etag = await retrier.call(name, attempt, number)
            except PreconditionFailed as exc:
                raise SourceChanged(
                    f"source {source} changed during the copy (part {number}: {exc})"
                ) from exc
            except ObjectNotFound as exc:
                raise SourceChanged(
                    f"source {source} disappeared during the copy (part {number})"
                ) from exc
            except TransportError as exc:
                raise PartFailed(number, attempts, exc) from exc
            etags[number] = etag
            if hooks is not None:
                await hooks.on_part_done(number, etag, task.size)
            if emit is not None:
                emit(PartCompleted(job_id, number, task.size))
                self._report_concurrency(emit)

        needed = [n for n in chosen.part_numbers if n not in etags] if etags else None
        numbers = chosen.part_numbers if needed is None else needed
        workers = min(self.options.concurrency, len(numbers))
        if workers and isinstance(operation, HedgedPart):
            async with operation.running(len(numbers)):  # a monitor watches the requests
                await run_pool(numbers, copy_one, workers)
        elif workers:
            await run_pool(numbers, copy_one, workers)

    async def _complete(
        self,
        upload_id: str,
        listed: list[tuple[int, str]],
        checksums: CompleteChecksums | None = None,
        proof: tuple[int, str | None] = (0, None),
    ) -> tuple[str, str | None]:
        """Complete the upload: its ETag and version. When no answer proves it (all lost or
        unreadable, or a retry told NoSuchUpload because an earlier attempt did complete
        it), the destination is read back: carrying the size and the composite ETag of
        exactly the verified parts (``proof``), it is this copy."""
        dst = self.destination
        transport = self.dst.transport
        version: list[str | None] = [None]

        async def complete() -> str:
            async with self.dst.limiter:
                # Only with checksums: transports written before them keep working.
                result = await (
                    transport.complete(dst.bucket, dst.key, upload_id, listed)
                    if checksums is None
                    else transport.complete(
                        dst.bucket, dst.key, upload_id, listed, checksums=checksums
                    )
                )
            etag = verify_complete(result, "complete")
            version[0] = _version(result.version_id)
            return etag

        try:
            etag = await self._call("complete", complete)
        except TransportError as exc:
            found, checked = await self._completed_anyway(*proof)
            if found is None:
                raise CopyError(f"could not complete the upload: {exc}{checked}") from exc
            self._log.warning(
                "Complete went unanswered, but the destination is this copy",
                job_id=self.job_id,
                error=str(exc),
            )
            return found.etag or "", _version(found.version_id)
        return etag, version[0]

    async def _completed_anyway(
        self, size: int, composite: str | None
    ) -> tuple[ObjectInfo | None, str]:
        """The destination, if it carries ``size`` and the ``composite`` ETag (None: no
        composite to prove it by, or the destination is not this copy); and what reading it
        back found, for the message of a Complete that failed (never in place of it)."""
        if composite is None:
            return None, ""
        try:
            head = await self._head_destination(None)
        except VerificationFailed as exc:
            cause = exc.__cause__
            if isinstance(cause, NotFound):
                return None, "; the destination was checked: it does not exist"
            return None, f"; the destination could not be checked: {cause or exc}"
        same = head.etag is not None and normalize_etag(head.etag) == normalize_etag(composite)
        if same and head.size == size:
            return head, ""
        return None, "; the destination was checked: it is another object, not this copy"

    async def _head_destination(
        self, version_id: str | None, *, checksum_mode: bool = False
    ) -> ObjectInfo:
        dst = self.destination
        transport = self.dst.transport
        sse_c = self.options.destination_sse_c

        async def head() -> ObjectInfo:
            async with self.dst.limiter:
                if not checksum_mode:
                    return await transport.head(
                        dst.bucket, dst.key, version_id=version_id, sse_c=sse_c
                    )
                return await transport.head(
                    dst.bucket,
                    dst.key,
                    version_id=version_id,
                    sse_c=sse_c,
                    checksum_mode=True,
                )

        try:
            return await self._call("head_destination", head)
        except TransportError as exc:
            raise VerificationFailed(f"could not HEAD the destination: {exc}") from exc

    # --- fidelity proofs (rules in engine/proof.py and engine/content.py) ----------------

    async def _prove_by_checksum(
        self, expected: str | None, head: ObjectInfo, *, proves: bool
    ) -> None:
        """The destination's checksum must be ``expected`` (when there is one); a completed
        object that differs is deleted (a torn copy never stays) and the copy fails.

        The checksum the store recorded is reported either way; it is named as the proof
        only where equal to ``expected`` and ``proves`` (``expected`` follows from the
        source or from the bytes relayed, not from the store's own values)."""
        try:
            recorded, equal = check_destination_checksum(self.checksum_plan, expected, head)
        except VerificationFailed as exc:
            raise await self._discard(exc) from exc
        if recorded is not None:
            self.checksum = str(recorded)
        if equal and proves:
            self.verification = Verification.CHECKSUM

    def _check_same_etag(self, source_etag: str, etag: str) -> None:
        if normalize_etag(source_etag) != normalize_etag(etag):
            self._log.warning(
                "layout kept but the ETag differs from the source's",
                source_etag=source_etag,
                etag=etag,
            )

    async def _discard(self, exc: VerificationFailed) -> VerificationFailed:
        """Delete a completed destination whose bytes are proven wrong; the error says
        whether it is gone."""
        dst = self.destination

        async def delete() -> None:
            async with self.dst.limiter:
                await self.dst.transport.delete_object(dst.bucket, dst.key)

        try:
            await self._call("delete_object", delete)
        except TransportError as problem:
            return VerificationFailed(f"{exc}; the destination could not be deleted: {problem}")
        return VerificationFailed(f"{exc}; the destination was deleted")

    async def _verify_content(self, info: ObjectInfo, version: str | None) -> None:
        """``--verify-content``: ranged GETs of both sides compared by hash."""
        fidelity = self.options.fidelity
        seed = fidelity.verify_seed
        if seed is None:
            seed = int(self.job_id.encode().hex()[:15] or "0", 16)
        ranges = (
            sample_ranges(info.size, seed)
            if fidelity.verify_content == "sample"
            else full_ranges(info.size)
        )
        source = self.copy_source(info)
        src, dst = self.source, self.destination

        def read_source(first: int, last: int) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
            return self.src.transport.get_range(
                src.bucket,
                src.key,
                first,
                last,
                version_id=source.version_id,
                if_match=source.if_match,
                sse_c=source.sse_c,
            )

        def read_destination(
            first: int, last: int
        ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
            return self.dst.transport.get_range(
                dst.bucket,
                dst.key,
                first,
                last,
                version_id=version,
                sse_c=self.options.destination_sse_c,
            )

        try:
            self.content_check = await compare_content(
                fidelity.verify_content,
                ranges,
                read_source,
                read_destination,
                workers=min(self.options.concurrency, 8),
                retried=self._call,
                seed=seed if fidelity.verify_content == "sample" else None,
            )
        except VerificationFailed as exc:
            raise await self._discard(exc) from exc
        except TransportError as exc:
            raise VerificationFailed(f"could not verify the content: {exc}") from exc
        if fidelity.verify_content == "full":
            self.verification = Verification.CONTENT_FULL

    async def _abort(self, upload_id: str) -> str | None:
        """Abort the upload (retried, shielded, bounded); None on success, else why not."""
        dst = self.destination
        transport = self.dst.transport

        async def abort() -> None:
            # Not through the endpoint's limiter: a Retry-After pause (or a full limit)
            # must not hold back the one request that frees the parts.
            await transport.abort(dst.bucket, dst.key, upload_id)

        with anyio.move_on_after(self.options.cleanup_timeout, shield=True):
            try:
                await self._call("abort", abort)
            except NotFound:  # the upload (or its bucket) is gone already
                return None
            except TransportError as exc:
                return str(exc)
            self._log.info("aborted", upload_id=upload_id)
            return None
        return f"no answer within {self.options.cleanup_timeout}s"
