"""boto3's managed copy (s3transfer): what most Python users would reach for."""

from __future__ import annotations

from typing import Any

import boto3  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from benchmarks.contenders.spec import CopySpec, Outcome, Stopwatch

__all__ = ["make_client", "run"]


def make_client(endpoint: str, access_key: str, secret_key: str, pool: int) -> Any:
    """A path-style S3 client on ``endpoint`` with ``pool`` connections and standard retries."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            max_pool_connections=max(pool, 10),
            retries={"max_attempts": 10, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def run(spec: CopySpec) -> Outcome:
    """``client.copy(...)`` with the part size and concurrency of the scenario."""
    client = make_client(spec.endpoint, spec.access_key, spec.secret_key, spec.concurrency)
    config = TransferConfig(
        multipart_threshold=spec.part_size,
        multipart_chunksize=spec.part_size,
        max_concurrency=spec.concurrency,
        use_threads=True,
    )
    warm = spec.options.get("warmup_key")
    if warm:  # untimed: connections and lazy imports warm, as for every contender
        client.copy(
            {"Bucket": spec.bucket, "Key": warm},
            spec.target_bucket,
            f"{warm}-{spec.dst_key}",
            Config=TransferConfig(
                multipart_threshold=5 * 1024 * 1024,
                multipart_chunksize=5 * 1024 * 1024,
                max_concurrency=spec.concurrency,
            ),
        )
    error: str | None = None
    with Stopwatch() as sw:
        try:
            client.copy(
                {"Bucket": spec.bucket, "Key": spec.key},
                spec.target_bucket,
                spec.dst_key,
                Config=config,
            )
        except Exception as exc:  # reported, not raised: a failed copy is a result
            error = f"{type(exc).__name__}: {exc}"
    ok = error is None
    if ok:
        head = client.head_object(Bucket=spec.target_bucket, Key=spec.dst_key)
        ok = int(head["ContentLength"]) == spec.size
        if not ok:
            error = f"destination has {head['ContentLength']} bytes, expected {spec.size}"
    return Outcome(
        ok=ok,
        seconds=sw.seconds,
        cpu_s=sw.cpu_s,
        parts=spec.parts if ok else 0,
        bytes=spec.size if ok else 0,
        error=error,
    )
