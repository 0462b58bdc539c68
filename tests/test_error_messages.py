"""Failures a person can act on: which kind of refusal, whose credentials (never the secret),
and whether the bucket or the key is missing, from the CLI against the emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from partcopy.cli import main
from partcopy.emulator import EmulatorThread

SECRET = "the-real-secret-value"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    emu = EmulatorThread(
        objects=["src/k=1KiB", "dst/keep=0"], access_key="AKREAL", secret_key=SECRET
    ).start()
    try:
        yield emu
    finally:
        emu.stop()


def failure(
    emu: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
    ak: str,
    sk: str,
) -> str:
    for name in [n for n in os.environ if n.startswith("PARTCOPY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PARTCOPY_SRC_ACCESS_KEY_ID", ak)
    monkeypatch.setenv("PARTCOPY_SRC_SECRET_ACCESS_KEY", sk)
    monkeypatch.setenv("PARTCOPY_DST_ACCESS_KEY_ID", "AKREAL")
    monkeypatch.setenv("PARTCOPY_DST_SECRET_ACCESS_KEY", SECRET)
    status = main(["cp", source, "s3://dst/k", "--endpoint-url", emu.url, "--quiet"])
    err = capsys.readouterr().err
    assert status == 1, err
    lines = [line for line in err.splitlines() if "copy failed" in line]
    assert len(lines) == 1 and SECRET not in err and "wrong-secret" not in err
    return lines[0]


def test_a_wrong_secret_says_so_and_names_the_key_and_its_source(
    emu: EmulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(emu, monkeypatch, capsys, "s3://src/k", "AKREAL", "wrong-secret")
    assert "source s3://src/k: head: HTTP 403 SignatureDoesNotMatch" in line
    assert "the secret key does not belong to the access key" in line
    assert "access key 'AKREAL' from environment PARTCOPY_SRC_ACCESS_KEY_ID" in line


def test_an_unknown_key_is_told_apart_from_a_missing_permission(
    emu: EmulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(emu, monkeypatch, capsys, "s3://src/k", "AKNOBODY", "wrong-secret")
    assert "InvalidAccessKeyId" in line and "the store does not know the access key" in line
    assert "'AKNOBODY'" in line


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("s3://src/nothing-here", "the bucket 'src' has no object 'nothing-here'"),
        ("s3://no-such-bucket/k", "the bucket 'no-such-bucket' does not exist"),
    ],
)
def test_a_missing_source_says_whether_the_bucket_or_the_key_is_missing(
    source: str,
    said: str,
    emu: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = failure(emu, monkeypatch, capsys, source, "AKREAL", SECRET)
    assert "HTTP 404" in line and said in line


@pytest.mark.parametrize(
    "argv",
    [
        ["cp", "s3://src/k", "s3://gone-bucket/k", "--max-attempts", "1"],
        ["ls", "s3://gone-bucket/p/"],
        ["uploads", "list", "s3://gone-bucket/"],
        ["sync", "s3://src/", "s3://gone-bucket/d/"],
    ],
    ids=["cp", "ls", "uploads", "sync"],
)
def test_a_missing_bucket_is_named_by_every_command(
    argv: list[str],
    emu: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [n for n in os.environ if n.startswith("PARTCOPY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", "AKREAL")
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", SECRET)
    status = main([*argv, "--endpoint-url", emu.url])
    err = capsys.readouterr().err
    assert status == 1 and "the bucket 'gone-bucket' does not exist" in err.splitlines()[-1]
