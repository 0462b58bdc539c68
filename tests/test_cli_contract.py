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


# --- the documented JSON keys, on success and failure ------------------------------------

CP_KEYS = {
    "status": str,
    "source": str,
    "destination": str,
    "mode": str,
    "bytes": int,
    "parts": int,
    "part_size": int,
    "etag": str,
    "retries": int,
    "seconds": (int, float),
    "error": type(None),
    "verification": str,
}
PLAN_KEYS = {
    "profile": str,
    "size": int,
    "part_size": int,
    "part_count": int,
    "first_part_number": int,
    "parts": list,
    "adjustments": list,
}
SUMMARY_KEYS = ("listed", "skipped_same", "deleted")
PARTS = ["--part-size", "5MiB"]


def typed(doc: dict[str, Any], keys: dict[str, Any]) -> dict[str, str]:
    """Each documented key that is missing or of another type, with what it holds."""
    return {
        key: repr(doc.get(key, "<missing>"))
        for key, kind in keys.items()
        if key not in doc or not isinstance(doc[key], kind)
    }


@pytest.mark.parametrize(
    ("source", "extra", "mode"),
    [
        ("s3://src/big", ["--part-size", "5MiB"], "copy"),
        ("s3://src/dir/a", [], "single"),
        ("s3://src/big", ["--part-size", "5MiB", "--mode", "relay"], "relay"),
    ],
)
def test_cp_json_completed_has_every_documented_key(
    store: Store, source: str, extra: list[str], mode: str
) -> None:
    done = run(
        partcopy("cp", source, "s3://dst/copy", "--endpoint-url", store.url, *extra, "--json")
    )

    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert typed(doc, CP_KEYS) == {}
    assert (doc["status"], doc["mode"], doc["source"]) == ("completed", mode, source)


def test_cp_json_failed_has_every_documented_key(store: Store) -> None:
    # The destination bucket does not exist: planned, then refused by the store.
    done = run(
        partcopy("cp", "s3://src/big", "s3://nobucket/copy", "--endpoint-url", store.url, *PARTS)
    )
    assert done.returncode == 1
    assert done.stdout == ""

    done = run(
        partcopy(
            "cp",
            "s3://src/big",
            "s3://nobucket/copy",
            "--endpoint-url",
            store.url,
            *PARTS,
            "--json",
        )
    )

    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert set(CP_KEYS) <= set(doc)
    assert (doc["status"], doc["mode"], doc["etag"], doc["verification"]) == (
        "failed",
        "copy",
        None,
        None,
    )
    error = doc["error"]
    assert isinstance(error["type"], str) and isinstance(error["message"], str)
    assert error["upload_id"] is None  # nothing was left open


def test_plan_json_has_every_documented_key() -> None:
    done = run(partcopy("plan", "--profile", "qingstor", "--size", "20MiB", "--json"))

    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert typed(doc, PLAN_KEYS) == {}
    assert doc["parts"][0] == [0, 0, doc["part_size"] - 1]  # [number, first, last]


@pytest.mark.parametrize("command", ["bulk", "sync", "cp --recursive"])
def test_bulk_and_prefix_summaries_have_the_documented_counts(
    store: Store, command: str, tmp_path: Any
) -> None:
    if command == "bulk":
        manifest = tmp_path / "m.jsonl"
        manifest.write_text(json.dumps({"src": "s3://src/dir/a", "dst": "s3://dst/m/a"}) + "\n")
        argv = ["bulk", str(manifest)]
    else:
        argv = [*command.split(), "s3://src/dir/", "s3://dst/m/"]

    done = run(partcopy(*argv, "--endpoint-url", store.url, "--json"))

    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "completed" and doc["error"] is None
    assert all(isinstance(doc[key], int) for key in SUMMARY_KEYS), doc


BAD_INPUT = [
    (["cp", "s3://src/big", "s3://dst/x", "--part-size", "7Q"], "'7Q'"),
    (["cp", "gs://src/big", "s3://dst/x"], "'gs://src/big'"),
    (["cp", "s3://src/big", "s3://dst/x", "--concurrency", "0"], "'0'"),
    (["sync", "s3://src/dir/", "s3://dst/m/", "--compare", "hash"], "'hash'"),
    (["bulk", "/nonexistent/manifest.jsonl"], "'/nonexistent/manifest.jsonl'"),
    (["ls", "notaurl"], "'notaurl'"),
    (["uploads", "abort", "s3://dst/", "--older-than", "5"], "'5'"),
    (["bench", "s3://src/big", "s3://dst/noslash"], "'s3://dst/noslash'"),
]


@pytest.mark.parametrize(("argv", "named"), BAD_INPUT, ids=[" ".join(a[:1]) for a, _ in BAD_INPUT])
def test_bad_input_is_exit_2_one_line_naming_it_and_no_request(
    store: Store, argv: list[str], named: str
) -> None:
    done = run(partcopy(*argv, "--endpoint-url", store.url, "--json"))

    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert named in line
    assert store.emu.call(lambda: store.emu.emulator.stats().requests) == 0
