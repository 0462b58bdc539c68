"""The emulator as a library object: lifecycle, ports, validation, listing and tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from partcopy.emulator import Emulator, EmulatorThread
from partcopy.errors import UsageError

Start = Callable[..., EmulatorThread]


@pytest.mark.anyio
async def test_binds_a_free_loopback_port_and_releases_it() -> None:
    async with Emulator("s3") as first:
        assert first.url.startswith("http://127.0.0.1:") and first.port > 0
        with pytest.raises(UsageError) as exc:
            await Emulator("s3", port=first.port).start()
        assert str(first.port) in str(exc.value)
    again = Emulator("s3", port=first.port)
    await again.start()
    await again.stop()
    await again.stop()  # stopping twice is harmless


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"dialect": "gcs"}, "gcs"),
        ({"latency_ms": -1.0}, "-1"),
        ({"latency_ms": float("inf")}, "latency inf"),
        ({"latency_ms": float("nan")}, "latency nan"),
        ({"gbps": float("nan")}, "bandwidth nan"),
        ({"gbps": float("inf")}, "bandwidth inf"),
        ({"access_key": ""}, "access key ''"),
        ({"secret_key": ""}, "secret key ''"),
        ({"users": [("bob", "")]}, "'bob'"),
        ({"users": [("", "s")]}, "user ''"),
        ({"faults": ["slowdown:2"]}, "slowdown:2"),
        ({"objects": ["no-size"]}, "no-size"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(UsageError) as exc:
        Emulator(**kwargs)
    assert named in str(exc.value)


def test_thread_start_errors_surface_in_the_caller() -> None:
    with pytest.raises(UsageError):
        EmulatorThread(dialect="nope").start()


def test_listing_pages_and_tag_counts(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3", objects=[f"list-bkt/k{i}=10" for i in range(5)])
    c: Any = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="partcopy",
        aws_secret_access_key="partcopy-secret",
        config=Config(s3={"addressing_style": "path"}),
    )
    try:
        pages = c.get_paginator("list_objects_v2").paginate(
            Bucket="list-bkt", PaginationConfig={"PageSize": 2}
        )
        keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
        assert keys == [f"k{i}" for i in range(5)]
        c.put_object(Bucket="list-bkt", Key="tagged", Body=b"x", Tagging="a=1&b=2")
        assert c.get_object(Bucket="list-bkt", Key="tagged")["TagCount"] == 2
    finally:
        c.close()
