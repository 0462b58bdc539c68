"""End to end: ``partcopy cp --journal`` killed, interrupted and resumed against the emulator.

Each test runs the real CLI in a subprocess against an emulator on 127.0.0.1 (20 ms per
data request, 2 GiB virtual source, 256 parts of 8 MiB) and waits for progress by polling
the emulator's statistics, never by sleeping a fixed time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from partcopy.cli import main
from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread
from partcopy.engine.journal import Journal, PlanRecord

pytestmark = pytest.mark.slow

SIZE = 2 * 1024**3
PART = 8 * 1024**2
PLANNED = SIZE // PART
CONCURRENCY = 4
# Parts a kill -9 may take with it from the journal's buffer: it commits within 20-40 ms,
# which at 4 workers x 20 ms per part is 4-8 parts; 64 leaves room for a loaded machine.
FLUSH_PARTS = 64
SRC = "s3://src/big"
DST = "s3://dst/big"
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


@dataclass
class Store:
    """The emulator and the few questions the tests ask it."""

    emu: EmulatorThread

    @property
    def url(self) -> str:
        return self.emu.url

    def parts_copied(self) -> int:
        return self.emu.call(lambda: self.emu.emulator.stats().parts_copied)

    def open_uploads(self) -> int:
        return self.emu.call(lambda: self.emu.emulator.store.open_uploads())

    def settled(self) -> int:
        """Parts copied once no copy is in flight on the store (a dead client's requests
        still queued in socket buffers may land later: callers allow for CONCURRENCY)."""
        while self.emu.call(lambda: self.emu.emulator.stats().in_flight):
            time.sleep(0.005)
        return self.parts_copied()

    def wait_for_parts(self, count: int, proc: subprocess.Popen[bytes]) -> None:
        while self.parts_copied() < count:
            assert proc.poll() is None, "the copy ended before it was interrupted"
            time.sleep(0.005)


@pytest.fixture
def store() -> Iterator[Store]:
    with EmulatorThread(dialect="s3", latency_ms=20, objects=[f"src/big={SIZE}"]) as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))
        yield Store(emu)


def cp_args(store: Store, journal: Path | None, *extra: str) -> list[str]:
    args = ["cp", SRC, DST, "--endpoint-url", store.url, "--part-size", str(PART)]
    args += ["--concurrency", str(CONCURRENCY), "--quiet", *extra]
    return args + (["--journal", str(journal)] if journal is not None else [])


def partcopy(*args: str) -> list[str]:
    return [sys.executable, "-m", "partcopy", *args]


def start(cmd: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120, check=False)


def killed_halfway(store: Store, journal: Path | None) -> int:
    """Run cp, kill -9 it at about half the parts; returns the parts the store finished."""
    proc = start(partcopy(*cp_args(store, journal)))
    store.wait_for_parts(PLANNED // 2, proc)
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    return store.settled()


def journaled_parts(journal: Path) -> int:
    with Journal(journal) as j:
        (job,) = j.unfinished_jobs()
        return len(j.parts(job.id))


def test_kill_9_then_rerun_copies_only_what_is_missing(store: Store, tmp_path: Path) -> None:
    journal = tmp_path / "state.db"
    finished = killed_halfway(store, journal)
    kept = journaled_parts(journal)
    assert store.open_uploads() == 1
    assert finished - CONCURRENCY - FLUSH_PARTS <= kept <= finished

    done = run(partcopy(*cp_args(store, journal, "--json")))

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["status"], out["bytes"], out["parts"]) == ("completed", SIZE, PLANNED)
    # Requests the dead client had in flight (at most CONCURRENCY) may still land on the
    # store after ``finished`` was read: they count in ``after``.
    after = store.parts_copied() - finished
    assert PLANNED - kept <= after <= PLANNED - kept + CONCURRENCY
    assert PLANNED - finished <= after <= PLANNED - finished + CONCURRENCY + FLUSH_PARTS
    assert store.open_uploads() == 0
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["completed"]


def test_source_overwritten_after_the_kill_is_source_changed(store: Store, tmp_path: Path) -> None:
    journal = tmp_path / "state.db"
    killed_halfway(store, journal)
    request = urllib.request.Request(
        f"{store.url}/_emulator/objects",
        data=json.dumps({"objects": [f"src/big={SIZE}"]}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # a fresh pattern: new ETag
        assert answer.status == 200

    done = run(partcopy(*cp_args(store, journal, "--json")))

    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["type"] == "SourceChanged" and "was aborted" in error["message"]
    assert store.open_uploads() == 0
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["aborted"]


def test_ctrl_c_keeps_the_upload_and_resume_recopies_a_part_the_store_lost(
    store: Store, tmp_path: Path
) -> None:
    journal = tmp_path / "state.db"
    proc = start([sys.executable, "-c", CTRL_C_ENTRY, *cp_args(store, journal)])
    store.wait_for_parts(PLANNED // 3, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    hint = err.decode().strip().splitlines()[-1]
    assert f"partcopy resume --journal {journal}" in hint
    assert store.open_uploads() == 1
    with Journal(journal) as j:
        (job,) = j.unfinished_jobs()
        numbers = sorted(j.parts(job.id))
    assert job.upload_id is not None
    upload_id = job.upload_id
    store.emu.call(
        lambda: store.emu.emulator.store.upload("dst", "big", upload_id).parts.pop(numbers[3])
    )
    before = store.settled()

    done = run(partcopy("resume", "--journal", str(journal), "--json"))

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "completed"
    assert [(j["source"], j["status"]) for j in out["jobs"]] == [(SRC, "completed")]
    expected = PLANNED - len(numbers) + 1  # plus the interrupted requests still landing
    assert expected <= store.parts_copied() - before <= expected + CONCURRENCY
    assert store.open_uploads() == 0


def test_sigterm_without_a_journal_aborts_the_upload(store: Store) -> None:
    proc = start(partcopy(*cp_args(store, None, "--json")))
    store.wait_for_parts(10, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "the upload was aborted" in err.decode()
    summary = json.loads(out)
    assert summary["status"] == "failed" and "aborted" in summary["error"]["message"]
    store.settled()
    assert store.open_uploads() == 0


def test_uploads_abort_older_than_removes_a_killed_runs_upload(store: Store) -> None:
    killed_halfway(store, None)
    assert store.open_uploads() == 1
    listed = run(partcopy("uploads", "list", "s3://dst", "--endpoint-url", store.url, "--json"))
    assert listed.returncode == 0, listed.stderr
    (upload,) = json.loads(listed.stdout)["uploads"]
    assert upload["key"] == "big"
    young = run(
        partcopy(
            "uploads", "abort", "s3://dst/b", "--endpoint-url", store.url, "--older-than", "1h"
        )
    )
    assert young.returncode == 0 and store.open_uploads() == 1

    done = run(
        partcopy(
            "uploads",
            "abort",
            "s3://dst",
            "--endpoint-url",
            store.url,
            "--older-than",
            "0s",
            "--json",
        )
    )

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [u["upload_id"] for u in out["aborted"]] == [upload["upload_id"]]
    assert store.open_uploads() == 0


# --- bad journals: exit 2, one line, no request -----------------------------------------


def _corrupt(kind: str, path: Path) -> None:
    if kind == "garbage":
        path.write_bytes(b"\x00\xffnot a journal" * 100)
        return
    with Journal(path) as j:
        for n in range(50):
            j.create_job(
                source=f"s3://src/k{n}",
                destination=f"s3://dst/k{n}",
                source_size=1,
                source_etag=None,
                source_version=None,
                plan=PlanRecord(1, 1, 1, "copy"),
            )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
@pytest.mark.parametrize("command", ["cp", "resume"])
def test_bad_journal_is_exit_2_with_one_line(
    kind: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "state.db"
    _corrupt(kind, journal)
    argv = (
        ["cp", SRC, DST, "--endpoint-url", "http://127.0.0.1:9", "--journal", str(journal)]
        if command == "cp"
        else ["resume", "--journal", str(journal)]
    )
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and str(journal) in lines[0]


def test_a_second_ctrl_c_during_the_abort_says_the_upload_may_be_left_open(
    store: Store,
) -> None:
    """The first Ctrl-C starts the abort; a second one, while the abort waits for its
    answer, must not be reported as "the upload was aborted"."""
    store.emu.call(lambda: store.emu.emulator.set_faults(["delay:1.0:30s@abort"], seed=1))
    proc = start([sys.executable, "-c", CTRL_C_ENTRY, *cp_args(store, None, "--json")])
    store.wait_for_parts(10, proc)
    proc.send_signal(signal.SIGINT)
    while store.emu.call(lambda: store.emu.emulator.stats().ops.get("abort", 0)) == 0:
        assert proc.poll() is None, "the copy ended before its abort was sent"
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    error = json.loads(out)["error"]
    assert "may be left open" in error["message"] and "was aborted" not in error["message"]
    assert error["upload_id"] is not None and error["upload_id"] in error["message"]
    assert "was aborted" not in err.decode()


@pytest.mark.parametrize("restart", [False, True], ids=["refused", "restarted"])
def test_a_killed_recursive_copy_restarts_a_changed_object_only_when_told(
    store: Store, tmp_path: Path, restart: bool
) -> None:
    """cp --recursive --journal, killed mid-object; the source then changes. The rerun
    refuses to mix old and new parts (SourceChanged); with --restart-on-change it starts
    that object over and copies the new one."""
    journal = tmp_path / "bulk.db"
    argv = ["cp", "--recursive", "s3://src/", "s3://dst/copy/", "--journal", str(journal)]
    argv += ["--endpoint-url", store.url, "--part-size", str(PART)]
    argv += ["--concurrency", str(CONCURRENCY), "--quiet", "--max-attempts", "1"]
    proc = start(partcopy(*argv))
    store.wait_for_parts(PLANNED // 4, proc)
    proc.kill()
    proc.communicate()
    store.settled()
    changed = SIZE - PART  # another object under the same key: 255 parts
    store.emu.call(lambda: store.emu.emulator.store.put_virtual("src", "big", changed))

    rerun = run(partcopy(*argv, "--json", *(["--restart-on-change"] if restart else [])))
    summary = json.loads(rerun.stdout)
    if not restart:
        assert rerun.returncode == 1 and summary["failed"] == 1, rerun.stderr
        assert "SourceChanged" in rerun.stderr
        return
    assert rerun.returncode == 0 and summary["ok"] == 1, rerun.stderr
    size = store.emu.call(lambda: store.emu.emulator.store.current("dst", "copy/big").size)
    assert size == changed and store.open_uploads() == 0


@pytest.mark.parametrize("command", ["bulk", "sync"])
def test_sigterm_stops_bulk_and_sync_as_ctrl_c_does(
    store: Store, tmp_path: Path, command: str
) -> None:
    """`kill PID` on a bulk or prefix run: the upload in flight is aborted, the one JSON
    object says the run failed, and the status is 128 + SIGTERM."""
    if command == "bulk":
        manifest = tmp_path / "m.jsonl"
        manifest.write_text(json.dumps({"src": SRC, "dst": DST}) + "\n")
        argv = ["bulk", str(manifest)]
    else:
        argv = ["sync", "s3://src/", "s3://dst/copy/"]
    argv += ["--endpoint-url", store.url, "--part-size", str(PART), "--json"]
    argv += ["--concurrency", str(CONCURRENCY), "--workers", "1", "--quiet"]
    proc = start(partcopy(*argv))
    store.wait_for_parts(10, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    doc = json.loads(out)
    assert doc["status"] == "failed" and "interrupted" in doc["error"]["message"]
    store.settled()
    assert store.open_uploads() == 0


def test_a_bulk_rerun_skips_what_resume_finished(store: Store, tmp_path: Path) -> None:
    """bulk --journal killed mid-object; `partcopy resume` finishes the job; the bulk
    rerun skips the object instead of copying it again."""
    journal = tmp_path / "bulk.db"
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"src": SRC, "dst": DST}) + "\n")
    argv = ["bulk", str(manifest), "--journal", str(journal), "--endpoint-url", store.url]
    argv += ["--part-size", str(PART), "--concurrency", str(CONCURRENCY), "--quiet"]
    proc = start(partcopy(*argv))
    store.wait_for_parts(PLANNED // 4, proc)
    proc.kill()
    proc.communicate()
    store.settled()
    done = run(partcopy("resume", "--journal", str(journal), "--json"))
    assert done.returncode == 0, done.stderr
    copied = store.settled()

    rerun = run(partcopy(*argv, "--json"))
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["ok"], summary["skipped"]) == (0, 1)
    assert store.parts_copied() == copied  # nothing copied again


def test_a_failed_resume_names_the_upload_it_keeps_and_the_plan(
    store: Store, tmp_path: Path
) -> None:
    journal = tmp_path / "state.db"
    killed_halfway(store, journal)
    store.emu.call(lambda: store.emu.emulator.set_faults(["500:1@head"], seed=1))
    failed = run(partcopy("resume", "--journal", str(journal), "--json", "--max-attempts", "1"))
    store.emu.call(lambda: store.emu.emulator.set_faults([]))
    assert failed.returncode == 1, failed.stderr
    (job,) = json.loads(failed.stdout)["jobs"]
    with Journal(journal) as j:
        (record,) = j.unfinished_jobs()
    assert job["error"]["upload_id"] == record.upload_id is not None
    assert (job["mode"], job["parts"], job["part_size"]) == ("copy", PLANNED, PART)
    assert "lost create" not in failed.stderr


def test_a_rerun_against_another_store_leaves_the_journaled_job_for_resume(
    store: Store, tmp_path: Path
) -> None:
    """The same URLs through another endpoint are other objects: the rerun starts its own
    job there instead of taking the journaled job's upload for gone (and marking it
    aborted while it stays open on the first store); ``resume`` still finishes that one."""
    journal = tmp_path / "state.db"
    killed_halfway(store, journal)
    with EmulatorThread(dialect="s3", objects=[f"src/big={SIZE}"]) as other:
        other.call(lambda: other.emulator.store.create_bucket("dst"))
        args = cp_args(Store(other), journal, "--json")
        done = run(partcopy(*args))
        assert done.returncode == 0, done.stderr
        assert Store(other).open_uploads() == 0
    assert store.open_uploads() == 1
    with Journal(journal) as j:
        assert [job.state for job in j.jobs()] == ["running", "completed"]
    resumed = run(partcopy("resume", "--journal", str(journal), "--json"))
    assert resumed.returncode == 0, resumed.stderr
    assert [job["job"] for job in json.loads(resumed.stdout)["jobs"]] == [1]
    assert store.open_uploads() == 0
