"""``partcopy cp``: exit statuses, one-line usage errors before any request, contract JSON."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from partcopy.cli import main
from partcopy.emulator.thread import EmulatorThread
from partcopy.store.memory import StoreError
from tty_helpers import run_with_terminal_stderr

CONTRACT_KEYS = {
    "status",
    "source",
    "destination",
    "mode",
    "bytes",
    "parts",
    "part_size",
    "etag",
    "retries",
    "seconds",
    "error",
}
ADDITIVE_KEYS = {"concurrency", "verification", "checksum", "content_check"}
"""Fields added after the contract (issue 9: adaptive concurrency); the contract's stay."""
PY = (sys.executable, "-m", "partcopy")
ENV = {"PARTCOPY_ACCESS_KEY_ID": "partcopy", "PARTCOPY_SECRET_ACCESS_KEY": "partcopy-secret"}


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PARTCOPY_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A socket that listens but never answers: any request would show up as a connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    try:
        yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def cli(args: list[str]) -> int:
    """``main`` as the shell sees it: argparse's own errors exit through SystemExit."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["gs://bkt/src", "s3://bkt/dst"], "'gs'"),
        (["s3://bkt/src", "s3://Bad_Bucket/dst"], "'Bad_Bucket'"),
        (["s3://bkt", "s3://bkt/dst"], "no object key"),
        (["s3://bkt/src", "s3://bkt/" + "k" * 1100], "1100 bytes"),
        (["s3://bkt/src", "s3://bkt/dst", "--part-size", "5XB"], "'5XB'"),
        (["s3://bkt/src", "s3://bkt/dst", "--part-size", "0"], "'0'"),
        (["s3://bkt/src", "s3://bkt/dst", "--concurrency", "0"], "'0'"),
        (["s3://bkt/src", "s3://bkt/dst", "--dst-endpoint-url", "ftp://x"], "'ftp://x'"),
        (["s3://bkt/src", "s3://bkt/dst?versionId=v1"], "version id"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_any_request(
    creds: None,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    named: str,
) -> None:
    sock, url = listener
    status = cli(["cp", *args, "--endpoint-url", url, "--json"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and named in err
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_missing_credentials_exit_2_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in (*ENV, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    sock, url = listener
    status = cli(["cp", "s3://bkt/src", "s3://bkt/dst", "--endpoint-url", url])
    err = capsys.readouterr().err
    assert status == 2 and "PARTCOPY_ACCESS_KEY_ID" in err and err.count("\n") == 1
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_cp_json_is_exactly_the_contract(creds: None, capsys: pytest.CaptureFixture[str]) -> None:
    with EmulatorThread(dialect="s3", objects=["src-bkt/src=300MiB"]) as emu:
        status = main(
            ["cp", "s3://src-bkt/src", "s3://src-bkt/dst", "--endpoint-url", emu.url, "--json"]
        )
        stats = emu.call(emu.emulator.stats)
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    assert status == 0 and out.count("\n") == 1
    assert set(doc) - ADDITIVE_KEYS == CONTRACT_KEYS
    assert doc["verification"] == "composite-etag"
    assert doc["status"] == "completed" and doc["error"] is None
    assert doc["mode"] == "copy" and doc["bytes"] == 300 * 1024**2
    assert doc["parts"] * doc["part_size"] >= doc["bytes"]
    assert doc["etag"].strip('"').endswith(f"-{doc['parts']}")
    assert stats.open_uploads == 0 and stats.every_complete_issued


def test_failed_copy_exits_1_and_says_the_upload_was_aborted(
    creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with EmulatorThread(dialect="s3", objects=["src-bkt/src=30MiB"], faults=["500:1.0"]) as emu:
        status = main(
            [
                "cp",
                *("s3://src-bkt/src", "s3://src-bkt/dst", "--endpoint-url", emu.url),
                *("--part-size", "5MiB", "--max-attempts", "2", "--json"),
            ]
        )
        open_uploads = emu.call(emu.emulator.store.open_uploads)
    doc = json.loads(capsys.readouterr().out)
    assert status == 1 and set(doc) - ADDITIVE_KEYS == CONTRACT_KEYS
    assert doc["status"] == "failed" and doc["etag"] is None
    assert doc["error"]["type"] == "PartFailed" and doc["error"]["upload_id"] is None
    assert (doc["mode"], doc["parts"], doc["part_size"]) == ("copy", 6, 5 * 1024**2)
    assert doc["retries"] >= 1 and open_uploads == 0


def test_source_changed_mid_copy_exits_1_upload_aborted_destination_absent(
    creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The emulator's injectable sleep runs once per data request: on the fourth, it
    overwrites the source through the admin endpoint, exactly as an outside writer would."""
    calls = 0
    urls: list[str] = []

    async def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{urls[0]}/_emulator/objects", json={"objects": ["src-bkt/src=100MiB"]}
                ) as answer,
            ):
                assert answer.status == 200
        await asyncio.sleep(0)

    with EmulatorThread(
        dialect="s3", objects=["src-bkt/src=100MiB"], latency_ms=1.0, sleep=sleep
    ) as emu:
        urls.append(emu.url)
        status = main(
            [
                "cp",
                *("s3://src-bkt/src", "s3://src-bkt/dst", "--endpoint-url", emu.url),
                *("--part-size", "5MiB", "--concurrency", "2", "--json"),
            ]
        )
        open_uploads = emu.call(emu.emulator.store.open_uploads)

        def destination() -> Any:
            try:
                return emu.emulator.store.get("src-bkt", "dst")
            except StoreError as exc:
                return exc.status

        absent = emu.call(destination)
    doc = json.loads(capsys.readouterr().out)
    assert status == 1 and doc["status"] == "failed"
    assert doc["error"]["type"] == "SourceChanged" and doc["error"]["upload_id"] is None
    assert open_uploads == 0 and absent == 404


