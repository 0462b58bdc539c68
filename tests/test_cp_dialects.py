"""``partcopy cp`` on OBS, COS and QingStor end to end: each against its own emulator under
the engine's fault mix, completed and verified; QingStor's parts numbered from 0; a copy
between two dialects is a relay, decided before any request."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread

MiB = 1024 * 1024
FAULT_MIX = [
    "slowdown:0.05@copy_part,complete",
    "noetag:0.02@copy_part,complete",
    "error200:0.02@copy_part,complete",
    "reset:0.01@copy_part",
    "delay:0.01:2s@copy_part",
]
"""The engine issue's mix: 5 % 503 SlowDown, 2 % ETag-less 200, 2 % error-bodied 200,
1 % connection resets, 1 % delayed answers (delays pass through the emulator's sleep)."""
StartEmulator = Callable[..., EmulatorThread]


@dataclass(frozen=True)
class Case:
    """One dialect's copy: URL scheme, bucket, object size, part size, first part number."""

    dialect: str
    scheme: str
    bucket: str
    size: int
    part_size: int
    first_part: int
    extra: tuple[str, ...] = ()


CASES = [
    Case("obs", "obs", "src-bkt", 256 * MiB, MiB, 1),
    Case("cos", "cos", "src-1250000000", 256 * MiB, MiB, 1, ("--region", "ap-guangzhou")),
    Case("qingstor", "qs", "src-bkt", 1024 * MiB, 4 * MiB, 0),
]


async def instant(seconds: float) -> None:
    """The emulator's sleep: latency and injected delays pass without real waiting."""
    await asyncio.sleep(0)


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PARTCOPY_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)


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


@pytest.mark.parametrize("case", CASES, ids=[c.dialect for c in CASES])
def test_cp_completes_and_verifies_under_the_fault_mix(
    creds: None,
    emulator_thread: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    case: Case,
) -> None:
    emu = emulator_thread(
        dialect=case.dialect,
        objects=[f"{case.bucket}/src.bin={case.size}"],
        faults=FAULT_MIX,
        seed=7,  # every kind fires at least twice for every dialect with this seed
        sleep=instant,
    )
    status = cli(
        [
            "cp",
            f"{case.scheme}://{case.bucket}/src.bin",
            f"{case.scheme}://{case.bucket}/copy.bin",
            *("--endpoint-url", emu.url, "--part-size", str(case.part_size), "--json"),
            *case.extra,
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out)
    parts = case.size // case.part_size
    assert (doc["status"], doc["mode"], doc["bytes"], doc["parts"]) == (
        "completed",
        "copy",
        case.size,
        parts,
    )
    assert doc["etag"].strip('"').endswith(f"-{parts}") and doc["retries"] > 0

    store = emu.emulator.store
    copied, original = emu.call(
        lambda: (
            store.get(case.bucket, "copy.bin").content,
            store.get(case.bucket, "src.bin").content,
        )
    )
    assert copied == original  # the same pattern slices in the same order: the same bytes
    stats = emu.call(emu.emulator.stats)
    assert set(stats.faults) == {"slowdown", "noetag", "error200", "reset", "delay"}
    assert stats.open_uploads == 0 and stats.every_complete_issued
    accepted = [record for record in stats.completes if record.ok]
    assert len(accepted) == 1
    numbers = [p.part_number for p in accepted[0].parts]
    assert numbers == list(range(case.first_part, case.first_part + parts))


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ("obs://src-bkt/a.bin", "s3://dst-bkt/a.bin"),
        ("cos://src-1250000000/a.bin", "qs://dst-bkt/a.bin"),
        ("qs://src-bkt/a.bin", "obs://dst-bkt/a.bin"),
    ],
)
def test_mode_copy_across_dialects_exits_2_with_one_line_before_any_request(
    creds: None,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
    src: str,
    dst: str,
) -> None:
    sock, url = listener
    status = cli(["cp", src, dst, "--endpoint-url", url, "--mode", "copy", "--json"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "'copy'" in err and "--mode relay" in err
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_auto_across_dialects_relays_without_a_server_side_copy(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    src = emulator_thread(dialect="cos", objects=[f"src-1250000000/a.bin={9 * MiB}"])
    dst = emulator_thread(dialect="qingstor")
    dst.call(lambda: dst.emulator.store.create_bucket("dst-bkt"))
    status = cli(
        [
            "cp",
            *("cos://src-1250000000/a.bin", "qs://dst-bkt/a.bin", "--region", "ap-guangzhou"),
            *("--endpoint-url", src.url, "--dst-endpoint-url", dst.url, "--json"),
            *("--part-size", str(4 * MiB)),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out)
    assert (doc["status"], doc["mode"], doc["bytes"], doc["parts"]) == (
        "completed",
        "relay",
        9 * MiB,
        3,
    )
    copied = dst.call(lambda: dst.emulator.store.get("dst-bkt", "a.bin").content)
    original = src.call(lambda: src.emulator.store.get("src-1250000000", "a.bin").content)
    assert copied is not None and original is not None
    assert copied.read() == original.read()
    src_stats, dst_stats = src.call(src.emulator.stats), dst.call(dst.emulator.stats)
    # no UploadPartCopy was ever sent: every part went through this process
    assert src_stats.parts_copied == 0 and dst_stats.parts_copied == 0
    assert dst_stats.parts_uploaded == 3 and dst_stats.open_uploads == 0
    (accepted,) = [record for record in dst_stats.completes if record.ok]
    assert [p.part_number for p in accepted.parts] == [0, 1, 2]
