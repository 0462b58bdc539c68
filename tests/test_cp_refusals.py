"""Requests that must not be sent and words that must not be echoed (issue 15, item 9)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from partcopy.cli import main

SRC = "s3://src-bkt/big.bin"
DST = "s3://dst-bkt/big.bin"


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A loopback port that would see any connection (none must come)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    try:
        yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture(autouse=True)
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", "AKIDREFUSALS")
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", "refusals-secret")


def test_mode_copy_between_two_endpoints_is_refused_before_any_request(
    listener: tuple[socket.socket, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sock, url = listener
    other = url.replace("127.0.0.1", "localhost")
    args = ["cp", SRC, DST, "--endpoint-url", url, "--dst-endpoint-url", other]
    status = main([*args, "--mode", "copy", "--json"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "different endpoints" in err and "--mode relay" in err
    with pytest.raises(BlockingIOError):
        sock.accept()


@pytest.mark.parametrize(
    "endpoint",
    ["http://AKIDINURL:SECRETINURL@127.0.0.1:9", "http://AKIDINURL:SECRETINURL@127.0.0.1:99999"],
)
def test_credentials_in_an_endpoint_url_are_refused_and_not_echoed(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["cp", SRC, DST, "--endpoint-url", endpoint])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "SECRETINURL" not in err and "AKIDINURL" not in err
    assert "***@127.0.0.1" in err
