"""The S3 doubles the conformance run compares: a boto3 client per double, fresh buckets,
and skips that name moto's gaps."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from partcopy.emulator import EmulatorThread

SECOND_USER = ("second-user", "second-user-secret")
_names = itertools.count()


def make_client(url: str, access_key: str, secret_key: str) -> Any:
    """A boto3 S3 client on ``url`` (path style, no retries: every answer is seen)."""
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


@dataclass
class Target:
    """One S3 double under test: its name, a boto3 client, and how to say a gap."""

    name: str
    url: str
    s3: Any
    emulator: EmulatorThread | None = None

    def bucket(self, versioned: bool = False) -> str:
        """A fresh bucket (unique per test, both doubles keep state for the session)."""
        name = f"conf-{next(_names)}"
        self.s3.create_bucket(Bucket=name)
        if versioned:
            self.s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
        return name

    def moto_gap(self, reason: str) -> None:
        """Skip on moto, naming what it does not do (the emulator case still runs)."""
        if self.name == "moto":
            pytest.skip(f"moto gap: {reason}")
