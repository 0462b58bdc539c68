"""``partcopy bulk`` as a command: exit statuses, JSON summary, report lines, CSV, modes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.report import read_report
from tty_helpers import run_with_terminal_stderr


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    monkeypatch.setenv("PARTCOPY_REGION", "us-east-1")


@pytest.fixture
def emu(emulator_thread: Any) -> EmulatorThread:
    objects = [f"src-bkt/k{i}={1000 * (i + 1)}" for i in range(5)] + ["src-bkt/big=12MiB"]
    started: EmulatorThread = emulator_thread(dialect="s3", objects=[*objects, "dst-bkt/x=1"])
    return started


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["bulk", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_manifest_json_summary_and_report(
    tmp_path: Path, emu: EmulatorThread, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "objects.csv"
    rows = [f"s3://src-bkt/k{i},s3://dst-bkt/k{i}" for i in range(5)]
    manifest.write_text("src,dst\n" + "\n".join([*rows, "s3://src-bkt/big,s3://dst-bkt/big"]))
    report = tmp_path / "report.jsonl"
    argv = [str(manifest), "--endpoint-url", emu.url, "--report", str(report), "--json"]
    code, out, err = run(capsys, *argv, "--part-size", "5MiB")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "completed" and summary["ok"] == 6
    assert summary["modes"] == {"copy": 1, "single": 5}
    assert summary["bytes"] == 15_000 + 12 * 1024 * 1024
    lines = {o.line: o for o in read_report(report.read_text().splitlines())}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7]  # line 1 is the header
    assert (lines[7].mode, lines[7].parts, lines[2].mode, lines[2].parts) == (
        "copy",
        3,
        "single",
        1,
    )
    assert emu.emulator.store.get("dst-bkt", "k4").size == 5000


def test_failures_exit_1_and_relay_mode_is_reported(
    tmp_path: Path, emu: EmulatorThread, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        json.dumps({"src": "s3://src-bkt/k0", "dst": "s3://dst-bkt/k0"})
        + "\n"
        + json.dumps({"src": "s3://src-bkt/gone", "dst": "s3://dst-bkt/gone"})
        + "\n"
    )
    report = tmp_path / "r.jsonl"
    code, out, _ = run(
        capsys,
        str(manifest),
        "--endpoint-url",
        emu.url,
        "--mode",
        "relay",
        "--report",
        str(report),
        "--json",
    )
    assert code == 1
    assert json.loads(out)["failed"] == 1
    outcomes = {o.line: o for o in read_report(report.read_text().splitlines())}
    assert outcomes[1].status == "ok" and outcomes[1].mode == "relay"
    assert outcomes[2].status == "failed" and outcomes[2].error is not None
    assert "NoSuchKey" in outcomes[2].error.message or "404" in outcomes[2].error.message


@pytest.mark.parametrize("mode", [["--json"], ["--quiet"], []], ids=["json", "quiet", "text"])
def test_malformed_lines_are_named_on_stderr_and_the_good_ones_copied(
    tmp_path: Path,
    emu: EmulatorThread,
    credentials: None,
    capsys: pytest.CaptureFixture[str],
    mode: list[str],
) -> None:
    good = json.dumps({"src": "s3://src-bkt/k0", "dst": "s3://dst-bkt/k0"})
    bad = [
        '{"src": "s3://src-bkt/k1",',
        json.dumps({"src": "s3://src-bkt/k2", "dst": "s3://dst-bkt/k2", "size": -1, "etag": "e"}),
        json.dumps({"src": "s3://src-bkt/k3", "dst": "s3://dst-bkt/k3", "size": 1}),
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join([good, *bad, *bad * 8]) + "\n")  # 27 bad lines: 20 named
    code, out, err = run(capsys, str(manifest), "--endpoint-url", emu.url, *mode)
    assert code == 1
    assert emu.emulator.store.get("dst-bkt", "k0").size == 1000
    if mode == ["--json"]:
        assert json.loads(out)["invalid"] == 27
    lines = err.splitlines()
    named = [line for line in lines if line.startswith("partcopy: manifest line ")]
    assert [int(line.split()[3].rstrip(":")) for line in named] == list(range(2, 22))
    assert "not valid JSON" in named[0]
    assert "'size' -1 is not a whole number" in named[1]
    assert "'size' and 'etag' go together" in named[2]
    assert "partcopy: 7 more malformed manifest line(s) (--report lists all)" in lines


def test_malformed_lines_of_a_csv_manifest_name_the_field_count(
    tmp_path: Path, emu: EmulatorThread, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("s3://src-bkt/k0,s3://dst-bkt/k0\ns3://src-bkt/k1,s3://dst-bkt/k1,9\n")
    code, _, err = run(capsys, str(manifest), "--endpoint-url", emu.url, "--quiet")
    assert code == 1
    assert err.splitlines() == [
        "partcopy: manifest line 2: expected 2 fields src,dst or 4 src,dst,size,etag; found 3"
    ]


def test_malformed_lines_of_a_dask_run_are_named_from_its_report(
    tmp_path: Path, emu: EmulatorThread, credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.jsonl"
    good = json.dumps({"src": "s3://src-bkt/k0", "dst": "s3://dst-bkt/k0"})
    manifest.write_text(f"{good}\nnot json\n")
    report = tmp_path / "r.jsonl"
    from partcopy.scale import local_client

    with local_client(1, processes=False) as client:
        argv = ["--endpoint-url", emu.url, "--dask", client.scheduler.address, "--quiet"]
        code, _, err = run(capsys, str(manifest), *argv, "--report", str(report))
        assert code == 1 and err.startswith("partcopy: manifest line 2: not valid JSON")
        code, _, err = run(capsys, str(manifest), *argv)
    assert code == 1 and err == "partcopy: 1 malformed manifest line(s) (--report lists them)\n"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--part-size", "0"], "part size"),
        (["--profile", "nope"], "nope"),
        (["--provider", "storj"], "'storj'"),
        (["--dst-endpoint-url", "ftp://nope"], "ftp://nope"),
        (["--journal", "JOURNAL"], "not a partcopy journal"),
        (["--report", "/no/such/dir/r.jsonl"], "/no/such/dir/r.jsonl"),
    ],
)
def test_bad_input_is_exit_2_with_one_line_before_any_request(
    tmp_path: Path,
    emu: EmulatorThread,
    credentials: None,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    named: str,
) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"src": "s3://src-bkt/k0", "dst": "s3://dst-bkt/k0"}) + "\n")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is no database")
    extra = [str(garbage) if x == "JOURNAL" else x for x in extra]
    requests = emu.emulator.stats().requests
    code, out, err = run(capsys, str(manifest), "--endpoint-url", emu.url, *extra)
    assert code == 2 and out == ""
    assert named in err and err.count("\n") == 1
    assert emu.emulator.stats().requests == requests


def test_the_progress_line_goes_to_the_terminal_not_into_redirected_stdout(
    tmp_path: Path, emu: EmulatorThread
) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"src": "s3://src-bkt/k0", "dst": "s3://dst-bkt/k0"}) + "\n")
    env = {**os.environ, "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY}
    env["PARTCOPY_SECRET_ACCESS_KEY"] = DEFAULT_SECRET_KEY
    run = run_with_terminal_stderr(["bulk", str(manifest), "--endpoint-url", emu.url], env=env)
    assert run.returncode == 0 and run.stdout == b""
    assert b"objects: " in run.terminal and b"partcopy: 1 copied; 1000 B in " in run.terminal


def test_missing_manifest_and_exclusive_dask_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(tmp_path / "absent.jsonl"))
    assert code == 2 and "absent.jsonl" in err
    code, _, err = run(capsys, "m.jsonl", "--dask-local", "2", "--dask", "tcp://x:1")
    assert code == 2 and "--dask" in err
    code, _, err = run(capsys, "m.jsonl", "--dask-local", "0")
    assert code == 2 and "number of Dask workers" in err


def test_the_summary_without_json_is_a_sentence() -> None:
    from partcopy.cli.common import summary_line
    from partcopy.engine.report import BulkSummary

    done = BulkSummary(objects=5, ok=3, failed=1, skipped_same=1, bytes=3 * 1024**2, seconds=2.0)
    assert summary_line(done) == (
        "partcopy: 3 copied, 1 already the same, 1 failed; 3 MiB in 2.00 s, 2.5 objects/s"
    )
    assert summary_line(BulkSummary()) == "partcopy: nothing to do; 0 B in 0.00 s"
