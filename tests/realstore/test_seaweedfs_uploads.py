"""``partcopy uploads list|abort`` past 1,000 uploads on SeaweedFS, which pages
ListMultipartUploads by upload id and names no NextKeyMarker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from partcopy.cli import main
from partcopy.transports import make_transport
from partcopy.transports.base import ObjectAttributes
from partcopy.transports.signing import Credentials
from realstore.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS

COUNT = 1005
"""One more page than the store's 1,000 per page, and a few."""


async def _create_uploads(url: str, bucket: str, keys: list[str]) -> set[str]:
    transport = make_transport("s3", url, "us-east-1", Credentials(ACCESS_KEY, SECRET_KEY))
    limiter = anyio.CapacityLimiter(16)
    made: set[str] = set()

    async def create(key: str) -> None:
        async with limiter:
            made.add(await transport.create_multipart(bucket, key, ObjectAttributes()))

    try:
        async with anyio.create_task_group() as tg:
            for key in keys:
                tg.start_soon(create, key)
    finally:
        await transport.aclose()
    return made


def uploads(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> dict[str, Any]:
    status = main(["uploads", *args, "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "incomplete" not in captured.err  # the listing reached its end
    out: dict[str, Any] = json.loads(captured.out)
    return out


def test_list_and_abort_past_1000_uploads(
    seaweedfs: SeaweedFS,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = new_bucket("orphans")
    # Several uploads per key, as retried copies leave them; two outside the prefix.
    keys = [f"dir/key-{i % 400:03d}" for i in range(COUNT)]
    made = anyio.run(_create_uploads, seaweedfs.url, bucket, keys)
    outside = anyio.run(_create_uploads, seaweedfs.url, bucket, ["other/a", "other/b"])
    assert len(made) == COUNT
    where = [f"s3://{bucket}/dir/", "--endpoint-url", seaweedfs.url]

    listed = uploads(capsys, seaweedfs.url, "list", *where)
    assert len(listed["uploads"]) == COUNT
    assert {u["upload_id"] for u in listed["uploads"]} == made

    done = uploads(capsys, seaweedfs.url, "abort", *where, "--older-than", "0s")
    assert {u["upload_id"] for u in done["aborted"]} == made
    assert done["kept"] == []

    assert uploads(capsys, seaweedfs.url, "list", *where)["uploads"] == []
    left = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert {u["UploadId"] for u in left} == outside
