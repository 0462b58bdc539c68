"""``partcopy bench``: a sweep against the user's own store, written only under a scratch
prefix the user names, and removed again.

One object (``SRC`` is a key): every part size × concurrency in the grid copies it once
(multipart UploadPartCopy) to ``DST_PREFIX/partcopy-bench-<id>/…``; a prefix (``SRC``
ends with ``/``): up to ``max_objects`` listed objects are copied at each concurrency
(one CopyObject each, pinned to the listed ETag). Each point reports its throughput,
the p50/p99 latency of the copy requests and the share of them the store throttled.
Every copy is deleted when its point is measured, and in a ``finally`` if the sweep stops;
what the store refuses to delete is named in the point's ``left_behind`` (and in the list
the caller passes), never passed over in silence.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, cast

import aiohttp
import anyio

from partcopy.config import EndpointConfig
from partcopy.engine.adaptive import is_throttle
from partcopy.engine.copier import Copier, default_transport
from partcopy.engine.events import Event, Planned
from partcopy.engine.orphans import PrefixLocation, parse_prefix_url
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import ObjectNotFound, PartcopyError, UsageError
from partcopy.transports.base import ListedObject, Transport
from partcopy.urls import Location, parse_url

__all__ = ["BenchPoint", "BenchSettings", "RequestTimes", "run_bench"]

_TIMED = ("upload_part_copy", "copy_object", "upload_part", "put_object", "get_range")
"""The requests whose latency a point reports (the ones that move bytes)."""
_WRITES = {"complete": 0, "copy_object": 1, "put_object": 0}
"""The requests that can make an object exist, and where their bucket argument is (the key
follows it): only what one of these was sent for needs deleting."""


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """What to sweep and where: ``source`` (key or prefix), the scratch ``destination``."""

    source: str
    destination: str
    endpoint_url: str | None = None
    region: str | None = None
    part_sizes: tuple[int, ...] = (8 * 1024**2, 32 * 1024**2, 128 * 1024**2)
    concurrency: tuple[int, ...] = (4, 16, 64)
    max_objects: int = 500
    max_attempts: int = 5
    provider: str | None = None
    """The provider row whose part limits and rules apply (default: from the URL)."""
    profile: str | None = None
    addressing_style: str | None = None
    proxy: str | None = None
    ca_bundle: str | None = None
    verify_tls: bool = True
    connect_timeout: float | None = None
    read_timeout: float | None = None

    def __post_init__(self) -> None:
        if not self.part_sizes or any(p < 1 for p in self.part_sizes):
            raise UsageError(f"invalid part sizes {list(self.part_sizes)!r}: each at least 1")
        if not self.concurrency or any(c < 1 for c in self.concurrency):
            raise UsageError(f"invalid concurrency {list(self.concurrency)!r}: each at least 1")
        if self.max_objects < 1:
            raise UsageError(f"invalid max objects {self.max_objects!r}: must be at least 1")

    @property
    def prefix_mode(self) -> bool:
        return self.source.endswith("/")


@dataclass(frozen=True, slots=True)
class BenchPoint:
    """One measured point of the sweep."""

    kind: str
    """``object`` (one object in parts) or ``prefix`` (many objects)."""
    concurrency: int
    part_size: int | None
    """The part size the copy used: the planner's choice within the store's limits, or the
    object's size when it was copied in one part; None for a prefix, or a copy that failed
    before it was planned."""
    objects: int
    bytes: int
    seconds: float
    requests: int
    """Every copy request sent, retries and throttled ones included."""
    p50_ms: float
    p99_ms: float
    """The latency percentiles of the copy requests the store answered with success."""
    throttled: int
    error: str | None = None
    left_behind: tuple[str, ...] = ()
    """What this point wrote and the store would not delete (the user must)."""
    asked_part_size: int | None = None
    """The part size the sweep asked for (``part_sizes``), which the planner may change."""

    @property
    def mib_per_s(self) -> float:
        return self.bytes / 1024**2 / self.seconds if self.seconds > 0 else 0.0

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else 0.0

    @property
    def throttle_rate(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.update(
            left_behind=list(self.left_behind),
            mib_per_s=round(self.mib_per_s, 2),
            objects_per_s=round(self.objects_per_s, 2),
            throttle_rate=round(self.throttle_rate, 4),
        )
        return doc


@dataclass(slots=True)
class RequestTimes:
    """The timed requests since ``reset``: how many were sent, how many the store throttled,
    the latencies (seconds) of those it answered with success, and the objects a request
    was sent to create."""

    latencies: list[float] = field(default_factory=list)
    """Successful answers only: a refusal (a 503 SlowDown comes back at once) is no measure
    of how long the store takes to copy, and would pull the percentiles under it."""
    requests: int = 0
    """Every attempt, answered or not: the throttle rate's denominator."""
    throttled: int = 0
    written: set[tuple[str, str]] = field(default_factory=set)
    """``(bucket, key)`` of every Complete or CopyObject sent, whatever its answer."""
    part_size: int | None = None
    """The largest part the last planned copy chose (``on_event``): the planner's part
    size, or the object's size when it fits in one part."""

    def reset(self) -> None:
        self.latencies.clear()
        self.requests = 0
        self.throttled = 0
        self.written.clear()
        self.part_size = None

    def on_event(self, event: Event) -> None:
        """Keep the part size a copy planned (the planner may change the one asked for)."""
        if isinstance(event, Planned):
            self.part_size = min(event.part_size, event.size)

    def percentile(self, q: float) -> float:
        """The ``q`` quantile in milliseconds (nearest rank), 0 with no requests."""
        if not self.latencies:
            return 0.0
        ranked = sorted(self.latencies)
        # The ceil(q * n)-th smallest; round() to even moved it one up when q * n was whole
        # and odd (p50 of 10 was the 6th, p99 of 100 the maximum). The epsilon keeps a
        # product such as 0.07 * 100 = 7.000000000000001 on its whole number.
        rank = math.ceil(q * len(ranked) - 1e-9)
        index = min(len(ranked) - 1, max(0, rank - 1))
        return ranked[index] * 1000.0


