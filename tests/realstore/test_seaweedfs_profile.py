"""The ``seaweedfs`` provider row against the real store: its ETag rules hold there.

UploadPartCopy answers the source's ETag, not the range's MD5, so a server-side copy with
``--provider seaweedfs`` never claims the composite-ETag proof; relayed (uploaded) parts are
plain MD5s and S3's composite rule holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from realstore.seaweedfs import SeaweedFS
from realstore.test_seaweedfs_cp import PART, cp, put_source


@pytest.mark.parametrize(
    ("mode", "verification"), [("copy", "part-etags+size"), ("relay", "composite-etag")]
)
def test_the_seaweedfs_row_verifies_what_the_store_proves(
    mode: str,
    verification: str,
    seaweedfs: SeaweedFS,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    src, dst = new_bucket("row-src"), new_bucket("row-dst")
    data = put_source(s3, src, "big.bin", 2 * PART + 1, seed=7)
    out = cp(
        capsys,
        f"s3://{src}/big.bin",
        f"s3://{dst}/copy.bin",
        "--provider",
        "seaweedfs",
        "--checksum",
        "off",  # the ETag rules alone (boto3's CRC32 on the source would prove it otherwise)
        "--mode",
        mode,
        "--endpoint-url",
        seaweedfs.url,
    )
    assert (out["status"], out["mode"], out["parts"]) == ("completed", mode, 3)
    assert out["verification"] == verification
    body = s3.get_object(Bucket=dst, Key="copy.bin")["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(data).digest()
