"""A whole bulk run from files: the ``Copier`` it builds, its ledger, manifest and report.

The runner itself (workers pulling from one streamed manifest) is ``engine.bulkrun``; its
names are re-exported here, where callers have always found them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from partcopy.engine.bulkrun import BulkOptions, BulkRun, ObjectCopier, check_manifest, run_bulk
from partcopy.engine.events import EventCallback
from partcopy.engine.ledger import BulkLedger
from partcopy.engine.report import BulkSummary, ObjectOutcome, ReportWriter, open_report
from partcopy.engine.settings import CopierSettings

__all__ = [
    "BulkOptions",
    "BulkRun",
    "CopierSettings",
    "ObjectCopier",
    "bulk_copy",
    "check_manifest",
    "run_bulk",
]


async def bulk_copy(
    manifest: str | os.PathLike[str],
    *,
    options: BulkOptions | None = None,
    settings: CopierSettings | None = None,
    journal: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] = (0, 1),
    on_outcome: Callable[[ObjectOutcome], None] | None = None,
    on_event: EventCallback | None = None,
) -> BulkSummary:
    """A whole bulk run from files: the manifest, a journal to resume with, a report.

    Opens (and closes) the ledger, the report and a ``Copier`` built from ``settings``
    (``on_event`` hears every object's events).
    Unusable files are a ``UsageError`` before any request.
    """
    settings = settings or CopierSettings()
    check_manifest(manifest)
    ledger = BulkLedger(journal) if journal is not None else None
    stream = None
    try:
        stream = open_report(report) if report is not None else None
        kept_in = ledger.journal if ledger is not None else None
        async with settings.copier(kept_in, on_event=on_event) as copier:
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