class _TimedTransport:
    """A transport whose byte-moving requests are timed into ``times``; the rest pass on."""

    def __init__(self, inner: Transport, times: RequestTimes) -> None:
        self._inner = inner
        self._times = times

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in _TIMED and name not in _WRITES:
            return value
        if name == "get_range":  # a context manager: time until the answer's headers
            return value
        call = cast(Callable[..., Awaitable[Any]], value)
        return self._timed(call, name in _TIMED, _WRITES.get(name))

    def _timed(
        self, call: Callable[..., Awaitable[Any]], timed_call: bool, bucket_at: int | None
    ) -> Callable[..., Awaitable[Any]]:
        times = self._times

        async def timed(*args: Any, **kwargs: Any) -> Any:
            if bucket_at is not None:  # the engine passes them by position
                times.written.add((args[bucket_at], args[bucket_at + 1]))
            if not timed_call:
                return await call(*args, **kwargs)
            times.requests += 1
            started = time.perf_counter()
            try:
                answer = await call(*args, **kwargs)
            except Exception as exc:
                if is_throttle(exc):
                    times.throttled += 1
                raise
            times.latencies.append(time.perf_counter() - started)
            return answer

        return timed


def _copier(settings: BenchSettings, concurrency: int, times: RequestTimes) -> Copier:
    def factory(config: EndpointConfig, session: aiohttp.ClientSession) -> Transport:
        return cast(Transport, _TimedTransport(default_transport(config, session), times))

    return Copier(
        concurrency=concurrency,
        endpoint_url=settings.endpoint_url,
        region=settings.region,
        profile=settings.profile,
        addressing_style=settings.addressing_style,
        proxy=settings.proxy,
        ca_bundle=settings.ca_bundle,
        verify_tls=settings.verify_tls,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retry=RetryPolicy(max_attempts=settings.max_attempts),
        transport_factory=factory,
        adaptive=False,  # the sweep measures the store at each fixed concurrency
        hedge=None,
    )


def check_bench(settings: BenchSettings) -> PrefixLocation:
    """``UsageError`` for bad locations (before any request); the scratch prefix."""
    source = parse_prefix_url(settings.source) if settings.prefix_mode else None
    if source is None:
        parse_url(settings.source)
    scratch = parse_prefix_url(settings.destination)
    if not settings.destination.endswith("/"):
        raise UsageError(
            f"invalid destination prefix {settings.destination!r}: end it with '/' "
            "(the bench writes under it)"
        )
    if (
        source is not None
        and source.bucket == scratch.bucket
        and (scratch.prefix.startswith(source.prefix) or source.prefix.startswith(scratch.prefix))
    ):  # the copies would land among the objects measured (or the source in the scratch)
        raise UsageError(
            f"invalid destination prefix {settings.destination!r}: it overlaps the source "
            f"prefix {settings.source!r} (name a scratch prefix outside it)"
        )
    return scratch


async def run_bench(
    settings: BenchSettings,
    on_point: Callable[[BenchPoint], None] | None = None,
    left_behind: list[str] | None = None,
) -> list[BenchPoint]:
    """Run the sweep; every point in order (``on_point`` sees each as it is measured).

    ``left_behind`` (if given) receives every URL the sweep wrote and could not delete,
    also when the sweep is interrupted or fails part-way."""
    scratch = check_bench(settings)
    run_id = uuid.uuid4().hex[:8]
    base = f"{scratch.scheme}://{scratch.bucket}/{scratch.prefix}partcopy-bench-{run_id}/"
    points: list[BenchPoint] = []
    times = RequestTimes()
    sweep = _object_sweep if not settings.prefix_mode else _prefix_sweep
    left = [] if left_behind is None else left_behind
    async for point in sweep(settings, base, times, left):
        points.append(point)
        if on_point is not None:
            on_point(point)
    return points


