"""A store whose ranged UploadPartCopy needs a source larger than its row's range floor
(S3's 5 MiB rule, kept by rows whose smallest part is 5 MB, as b2's) gets an object no
larger as one CopyObject, never as ranged part copies it would refuse."""

from __future__ import annotations

import anyio

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.planners import get_profile, plan
from partcopy.providers import get_provider
from partcopy.store.memory import MemoryStore
from partcopy.transports.signing.common import Credentials

SIZE = 5_200_000  # above b2's 5 MB smallest part, below its 5 MiB range floor


def test_the_planner_keeps_an_object_within_the_range_floor_in_one_copy() -> None:
    limits, floor = get_profile("b2"), get_provider("b2").range_copy_floor
    assert limits.min_part < SIZE <= floor
    assert plan(SIZE, limits, 5_000_000).mode == "multipart"  # the limits alone would split it
    assert plan(SIZE, limits, 5_000_000, range_floor=floor).mode == "single"
    assert plan(floor + 1, limits, 5_000_000, range_floor=floor).mode == "multipart"


def test_a_copy_within_the_range_floor_is_one_copyobject_the_store_accepts() -> None:
    store = MemoryStore("b2")
    store.create_bucket("src")
    store.create_bucket("dst")
    store.put_virtual("src", "obj", SIZE)
    with EmulatorThread(dialect="s3", profile="b2", store=store) as emu:

        async def go() -> str:
            creds = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
            async with Copier(
                endpoint_url=emu.url, credentials=creds, region="us-west-004"
            ) as copier:
                result = await copier.copy(
                    "s3://src/obj", "s3://dst/obj", part_size=5_000_000, provider="b2"
                )
            return result.mode

        assert anyio.run(go) == "single"
        assert emu.call(lambda: emu.emulator.store.get("dst", "obj").size) == SIZE
