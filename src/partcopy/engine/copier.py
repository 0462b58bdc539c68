"""``Copier``: the library's entry point. Owns transports, one HTTP session and the budgets.

Every endpoint (dialect, endpoint URL, region, access key) gets one transport and one
adaptive concurrency limit (``engine.adaptive``), shared by all jobs of the copier:
``concurrency`` bounds the requests in flight to that endpoint however many copies run at
once, and throttling answers lower the bound (``adaptive=False`` keeps it fixed).
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import IO, TYPE_CHECKING, Literal, TypeVar

import aiohttp
import anyio

from partcopy.config import (
    Credentials,
    EndpointConfig,
    canonical_endpoint,
    check_endpoint_url,
    resolve_endpoint,
)
from partcopy.engine.adaptive import AdaptiveLimiters, ConcurrencySummary, LimiterStatistics
from partcopy.engine.budget import DEFAULT_RELAY_BUFFER, ByteBudget
from partcopy.engine.events import EventCallback, guarded
from partcopy.engine.fidelity import FidelityOptions, check_fidelity
from partcopy.engine.hedge import DEFAULT_HEDGE, HedgePolicy
from partcopy.engine.hooks import JobHooks, ResumePoint
from partcopy.engine.job import (
    CREATE_SKEW,
    CopyJob,
    CopyOptions,
    Mode,
    destination_provider,
    new_job_id,
)
from partcopy.engine.listing import (
    BUCKET_PAGE_SIZE,
    PAGE_SIZE,
    ListedPrefix,
    iter_buckets,
    iter_listing,
)
from partcopy.engine.orphans import PrefixLocation, list_uploads, parse_prefix_url
from partcopy.engine.parts import Endpoint, PartOperation
from partcopy.engine.relay import relay_operation
from partcopy.engine.result import CopyResult
from partcopy.engine.retry import Retrier, RetryHook, RetryPolicy, Sleep
from partcopy.errors import ConfigError, CopyError, PartcopyError, UploadNotFound, UsageError
from partcopy.providers import SCHEMES, Provider, default_provider
from partcopy.transports import make_transport
from partcopy.transports.address import bucket_host_refusal
from partcopy.transports.base import (
    BucketInfo,
    ListedObject,
    ObjectAttributes,
    ObjectInfo,
    SSECustomerKey,
    Transport,
)
from partcopy.transports.credentials import CredentialProvider
from partcopy.transports.network import resolve_network
from partcopy.units import parse_size
from partcopy.urls import Location, parse_url

if TYPE_CHECKING:  # journals, resuming, reports and prefix runs load with their first use
    from partcopy.engine.bulkrun import BulkOptions
    from partcopy.engine.journal import Journal
    from partcopy.engine.ledger import BulkLedger
    from partcopy.engine.prefixcopy import CopyPool, PrefixOptions
    from partcopy.engine.report import BulkSummary, ObjectOutcome, ReportWriter
    from partcopy.engine.resume import ResumeOutcome

__all__ = ["Copier", "OperationFactory", "TransportFactory", "copy", "default_transport"]

TransportFactory = Callable[[EndpointConfig, aiohttp.ClientSession], Transport]
"""Builds the transport for one endpoint on the copier's shared HTTP session."""
OperationFactory = Callable[[CopyJob, ObjectInfo], PartOperation]
"""Builds a job's per-part operation (relaying jobs get ``relay_operation``; ``copy`` is the
job's built-in UploadPartCopy)."""

Role = Literal["source", "destination"]
T = TypeVar("T")
_Creds = Credentials | CredentialProvider
_EndpointKey = tuple[object, ...]