async def _object_sweep(
    settings: BenchSettings, base: str, times: RequestTimes, left: list[str]
) -> AsyncIterator[BenchPoint]:
    n = 0
    for part_size in settings.part_sizes:
        for concurrency in settings.concurrency:
            n += 1
            dst = f"{base}object-{n}"
            async with _copier(settings, concurrency, times) as copier:
                times.reset()
                started = time.perf_counter()
                error = None
                size = 0
                try:
                    result = await copier.copy(
                        settings.source,
                        dst,
                        part_size=part_size,
                        concurrency=concurrency,
                        provider=settings.provider,
                        single_threshold=0,
                        on_event=times.on_event,
                    )
                    size = result.bytes
                except PartcopyError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                finally:
                    seconds = time.perf_counter() - started
                    # Always: a copy that failed after Complete (or was interrupted) may exist.
                    kept = await _delete(copier, [parse_url(dst)], left, times)
                used = times.part_size  # from the plan: a copy that failed has no result
                done = 1 if error is None else 0
                point = _point(times, "object", concurrency, used, done, size, seconds, error)
            yield replace(point, left_behind=kept, asked_part_size=part_size)


async def _prefix_sweep(
    settings: BenchSettings, base: str, times: RequestTimes, left: list[str]
) -> AsyncIterator[BenchPoint]:
    async with _copier(settings, max(settings.concurrency), times) as lister:
        listed: list[ListedObject] = []
        async for item in lister.list_objects(settings.source):
            if isinstance(item, ListedObject):
                listed.append(item)
                if len(listed) >= settings.max_objects:
                    break
    if not listed:
        raise UsageError(f"nothing to copy: no object under {settings.source!r}")
    src = parse_prefix_url(settings.source)
    for n, concurrency in enumerate(settings.concurrency, 1):
        written: list[Location] = []
        async with _copier(settings, concurrency, times) as copier:
            times.reset()
            started = time.perf_counter()
            try:
                dst_base = parse_prefix_url(f"{base}prefix-{n}/")
                error, copied, moved = await _copy_all(
                    copier, src, listed, dst_base, written, concurrency, settings.provider
                )
                seconds = time.perf_counter() - started
            finally:
                kept = await _delete(copier, written, left, times)
        # what was copied, not what was listed: a point whose copies failed moved less
        point = _point(times, "prefix", concurrency, None, copied, moved, seconds, error)
        yield replace(point, left_behind=kept)


async def _copy_all(
    copier: Copier,
    src: PrefixLocation,
    listed: Sequence[ListedObject],
    dst_base: PrefixLocation,
    written: list[Location],
    concurrency: int,
    provider: str | None,
) -> tuple[str | None, int, int]:
    """Copy every listed object (pinned to its listed ETag): the first error, if any, and
    how many objects and bytes were copied."""
    errors: list[str] = []
    copied = [0, 0]
    queue = iter(listed)
    cut = len(src.prefix)

    async def worker() -> None:
        for item in queue:
            # Locations, not URL text: a listed key may hold "?versionId=" or a tab.
            dst = Location(dst_base.scheme, dst_base.bucket, dst_base.prefix + item.key[cut:])
            source = Location(src.scheme, src.bucket, item.key)
            written.append(dst)  # before the copy: an interrupted one is deleted too
            try:
                result = await copier.copy(source, dst, provider=provider, source_facts=item)
            except PartcopyError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                copied[0] += 1
                copied[1] += result.bytes

    async with anyio.create_task_group() as tg:
        for _ in range(min(concurrency, len(listed))):
            tg.start_soon(worker)
    return (errors[0] if errors else None), copied[0], copied[1]


def _point(
    times: RequestTimes,
    kind: str,
    concurrency: int,
    part_size: int | None,
    objects: int,
    size: int,
    seconds: float,
    error: str | None,
) -> BenchPoint:
    return BenchPoint(
        kind=kind,
        concurrency=concurrency,
        part_size=part_size,
        objects=objects,
        bytes=size,
        seconds=seconds,
        requests=times.requests,
        p50_ms=times.percentile(0.50),
        p99_ms=times.percentile(0.99),
        throttled=times.throttled,
        error=error,
    )


async def _delete(
    copier: Copier,
    written: Sequence[Location],
    left: list[str],
    times: RequestTimes,
    concurrency: int = 16,
) -> tuple[str, ...]:
    """Remove what a point wrote (shielded: an interrupted sweep still cleans up): each of
    ``written`` a Complete or CopyObject was sent for, even one that failed or went
    unanswered. The URLs the store would not delete are returned and appended to ``left``."""
    sent = [loc for loc in written if (loc.bucket, loc.key) in times.written]
    pending = iter(sent)
    kept: list[str] = []

    async def worker() -> None:
        for loc in pending:
            try:
                await copier.delete(loc)
            except ObjectNotFound:  # a store that answers 404 for a key never written
                pass
            except PartcopyError:  # retried already: the user has to delete it
                kept.append(loc.url)

    with anyio.CancelScope(shield=True):
        async with anyio.create_task_group() as tg:
            for _ in range(min(concurrency, len(sent))):
                tg.start_soon(worker)
    kept.sort()
    left.extend(kept)
    return tuple(kept)
