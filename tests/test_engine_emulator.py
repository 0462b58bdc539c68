"""The engine end to end over HTTP: the S3 transport against the emulator, with faults."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from partcopy import Copier, CopyResult
from partcopy.config import Credentials
from partcopy.emulator.server import Emulator
from partcopy.engine.events import Event, PartCompleted
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import SourceChanged
from partcopy.store.memory import StoreError
from partcopy.units import GiB, MiB

CREDS = Credentials("partcopy", "partcopy-secret")


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


async def instant(seconds: float) -> None:
    """The emulator's sleep: latency and injected delays pass without real waiting."""
    await asyncio.sleep(0)


def copier(url: str, **kwargs: Any) -> Copier:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=12, initial=0.01, cap=0.05))
    return Copier(endpoint_url=url, credentials=CREDS, sleep=no_sleep, seed=1, **kwargs)


def test_fault_mix_twenty_copies_of_a_1gib_object_all_complete() -> None:
    faults = [
        "slowdown:0.05@copy_part,complete",
        "noetag:0.02@copy_part,complete",
        "error200:0.02@copy_part,complete",
        "reset:0.01@copy_part",
        "delay:0.01:2s@copy_part",
    ]
    results: list[CopyResult] = []

    async def main() -> dict[str, Any]:
        async with Emulator(
            "s3", faults=faults, objects=["src-bkt/big=1GiB"], seed=7, sleep=instant
        ) as emu:
            emu.store.create_bucket("dst-bkt")

            async def one(c: Copier, i: int) -> None:
                results.append(await c.copy("s3://src-bkt/big", f"s3://dst-bkt/copy{i}"))

            async with copier(emu.url, concurrency=32) as c, anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(one, c, i)
            stats = emu.stats()
            sizes = {emu.store.get("dst-bkt", f"copy{i}").size for i in range(20)}
            return {"stats": stats, "sizes": sizes}

    out = anyio.run(main)
    stats = out["stats"]
    assert len(results) == 20 and out["sizes"] == {GiB}
    assert stats.every_complete_issued and len(stats.completes) >= 20
    assert stats.open_uploads == 0
    assert {"slowdown", "noetag", "error200", "reset", "delay"} <= set(stats.faults)
    reasons: set[str] = set()
    for r in results:
        reasons |= set(r.retries_by_reason)
    assert {"SlowDown", "NoETag", "ConnectionError"} <= reasons
    assert any(reason.startswith("ErrorBody:") for reason in reasons)
    assert len({r.etag for r in results}) == 1  # same bytes, same parts, same composite


def test_source_overwritten_through_the_admin_endpoint_mid_copy() -> None:
    import aiohttp

    done = 0
    overwrite: list[asyncio.Task[Any]] = []

    async def main() -> tuple[BaseException | None, Any]:
        async with Emulator("s3", objects=["src-bkt/obj=200MiB"], sleep=instant) as emu:
            session = aiohttp.ClientSession()

            async def post() -> None:
                url = f"{emu.url}/_emulator/objects"
                async with session.post(url, json={"objects": ["src-bkt/obj=200MiB"]}) as r:
                    assert r.status == 200

            def on_event(event: Event) -> None:
                nonlocal done
                if isinstance(event, PartCompleted):
                    done += 1
                    if done == 3:
                        overwrite.append(asyncio.get_running_loop().create_task(post()))

            error: BaseException | None = None
            try:
                async with copier(emu.url, concurrency=2, on_event=on_event) as c:
                    await c.copy("s3://src-bkt/obj", "s3://src-bkt/copy", part_size="5MiB")
            except SourceChanged as exc:
                error = exc
            await overwrite[0]
            await session.close()
            try:
                emu.store.get("src-bkt", "copy")
                absent: Any = False
            except StoreError as exc:
                absent = exc.status
            return error, (emu.stats().open_uploads, absent)

    error, (open_uploads, absent) = anyio.run(main)
    assert isinstance(error, SourceChanged) and error.upload_id is None
    assert open_uploads == 0 and absent == 404
    assert done < 40


def test_cancelling_a_copy_over_http_leaves_no_open_upload() -> None:
    async def main() -> tuple[int, int]:
        async with Emulator("s3", objects=["src-bkt/obj=500MiB"], sleep=instant) as emu:
            seen = 0
            with anyio.CancelScope() as scope:

                def on_event(event: Event) -> None:
                    nonlocal seen
                    if isinstance(event, PartCompleted):
                        seen += 1
                        if seen == 10:
                            scope.cancel()

                async with copier(emu.url, concurrency=8, on_event=on_event) as c:
                    await c.copy("s3://src-bkt/obj", "s3://src-bkt/copy", part_size="5MiB")
            assert scope.cancelled_caught
            return emu.stats().open_uploads, seen

    open_uploads, seen = anyio.run(main)
    assert open_uploads == 0 and seen < 100


@pytest.mark.parametrize("size", [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1])
def test_edge_sizes_over_http(size: int) -> None:
    async def main() -> tuple[CopyResult, int]:
        async with Emulator("s3", objects=[f"src-bkt/obj={size}"], sleep=instant) as emu:
            async with copier(emu.url) as c:
                result = await c.copy("s3://src-bkt/obj", "s3://src-bkt/copy", part_size="5MiB")
            src = emu.store.get("src-bkt", "obj").content
            dst = emu.store.get("src-bkt", "copy").content
            assert src is not None and dst is not None
            assert dst.read() == src.read()
            return result, emu.stats().open_uploads

    result, open_uploads = anyio.run(main)
    assert result.bytes == size and open_uploads == 0
    assert result.mode == ("copy" if size > 5 * MiB else "single")
