"""Per-object log events cost nothing below the chosen level: a job asks once whether info
is handled (stdlib logging under ``partcopy``), and binds no context and renders no event
when it is not."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import structlog

from partcopy.engine.copier import Copier
from partcopy.engine.logstate import log_enabled
from partcopy.logs import capture_events
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import ObjectAttributes, ObjectInfo
from partcopy.transports.memory import MemoryTransport


@pytest.fixture(autouse=True)
def reset_partcopy_level() -> Iterator[None]:
    yield
    logging.getLogger("partcopy").setLevel(logging.NOTSET)


class _ContextSpy(MemoryTransport):
    """Records the structlog contextvars bound while each HEAD is sent."""

    seen: list[dict[str, Any]]

    async def head(self, bucket: str, key: str, **kw: Any) -> ObjectInfo:
        self.seen.append(structlog.contextvars.get_contextvars())
        return await super().head(bucket, key, **kw)


def _copy_small(level: int) -> tuple[list[dict[str, Any]], list[Any]]:
    store = MemoryStore("s3")
    store.create_bucket("src")
    store.create_bucket("dst")
    store.put_object("src", "k", b"x" * 100, ObjectAttributes())
    spy = _ContextSpy(store)
    spy.seen = []

    async def go() -> None:
        async with Copier(transport=spy) as copier:
            await copier.copy("s3://src/k", "s3://dst/k")

    with capture_events(level) as logs:
        anyio.run(go)
    return spy.seen, logs


def test_below_the_level_a_copy_binds_and_logs_nothing() -> None:
    seen, logs = _copy_small(logging.WARNING)
    assert seen and all(ctx == {} for ctx in seen) and logs == []


def test_at_info_the_job_id_is_bound_and_completion_logged() -> None:
    seen, logs = _copy_small(logging.INFO)
    assert seen and all("job_id" in ctx for ctx in seen)
    assert [e["event"] for e in logs] == ["completed"] and logs[0]["job_id"] == seen[0]["job_id"]


def test_log_enabled_follows_stdlib_logging() -> None:
    logging.getLogger("partcopy").setLevel(logging.WARNING)
    assert not log_enabled(logging.INFO) and log_enabled(logging.ERROR)
    logging.getLogger("partcopy").setLevel(logging.DEBUG)
    assert log_enabled(logging.DEBUG)