def test_the_progress_bar_goes_to_the_terminal_not_into_redirected_stdout() -> None:
    """``cp SRC DST > f`` on a terminal: the bar (decided by stderr being a terminal) is
    drawn there, and nothing reaches the file."""
    with EmulatorThread(dialect="s3", objects=["bkt/src=64MiB"]) as emu:
        argv = ["cp", "s3://bkt/src", "s3://bkt/dst", "--endpoint-url", emu.url]
        run = run_with_terminal_stderr(argv, env={**os.environ, **ENV})
    assert run.returncode == 0 and run.stdout == b""
    assert b"64.0/64.0 MiB" in run.terminal and b"copied s3://bkt/src" in run.terminal


def test_cp_subprocess_against_the_emulator_subprocess() -> None:
    """The 'done when' command: an emulator process and a cp process, JSON on stdout.

    (The emulator enforces S3's 3-63 character bucket names, so the bucket is ``bkt``.)
    """
    env = {**os.environ, **ENV}
    emulator = subprocess.Popen(
        [*PY, "emulator", "--dialect", "s3", "--object", "bkt/src=1GiB"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url or emulator.stderr.read()
        done = subprocess.run(
            [*PY, "cp", "s3://bkt/src", "s3://bkt/dst", "--endpoint-url", url, "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        emulator.terminate()
        emulator.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) - ADDITIVE_KEYS == CONTRACT_KEYS and done.stdout.count("\n") == 1
    assert doc["status"] == "completed" and doc["bytes"] == 1024**3 and doc["mode"] == "copy"
    assert doc["source"] == "s3://bkt/src" and doc["destination"] == "s3://bkt/dst"


def test_a_changed_part_size_is_said_on_stderr(
    creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """--part-size 1MiB on S3 (5 MiB at least): the copy says what it did instead."""
    with EmulatorThread(dialect="s3", objects=["src-bkt/src=12MiB"]) as emu:
        argv = ["cp", "s3://src-bkt/src", "s3://src-bkt/dst", "--endpoint-url", emu.url]
        assert main([*argv, "--part-size", "1MiB"]) == 0
        assert main([*argv, "--part-size", "6MiB"]) == 0
    lines = capsys.readouterr().err.splitlines()
    notes = [line for line in lines if line.startswith("partcopy: note:")]
    assert notes == [
        "partcopy: note: part size 1 MiB -> 5 MiB: raised to the profile minimum of 5 MiB"
    ]


@pytest.mark.parametrize(
    ("destination", "key"),
    [
        ("s3://dst-bkt/fold/", "fold/photo.jpg"),
        ("s3://dst-bkt/", "photo.jpg"),
        ("s3://dst-bkt", "photo.jpg"),
        ("s3://dst-bkt/renamed.jpg", "renamed.jpg"),
    ],
)
def test_a_destination_ending_with_a_slash_is_a_folder(
    creds: None, capsys: pytest.CaptureFixture[str], destination: str, key: str
) -> None:
    # as aws-cli: never an object named "fold/" holding the source's bytes
    objects = ["src-bkt/a/photo.jpg=2KiB", "dst-bkt/.keep=1"]
    with EmulatorThread(dialect="s3", objects=objects) as emu:
        argv = ["cp", "s3://src-bkt/a/photo.jpg", destination, "--endpoint-url", emu.url]
        status = main([*argv, "--json"])
        keys = emu.call(lambda: emu.emulator.store.keys("dst-bkt"))
    doc = json.loads(capsys.readouterr().out)
    assert status == 0 and doc["destination"] == f"s3://dst-bkt/{key}"
    assert sorted(keys) == sorted([".keep", key])