class Copier:
    """Copies objects between locations; use as ``async with Copier(...) as copier``.

    Endpoints and credentials come from the arguments, else the environment (see
    :mod:`partcopy.config`); each side has its own identity: ``credentials`` (a key pair or
    a provider) or ``profile`` (AWS config files) for both, ``dst_credentials`` /
    ``src_profile`` / ``dst_profile`` for one side. With explicit values nothing is read
    from the environment. ``transport``/``dst_transport`` inject ready transports (the
    memory store in tests); ``sleep`` and ``seed`` make retry schedules reproducible.
    ``hedge`` re-issues straggling part copies (``engine.hedge``); None turns it off.
    ``relay_buffer`` (bytes or a size such as ``"256MiB"``, default 1 GiB) bounds what
    relays that cannot stream (SSE-KMS, SSE-C, GCS destinations) hold in memory at once.
    """

    def __init__(
        self,
        *,
        concurrency: int = 64,
        endpoint_url: str | None = None,
        dst_endpoint_url: str | None = None,
        region: str | None = None,
        dst_region: str | None = None,
        credentials: Credentials | CredentialProvider | None = None,
        dst_credentials: Credentials | CredentialProvider | None = None,
        profile: str | None = None,
        src_profile: str | None = None,
        dst_profile: str | None = None,
        retry: RetryPolicy | None = None,
        on_event: EventCallback | None = None,
        transport: Transport | None = None,
        dst_transport: Transport | None = None,
        transport_factory: TransportFactory | None = None,
        hooks_factory: Callable[[str], JobHooks] | None = None,
        abort_on_cancel: bool = True,
        journal: str | os.PathLike[str] | Journal | None = None,
        restart_on_change: bool = False,
        sleep: Sleep | None = None,
        seed: int | None = None,
        env: Mapping[str, str] | None = None,
        hedge: HedgePolicy | None = DEFAULT_HEDGE,
        adaptive: bool = True,
        verify_tls: bool = True,
        addressing_style: str | None = None,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        relay_buffer: int | str | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or concurrency < 1:
            raise UsageError(f"invalid concurrency {concurrency!r}: must be at least 1")
        self.concurrency = concurrency
        self.relay_buffer = ByteBudget(
            DEFAULT_RELAY_BUFFER
            if relay_buffer is None
            else parse_size(relay_buffer, what="relay buffer")
        )
        self.verify_tls = verify_tls
        # Proxy, CA bundle and User-Agent: checked here, so bad values fail before requests.
        self.network = resolve_network(
            proxy=proxy,
            ca_bundle=ca_bundle,
            verify_tls=verify_tls,
            env=env,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.addressing_style = addressing_style
        # One AIMD limit per endpoint; Retry-After pauses use the same (injectable) sleep.
        self._limiters = AdaptiveLimiters(
            concurrency, adaptive=adaptive, sleep=sleep or anyio.sleep
        )
        self.retry = retry or RetryPolicy()
        self.on_event = on_event
        self.abort_on_cancel = abort_on_cancel
        self.hedge = hedge
        # A journal records every job so a rerun resumes it (see engine/resume.py); its
        # uploads are kept on cancellation. Opened here: a bad file fails before any request.
        self.journal: Journal | None = None
        self._owns_journal = False
        if journal is not None:
            from partcopy.engine.journal import open_journal

            self.journal, self._owns_journal = open_journal(journal)
        self.restart_on_change = restart_on_change
        if self.journal is not None:
            self.abort_on_cancel = False
        self._args: dict[Role, tuple[str | None, str | None, _Creds | None]] = {
            "source": (endpoint_url, region, credentials),
            "destination": (dst_endpoint_url, dst_region, dst_credentials),
        }
        self._profiles: dict[Role, str | None] = {
            "source": src_profile or profile,
            "destination": dst_profile or profile,
        }
        self._injected: dict[Role, Transport | None] = {
            "source": transport,
            "destination": dst_transport or transport,
        }
        self._factory = transport_factory
        self._hooks_factory = hooks_factory
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._env = env
        self._endpoints: dict[_EndpointKey, Endpoint] = {}
        self._resolved: dict[tuple[Role, str, str], tuple[Endpoint, _EndpointKey]] = {}
        self._no_buckets: dict[tuple[Role, str, str], ConfigError] = {}
        """Endpoints that can address no bucket (virtual addressing on an IP address):
        refused for every bucket's request before it is sent, not for ListBuckets."""
        self._owned: list[Transport] = []
        self._unresolved: list[CredentialProvider] = []
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[_Running] = set()

    async def __aenter__(self) -> Copier:
        return self

    def __del__(self, _warn: Callable[..., object] = warnings.warn) -> None:
        # Collected with its HTTP session open: aclose() never ran. A ResourceWarning, as an
        # unclosed file or aiohttp session gives, shown where the application shows them
        # (python -X dev, -W default, pytest); never a log line. ``_warn`` is bound here, as
        # module globals may be gone when this runs at interpreter exit.
        session = getattr(self, "_session", None)  # __init__ may have failed before it
        if session is not None and not session.closed:
            _warn(
                f"unclosed {self!r}: its HTTP session stayed open until garbage collection; "
                "use 'async with Copier(...) as copier:' or 'await copier.aclose()'",
                ResourceWarning,
                source=self,
            )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transports and the HTTP session this copier created.

        Copies still running (in other tasks) are cancelled first and waited for, so each
        aborts its upload (or, journaled, keeps it) and raises a ``CopyError`` that says
        which, instead of failing later on a closed session."""
        self._closed = True
        running = list(self._running)
        for copy in running:
            copy.scope.cancel()
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(CLOSE_WAIT):  # each abort is bounded on its own
                for copy in running:
                    await copy.done.wait()
            owned, self._owned = self._owned, []
            for transport in owned:
                await transport.aclose()
            if self._session is not None:
                await self._session.close()
                self._session = None
            if self.journal is not None:
                if self._owns_journal:
                    self.journal.close()
                else:
                    self.journal.flush()

    # --- endpoints ---------------------------------------------------------------------

    def _config(self, location: Location, role: Role, provider: Provider) -> EndpointConfig:
        url, region, creds = self._args[role]
        if role == "destination":
            src_url, src_region, src_creds = self._args["source"]
            env = os.environ if self._env is None else self._env
            dst_env = env.get("PARTCOPY_DST_ENDPOINT_URL")
            if not url and dst_env:
                what = "endpoint URL in PARTCOPY_DST_ENDPOINT_URL"
                url = check_endpoint_url(dst_env, what=what)
            url = url or src_url
            region = region or src_region
            if creds is None and self._profiles[role] is None:
                creds = src_creds  # explicit credentials serve both sides unless split
        return resolve_endpoint(
            location.dialect,
            role=role,
            endpoint_url=url,
            region=region,
            credentials=creds,
            profile=self._profiles[role],
            addressing=self.addressing_style,
            network=self.network,
            env=self._env,
            provider=provider,
        )

    def _check_usable(self) -> None:
        """``UsageError`` when this copier is closed or belongs to another event loop (its
        HTTP session and limits do): a clear refusal before any request, not a hang."""
        if self._closed:
            raise UsageError("this Copier is closed")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # prepare() outside a loop: checked again when it runs
            return
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise UsageError(
                "this Copier belongs to another event loop: make one per loop (each "
                "asyncio.run), or use partcopy.copy() for a one-off copy"
            )

    def _session_for(self) -> aiohttp.ClientSession:
        self._check_usable()
        if self._session is None:
            self._session = self.network.session(self.concurrency * 2 + 8, 0, ttl_dns_cache=300)
        return self._session

    def _endpoint(
        self, location: Location, role: Role, provider: Provider | None = None
    ) -> tuple[Endpoint, _EndpointKey]:
        # Resolved once per role, dialect and row: a bulk run reads the environment and
        # checks the endpoint URL once, not once per object.
        row = provider or default_provider(location.dialect)
        which = (role, location.dialect, row.name)
        resolved = self._resolved.get(which)
        if resolved is None:
            resolved = self._resolve_endpoint(location, role, row)
            self._resolved[which] = resolved
        refusal = self._no_buckets.get(which)
        if refusal is not None and location.bucket:  # bucket-less: the service endpoint
            raise ConfigError(str(refusal))
        return resolved

    def _resolve_endpoint(
        self, location: Location, role: Role, provider: Provider
    ) -> tuple[Endpoint, _EndpointKey]:
        injected = self._injected[role]
        if injected is not None:
            key: _EndpointKey = ("injected", id(injected))
            if key not in self._endpoints:
                name = f"{injected.dialect} injected#{len(self._endpoints)}"
                self._endpoints[key] = Endpoint(
                    injected, self._limiters.get(name), relay_buffer=self.relay_buffer
                )
            return self._endpoints[key], key
        config = self._config(location, role, provider)
        if self._factory is None and config.dialect != "cos":  # cos: the Host header only
            refusal = bucket_host_refusal(config.endpoint_url, config.addressing)
            if refusal is not None:
                self._no_buckets[(role, location.dialect, provider.name)] = refusal
        key = config.key
        if key not in self._endpoints:
            factory = self._factory or default_transport
            transport = factory(config, self._session_for())
            self._owned.append(transport)
            self._unresolved.append(config.credentials)
            name = f"{config.dialect} {config.endpoint_url or 'default'} {config.region or ''}"
            self._endpoints[key] = Endpoint(
                transport, self._limiters.get(name.strip()), relay_buffer=self.relay_buffer
            )
        return self._endpoints[key], key

    # --- concurrency -------------------------------------------------------------------

    def concurrency_summary(self) -> ConcurrencySummary | None:
        """Max, final and minimum limit and throttled answers over every endpoint used."""
        return self._limiters.summary()

    def limiter_statistics(self) -> dict[str, LimiterStatistics]:
        """Each endpoint's limiter state, by endpoint name."""
        return self._limiters.statistics()

    # --- copying -----------------------------------------------------------------------

    def _retrier(self, hook: RetryHook) -> Retrier:
        # A seed, not a Random: the generator is built only if the job ever backs off.
        seed = self._rng.getrandbits(64)
        return Retrier(self.retry, sleep=self._sleep, seed=seed, on_retry=hook)

    def prepare(
        self,
        source: str | Location,
        destination: str | Location,
        *,
        part_size: int | str | None = None,
        concurrency: int | None = None,
        mode: Mode = "auto",
        provider: str | None = None,
        single_threshold: int | str | None = None,
        attributes: ObjectAttributes | None = None,
        source_sse_c: SSECustomerKey | None = None,
        destination_sse_c: SSECustomerKey | None = None,
        on_event: EventCallback | None = None,
        hooks: JobHooks | None = None,
        job_id: str | None = None,
        source_facts: ListedObject | None = None,
        fidelity: FidelityOptions | None = None,
    ) -> CopyJob:
        """Validate everything and build the job, without sending any request.

        Bad input raises ``UsageError`` (``ConfigError`` for missing credentials) here.
        ``source_facts`` (the source's listing entry) spare the HEAD where they suffice.
        ``fidelity``: tags, encryption, ACL, checksum proof, part layout, content checks.
        ``provider``: the destination's provider row by name (``partcopy providers``;
        default: the row its URL scheme names), for its limits, ETag rules and quirks.
        """
        self._check_usable()
        src = source if isinstance(source, Location) else parse_url(source)
        dst = destination if isinstance(destination, Location) else parse_url(destination)
        if dst.version_id is not None:
            raise UsageError(f"invalid destination {dst}: a version id names an old version")
        options = CopyOptions(
            part_size=None if part_size is None else parse_size(part_size, what="part size"),
            concurrency=self.concurrency if concurrency is None else concurrency,
            mode=mode,
            profile=provider,
            single_threshold=(
                None
                if single_threshold is None
                else parse_size(single_threshold, what="single-copy threshold")
            ),
            attributes=attributes,
            source_sse_c=source_sse_c,
            destination_sse_c=destination_sse_c,
            abort_on_cancel=self.abort_on_cancel,
            hedge=self.hedge,
            fidelity=fidelity or FidelityOptions(),
        )
        if options.part_size == 0:
            raise UsageError("invalid part size 0: must be positive")
        row = destination_provider(dst.dialect, options.profile)
        check_fidelity(
            options.fidelity,
            destination=dst.dialect,
            profile=row.name,
            destination_sse_c=destination_sse_c is not None,
            part_size=options.part_size,
        )
        src_end, src_key = self._endpoint(src, "source")
        dst_end, dst_key = self._endpoint(dst, "destination", row)
        same_store = src_key[:2] == dst_key[:2] and src.dialect == dst.dialect
        if mode == "copy" and src.dialect != dst.dialect:
            # No service copies from another vendor's store: it would be a malformed request.
            raise UsageError(
                f"invalid mode 'copy' from {src} to {dst}: a server-side copy cannot cross "
                f"dialects ({src.dialect} to {dst.dialect}); use --mode relay or auto"
            )
        if mode == "copy" and not same_store and "injected" not in (src_key[0], dst_key[0]):
            # UploadPartCopy names the source on the destination's store: from another
            # endpoint it would copy some other object, or fail, never this one.
            raise UsageError(
                f"invalid mode 'copy' from {src} to {dst}: they are on different endpoints "
                f"({src_key[1] or 'default'} and {dst_key[1] or 'default'}); a server-side "
                "copy stays on one store; use --mode relay or auto"
            )
        if mode == "copy" and not row.server_side_copy:
            raise UsageError(
                f"invalid mode 'copy' to {dst}: {row.title} ({row.name}) has no UploadPartCopy; "
                "use --mode relay or auto"
            )
        copies = same_store and row.server_side_copy
        part_mode: Literal["copy", "relay"] = (
            ("copy" if copies else "relay") if mode == "auto" else mode
        )
        operation: OperationFactory | None = relay_operation if part_mode == "relay" else None
        callback = guarded(on_event or self.on_event, "on_event")
        if hooks is None and self._hooks_factory is not None:
            job_id = job_id or new_job_id()
            hooks = self._hooks_factory(job_id)
        return CopyJob(
            src,
            dst,
            src=src_end,
            dst=dst_end,
            part_mode=part_mode,
            options=options,
            retrier_factory=self._retrier,
            on_event=callback,
            hooks=hooks,
            job_id=job_id,
            operation_factory=operation,
            source_facts=source_facts,
            put_factory=relay_operation if part_mode == "relay" else None,
        )

    async def copy(
        self,
        source: str | Location,
        destination: str | Location,
        *,
        part_size: int | str | None = None,
        concurrency: int | None = None,
        mode: Mode = "auto",
        provider: str | None = None,
        single_threshold: int | str | None = None,
        attributes: ObjectAttributes | None = None,
        source_sse_c: SSECustomerKey | None = None,
        destination_sse_c: SSECustomerKey | None = None,
        on_event: EventCallback | None = None,
        hooks: JobHooks | None = None,
        job_id: str | None = None,
        resume: ResumePoint | None = None,
        source_facts: ListedObject | None = None,
        fidelity: FidelityOptions | None = None,
    ) -> CopyResult:
        """Copy ``source`` to ``destination`` and verify it; see ``CopyResult``.

        Raises ``UsageError`` before any request for bad input; the store's refusal as a
        typed ``ServiceError`` (``ObjectNotFound`` for a missing source, ``AccessDenied``,
        ...); ``CopyError`` (exit 1) when the copy fails after its retries, with the upload
        aborted or its id carried. All are ``PartcopyError``s.
        """
        journaled = None
        if self.journal is not None and hooks is None and resume is None:
            from partcopy.engine.resume import JournalHooks

            hooks = journaled = JournalHooks(self.journal)
        job = self.prepare(
            source,
            destination,
            part_size=part_size,
            concurrency=concurrency,
            mode=mode,
            provider=provider,
            single_threshold=single_threshold,
            attributes=attributes,
            source_sse_c=source_sse_c,
            destination_sse_c=destination_sse_c,
            on_event=on_event,
            hooks=hooks,
            job_id=job_id,
            source_facts=source_facts,
            fidelity=fidelity,
        )  # prepare() checked the copier is open and of this loop
        await self.resolve_credentials()
        running = _Running()
        self._running.add(running)
        try:
            with running.scope:  # cancelled by aclose() only
                if journaled is not None:
                    from partcopy.engine.resume import job_options, run_journaled

                    journaled.options = job_options(job, self.endpoint_settings())
                    result = await run_journaled(
                        job, journaled, restart_on_change=self.restart_on_change
                    )
                else:
                    result = await job.run(resume)
        finally:
            self._running.discard(running)
            running.done.set()
        if running.scope.cancelled_caught:
            message, kept = job.cancelled or ("interrupted", None)
            raise CopyError(
                f"the Copier was closed during the copy: {message.removeprefix('interrupted; ')}",
                upload_id=kept,
            )
        return result

    async def copy_prefix(
        self,
        source: str | PrefixLocation,
        destination: str | PrefixLocation,
        *,
        options: PrefixOptions | None = None,
        bulk: BulkOptions | None = None,
        report: ReportWriter | None = None,
        ledger: BulkLedger | None = None,
        on_outcome: Callable[[ObjectOutcome], None] | None = None,
        on_listed: Callable[[ListedObject], None] | None = None,
        manifest: IO[str] | None = None,
        copy_pool: CopyPool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> BulkSummary:
        """Copy every object under ``source`` (``s3://bucket/prefix/``) to ``destination``.

        Keys map to ``destination + key[len(source):]``. ``options`` selects the keys
        (``PrefixOptions``), ``bulk`` sets the workers and retries (``BulkOptions``);
        ``report``, ``ledger``, ``on_outcome``, ``on_listed``, ``manifest``, ``copy_pool``
        and ``clock`` are those of :func:`partcopy.engine.prefixcopy.run_prefix`. Returns
        the bulk summary. Bad input raises before any request.
        """
        from partcopy.engine.prefixcopy import run_prefix  # a one-object run never loads it

        self._check_usable()
        return await run_prefix(
            self,
            source,
            destination,
            sync=False,
            options=options,
            bulk=bulk,
            report=report,
            ledger=ledger,
            on_outcome=on_outcome,
            on_listed=on_listed,
            manifest=manifest,
            copy_pool=copy_pool,
            clock=clock,
        )

    async def sync(
        self,
        source: str | PrefixLocation,
        destination: str | PrefixLocation,
        *,
        options: PrefixOptions | None = None,
        bulk: BulkOptions | None = None,
        report: ReportWriter | None = None,
        ledger: BulkLedger | None = None,
        on_outcome: Callable[[ObjectOutcome], None] | None = None,
        on_listed: Callable[[ListedObject], None] | None = None,
        manifest: IO[str] | None = None,
        copy_pool: CopyPool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> BulkSummary:
        """Copy only what is missing or differs under ``destination`` (and with
        ``options=PrefixOptions(delete=True)`` delete what the source lacks); the
        arguments are those of ``copy_prefix``."""
        from partcopy.engine.prefixcopy import run_prefix

        self._check_usable()
        return await run_prefix(
            self,
            source,
            destination,
            sync=True,
            options=options,
            bulk=bulk,
            report=report,
            ledger=ledger,
            on_outcome=on_outcome,
            on_listed=on_listed,
            manifest=manifest,
            copy_pool=copy_pool,
            clock=clock,
        )

    async def resolve_credentials(self) -> None:
        """Fetch the credentials of endpoints prepared so far (profiles, STS, IMDS...):
        a side with none is a ``ConfigError`` here, before any request to a store."""
        while self._unresolved:
            await self._unresolved[0].ensure_fresh()
            self._unresolved.pop(0)

    async def resume(self) -> list[ResumeOutcome]:
        """Resume every unfinished job of this copier's journal, one after another."""
        if self.journal is None:
            raise UsageError("nothing to resume: this Copier has no journal")
        from partcopy.engine.resume import resume_all

        return await resume_all(self, self.journal, restart_on_change=self.restart_on_change)

    # --- listing and deleting ----------------------------------------------------------

    def _limited_call(self, endpoint: Endpoint) -> LimitedCall:
        """Run requests under ``endpoint``'s limit, with this copier's retries."""
        return LimitedCall(endpoint, self._retrier(_quiet))

    def same_store(self, source: str | Location, destination: str | Location) -> bool:
        """Whether both locations reach one store (endpoint, dialect): no request is sent."""
        src = source if isinstance(source, Location) else parse_url(source)
        dst = destination if isinstance(destination, Location) else parse_url(destination)
        _, src_key = self._endpoint(src, "source")
        _, dst_key = self._endpoint(dst, "destination")
        return _store_of(src_key) == _store_of(dst_key) and src.dialect == dst.dialect

    def list_objects(
        self,
        prefix: str | PrefixLocation,
        *,
        recursive: bool = True,
        role: Role = "source",
        ordered: bool = False,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[ListedObject | ListedPrefix]:
        """The objects under ``prefix`` (``s3://bucket/some/prefix``), paged, as they come.

        ``recursive=False`` lists one level: objects and ``ListedPrefix`` "directories".
        Memory is one page whatever the number of keys; ``role`` picks the endpoint
        settings (source or destination). ``UsageError`` here for a bad URL.
        """
        self._check_usable()
        loc = prefix if isinstance(prefix, PrefixLocation) else parse_prefix_url(prefix)
        endpoint, _ = self._endpoint(Location(loc.scheme, loc.bucket, loc.prefix), role)
        return iter_listing(
            endpoint.transport,
            loc.bucket,
            loc.prefix,
            delimiter=None if recursive else "/",
            page_size=page_size,
            call=self._limited_call(endpoint),
            ordered=ordered,
        )

    def list_buckets(
        self, scheme: str, *, role: Role = "source", page_size: int = BUCKET_PAGE_SIZE
    ) -> AsyncIterator[BucketInfo]:
        """The buckets of the store ``scheme`` (``s3``, ``obs``, ``cos``, ``qs``) reaches
        with this copier's endpoint and credentials for ``role``, paged, as they come.
        ``UsageError`` here for an unknown scheme."""
        self._check_usable()
        if scheme not in SCHEMES:
            known = ", ".join(f"{s}://" for s in SCHEMES)
            raise UsageError(f"invalid location {scheme + '://'!r}: use one of {known}")
        # Endpoint resolution reads no bucket: any placeholder names the store.
        endpoint, _ = self._endpoint(Location(scheme, "", ""), role)
        return iter_buckets(
            endpoint.transport, page_size=page_size, call=self._limited_call(endpoint)
        )

    async def delete(self, location: str | Location, *, role: Role = "destination") -> None:
        """Delete one object (retried, under its endpoint's limit)."""
        self._check_usable()
        loc = location if isinstance(location, Location) else parse_url(location)
        endpoint, _ = self._endpoint(loc, role)
        transport = endpoint.transport

        async def delete() -> None:
            await transport.delete_object(loc.bucket, loc.key)

        await self._limited_call(endpoint)("delete_object", delete)

    async def abort_uploads_since(
        self, destination: str | Location, since: datetime, *, provider: str | None = None
    ) -> tuple[int, int]:
        """Abort the uploads of ``destination``'s key initiated since ``since`` (less
        ``CREATE_SKEW`` for clocks): the uploads a copy that died with its process may have
        left, whose ids nobody knows. Returns (aborted, not aborted); an upload of unknown
        age is left alone (and not counted). A failed listing raises ``PartcopyError``."""
        self._check_usable()
        dst = destination if isinstance(destination, Location) else parse_url(destination)
        endpoint, _ = self._endpoint(
            dst, "destination", destination_provider(dst.dialect, provider)
        )
        transport = endpoint.transport
        call = self._limited_call(endpoint)
        uploads = await call("list_uploads", lambda: list_uploads(transport, dst.bucket, dst.key))
        cutoff = since - timedelta(seconds=CREATE_SKEW)
        aborted = failed = 0
        for upload in uploads:
            initiated = upload.initiated
            if upload.key != dst.key or initiated is None:
                continue
            if initiated.tzinfo is None:
                initiated = initiated.replace(tzinfo=UTC)
            if initiated < cutoff:
                continue
            try:
                await call(
                    "abort",
                    functools.partial(transport.abort, dst.bucket, dst.key, upload.upload_id),
                )
            except UploadNotFound:  # gone already (completed or aborted meanwhile)
                continue
            except PartcopyError:
                failed += 1
                continue
            aborted += 1
        return aborted, failed

    def endpoint_settings(self) -> dict[str, str | None]:
        """Endpoint URLs and regions given to this copier (never credentials)."""
        src_url, src_region, _ = self._args["source"]
        dst_url, dst_region, _ = self._args["destination"]
        return {
            "endpoint_url": src_url,
            "dst_endpoint_url": dst_url,
            "region": src_region,
            "dst_region": dst_region,
        }


class LimitedCall:
    """Runs one request at a time under an endpoint's limit, retried by ``retrier``."""

    def __init__(self, endpoint: Endpoint, retrier: Retrier) -> None:
        self.endpoint = endpoint
        self.retrier = retrier

    async def __call__(self, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        async def limited() -> T:
            async with self.endpoint.limiter:
                return await fn()

        return await self.retrier.call(operation, limited)


def _quiet(operation: str, part: int | None, attempt: int, reason: str, delay: float) -> None:
    """A retry hook that reports nothing (listing and delete retries are logged by none)."""


CLOSE_WAIT = 120.0
"""Seconds ``aclose`` waits for cancelled copies to finish their cleanup."""


class _Running:
    """A copy in progress: the scope ``aclose`` cancels, the event it waits for."""

    __slots__ = ("done", "scope")

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()


def _store_of(key: _EndpointKey) -> tuple[object, ...]:
    """The part of an endpoint's key that names its store, in one spelling per store."""
    if key[0] != "injected" and isinstance(key[1], str):
        return (key[0], canonical_endpoint(key[1]))
    return tuple(key[:2])


def default_transport(config: EndpointConfig, session: aiohttp.ClientSession) -> Transport:
    """The HTTP transport for the endpoint's dialect, on the copier's shared session."""
    return make_transport(
        config.dialect,
        config.endpoint_url,
        config.region,
        config.credentials,
        session,
        addressing=config.addressing,
        network=config.network,
        provider=config.provider,
    )


async def copy(
    source: str | Location,
    destination: str | Location,
    *,
    part_size: int | str | None = None,
    concurrency: int = 64,
    mode: Mode = "auto",
    endpoint_url: str | None = None,
    dst_endpoint_url: str | None = None,
    region: str | None = None,
    retry: RetryPolicy | None = None,
    on_event: EventCallback | None = None,
    transport: Transport | None = None,
    dst_transport: Transport | None = None,
    transport_factory: TransportFactory | None = None,
) -> CopyResult:
    """One copy with a throwaway ``Copier``: ``await partcopy.copy(src, dst)``."""
    async with Copier(
        concurrency=concurrency,
        endpoint_url=endpoint_url,
        dst_endpoint_url=dst_endpoint_url,
        region=region,
        retry=retry,
        on_event=on_event,
        transport=transport,
        dst_transport=dst_transport,
        transport_factory=transport_factory,
    ) as copier:
        return await copier.copy(source, destination, part_size=part_size, mode=mode)


_default_factory = default_transport  # the name tests and older callers use
