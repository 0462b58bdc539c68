"""Relay between two emulators over HTTP: 1 GiB byte-identical in bounded memory, cut bodies
retried from a fresh GET, and ``cp --json`` saying ``"mode": "relay"``."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from partcopy.config import EndpointConfig
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier, _default_factory
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import Transport
from partcopy.units import GiB, MiB
from test_relay import CutGet

BUCKETS = {"s3": "bkt", "cos": "bkt-1250000000", "qingstor": "bkt", "obs": "bkt"}
SCHEMES = {"s3": "s3", "cos": "cos", "qingstor": "qs", "obs": "obs"}
StartEmulator = Callable[..., EmulatorThread]


def env() -> dict[str, str]:
    return {
        **os.environ,
        "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
        "PARTCOPY_REGION": "ap-test-1",
    }


def url(dialect: str, key: str) -> str:
    return f"{SCHEMES[dialect]}://{BUCKETS[dialect]}/{key}"


# Runs the CLI in a fresh interpreter and records that interpreter's own peak RSS (VmHWM).
# rusage's ru_maxrss is no good here: Linux carries it across fork and exec, so a child of
# this test process (which holds the emulators' gigabytes) would report the parent's size.
_MEASURED_CLI = """
import sys
from partcopy.cli import main
status = main(sys.argv[2:])
with open("/proc/self/status") as fh:
    peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
with open(sys.argv[1], "w") as out:
    out.write(peak)
sys.exit(status)
"""


def run_measured(argv: list[str], cwd: Path) -> tuple[int, str, int]:
    """Run ``partcopy argv``; return its exit status, stdout and its own peak RSS in bytes."""
    peak_file = cwd / "peak-kib.txt"
    with (cwd / "stderr.txt").open("wb") as err:
        proc = subprocess.run(
            [sys.executable, "-c", _MEASURED_CLI, str(peak_file), *argv],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env(),
            check=False,
        )
    return proc.returncode, proc.stdout.decode(), int(peak_file.read_text()) * 1024


def md5_of_store(store: MemoryStore, bucket: str, key: str) -> str:
    content = store.get(bucket, key).content
    assert content is not None
    digest = hashlib.md5()
    for chunk in content.chunks(0, content.size - 1, 8 * MiB):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize(("src_dialect", "dst_dialect"), [("s3", "cos"), ("qingstor", "s3")])
def test_relay_of_1gib_is_byte_identical_in_bounded_memory(
    emulator_thread: StartEmulator, tmp_path: Path, src_dialect: str, dst_dialect: str
) -> None:
    data = os.urandom(GiB)
    src_store, dst_store = MemoryStore(src_dialect), MemoryStore(dst_dialect)
    src_store.create_bucket(BUCKETS[src_dialect])
    dst_store.create_bucket(BUCKETS[dst_dialect])
    expected = src_store.put_object(BUCKETS[src_dialect], "big.bin", data).etag  # its MD5
    del data
    src = emulator_thread(dialect=src_dialect, store=src_store)
    dst = emulator_thread(dialect=dst_dialect, store=dst_store)
    concurrency, part_size = 4, 64 * MiB
    status, out, peak_rss = run_measured(
        [
            "cp",
            url(src_dialect, "big.bin"),
            url(dst_dialect, "copy.bin"),
            "--endpoint-url",
            src.url,
            "--dst-endpoint-url",
            dst.url,
            "--concurrency",
            str(concurrency),
            "--part-size",
            "64MiB",
            "--json",
        ],
        tmp_path,
    )
    assert status == 0, (tmp_path / "stderr.txt").read_text()
    doc = json.loads(out)
    assert (doc["status"], doc["mode"], doc["bytes"], doc["parts"]) == (
        "completed",
        "relay",
        GiB,
        16,
    )
    assert md5_of_store(dst_store, BUCKETS[dst_dialect], "copy.bin") == expected
    stats = dst_store.stats()
    assert stats.parts_copied == 0 and stats.parts_uploaded == 16 and stats.open_uploads == 0
    assert peak_rss <= concurrency * part_size + 100 * MiB, f"peak RSS {peak_rss / MiB:.0f} MiB"


def test_relay_part_cut_mid_body_is_retried_over_http(emulator_thread: StartEmulator) -> None:
    data = os.urandom(12 * MiB)
    src_store, dst_store = MemoryStore("s3"), MemoryStore("cos")
    src_store.create_bucket("bkt")
    dst_store.create_bucket(BUCKETS["cos"])
    src_store.put_object("bkt", "big.bin", data)
    src = emulator_thread(dialect="s3", store=src_store)
    dst = emulator_thread(dialect="cos", store=dst_store)
    cutters: list[CutGet] = []

    def factory(config: EndpointConfig, session: object) -> Transport:
        transport = _default_factory(config, session)  # type: ignore[arg-type]
        if config.dialect == "s3":  # the source: its second part's first GET breaks
            cutters.append(CutGet(transport, cut_firsts={5 * MiB}, after=MiB + 7))
            return cutters[-1]  # type: ignore[return-value]
        return transport

    async def main() -> None:
        async with Copier(
            endpoint_url=src.url,
            dst_endpoint_url=dst.url,
            transport_factory=factory,  # type: ignore[arg-type]
            env=env(),
        ) as copier:
            result = await copier.copy("s3://bkt/big.bin", url("cos", "copy.bin"), part_size="5MiB")
        assert result.mode == "relay" and result.retries == 1

    anyio.run(main)
    assert sorted(cutters[0].gets) == [0, 5 * MiB, 5 * MiB, 10 * MiB]
    content = dst_store.get(BUCKETS["cos"], "copy.bin").content
    assert content is not None and content.read() == data
    assert dst_store.stats().parts_uploaded == 3 and dst_store.open_uploads() == 0


def test_cp_auto_relays_between_endpoints_and_says_so(
    emulator_thread: StartEmulator, tmp_path: Path
) -> None:
    src = emulator_thread(dialect="obs", objects=["bkt/small.bin=3MiB"])
    dst = emulator_thread(dialect="s3", objects=["bkt/placeholder=1"])
    argv = ["cp", "obs://bkt/small.bin", "s3://bkt/small.bin"]
    argv += ["--endpoint-url", src.url, "--dst-endpoint-url", dst.url, "--json"]
    status, out, _ = run_measured(argv, tmp_path)
    assert status == 0, (tmp_path / "stderr.txt").read_text()
    doc = json.loads(out)
    assert (doc["mode"], doc["parts"], doc["bytes"]) == ("relay", 1, 3 * MiB)
    copied = dst.emulator.store.get("bkt", "small.bin").content
    original = src.emulator.store.get("bkt", "small.bin").content
    assert copied is not None and original is not None and copied.read() == original.read()
