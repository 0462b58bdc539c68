"""A Copier embedded in an application: closing it under running copies, using it from a
second event loop, and callbacks that raise."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio
import anyio.to_thread
import pytest

from partcopy import Copier
from partcopy.config import Credentials
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.events import Completed, Event, Failed, PartCompleted
from partcopy.errors import CopyError, ObjectNotFound, UsageError
from partcopy.units import GiB, MiB

CREDS = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)


@pytest.fixture
def emu() -> Iterator[EmulatorThread]:
    objects = [f"src/big={1 * GiB}", f"src/small={6 * MiB}"]
    with EmulatorThread(dialect="s3", latency_ms=20, objects=objects) as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))
        yield emu


def open_uploads(emu: EmulatorThread) -> int:
    return emu.call(lambda: emu.emulator.store.open_uploads())


def test_closing_the_copier_under_a_running_copy_aborts_its_upload_and_says_so(
    emu: EmulatorThread,
) -> None:
    errors: list[BaseException] = []

    async def main() -> None:
        parts = anyio.Event()

        def on_event(event: Event) -> None:
            if isinstance(event, PartCompleted):
                parts.set()

        async def copy(c: Copier) -> None:
            try:
                await c.copy("s3://src/big", "s3://dst/big", part_size="8MiB")
            except CopyError as exc:
                errors.append(exc)

        copier = Copier(endpoint_url=emu.url, credentials=CREDS, on_event=on_event)
        async with anyio.create_task_group() as tg, copier as c:
            tg.start_soon(copy, c)
            await parts.wait()
            # leaving the block closes the copier while the copy runs

    anyio.run(main)
    (error,) = errors
    assert isinstance(error, CopyError) and error.upload_id is None
    assert "the Copier was closed during the copy" in str(error) and "aborted" in str(error)
    assert open_uploads(emu) == 0


def test_a_copier_refuses_a_second_event_loop(emu: EmulatorThread) -> None:
    """Another thread's ``asyncio.run`` on a copier in use: a UsageError at once (its
    session and limits belong to the first loop), not a hang or an obscure error."""
    refused: list[BaseException] = []

    def elsewhere(copier: Copier) -> None:
        try:
            asyncio.run(copier.copy("s3://src/small", "s3://dst/b"))
        except BaseException as exc:
            refused.append(exc)

    async def main() -> int:
        async with Copier(endpoint_url=emu.url, credentials=CREDS) as copier:
            result = await copier.copy("s3://src/small", "s3://dst/a")
            await anyio.to_thread.run_sync(elsewhere, copier)
            return result.bytes

    assert anyio.run(main) == 6 * MiB
    (error,) = refused
    assert isinstance(error, UsageError) and "belongs to another event loop" in str(error)


@pytest.mark.parametrize("raising_on", [Completed, PartCompleted])
def test_a_callback_that_raises_changes_nothing(
    emu: EmulatorThread, raising_on: type[Event]
) -> None:
    def on_event(event: Event) -> None:
        if isinstance(event, raising_on):
            raise ValueError("a bug in the progress display")

    async def main() -> int:
        async with Copier(endpoint_url=emu.url, credentials=CREDS, on_event=on_event) as c:
            result = await c.copy("s3://src/small", "s3://dst/cb", part_size="5MiB", mode="copy")
            return result.bytes

    assert anyio.run(main) == 6 * MiB


def test_a_callback_that_raises_on_failed_does_not_hide_the_error(emu: EmulatorThread) -> None:
    def on_event(event: Event) -> None:
        if isinstance(event, Failed):
            raise ValueError("a bug in the failure display")

    async def main() -> None:
        async with Copier(endpoint_url=emu.url, credentials=CREDS, on_event=on_event) as c:
            await c.copy("s3://src/missing", "s3://dst/x")

    with pytest.raises(ObjectNotFound, match="has no object 'missing'"):
        anyio.run(main)


def test_a_raising_prefix_callback_is_contained(emu: EmulatorThread) -> None:
    """on_outcome and on_listed that raise: the run still copies and counts everything,
    and raises nothing (not an ExceptionGroup)."""
    emu.call(lambda: [emu.emulator.store.put_object("src", f"p/k{i}", b"x") for i in range(5)])

    def broken(_: object) -> None:
        raise ValueError("a bug in the caller's bookkeeping")

    async def main() -> tuple[int, int]:
        async with Copier(endpoint_url=emu.url, credentials=CREDS) as c:
            summary = await c.copy_prefix(
                "s3://src/p/", "s3://dst/q/", on_outcome=broken, on_listed=broken
            )
            return summary.ok, summary.listed

    assert anyio.run(main) == (5, 5)
