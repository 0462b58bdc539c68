"""Signals to a run on worker processes (``--workers 2``) while the workers hold multipart
uploads open: the run ends with 128 + the signal, one JSON object that counts the aborts
truthfully, nothing left open that it did not name, and no worker left running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread

pytestmark = pytest.mark.slow

ENTRY = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'partcopy'; from partcopy.cli import main; sys.exit(main())"
)
OBJECTS = 8
"""Two batches of 4 (--concurrency 8): one to each worker, 4 objects in flight in each."""
DEADLINE = 30.0
"""A guard for each wait below, never reached when the run behaves."""


def _wait_for(what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)


def _workers(pid: int) -> list[int]:
    """The worker processes of ``pid`` (its children but multiprocessing's tracker)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found += [int(p) for p in fh.read().split()]
    return [p for p in found if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorThread]:
    faults = getattr(request, "param", [])
    objects = [f"src/o{i}=256MiB" for i in range(OBJECTS)]
    with EmulatorThread(dialect="s3", latency_ms=300, objects=objects, faults=faults) as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))
        yield emu


def _start(emu: EmulatorThread, tmp_path: Path) -> subprocess.Popen[bytes]:
    """``bulk --workers 2 --json`` of OBJECTS 256 MiB objects, once each has an open
    upload with a part copied (so every worker knows its upload's id), and both workers up."""
    manifest = tmp_path / "m.jsonl"
    lines = [json.dumps({"src": f"s3://src/o{i}", "dst": f"s3://dst/o{i}"}) for i in range(OBJECTS)]
    manifest.write_text("\n".join(lines) + "\n")
    args = ["bulk", str(manifest), "--endpoint-url", emu.url, "--workers", "2"]
    args += ["--concurrency", "8", "--part-size", "8MiB", "--json"]
    env = {
        **os.environ,
        "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    store = emu.emulator.store

    def uploads_with_a_part() -> bool:
        uploads = emu.call(lambda: store.list_uploads("dst")[0])
        return len(uploads) == OBJECTS and all(u.parts for u in uploads)

    _wait_for("an open upload with a part for every object", uploads_with_a_part, proc)
    _wait_for("two workers", lambda: len(_workers(proc.pid)) == 2, proc)
    return proc


def _end(proc: subprocess.Popen[bytes], workers: list[int]) -> tuple[dict[str, object], str]:
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        left = [p for p in workers if _running(p)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived the run"
    lines = out.decode().splitlines()
    assert len(lines) == 1, (proc.returncode, err.decode())  # exactly one JSON object
    return json.loads(lines[0]), err.decode()


@pytest.mark.parametrize(
    ("send", "status"),
    [
        (lambda proc: proc.send_signal(signal.SIGTERM), 143),
        (lambda proc: proc.send_signal(signal.SIGINT), 130),
        (lambda proc: os.killpg(proc.pid, signal.SIGINT), 130),  # Ctrl-C at a terminal
    ],
    ids=["sigterm-parent", "sigint-parent", "ctrl-c-group"],
)
def test_an_interrupted_run_on_workers_aborts_and_counts_the_open_uploads(
    emulator: EmulatorThread,
    tmp_path: Path,
    send: Callable[[subprocess.Popen[bytes]], None],
    status: int,
) -> None:
    proc = _start(emulator, tmp_path)
    workers = _workers(proc.pid)
    send(proc)
    doc, err = _end(proc, workers)
    assert proc.returncode == status, err
    assert emulator.call(emulator.emulator.store.open_uploads) == 0
    said = f"{OBJECTS} open upload(s) aborted"
    error = doc["error"]
    assert isinstance(error, dict) and said in error["message"] and said in err


@pytest.mark.parametrize("emulator", [["delay:1:60s@abort"]], indirect=True)
def test_a_second_interrupt_while_workers_abort_leaves_no_worker_and_says_what_may_be_open(
    emulator: EmulatorThread, tmp_path: Path
) -> None:
    proc = _start(emulator, tmp_path)
    workers = _workers(proc.pid)
    proc.send_signal(signal.SIGTERM)

    def aborts_sent() -> bool:
        return emulator.call(emulator.emulator.stats).ops.get("abort", 0) >= OBJECTS

    _wait_for("every abort sent (and held by the store)", aborts_sent, proc)
    proc.send_signal(signal.SIGINT)  # stop waiting
    doc, err = _end(proc, workers)
    assert proc.returncode == 143, err  # the signal that interrupted the run
    said = f"{OBJECTS} may be left open"
    error = doc["error"]
    assert isinstance(error, dict) and said in error["message"] and said in err


def _talking_to(pid: int, port: int) -> bool:
    """Whether process ``pid`` has a TCP connection to ``port`` on the loopback."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for row in fh.read().splitlines()[1:]:
                fields = row.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                    return True
    return False


def test_a_worker_killed_while_it_holds_uploads_aborts_them_and_fails_its_objects_by_name(
    emulator: EmulatorThread, tmp_path: Path
) -> None:
    proc = _start(emulator, tmp_path)
    workers = _workers(proc.pid)
    port = int(emulator.url.rsplit(":", 1)[1].split("/")[0])
    victim = next(p for p in workers if _talking_to(p, port))
    os.kill(victim, signal.SIGKILL)
    started = time.monotonic()
    doc, err = _end(proc, workers)
    assert time.monotonic() - started < DEADLINE
    assert proc.returncode == 1, err
    # The survivor finished its half; the victim's half failed, each line naming why.
    half = OBJECTS // 2
    assert (doc["ok"], doc["failed"], doc["objects"]) == (half, half, OBJECTS), doc
    assert emulator.call(emulator.emulator.store.open_uploads) == 0
    said = f"died (killed by SIGKILL) holding {half} unfinished object(s): {half} open upload(s)"
    assert said in err
    kept = emulator.call(lambda: emulator.emulator.store.keys("dst"))
    assert len(kept) == half
