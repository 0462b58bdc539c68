"""The public contract's promises about output and exit status, command by command.

``--json`` prints exactly one JSON object on stdout when the command ends: on success, on
failure and when Ctrl-C or SIGTERM stops it (exit 128 + the signal). Each test runs the
real CLI in a subprocess against an emulator on 127.0.0.1. A request that must still be in
flight when the signal comes is held by the emulator (a ``delay`` fault whose sleep waits
for the test to release it), and the test waits for the emulator to have seen it, never a
fixed time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread

MiB = 1024**2
HOLD = 3600.0
"""A fault delay this long is held until the test releases it."""
ENV = {
    **os.environ,
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}
# The CLI with Ctrl-C handled as on a terminal, even when the test runner ignores SIGINT.
CTRL_C_ENTRY = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'partcopy'; from partcopy.cli import entry; entry()"
)
DEADLINE = 30.0


class Store:
    """An emulator whose ``delay`` faults of ``HOLD`` seconds wait for ``release``."""

    def __init__(self, *faults: str) -> None:
        self._release: asyncio.Event | None = None  # made on the emulator's loop
        self.emu = EmulatorThread(
            dialect="s3",
            faults=list(faults),
            sleep=self._sleep,
            objects=["src/dir/a=10", "src/dir/b=20", f"src/big={12 * MiB}", "dst/seed=1"],
        )

    async def _sleep(self, seconds: float) -> None:
        if seconds < HOLD:
            await asyncio.sleep(seconds)
            return
        if self._release is None:
            self._release = asyncio.Event()
        await self._release.wait()  # held: the request stays in flight

    def release(self) -> None:
        """Let every held request go on."""

        def release() -> None:
            if self._release is not None:
                self._release.set()

        self.emu.call(release)

    @property
    def url(self) -> str:
        return self.emu.url

    def seen(self, op: str) -> int:
        return self.emu.call(lambda: self.emu.emulator.stats().ops.get(op, 0))

    def wait_for(self, op: str, proc: subprocess.Popen[bytes]) -> None:
        """Return once the emulator has parsed an ``op`` request from ``proc``."""
        deadline = time.monotonic() + DEADLINE
        while self.seen(op) == 0:
            assert proc.poll() is None, "the command ended before it was interrupted"
            assert time.monotonic() < deadline, f"no {op} request within {DEADLINE}s"
            time.sleep(0.005)


@pytest.fixture
def held() -> Iterator[Store]:
    """Every listing, listing of uploads and HEAD is held until the test ends."""
    store = Store(f"delay:1:{HOLD:g}s@list_objects,list_uploads,head")
    store.emu.start()
    try:
        yield store
    finally:
        store.release()
        store.emu.stop()


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store()
    store.emu.start()
    try:
        yield store
    finally:
        store.emu.stop()


def partcopy(*args: str) -> list[str]:
    return [sys.executable, "-m", "partcopy", *args]


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=60, check=False)


def interrupted(
    store: Store, op: str, args: list[str], sig: signal.Signals
) -> tuple[int, Any, str]:
    """Run the CLI with ``args``, send ``sig`` once its ``op`` request is held; the exit
    status, the one JSON object on stdout and stderr."""
    ctrl_c = [sys.executable, "-c", CTRL_C_ENTRY, *args]
    cmd = ctrl_c if sig == signal.SIGINT else partcopy(*args)
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        store.wait_for(op, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    text = err.decode()
    assert "Traceback" not in text, text
    return proc.returncode, json.loads(out), text


SIGNALS = [signal.SIGINT, signal.SIGTERM]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_ls_json_interrupted_still_prints_one_closed_object(
    held: Store, sig: signal.Signals
) -> None:
    args = ["ls", "s3://src/", "--endpoint-url", held.url, "--json"]

    status, doc, err = interrupted(held, "list_objects", args, sig)

    assert status == 128 + sig
    assert doc["status"] == "failed"
    assert doc["error"] == {"type": "KeyboardInterrupt", "message": "interrupted"}
    assert (doc["url"], doc["entries"], doc["objects"], doc["bytes"]) == ("s3://src/", [], 0, 0)
    assert err.strip().splitlines()[-1] == "partcopy: ls interrupted"


@pytest.mark.parametrize(
    ("action", "changed"),
    [(["list"], "nothing was changed"), (["abort", "--all"], "'partcopy uploads list s3://dst/'")],
    ids=["list", "abort"],
)
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_uploads_json_interrupted_still_prints_one_object(
    held: Store, sig: signal.Signals, action: list[str], changed: str
) -> None:
    args = ["uploads", action[0], "s3://dst/", *action[1:], "--endpoint-url", held.url, "--json"]

    status, doc, err = interrupted(held, "list_uploads", args, sig)

    assert status == 128 + sig
    assert doc["status"] == "failed"
    assert doc["error"]["type"] == "KeyboardInterrupt"
    assert doc["error"]["message"].startswith("interrupted; ")
    assert changed in doc["error"]["message"]
    assert "interrupted" in err


def test_bench_json_interrupted_still_prints_one_object(held: Store) -> None:
    args = ["bench", "s3://src/big", "s3://dst/scratch/", "--endpoint-url", held.url]
    args += ["--part-sizes", "5MiB", "--concurrency", "1", "--json"]

    status, doc, err = interrupted(held, "head", args, signal.SIGTERM)

    assert status == 128 + signal.SIGTERM
    assert doc["status"] == "failed"
    assert doc["error"] == {"type": "KeyboardInterrupt", "message": "interrupted"}
    assert (doc["source"], doc["kind"], doc["left_behind"]) == ("s3://src/big", "object", [])
    assert "interrupted" in err


def test_bench_json_failure_prints_one_object(store: Store) -> None:
    # A prefix sweep over a bucket that does not exist fails before any point.
    done = run(
        partcopy(
            *["bench", "s3://nobucket/", "s3://dst/scratch/", "--endpoint-url", store.url],
            *["--concurrency", "1", "--json"],
        )
    )

    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "failed" and doc["error"]["type"] == "BucketNotFound"
    assert (doc["kind"], doc["points"], doc["left_behind"]) == ("prefix", [], [])
    assert "bench failed: BucketNotFound" in done.stderr


def test_bench_json_success_says_completed(store: Store) -> None:
    done = run(
        partcopy(
            *["bench", "s3://src/big", "s3://dst/scratch/", "--endpoint-url", store.url],
            *["--part-sizes", "5MiB", "--concurrency", "2", "--json"],
        )
    )

    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["status"], doc["error"], doc["left_behind"]) == ("completed", None, [])
    (point,) = doc["points"]
    assert (point["part_size"], point["concurrency"], point["error"]) == (5 * MiB, 2, None)
