"""Fixtures for the end-to-end runs on SeaweedFS: credentials, a client, fresh buckets."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from realstore.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, s3_client

_serial = itertools.count()


@pytest.fixture
def weed_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """partcopy's credential variables set to the server's identity (in-process CLI runs);
    returns them for subprocess runs."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PARTCOPY_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    values = {"PARTCOPY_ACCESS_KEY_ID": ACCESS_KEY, "PARTCOPY_SECRET_ACCESS_KEY": SECRET_KEY}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def s3(seaweedfs: SeaweedFS) -> Any:
    """boto3 on the server: the reference partcopy's results are compared with."""
    return s3_client(seaweedfs.url)


@pytest.fixture
def new_bucket(s3: Any) -> Callable[[str], str]:
    """Create a bucket no other test uses (SeaweedFS refuses one-letter names)."""

    def make(stem: str) -> str:
        name = f"{stem}-{next(_serial)}"
        s3.create_bucket(Bucket=name)
        return name

    return make
