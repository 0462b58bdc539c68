"""``bulk`` on worker processes: one reader, N processes with 1/N of the budget, one
ledger and report written by the parent, the same summary as one process, and no hang
when a worker dies."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.bulk import BulkOptions, CopierSettings
from partcopy.engine.report import BulkSummary, read_report
from partcopy.errors import PartcopyError
from partcopy.scale.workers import (
    MAX_WORKERS_PER_CORE,
    MIN_LINES_FOR_WORKERS,
    check_workers,
    cores,
    default_workers,
    run_bulk_workers,
)
from partcopy.store.memory import MemoryStore

COUNT = 120


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    store = MemoryStore("s3")
    store.create_bucket("src")
    store.create_bucket("dst")
    for i in range(COUNT):
        store.put_object("src", f"k{i}", f"object {i} ".encode() * 40)
    # Buckets encrypt by default, as AWS's do: a listed copy is then one CopyObject.
    with EmulatorThread(dialect="s3", store=store, default_sse="AES256") as emu:
        yield emu


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)


def manifest(emu: EmulatorThread, tmp_path: Path, dst: str) -> Path:
    """COUNT objects with their size and ETag, and one bad line in the middle."""
    store = emu.emulator.store
    lines = []
    for i in range(COUNT):
        obj = emu.call(lambda i=i: store.get("src", f"k{i}"))
        line = {"src": f"s3://src/k{i}", "dst": f"s3://dst/{dst}/k{i}"}
        lines.append(json.dumps({**line, "size": obj.size, "etag": obj.etag}))
    lines.insert(COUNT // 2, '{"src": "s3://src/nothing"}')
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def requests(emu: EmulatorThread) -> int:
    return emu.call(emu.emulator.stats).requests


def run_workers(
    emu: EmulatorThread, path: Path, tmp_path: Path, count: int = 2, **kw: object
) -> BulkSummary:
    async def go() -> BulkSummary:
        return await run_bulk_workers(
            path,
            count,
            options=BulkOptions(concurrency=8),
            settings=CopierSettings(endpoint_url=emu.url, concurrency=8),
            journal=tmp_path / "state.db",
            report=tmp_path / "report.jsonl",
            **kw,  # type: ignore[arg-type]
        )

    return anyio.run(go)


def test_two_workers_copy_once_report_every_line_and_resume_from_one_journal(
    emulator: EmulatorThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = manifest(emulator, tmp_path, "two")
    before = requests(emulator)
    argv = ["bulk", str(path), "--endpoint-url", emulator.url, "--workers", "2", "--json"]
    state, report = tmp_path / "state.db", tmp_path / "report.jsonl"
    code = main([*argv, "--concurrency", "8", "--journal", str(state), "--report", str(report)])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1 and (summary["ok"], summary["invalid"], summary["failed"]) == (COUNT, 1, 0)
    assert requests(emulator) - before == COUNT  # one CopyObject per object, in any process
    with report.open() as fh:
        lines = sorted(o.line for o in read_report(fh))
    assert lines == list(range(1, COUNT + 2))  # every line once, the bad one included
    for i in (0, COUNT - 1):
        copied = emulator.call(lambda i=i: emulator.emulator.store.get("dst", f"two/k{i}"))
        assert copied.content == emulator.call(
            lambda i=i: emulator.emulator.store.get("src", f"k{i}").content
        )
    before = requests(emulator)
    again = run_workers(emulator, path, tmp_path)  # the parent's ledger skips them all
    assert (again.skipped, again.ok, requests(emulator) - before) == (COUNT, 0, 0)


def test_a_worker_that_dies_fails_the_run_instead_of_hanging(
    emulator: EmulatorThread, tmp_path: Path
) -> None:
    path = manifest(emulator, tmp_path, "dead")
    with pytest.raises(PartcopyError, match="worker process 0"):
        run_workers(emulator, path, tmp_path, count=1, log_setup=sys.exit)  # exits at once


def test_worker_counts_are_bounded_and_small_runs_stay_in_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"src": "s3://a/k", "dst": "s3://b/k"}\n' * (MIN_LINES_FOR_WORKERS - 1))
    assert default_workers(64, path) == 1 and default_workers(1) == 1
    assert default_workers(64) == min(cores(), 64)
    assert check_workers(3, 2) == 2  # never more workers than requests in flight
    too_many = str(MAX_WORKERS_PER_CORE * cores() + 1)
    for bad in ("0", too_many):
        try:
            code = main(["bulk", str(path), "--workers", bad])
        except SystemExit as exc:
            code = int(str(exc.code))
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and bad in err[0]
