"""``partcopy cp`` fidelity flags: bad input is one line and exit 2 before any request; SSE-C
copies from the CLI take their keys from files or the environment (never the command line)."""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from partcopy.cli import main
from partcopy.emulator.thread import EmulatorThread
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import SSECustomerKey

MiB = 1024 * 1024
ENV = {"PARTCOPY_ACCESS_KEY_ID": "partcopy", "PARTCOPY_SECRET_ACCESS_KEY": "partcopy-secret"}
KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PARTCOPY_ENDPOINT_URL",
        "PARTCOPY_SSE_C_KEY",
        "PARTCOPY_SOURCE_SSE_C_KEY",
        "PARTCOPY_SSE_C_KEY_FILE",
        "PARTCOPY_SOURCE_SSE_C_KEY_FILE",
    ):
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
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


def key_file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--sse-c-key-file", "{short}"], "32 bytes"),
        (["--source-sse-c-key-file", "{missing}"], "cannot read it"),
        (["--sse-c-key-file", "{tmp}"], "cannot read it"),  # a directory
        (["--checksum", "crc32c", "--dst-endpoint-url", "{url}"], "'crc32c'"),
        (["--checksum", "md5"], "'md5'"),
        (["--sse-kms-key-id", "k1"], "--sse aws:kms"),
        (["--tags", "no-equals-sign"], "'no-equals-sign'"),
        (["--tags", "a=1&a=2"], "distinct"),
        (["--acl", "everyone"], "'everyone'"),
        (["--tags", "a=1", "--no-tags"], "not allowed with"),
        (["--preserve-layout", "--part-size", "8MiB"], "--part-size"),
        (["--sse", "AES256", "--sse-c-key-file", "{good}"], "SSE-C"),
        (["--tags", "a=1", "--dst-endpoint-url", "{url}"], "the destination (obs) takes no tags"),
    ],
)
def test_bad_fidelity_input_exits_2_with_one_line_before_any_request(
    creds: None,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: list[str],
    named: str,
) -> None:
    sock, url = listener
    values = {
        "short": key_file(tmp_path, "short.key", b"k" * 31),
        "good": key_file(tmp_path, "good.key", KEY_A),
        "missing": str(tmp_path / "nope.key"),
        "tmp": str(tmp_path),
        "url": url,
    }
    args = [a.format(**values) for a in args]
    dst = "obs://bkt/dst" if "--dst-endpoint-url" in args else "s3://bkt/dst"
    status = cli(["cp", "s3://bkt/src", dst, "--endpoint-url", url, "--json", *args])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and named in err, err
    assert KEY_A.hex() not in err and base64.b64encode(KEY_A).decode() not in err
    with pytest.raises(BlockingIOError):
        sock.accept()


def _sse_store(data: bytes) -> MemoryStore:
    store = MemoryStore("s3")
    store.create_bucket("bkt")
    store.put_object("bkt", "src", data, sse_c_md5=SSECustomerKey(KEY_A).key_md5_b64)
    return store


@pytest.mark.parametrize("relay", [False, True])
def test_sse_c_copy_from_the_cli_with_key_files(
    creds: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], relay: bool
) -> None:
    data = os.urandom(11 * MiB)
    src_store = _sse_store(data)
    dst_store = MemoryStore("s3")
    dst_store.create_bucket("bkt")
    src_file = key_file(tmp_path, "a.key", KEY_A)
    dst_file = key_file(tmp_path, "b.key", base64.b64encode(KEY_B) + b"\n")  # base64 text
    with (
        EmulatorThread(dialect="s3", store=src_store) as src,
        EmulatorThread(dialect="s3", store=dst_store if relay else src_store) as dst,
    ):
        status = cli(
            [
                "cp",
                "s3://bkt/src",
                "s3://bkt/dst",
                "--endpoint-url",
                src.url,
                *(["--dst-endpoint-url", dst.url] if relay else []),
                "--part-size",
                "5MiB",
                "--src-sse-c-key-file",
                src_file,
                "--sse-c-key-file",
                dst_file,
                "--json",
            ]
        )
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out)
    assert doc["mode"] == ("relay" if relay else "copy") and doc["parts"] == 3
    # SSE-C part ETags are not MD5s: no composite claimed, nothing hedged. A relay sends
    # each part's CRC and the whole object's, which the emulator checks: that proves it.
    assert doc["verification"] == ("checksum" if relay else "part-etags+size")
    store = dst_store if relay else src_store
    got = store.get("bkt", "dst", sse_c_md5=SSECustomerKey(KEY_B).key_md5_b64).content
    assert got is not None and got.read() == data


def test_sse_c_keys_from_the_environment(
    creds: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = os.urandom(1000)
    store = _sse_store(data)
    monkeypatch.setenv("PARTCOPY_SOURCE_SSE_C_KEY", base64.b64encode(KEY_A).decode())
    monkeypatch.setenv("PARTCOPY_SSE_C_KEY", base64.b64encode(KEY_B).decode())
    with EmulatorThread(dialect="s3", store=store) as emu:
        status = cli(["cp", "s3://bkt/src", "s3://bkt/dst", "--endpoint-url", emu.url, "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert json.loads(out)["mode"] == "single"
    got = store.get("bkt", "dst", sse_c_md5=SSECustomerKey(KEY_B).key_md5_b64).content
    assert got is not None and got.read() == data
