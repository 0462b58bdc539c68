"""User-supplied counts and inputs stay within bounds: no endless manifest, no worker army
(issue 15, item 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from partcopy.cli import main
from partcopy.scale.workers import MAX_WORKERS_PER_CORE, cores

ENV = {**os.environ, "PARTCOPY_ACCESS_KEY_ID": "AKIDB", "PARTCOPY_SECRET_ACCESS_KEY": "b-secret"}


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this platform")
def test_an_endless_device_as_manifest_is_bad_input_not_a_memory_error() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "partcopy",
            "bulk",
            "/dev/zero",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr.count("\n") == 1 and "not a regular file" in done.stderr


@pytest.mark.parametrize("flag", ["--workers", "--dask-local"])
def test_a_worker_count_beyond_the_machine_is_bad_input(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"src": "s3://a/b", "dst": "s3://c/d"}\n')
    try:
        status = main(
            ["bulk", str(manifest), flag, "99999999", "--endpoint-url", "http://127.0.0.1:9"]
        )
    except SystemExit as exc:  # argparse's own refusals
        status = int(exc.code or 0)
    assert status == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "99999999" in err[0]
    assert f"at most {MAX_WORKERS_PER_CORE * cores()}" in err[0]
