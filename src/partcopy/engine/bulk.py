"""A whole bulk run from files: the ``Copier`` it builds, its ledger, manifest and report.

The runner itself (workers pulling from one streamed manifest) is ``engine.bulkrun``; its
names are re-exported here, where callers have always found them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from partcopy.config import check_endpoint_url
from partcopy.engine.bulkrun import BulkOptions, BulkRun, ObjectCopier, check_manifest, run_bulk
from partcopy.engine.copier import Copier
from partcopy.engine.journal import Journal
from partcopy.engine.ledger import BulkLedger
from partcopy.engine.report import BulkSummary, ObjectOutcome, ReportWriter, open_report
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import UsageError

__all__ = [
    "BulkOptions",
    "BulkRun",
    "CopierSettings",
    "ObjectCopier",
    "bulk_copy",
    "check_manifest",
    "run_bulk",
]


@dataclass(frozen=True, slots=True)
class CopierSettings:
    """How a bulk run builds its ``Copier``: endpoints, regions, budget, attempts.

    Holds no secret, so it can be shipped to Dask workers: credentials always come from
    the environment (or the named AWS profiles) of the process that copies.
    """

    endpoint_url: str | None = None
    dst_endpoint_url: str | None = None
    region: str | None = None
    dst_region: str | None = None
    concurrency: int = 64
    """Requests in flight per endpoint, shared by every object of the run."""
    max_attempts: int = 10
    adaptive: bool = True
    """Lower the budget while a store throttles (False: keep it fixed)."""
    verify_tls: bool = True
    profile: str | None = None
    src_profile: str | None = None
    dst_profile: str | None = None
    addressing_style: str | None = None
    proxy: str | None = field(default=None, repr=False)  # its URL may carry a password
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.concurrency, bool) or self.concurrency < 1:
            raise UsageError(f"invalid concurrency {self.concurrency!r}: must be at least 1")
        for what, url in (
            ("endpoint URL", self.endpoint_url),
            ("destination endpoint URL", self.dst_endpoint_url),
        ):
            if url is not None:
                check_endpoint_url(url, what=what)

    def copier(self, journal: Journal | None = None) -> Copier:
        """A new ``Copier`` with these settings (and ``journal`` for part-level resume)."""
        return Copier(
            concurrency=self.concurrency,
            endpoint_url=self.endpoint_url,
            dst_endpoint_url=self.dst_endpoint_url,
            region=self.region,
            dst_region=self.dst_region,
            retry=RetryPolicy(max_attempts=self.max_attempts),
            journal=journal,
            adaptive=self.adaptive,
            verify_tls=self.verify_tls,
            profile=self.profile,
            src_profile=self.src_profile,
            dst_profile=self.dst_profile,
            addressing_style=self.addressing_style,
            proxy=self.proxy,
            ca_bundle=self.ca_bundle,
        )


async def bulk_copy(
    manifest: str | os.PathLike[str],
    *,
    options: BulkOptions | None = None,
    settings: CopierSettings | None = None,
    journal: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] = (0, 1),
    on_outcome: Callable[[ObjectOutcome], None] | None = None,
) -> BulkSummary:
    """A whole bulk run from files: the manifest, a journal to resume with, a report.

    Opens (and closes) the ledger, the report and a ``Copier`` built from ``settings``.
    Unusable files are a ``UsageError`` before any request.
    """
    settings = settings or CopierSettings()
    check_manifest(manifest)
    ledger = BulkLedger(journal) if journal is not None else None
    stream = None
    try:
        stream = open_report(report) if report is not None else None
        async with settings.copier(ledger.journal if ledger is not None else None) as copier:
            return await run_bulk(
                manifest,
                copier,
                options=options,
                report=ReportWriter(stream),
                ledger=ledger,
                shard=shard,
                on_outcome=on_outcome,
            )
    finally:
        if stream is not None:
            stream.close()
        if ledger is not None:
            ledger.close()
