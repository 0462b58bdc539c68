"""The copier settings a run hands to every ``Copier`` it makes (and to worker processes
and Dask tasks, which pickle them): endpoints, identity, retry and network options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from partcopy.config import check_endpoint_url
from partcopy.engine.copier import Copier
from partcopy.engine.events import EventCallback
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import UsageError

if TYPE_CHECKING:
    from partcopy.engine.journal import Journal

__all__ = ["CopierSettings"]


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
    connect_timeout: float | None = None
    read_timeout: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.concurrency, bool) or self.concurrency < 1:
            raise UsageError(f"invalid concurrency {self.concurrency!r}: must be at least 1")
        for what, url in (
            ("endpoint URL", self.endpoint_url),
            ("destination endpoint URL", self.dst_endpoint_url),
        ):
            if url is not None:
                check_endpoint_url(url, what=what)

    def copier(
        self,
        journal: str | os.PathLike[str] | Journal | None = None,
        *,
        on_event: EventCallback | None = None,
        restart_on_change: bool = False,
    ) -> Copier:
        """A new ``Copier`` with these settings (and ``journal`` for part-level resume;
        ``on_event`` and ``restart_on_change`` as ``Copier`` takes them)."""
        return Copier(
            concurrency=self.concurrency,
            endpoint_url=self.endpoint_url,
            dst_endpoint_url=self.dst_endpoint_url,
            region=self.region,
            dst_region=self.dst_region,
            retry=RetryPolicy(max_attempts=self.max_attempts),
            journal=journal,
            on_event=on_event,
            restart_on_change=restart_on_change,
            adaptive=self.adaptive,
            verify_tls=self.verify_tls,
            profile=self.profile,
            src_profile=self.src_profile,
            dst_profile=self.dst_profile,
            addressing_style=self.addressing_style,
            proxy=self.proxy,
            ca_bundle=self.ca_bundle,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )
