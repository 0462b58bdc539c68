"""``partcopy cp --journal`` killed mid-copy on SeaweedFS, then run again: only the missing
parts are copied, into the same upload, and the object reads back byte for byte.

The kill point is made, not waited for: a loopback proxy lets two UploadPartCopy requests
through and holds the third, and the client is killed once its journal holds two parts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from partcopy.cli import main
from partcopy.engine.journal import Journal
from partcopy.store.data import pattern_bytes
from realstore.seaweedfs import SeaweedFS
from realstore.stallproxy import StallingProxy

MiB = 1024 * 1024
PART = 5 * MiB
SIZE = 3 * PART + 4321
PLANNED = 4
ALLOWED = 2
DEADLINE_S = 60.0


def journaled_parts(journal: Path) -> int:
    if not journal.exists():
        return 0
    with Journal(journal) as j:
        jobs = j.unfinished_jobs()
        return len(j.parts(jobs[0].id)) if jobs else 0


def wait_for(what: str, done: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise AssertionError(f"the copy ended ({proc.returncode}) before {what}: {err}")
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE_S:.0f} s"
        time.sleep(0.02)


def test_kill_then_rerun_copies_only_the_missing_parts(
    seaweedfs: SeaweedFS,
    s3: Any,
    new_bucket: Callable[[str], str],
    weed_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src, dst = new_bucket("resume-src"), new_bucket("resume-dst")
    data = pattern_bytes(11, 0, SIZE)
    s3.put_object(Bucket=src, Key="big.bin", Body=data)
    journal = tmp_path / "state.db"

    with StallingProxy(seaweedfs.url, allow=ALLOWED) as proxy:
        args = ["cp", f"s3://{src}/big.bin", f"s3://{dst}/big.bin", "--endpoint-url", proxy.url]
        args += ["--part-size", str(PART), "--concurrency", "1", "--journal", str(journal)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "partcopy", *args, "--quiet"],
            env={**os.environ, **weed_env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for("a held copy", proxy.stalled.is_set, proc)
            wait_for("two journaled parts", lambda: journaled_parts(journal) == ALLOWED, proc)
        finally:
            proc.kill()
            proc.communicate(timeout=DEADLINE_S)
        assert proc.returncode == -signal.SIGKILL

        (upload,) = s3.list_multipart_uploads(Bucket=dst)["Uploads"]
        stored = s3.list_parts(Bucket=dst, Key="big.bin", UploadId=upload["UploadId"])
        assert [p["PartNumber"] for p in stored["Parts"]] == [1, 2]

        proxy.pass_through()
        status = main([*args, "--json", "--quiet"])
        out = json.loads(capsys.readouterr().out)
        assert status == 0, out
        assert proxy.copies == ALLOWED + 1 + (PLANNED - ALLOWED)  # the held one never went

    assert (out["status"], out["bytes"], out["parts"]) == ("completed", SIZE, PLANNED)
    assert s3.get_object(Bucket=dst, Key="big.bin")["Body"].read() == data
    assert s3.list_multipart_uploads(Bucket=dst).get("Uploads", []) == []
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["completed"]
