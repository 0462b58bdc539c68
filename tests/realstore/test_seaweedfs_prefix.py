"""``cp --recursive``, ``sync`` and ``ls`` on SeaweedFS: odd keys, a multipart object, a
second sync that copies nothing, a changed object and ``--delete``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from partcopy.cli import main
from partcopy.store.data import pattern_bytes
from realstore.seaweedfs import SeaweedFS

MiB = 1024 * 1024
TREE = {
    "a b.bin": 1,
    "dir/ü+%.bin": 1000,
    "dir/sub/x.bin": 0,
    "z.txt": 4096,
    "big/parts.bin": 6 * MiB,  # two parts of server-side copy at --part-size 5MiB
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    status = main([*args, "--json"])
    captured = capsys.readouterr()
    assert status == 0, (captured.out, captured.err)
    out: dict[str, Any] = json.loads(captured.out)
    return out


def keys_of(s3: Any, bucket: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_recursive_copy_then_sync(
    seaweedfs: SeaweedFS,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    src, dst = new_bucket("tree-src"), new_bucket("tree-dst")
    data = {key: pattern_bytes(i, 0, size) for i, (key, size) in enumerate(TREE.items())}
    for key, body in data.items():
        s3.put_object(Bucket=src, Key=f"tree/{key}", Body=body)
    s3.put_object(Bucket=src, Key="elsewhere.bin", Body=b"not under the prefix")
    at = ["--endpoint-url", seaweedfs.url]

    copied = run(
        capsys,
        "cp",
        "--recursive",
        f"s3://{src}/tree/",
        f"s3://{dst}/copy/",
        *at,
        "--part-size",
        "5MiB",
    )
    assert (copied["status"], copied["ok"], copied["failed"]) == ("completed", len(TREE), 0)
    assert keys_of(s3, dst) == {f"copy/{k}": v for k, v in data.items()}

    listed = run(capsys, "ls", f"s3://{dst}/copy/", "--recursive", *at)
    assert [e["key"] for e in listed["entries"]] == sorted(f"copy/{k}" for k in TREE)

    again = run(capsys, "sync", f"s3://{src}/tree/", f"s3://{dst}/copy/", *at)
    assert (again["ok"], again["skipped_same"], again["deleted"]) == (0, len(TREE), 0)

    changed = pattern_bytes(99, 0, TREE["z.txt"])  # same size, other bytes: the ETag tells
    s3.put_object(Bucket=src, Key="tree/z.txt", Body=changed)
    s3.put_object(Bucket=dst, Key="copy/extra.bin", Body=b"only in the destination")
    last = run(capsys, "sync", f"s3://{src}/tree/", f"s3://{dst}/copy/", *at, "--delete")
    assert (last["ok"], last["skipped_same"], last["deleted"]) == (1, len(TREE) - 1, 1)
    assert keys_of(s3, dst) == {f"copy/{k}": v for k, v in {**data, "z.txt": changed}.items()}
