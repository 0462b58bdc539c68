"""Smoke tests of the benchmark harness: schedules, reports, and a contender in a child.

The contender test runs boto3's managed copy in its own process against moto's server on
loopback and checks the harness reports what the kernel accounted to that child.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from benchmarks.common import ideal_seconds, part_seconds, row_from_run
from benchmarks.contenders.spec import CopySpec
from benchmarks.machine import describe_machine
from benchmarks.procs import ACCESS_KEY, SECRET_KEY, run_contender
from benchmarks.report import Column, Row, ScenarioResult, Target, save_result

from net_helpers import moto_server

MiB = 1024**2


def test_ideal_schedule_is_whole_waves_of_one_part_time() -> None:
    per_part = part_seconds(16 * MiB, 20.0, 4.0)
    assert per_part == pytest.approx(0.020 + 16 * MiB * 8 / 4e9)
    assert ideal_seconds(640, 10, per_part) == pytest.approx(64 * per_part)
    assert ideal_seconds(640, 64, per_part) == pytest.approx(10 * per_part)
    assert ideal_seconds(641, 64, per_part) == pytest.approx(11 * per_part)
    assert part_seconds(16 * MiB, 0.0, None) == 0.0


def test_targets_compare_in_their_direction() -> None:
    assert Target("a", 1.02, 1.03, "<=").met
    assert not Target("a", 1.04, 1.03, "<=").met
    assert Target("b", 6.5, 6.0, ">=").met
    assert not Target("b", 5.9, 6.0, ">=").met
    assert not Target("c", None, 1.0, "<=").met
    assert not Target("c", math.nan, 1.0, "<=").met


def test_save_result_writes_json_and_png(tmp_path: Path) -> None:
    result = ScenarioResult(
        scenario="demo-check",
        title="t",
        date="2026-01-01T00:00:00+00:00",
        machine=describe_machine(),
        command="python -m benchmarks.run x",
        quick=True,
        params={"parts": 3},
        columns=(Column("parts_per_s", "parts/s"),),
        rows=(
            Row("partcopy", "c=1", True, {"parts_per_s": 30.0}),
            Row("boto3", "c=1", True, {"parts_per_s": 5.0}),
            Row("rclone", "c=1", False, {}, "absent: rclone is not on PATH"),
        ),
        targets=(Target("parts_per_s: ratio", 6.0, 6.0, ">="),),
        plot_key="parts_per_s",
    )
    json_path, png_path = save_result(result, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["machine"]["cores"] >= 1
    assert [r["contender"] for r in data["rows"]] == ["partcopy", "boto3", "rclone"]
    assert data["rows"][2]["error"].startswith("absent")
    assert data["targets"][0]["met"] is True
    assert png_path is not None
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def test_boto3_contender_copies_in_its_own_process(moto_url: str) -> None:
    size = 12 * MiB + 7
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.create_bucket(Bucket="bench")
    client.put_object(Bucket="bench", Key="src", Body=b"x" * size)
    spec = CopySpec(
        endpoint=moto_url,
        bucket="bench",
        key="src",
        dst_key="dst",
        size=size,
        part_size=5 * MiB,
        concurrency=2,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    run = run_contender("boto3_managed", spec.as_dict(), timeout=120)
    assert run.ok, run.stderr_tail
    assert run.outcome["parts"] == 3
    assert run.outcome["bytes"] == size
    # The kernel's accounting is the child's: it imported boto3, so it used CPU and memory.
    assert run.usage.cpu_s > 0
    assert run.usage.peak_rss_mib > 10
    head = client.head_object(Bucket="bench", Key="dst")
    assert head["ContentLength"] == size
    assert head["ETag"].strip('"').endswith("-3")
    row = row_from_run("boto3", "c=2", run)
    assert row.ok and row.get("parts") == 3


def test_a_failing_contender_is_a_failed_row_not_a_crash(moto_url: str) -> None:
    spec = CopySpec(
        endpoint=moto_url,
        bucket="no-such-bucket",
        key="src",
        dst_key="dst",
        size=6 * MiB,
        part_size=5 * MiB,
        concurrency=2,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    run = run_contender("boto3_managed", spec.as_dict(), timeout=120)
    assert not run.ok
    assert run.usage.exit_status == 1
    assert "404" in str(run.outcome["error"]) or "NoSuch" in str(run.outcome["error"])
    row = row_from_run("boto3", "c=2", run)
    assert not row.ok and row.error


def test_bar_figures_read_as_numbers_and_long_case_labels_wrap() -> None:
    from benchmarks.report import _wrap, bar_text

    assert [bar_text(v) for v in (1948.3, 21.44, 1.0544, 0.0571)] == [
        "1,948",
        "21.4",
        "1.054",
        "0.057",
    ]
    assert _wrap("cp --recursive --workers 2") == "cp --recursive\n--workers 2"
    assert _wrap("bulk (size+etag manifest)") == "bulk (size+etag\nmanifest)"


def test_large_object_ratios_are_taken_pair_by_pair() -> None:
    from benchmarks.large import paired_ratios

    def run(ok: bool, seconds: float) -> tuple[bool, float, float, float, str]:
        return (ok, seconds, seconds, 40.0, "" if ok else "failed")

    results = {
        "partcopy": [run(True, 1.0), run(True, 2.0), run(False, 0.5), run(True, 1.0)],
        "rclone": [run(True, 1.1), run(True, 1.8), run(True, 9.0), run(False, 1.0)],
        "boto3": [run(True, 6.0)],
    }
    pairs = paired_ratios(results)
    # a repeat where either side failed is no pair; the machine's drift cancels within one
    assert pairs == {"rclone": [pytest.approx(1.1), pytest.approx(0.9)], "boto3": [6.0]}
