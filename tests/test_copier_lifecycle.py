"""A Copier embedded in an application: closing it under running copies, using it from a
second event loop, and callbacks that raise."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator

import anyio
import anyio.to_thread
import pytest
from structlog.testing import capture_logs

from partcopy import Copier
from partcopy.config import Credentials
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.events import Completed, Event, Failed, PartCompleted
from partcopy.errors import CopyError, ObjectNotFound, UsageError
from partcopy.store.memory import MemoryStore
from partcopy.transports.memory import MemoryTransport
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


# --- a Copier never closed ------------------------------------------------------------------


def drain(record: list[warnings.WarningMessage]) -> list[tuple[type[Warning], str]]:
    """Collect garbage until no warning comes: a recorded warning's ``source`` (the Copier,
    then aiohttp's session, its connector) keeps the next object alive while it is held."""
    seen: list[tuple[type[Warning], str]] = []
    for _ in range(10):
        gc.collect()
        if not record:
            break
        seen += [(w.category, str(w.message)) for w in record]
        record.clear()
    return seen


def test_a_copier_never_closed_warns_naming_it_and_how_to_close_it(emu: EmulatorThread) -> None:
    """Used without ``async with`` and dropped: one ResourceWarning that names the Copier
    and says how to close it (beside aiohttp's own about its session), and no log line."""

    async def main() -> int:
        copier = Copier(endpoint_url=emu.url, credentials=CREDS)
        result = await copier.copy("s3://src/small", "s3://dst/leaked")
        del copier  # never closed
        gc.collect()  # collected while the loop runs, as in an application
        return result.bytes

    with warnings.catch_warnings(record=True) as record, capture_logs() as logs:
        warnings.simplefilter("always")
        assert anyio.run(main) == 6 * MiB
        seen = drain(record)
    ours = [message for category, message in seen if "Copier" in message]
    assert len(ours) == 1, seen
    assert (ResourceWarning, ours[0]) in seen
    message = ours[0]
    assert message.startswith("unclosed <partcopy.engine.copier.Copier object at")
    assert "async with Copier(...)" in message and "await copier.aclose()" in message
    assert not [entry for entry in logs if entry.get("logger", "").startswith("partcopy")]


@pytest.mark.parametrize("how", ["aclose", "async-with", "unused", "injected"])
def test_a_copier_with_no_open_session_is_collected_in_silence(
    emu: EmulatorThread, how: str
) -> None:
    """Closed (either way), never used, or on an injected transport (no session of its
    own): nothing to warn about, so nothing is said."""

    async def main() -> None:
        if how == "unused":
            copier = Copier(endpoint_url=emu.url, credentials=CREDS)
        elif how == "injected":
            store = MemoryStore()
            store.create_bucket("b")
            store.put_object("b", "k", b"x")
            copier = Copier(transport=MemoryTransport(store))
            await copier.copy("s3://b/k", "s3://b/k2")
        elif how == "aclose":
            copier = Copier(endpoint_url=emu.url, credentials=CREDS)
            await copier.copy("s3://src/small", "s3://dst/closed")
            await copier.aclose()
        else:
            async with Copier(endpoint_url=emu.url, credentials=CREDS) as copier:
                await copier.copy("s3://src/small", "s3://dst/closed")
        del copier
        gc.collect()

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        anyio.run(main)
        seen = drain(record)
    assert seen == []
