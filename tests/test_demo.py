"""The demo end to end at small sizes: emulator in-process, faults, verification, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest

from partcopy.cli import main
from partcopy.cli.demo import DemoConfig, DemoReport, ideal_seconds, render_report, run_demo
from partcopy.errors import PlanError, UsageError
from tty_helpers import run_with_terminal_stderr

MiB = 1024**2


def test_ideal_is_whole_waves_of_one_part_time() -> None:
    config = DemoConfig(latency_ms=30.0, gbps=1.0)
    per_part = config.part_seconds(64 * MiB)
    assert per_part == pytest.approx(0.030 + 64 * MiB * 8 / 1e9)
    assert ideal_seconds(128, 16, per_part) == pytest.approx(8 * per_part)
    assert ideal_seconds(129, 16, per_part) == pytest.approx(9 * per_part)


def test_a_faulty_small_demo_copies_verifies_and_counts_retries() -> None:
    config = DemoConfig(
        size=40 * MiB + 123,
        part_size=5 * MiB,
        concurrency=4,
        latency_ms=0.0,
        gbps=0.0,
        faults=("slowdown:0.2", "noetag:0.1", "error200:0.1", "reset:0.1"),
        seed=3,
        samples=6,
        sample_size=4096,
    )
    report: DemoReport = anyio.run(run_demo, config)
    result = report.result
    assert result.parts == 9
    assert result.bytes == config.size
    assert report.verified
    assert report.ranges_equal and report.sampled_ranges >= 3
    assert report.destination_size == config.size
    assert report.open_uploads == 0 and report.every_complete_issued
    assert result.etag is not None and result.etag.strip('"').endswith("-9")
    # The emulator fired faults and every one the engine saw became a counted retry.
    assert sum(report.faults_fired.values()) >= 1
    assert result.retries == sum(result.retries_by_reason.values()) >= 1
    lines = "\n".join(render_report(report))
    assert "verified" in lines and "-9" in lines
    summary = report.as_dict()
    assert summary["verified"] is True and summary["parts"] == 9


def test_cli_demo_prints_one_json_summary(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--size", "24MiB", "--part-size", "8MiB", "--concurrency", "3", "--no-faults"]
    status = main(["demo", *args, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    assert len(out) == 1
    summary = json.loads(out[0])
    assert summary["parts"] == 3
    assert summary["bytes"] == 24 * MiB
    assert summary["verified"] is True
    assert summary["retries"] == 0
    assert summary["vs_ideal"] > 0


SMALL = ["demo", "--size", "10MiB", "--part-size", "5MiB", "--no-faults"]


def test_cli_demo_redirected_writes_no_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    """``demo > f`` (no terminal anywhere): the summary only, no bar in the file."""
    assert main(SMALL) == 0
    out, err = capsys.readouterr()
    assert "verified" in out and "copying" not in out and "copying" not in err


def test_cli_demo_draws_its_bar_on_the_terminal_not_into_redirected_stdout() -> None:
    """stdout into a pipe, stderr a terminal: the bar goes to the terminal, as cp's does."""
    run = run_with_terminal_stderr(SMALL)
    assert run.returncode == 0
    assert b"verified" in run.stdout and b"copying" not in run.stdout
    assert b"copying" in run.terminal and b"parts 2/2" in run.terminal


def test_cli_demo_rejects_a_zero_size_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--size", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "size" in err[0]


def test_cli_demo_refuses_a_size_s3_cannot_hold_as_plan_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--profile", "s3", "--size", "999TiB"]) == 2
    planned = capsys.readouterr().err
    assert main(["demo", "--size", "999TiB", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == planned and len(err.splitlines()) == 1 and "999 TiB" in err


def test_demo_config_validates() -> None:
    with pytest.raises(UsageError):
        DemoConfig(concurrency=0)
    with pytest.raises(PlanError, match="too large"):
        DemoConfig(size=999 * 1024**4)


# Ctrl-C as a person would press it, once the copy has planned its parts: the signal comes
# from the copy's own Planned event, so it lands while the copy runs, never before.
CTRL_C_AFTER_PLANNING = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from partcopy.cli.demo import DemoConfig, main
from partcopy.engine.events import Planned

def press_ctrl_c(event):
    if isinstance(event, Planned):
        os.kill(os.getpid(), signal.SIGINT)

config = DemoConfig(size=64 * 2**20, part_size=8 * 2**20, concurrency=2, faults=())
sys.exit(main(config, json_output=True, on_event=press_ctrl_c))
"""


def test_cli_demo_json_interrupted_still_prints_one_object() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_AFTER_PLANNING],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "demo interrupted" in done.stderr
    (line,) = done.stdout.splitlines()
    summary = json.loads(line)
    assert (summary["status"], summary["verified"]) == ("failed", False)
    assert summary["error"] == {"type": "KeyboardInterrupt", "message": "interrupted"}
    assert summary["source"] == "s3://partcopy-demo/source.bin"


def test_cli_demo_json_says_completed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SMALL, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["status"], summary["error"], summary["verified"]) == ("completed", None, True)
