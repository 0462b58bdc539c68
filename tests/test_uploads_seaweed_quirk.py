"""``uploads abort`` on a store that omits NextKeyMarker (SeaweedFS lists uploads by upload
id): every one of 1,005 open uploads is aborted, over the wire, on the emulator with its
``uploads-no-key-marker`` quirk; and a listing that stops on an empty truncated page warns
with the number of uploads seen."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread

StartEmulator = Callable[..., EmulatorThread]


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PARTCOPY_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)


def cli(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


def _open_uploads(emu: EmulatorThread, count: int) -> None:
    def create() -> None:
        store = emu.emulator.store
        store.create_bucket("bkt")
        for i in range(count):
            store.create_upload("bkt", f"dir/k{i % 7}.bin")  # many uploads per key

    emu.call(create)


@pytest.mark.parametrize("dialect", ["s3", "qingstor"])
def test_abort_removes_all_1005_uploads_without_next_key_marker(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str], dialect: str
) -> None:
    emu = emulator_thread(dialect=dialect, quirks=["uploads-no-key-marker"])
    _open_uploads(emu, 1005)
    scheme = "qs" if dialect == "qingstor" else "s3"
    argv = ["uploads", "abort", f"{scheme}://bkt/", "--all", "--json"]
    assert cli([*argv, "--endpoint-url", emu.url, "--region", "ap-test-1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["aborted"]) == 1005 and doc["failed"] == []
    assert emu.call(lambda: emu.emulator.store.open_uploads()) == 0
    ops = emu.call(lambda: emu.emulator.store.stats().ops)
    assert ops["list_uploads"] >= 2  # more than one page, each continued by upload id
