"""``partcopy.scale``: shards by line number, journal and report shards, divided budgets,
merged reports; ``bulk --dask ADDRESS`` joins a running scheduler."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.bulk import BulkOptions, CopierSettings
from partcopy.engine.report import read_report
from partcopy.errors import ConfigError, UsageError
from partcopy.scale import local_client, run_bulk, shard_path, shard_specs
from partcopy.scale.executor import connect_scheduler
from partcopy.units import MiB


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    monkeypatch.setenv("PARTCOPY_REGION", "us-east-1")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    # Threads of this process (inproc transport): no sockets, starts in a fraction of a second.
    with local_client(2, processes=False) as c:
        yield c


def manifest(tmp_path: Path, keys: list[str], name: str = "m.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "".join(
            json.dumps({"src": f"s3://src-bkt/{k}", "dst": f"s3://dst-bkt/{k}"}) + "\n"
            for k in keys
        )
    )
    return path


def test_shard_specs_divide_the_budgets_and_keep_the_plan() -> None:
    specs = shard_specs(
        "/m.jsonl",
        3,
        options=BulkOptions(concurrency=64),
        settings=CopierSettings(concurrency=32),
        journal="/j.db",
        report="/r.jsonl",
    )
    assert [(s.index, s.count) for s in specs] == [(0, 3), (1, 3), (2, 3)]
    assert {s.options.concurrency for s in specs} == {21}
    assert {s.settings.concurrency for s in specs} == {10}
    assert {s.options.job_concurrency for s in specs} == {32}  # same plan as one process
    assert [s.journal for s in specs] == ["/j.db.shard0", "/j.db.shard1", "/j.db.shard2"]
    assert specs[1].report == shard_path("/r.jsonl", 1) == "/r.jsonl.shard1"
    tiny = shard_specs(
        "/m",
        4,
        options=BulkOptions(concurrency=2),
        settings=CopierSettings(concurrency=1),
        journal=None,
        report=None,
    )
    assert {(s.options.concurrency, s.settings.concurrency) for s in tiny} == {(1, 1)}


def test_run_bulk_on_dask_shards_journals_and_merges_reports(
    client: Any, tmp_path: Path, credentials: None, emulator_thread: Any
) -> None:
    objects = [f"src-bkt/k{i:03d}={1000 + i}" for i in range(60)]
    emu: EmulatorThread = emulator_thread(dialect="s3", objects=[*objects, "dst-bkt/x=1"])
    keys = [f"k{i:03d}" for i in range(60)]
    path = manifest(tmp_path, keys)
    journal, report = tmp_path / "state.db", tmp_path / "report.jsonl"
    settings = CopierSettings(endpoint_url=emu.url, concurrency=8)
    summary = run_bulk(client, path, settings=settings, journal=journal, report=report)
    assert (summary.objects, summary.ok) == (60, 60)
    lines = sorted(o.line for o in read_report(report.read_text().splitlines()))
    assert lines == list(range(1, 61))
    assert (tmp_path / "state.db.shard0").exists() and (tmp_path / "state.db.shard1").exists()
    assert not list(tmp_path.glob("report.jsonl.shard*"))  # merged, then removed
    requests = emu.emulator.stats().requests
    again = run_bulk(client, path, settings=settings, journal=journal, report=report)
    assert (again.skipped, again.ok) == (60, 0)
    assert emu.emulator.stats().requests == requests  # nothing copied twice


def test_the_per_endpoint_budget_is_divided_among_workers(
    client: Any, tmp_path: Path, credentials: None, emulator_thread: Any
) -> None:
    objects = [f"src-bkt/big{i}=30MiB" for i in range(4)]
    # Each part copy takes 20 ms inside the emulator, so the workers' parts overlap.
    emu: EmulatorThread = emulator_thread(
        dialect="s3", objects=[*objects, "dst-bkt/x=1"], latency_ms=20
    )
    path = manifest(tmp_path, [f"big{i}" for i in range(4)])
    summary = run_bulk(
        client,
        path,
        options=BulkOptions(concurrency=4, part_size=5 * MiB),
        settings=CopierSettings(endpoint_url=emu.url, concurrency=4),
    )
    assert summary.ok == 4 and summary.modes == {"copy": 4}
    stats = emu.emulator.stats()
    assert stats.parts_copied == 24
    assert 2 <= stats.peak_in_flight <= 4  # 2 workers x 2, never 2 x 4


def test_bad_input_fails_before_any_task(client: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        run_bulk(client, tmp_path / "missing.jsonl")
    path = manifest(tmp_path, ["a"])
    garbage = tmp_path / "j.db.shard1"
    garbage.write_bytes(b"definitely not sqlite")
    with pytest.raises(UsageError, match=r"j\.db\.shard1"):
        run_bulk(client, path, journal=tmp_path / "j.db")
    with pytest.raises(UsageError):
        run_bulk(client, path, shards=0)
    with pytest.raises(UsageError), local_client(0):
        pass


def test_cli_joins_a_running_scheduler(
    tmp_path: Path,
    credentials: None,
    emulator_thread: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu: EmulatorThread = emulator_thread(
        dialect="s3", objects=["src-bkt/a=10", "src-bkt/b=20", "dst-bkt/x=1"]
    )
    path = manifest(tmp_path, ["a", "b", "missing"])
    cluster = distributed.LocalCluster(
        n_workers=1, processes=False, dashboard_address="127.0.0.1:0"
    )
    try:
        argv = ["bulk", str(path), "--endpoint-url", emu.url, "--dask", cluster.scheduler_address]
        code = main([*argv, "--json", "--report", str(tmp_path / "r.jsonl")])
    finally:
        cluster.close()
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and (out["ok"], out["failed"]) == (2, 1)
    assert os.path.exists(tmp_path / "r.jsonl")
    code = main(["bulk", str(path), "--dask", "no-port-here", "--json"])
    err = capsys.readouterr().err
    assert code == 2 and "no-port-here" in err and err.count("\n") == 1


def test_a_stopped_client_leaves_no_shard_copying_and_no_upload_open(
    tmp_path: Path, credentials: None, emulator_thread: Any
) -> None:
    # Each part copy waits 300 ms in the emulator: 20 objects of 8 parts take many seconds.
    emu: EmulatorThread = emulator_thread(
        dialect="s3",
        objects=[*(f"src-bkt/o{i}=40MiB" for i in range(20)), "dst-bkt/x=1"],
        latency_ms=300,
    )
    path = manifest(tmp_path, [f"o{i}" for i in range(20)])
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    try:
        argv = ["bulk", str(path), "--endpoint-url", emu.url, "--dask", cluster.scheduler_address]
        argv += ["--json", "--part-size", "5MiB", "--concurrency", "4"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "partcopy", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while emu.emulator.stats().parts_copied < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert json.loads(out)["status"] == "failed"
        with distributed.Client(cluster) as watcher:  # the cluster goes idle: nothing left
            while any(watcher.processing().values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(watcher.processing().values())
    finally:
        cluster.close()
    stats = emu.emulator.stats()
    assert stats.open_uploads == 0  # aborted by the stopped shards
    assert len(stats.completes) < 20  # the shards stopped instead of copying on


def test_a_service_that_is_no_scheduler_is_a_usage_error_within_the_deadline() -> None:
    # distributed waits for a scheduler's handshake without a deadline: a loopback service
    # that accepts and says nothing (or says something else) must not hang the client.
    with socket.socket() as silent, socket.socket() as garbage:
        for server in (silent, garbage):
            server.bind(("127.0.0.1", 0))
            server.listen(4)
        answered = threading.Event()

        def answer() -> None:
            conn, _ = garbage.accept()
            with conn:
                conn.sendall(b"\xff" * 64)
                answered.wait(10)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(UsageError, match=r"127\.0\.0\.1.*answered within 0\.5 s"):
            connect_scheduler(address, timeout=0.5)
        address = f"tcp://127.0.0.1:{garbage.getsockname()[1]}"
        with pytest.raises(UsageError, match=r"did not answer as Dask"):
            connect_scheduler(address, timeout=5)
        answered.set()
        thread.join(10)


def test_a_proxy_password_is_never_put_in_the_task_graph(
    client: Any,
    tmp_path: Path,
    credentials: None,
    emulator_thread: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu: EmulatorThread = emulator_thread(dialect="s3", objects=["src-bkt/a=10", "dst-bkt/x=1"])
    path = manifest(tmp_path, ["a"])
    proxy = "http://user:hunter2@127.0.0.1:9"
    with pytest.raises(UsageError, match="HTTPS_PROXY") as caught:
        run_bulk(client, path, settings=CopierSettings(endpoint_url=emu.url, proxy=proxy))
    assert "hunter2" not in str(caught.value)
    argv = ["bulk", str(path), "--endpoint-url", emu.url, "--proxy", proxy]
    code = main([*argv, "--dask", client.scheduler.address, "--json"])
    err = capsys.readouterr().err
    assert code == 2 and "HTTPS_PROXY" in err and "hunter2" not in err
    assert emu.emulator.stats().requests == 0  # refused before any request
