"""Used as a library, partcopy says nothing unless the application configures logging;
when it does, the events arrive through stdlib logging with their fields, redacted
(issue 15, item 9)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

LIBRARY_RUN = """
import anyio, anyio.lowlevel
from partcopy import Copier
from partcopy.engine.retry import RetryPolicy
from partcopy.store.memory import MemoryStore
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.memory import MemoryTransport

store = MemoryStore(seed=1)
store.create_bucket("src")
store.create_bucket("dst")
store.put_virtual("src", "obj", 20 * 1024 * 1024)
transport = FaultyTransport(MemoryTransport(store), [Fault("slowdown", 0.5)])

async def nap(seconds):
    await anyio.lowlevel.checkpoint()

async def main():
    async with Copier(transport=transport, sleep=nap, seed=1,
                      retry=RetryPolicy(max_attempts=30)) as copier:
        await copier.copy("s3://src/obj", "s3://dst/obj", part_size="5MiB")
    try:  # a failure too: warnings are the loudest events a copy has
        async with Copier(transport=FaultyTransport(MemoryTransport(store),
                          [Fault("slowdown", 1.0)]), sleep=nap,
                          retry=RetryPolicy(max_attempts=2)) as copier:
            await copier.copy("s3://src/obj", "s3://dst/again", part_size="5MiB")
    except Exception as exc:
        print(type(exc).__name__)

anyio.run(main)
"""


def test_a_library_user_who_configures_nothing_sees_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LIBRARY_RUN], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "PartFailed\n" and done.stderr == ""


def test_an_application_that_configures_logging_gets_the_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import anyio

    from partcopy.logs import get_logger

    caplog.set_level(logging.INFO, logger="partcopy")
    log = get_logger("partcopy.engine")

    async def main() -> None:
        log.info("retry", part_number=3, secret_key="s3cr3t", authorization="AWS4 x")

    anyio.run(main)
    (record,) = [r for r in caplog.records if r.name == "partcopy.engine"]
    assert record.levelno == logging.INFO and record.getMessage().startswith("retry ")
    fields = record.event_dict  # type: ignore[attr-defined]
    assert fields["part_number"] == 3 and fields["event"] == "retry"
    assert "s3cr3t" not in caplog.text and "AWS4" not in caplog.text
    assert fields["secret_key"] == fields["authorization"] == "<redacted>"
