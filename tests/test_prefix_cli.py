"""``partcopy ls``, ``sync`` and ``cp --recursive`` as the shell sees them: bad input is
exit 2 with one line and no request; the JSON summary and the dry-run lines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from partcopy.cli import main
from partcopy.cli.app import SIGPIPE_STATUS
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.emulator.faults import Verdict, parse_fault
from partcopy.store.memory import MemoryStore

StartEmulator = Callable[..., EmulatorThread]


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
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


BAD = [
    (["sync", "/local/dir", "s3://dst/q/"], "'/local/dir'"),
    (["cp", "--recursive", "s3://src/p?versionId=v1", "s3://dst/q/"], "takes no query"),
    (["ls", "s3://Bad_Bucket/p/"], "'Bad_Bucket'"),
    (["cp", "s3://src/p/", "s3://dst/q/", "--delete"], "--delete"),
    (["cp", "--recursive", "s3://src/p/", "s3://dst/q/", "--delete"], "--delete"),
    (["sync", "s3://src/p/", "s3://dst/q/", "--include", "[abc"], "'[abc'"),
    (["ls", "s3://src/p/", "--exclude", "x\\"], "'x\\\\'"),
    (["sync", "s3://src/data", "s3://src/data/mirror/"], "overlaps"),
    (["cp", "--recursive", "s3://src/a/b/", "s3://src/a/"], "overlaps"),
    (["cp", "s3://src/k", "s3://dst/k", "--include", "*.x"], "--recursive"),
    (["cp", "s3://src/k", "s3://dst/k", "--workers", "2"], "--recursive"),
    (["sync", "s3://src/p/", "s3://dst/q/", "--workers", "999"], "999"),
    (["sync", "s3://src/p/", "s3://dst/q/", "--compare", "md5"], "md5"),
    (["sync", "s3://src/p/", "s3://dst/q/", "--max-objects", "0"], "'0'"),
    (["sync", "s3://src/p/", "s3://dst/q/", "--provider", "storj"], "'storj'"),
    (["cp", "--recursive", "s3://src/p/", "s3://dst/q/", "--provider", "minio2"], "'minio2'"),
    (["sync", "s3://src/p/", "s3://dst/q/", "--addressing-style", "virtual"], "127.0.0.1"),
    (["ls", "s3://src/p/", "--addressing-style", "virtual"], "not the address 127.0.0.1"),
]


@pytest.mark.parametrize(("argv", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_no_request(
    creds: None,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: str,
) -> None:
    sock, url = listener
    status = cli([*argv, "--endpoint-url", url])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and named in err, err
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_ls_sync_and_dry_run_through_the_cli(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ["a b.bin", "dir/ü+%.bin", "dir/sub/x.bin", "z.txt"]
    emu = emulator_thread(
        dialect="s3", objects=[f"src/tree/{k}={i + 1}" for i, k in enumerate(keys)]
    )
    emu.call(lambda: emu.emulator.store.create_bucket("dst"))
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1"]

    assert cli(["ls", "s3://src/tree/", *common]) == 0  # one level: PRE lines for "dirs"
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1].split() == ["PRE", "dir/"]
    assert lines[0].endswith(" 1 a b.bin") and lines[2].endswith(" 4 z.txt")

    assert (
        cli(["ls", "s3://src/tree/", "--recursive", "--json", "--exclude", "*.txt", *common]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert [e["key"] for e in doc["entries"]] == sorted(f"tree/{k}" for k in keys[:3])
    assert (doc["objects"], doc["prefixes"], doc["bytes"], doc["error"]) == (3, 0, 6, None)
    assert doc["status"] == "completed"  # as every command's --json says

    assert cli(["sync", "s3://src/tree", "s3://dst/copy", "--json", *common]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["status"], first["ok"], first["listed"], first["deleted"]) == (
        "completed",
        4,
        4,
        0,
    )

    emu.call(lambda: emu.emulator.store.put_virtual("dst", "copy/extra.bin", 3))
    emu.call(lambda: emu.emulator.store.put_virtual("src", "tree/z.txt", 9))
    writes = emu.call(lambda: emu.emulator.store.stats().writes())
    assert cli(["sync", "s3://src/tree/", "s3://dst/copy/", "--delete", "--dry-run", *common]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [  # in key order
        "(dry run) delete s3://dst/copy/extra.bin",
        "(dry run) copy s3://src/tree/z.txt -> s3://dst/copy/z.txt",
    ]
    assert err.splitlines()[-1].startswith(
        "partcopy: 3 already the same, 1 to copy (dry run), 1 to delete (dry run); 0 B in "
    )
    assert emu.call(lambda: emu.emulator.store.stats().writes()) == writes

    assert cli(["sync", "s3://src/tree/", "s3://dst/copy/", "--delete", "--json", *common]) == 0
    last = json.loads(capsys.readouterr().out)
    assert (last["ok"], last["skipped_same"], last["deleted"]) == (1, 3, 1)
    assert emu.call(lambda: emu.emulator.store.keys("dst")) == sorted(f"copy/{k}" for k in keys)


def test_ls_names_entries_from_the_last_slash_of_the_prefix(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = ["photos=1", "photos/a.jpg=2", "photos2/b.jpg=3", "other=4", "d/photos=5"]
    emu = emulator_thread(dialect="s3", objects=[f"src/{o}" for o in objects])
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1"]

    def ls(*argv: str) -> list[list[str]]:
        assert cli(["ls", *argv, *common]) == 0
        return [line.split()[-2:] for line in capsys.readouterr().out.splitlines()]

    expected = [["1", "photos"], ["PRE", "photos/"], ["PRE", "photos2/"]]  # in key order
    assert ls("s3://src/photos") == expected
    assert ls("s3://src/pho") == expected
    assert ls("s3://src/d/pho") == [["5", "photos"]]
    assert ls("s3://src/pho", "--exclude", "photos") == expected[1:]  # filters see that name
    assert ls("s3://src/photos/") == [["2", "a.jpg"]]
    full = [["1", "photos"], ["2", "photos/a.jpg"], ["3", "photos2/b.jpg"]]
    assert ls("s3://src/pho", "--recursive") == full  # --recursive: keys in full, always
    assert ls("s3://src/photos/", "--recursive") == full[1:2]
    assert ls("s3://src/d/", "--recursive") == [["5", "d/photos"]]


def test_sync_with_worker_processes_copies_as_the_listing_goes(
    creds: None,
    emulator_thread: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pytest.TempPathFactory,
) -> None:
    objects = [f"src/tree/d{i % 3}/k {i}+.bin=64" for i in range(40)]
    emu = emulator_thread(  # a bucket that encrypts by default, as AWS's do
        dialect="s3", objects=[*objects, "dst/copy/extra.bin=1"], default_sse="AES256"
    )
    report = f"{tmp_path}/report.jsonl"
    argv = ["sync", "s3://src/tree", "s3://dst/copy", "--delete", "--workers", "2"]
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1", "--report", report, "--json"]
    assert cli([*argv, *common]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["listed"], summary["deleted"]) == (40, 40, 1)
    with open(report, encoding="utf-8") as fh:
        statuses = sorted(json.loads(line)["status"] for line in fh)
    assert statuses == ["deleted"] + ["ok"] * 40
    keys = emu.call(lambda: emu.emulator.store.keys("dst"))
    assert len(keys) == 40 and "copy/extra.bin" not in keys
    assert emu.call(lambda: emu.emulator.store.stats().ops).get("head", 0) == 0


def test_a_journaled_recursive_copy_on_workers_skips_what_it_finished_when_rerun(
    creds: None,
    emulator_thread: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pytest.TempPathFactory,
) -> None:
    """The ledger of a ``--workers`` run is read in this process, where it lives: a rerun
    after a crash skips what was recorded instead of copying every object again."""
    emu = emulator_thread(dialect="s3", objects=[f"src/tree/k{i}=64" for i in range(12)])
    put(emu, [("dst", "other", 1)])
    argv = ["cp", "--recursive", "s3://src/tree", "s3://dst/copy", "--workers", "2"]
    argv += ["--endpoint-url", emu.url, "--region", "ap-test-1", "--json"]
    argv += ["--journal", f"{tmp_path}/bulk.db"]
    assert cli(argv) == 0
    assert json.loads(capsys.readouterr().out)["ok"] == 12
    copies = emu.call(lambda: emu.emulator.store.stats().ops).get("copy_object", 0)
    assert copies == 12
    assert cli(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["skipped"], summary["listed"]) == (0, 12, 12)
    assert emu.call(lambda: emu.emulator.store.stats().ops).get("copy_object", 0) == copies


def test_sync_on_dask_lists_here_and_copies_on_the_workers(
    creds: None,
    emulator_thread: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pytest.TempPathFactory,
) -> None:
    objects = [f"src/tree/d{i % 3}/k {i}+.bin=64" for i in range(30)]
    emu = emulator_thread(  # a bucket that encrypts by default, as AWS's do
        dialect="s3", objects=[*objects, "dst/copy/extra.bin=1"], default_sse="AES256"
    )
    report = f"{tmp_path}/report.jsonl"
    argv = ["sync", "s3://src/tree", "s3://dst/copy", "--delete"]
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1", "--report", report, "--json"]
    from partcopy.scale import local_client

    with local_client(2, processes=False) as client:
        address = client.scheduler.address
        assert cli([*argv, "--dask", address, *common]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["listed"], summary["deleted"]) == (30, 30, 1)
    with open(report, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh]
    assert sorted(line["status"] for line in lines) == ["deleted"] + ["ok"] * 30
    keys = emu.call(lambda: emu.emulator.store.keys("dst"))
    assert len(keys) == 30 and "copy/extra.bin" not in keys
    ops = emu.call(lambda: emu.emulator.store.stats().ops)
    assert ops.get("head", 0) == 0  # the manifest carried each object's size and ETag


def test_a_failed_listing_is_exit_1_with_one_json_object(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = emulator_thread(dialect="s3", objects=["dst/x=1"])
    argv = ["sync", "s3://nosuchbucket/p/", "s3://dst/q/", "--endpoint-url", emu.url, "--json"]
    assert cli([*argv, "--region", "ap-test-1"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["status"] == "failed" and "NoSuchBucket" in doc["error"]["message"]
    assert "sync failed" in err


def fail_listings_from_the_second_page(emu: EmulatorThread, bucket: str) -> None:
    """From the second listing request on ``bucket``, every listing answers 500 (the
    emulator's own fault, armed once the first page has been asked for)."""
    injector = emu.emulator.faults
    decide = injector.decide
    pages = 0

    def second_page_fails(op: str, identity: str, copies_in_flight: int = 0) -> Verdict:
        nonlocal pages
        if op == "list_objects" and identity.startswith(f"{bucket}/"):
            pages += 1
            if pages == 2:
                injector.configure([parse_fault("500:1.0@list_objects")])
        return decide(op, identity, copies_in_flight)

    injector.decide = second_page_fails  # type: ignore[method-assign]


def test_a_listing_that_fails_mid_run_still_reports_what_was_done(
    creds: None,
    emulator_thread: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pytest.TempPathFactory,
) -> None:
    emu = emulator_thread(dialect="s3", objects=[f"src/p/k{i:04}=1" for i in range(1001)])
    emu.call(lambda: emu.emulator.store.create_bucket("dst"))
    fail_listings_from_the_second_page(emu, "src")
    report = f"{tmp_path}/report.jsonl"
    argv = ["sync", "s3://src/p/", "s3://dst/q/", "--endpoint-url", emu.url, "--json"]
    assert cli([*argv, "--region", "ap-test-1", "--max-attempts", "1", "--report", report]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert (doc["status"], doc["error"]["type"]) == ("failed", "ServiceError")
    assert (doc["objects"], doc["ok"], doc["failed"], doc["listed"]) == (1000, 1000, 0, 1000)
    assert (doc["skipped_same"], doc["deleted"], doc["bytes"]) == (0, 0, 1000)
    with open(report, encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 1000
    assert err.splitlines()[-1].startswith("partcopy: sync failed: ServiceError")


def test_the_progress_line_counts_listed_done_and_failed() -> None:
    from partcopy.cli.prefix import _Progress
    from partcopy.engine.report import ErrorInfo, ObjectOutcome
    from partcopy.transports.base import ListedObject

    bar = _Progress()
    for i in range(3):
        bar.listed_one(ListedObject(f"k{i}", 1024, None))
    bar.outcome(ObjectOutcome(1, "s3://a/k0", "s3://b/k0", "ok", 1024))
    bar._last = 0.0
    bar.outcome(ObjectOutcome(2, "s3://a/k1", "s3://b/k1", "failed", error=ErrorInfo("X", "y")))
    text = str(bar.progress.tasks[0].description)
    assert (bar.listed, bar.done, bar.failed) == (3, 1, 1)
    assert text.startswith("1/3 objects, 1 KiB/3 KiB listed so far") and "1 failed" in text


ODD_KEYS = ("v?versionId=abc", "tab\tkey")
"""Legal keys that URL text cannot carry: one reads as a version of ``v``, one holds a tab."""


def put(emu: EmulatorThread, objects: list[tuple[str, str, int]]) -> None:
    """Store ``(bucket, key, size)`` objects as they are (keys no URL or spec could hold)."""

    def store() -> None:
        for bucket, key, size in objects:
            if not emu.emulator.store.has_bucket(bucket):
                emu.emulator.store.create_bucket(bucket)
            emu.emulator.store.put_object(bucket, key, bytes(size))

    emu.call(store)


@pytest.mark.parametrize("workers", [None, "2"], ids=["one-process", "workers"])
def test_listed_keys_are_never_reparsed_from_url_text(
    creds: None,
    emulator_thread: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    workers: str | None,
) -> None:
    """``tree/v?versionId=abc`` is its own key: it is copied as itself (not as a version of
    ``tree/v``), and the destination's extra ``copy/w?versionId=old`` is deleted without
    touching ``copy/w``'s neighbour ``copy/v``."""
    sizes = {"v": 20, ODD_KEYS[0]: 10, ODD_KEYS[1]: 30}
    emu = emulator_thread(dialect="s3")
    put(emu, [*(("src", f"tree/{k}", n) for k, n in sizes.items()), ("dst", "copy/w", 4)])
    put(emu, [("dst", "copy/v?versionId=old", 3)])
    argv = ["sync", "s3://src/tree", "s3://dst/copy", "--delete", "--json"]
    argv += ["--endpoint-url", emu.url, "--region", "ap-test-1"]
    argv += ["--workers", workers] if workers else []
    assert cli(argv) == 0, capsys.readouterr()
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["deleted"]) == (3, 2)  # copy/w and the odd extra

    def stored() -> dict[str, int]:
        store = emu.emulator.store
        return {k: store.current("dst", k).size for k in store.keys("dst")}

    assert emu.call(stored) == {f"copy/{key}": size for key, size in sizes.items()}


def test_a_dask_run_refuses_what_a_manifest_url_cannot_carry(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tab cannot travel in a manifest URL; a key holding ``?versionId=`` can (its URL
    ends with an empty mark)."""
    emu = emulator_thread(dialect="s3")
    put(emu, [("src", f"tree/{key}", 10) for key in (*ODD_KEYS, "plain")])
    emu.call(lambda: emu.emulator.store.create_bucket("dst"))
    argv = ["cp", "--recursive", "s3://src/tree", "s3://dst/copy", "--json"]
    argv += ["--endpoint-url", emu.url, "--region", "ap-test-1"]
    from partcopy.scale import local_client

    with local_client(1, processes=False) as client:
        assert cli([*argv, "--dask", client.scheduler.address]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["failed"]) == (2, 1)
    stored = emu.call(lambda: emu.emulator.store.keys("dst"))
    assert sorted(stored) == ["copy/plain", f"copy/{ODD_KEYS[0]}"]


def test_cp_spells_a_key_that_holds_a_version_mark_with_an_empty_one_after_it(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """``s3://src/v?versionId=abc?versionId=`` is the key ``v?versionId=abc`` itself, not
    version ``abc`` of ``v``."""
    emu = emulator_thread(dialect="s3")
    put(emu, [("src", "v", 20), ("src", ODD_KEYS[0], 10), ("dst", "x", 1)])
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1", "--json"]
    odd = f"{ODD_KEYS[0]}?versionId="
    assert cli(["cp", f"s3://src/{odd}", f"s3://dst/{odd}", *common]) == 0
    assert json.loads(capsys.readouterr().out)["bytes"] == 10
    assert emu.call(lambda: emu.emulator.store.current("dst", ODD_KEYS[0]).size) == 10
    # Without the empty mark it names a version of "v": one this store never had.
    assert cli(["cp", f"s3://src/{ODD_KEYS[0]}", "s3://dst/y", *common]) == 1
    assert json.loads(capsys.readouterr().out)["source"] == "s3://src/v?versionId=abc"


def test_a_sync_settles_when_part_layouts_differ(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """A source of 8+8+4 MiB parts synced with 7 MiB parts: both ETags end in -3 and
    differ, which proves nothing; the second sync copies nothing."""
    emu = emulator_thread(dialect="s3", objects=["src/seed=20MiB", "dst/other=1"])
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1", "--json"]
    assert cli(["cp", "s3://src/seed", "s3://src/mp/a.bin", "--part-size", "8MiB", *common]) == 0
    sync = ["sync", "s3://src/mp", "s3://dst/mp", "--part-size", "7MiB", *common]
    assert cli(sync) == 0 and cli(sync) == 0
    runs = [json.loads(line) for line in capsys.readouterr().out.splitlines()[1:]]
    assert [(r["ok"], r["skipped_same"]) for r in runs] == [(1, 0), (0, 1)]
    etags = emu.call(
        lambda: [
            emu.emulator.store.current(*o).etag for o in (("src", "mp/a.bin"), ("dst", "mp/a.bin"))
        ]
    )
    assert etags[0] != etags[1] and all(e.strip('"').endswith("-3") for e in etags)


def test_a_folder_marker_is_copied_into_a_prefix_and_passed_over_at_a_bucket_root(
    creds: None, emulator_thread: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = emulator_thread(dialect="s3")
    marked = [("src", "photos/", 0), ("src", "photos/a.jpg", 3), ("src", "photos/dir/", 0)]
    put(emu, [*marked, ("src", "photos/dir/b.jpg", 4), ("root", "x", 1)])
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1", "--json"]
    for _ in range(2):
        assert cli(["sync", "s3://src/photos", "s3://root", *common]) == 0
        assert cli(["sync", "s3://src/photos", "s3://root/in/", *common]) == 0
    runs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["ok"], r["failed"], r["skipped_same"]) for r in runs] == [
        (3, 0, 0),  # a.jpg, dir/, dir/b.jpg: the marker of photos/ itself has no name here
        (4, 0, 0),  # in/ is the marker's copy
        (0, 0, 3),
        (0, 0, 4),
    ]
    keys = emu.call(lambda: emu.emulator.store.keys("root"))
    assert keys == ["a.jpg", "dir/", "dir/b.jpg", "in/", "in/a.jpg", "in/dir/", "in/dir/b.jpg", "x"]


@pytest.mark.parametrize("spelling", ["HTTP://127.1:{port}/", "http://127.0.0.1:{port}//"])
def test_one_store_spelled_two_ways_is_still_refused_an_overlap(
    creds: None,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    """Without the folding, ``cp --recursive s3://ov/a s3://ov/a/z`` copied its own output
    page after page (a/z/z/z/...)."""
    sock, url = listener
    other = spelling.format(port=sock.getsockname()[1])
    argv = ["cp", "--recursive", "s3://ov/a", "s3://ov/a/z", "--endpoint-url", url]
    status = cli([*argv, "--dst-endpoint-url", other])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "overlaps" in err, err
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_canonical_endpoints_fold_spellings_of_one_store_and_only_those() -> None:
    from partcopy.config import canonical_endpoint as c

    assert c("HTTP://127.1:9000/") == c("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    assert c("https://S3.Example.TEST") == c("https://s3.example.test:443")
    assert c("http://[0:0:0:0:0:0:0:1]:80") == c("http://[::1]") == "http://::1:80"
    assert c("http://0x7f.1:80") == c("http://127.0.0.1")
    assert c("http://127.0.0.1:9000") != c("http://127.0.0.1:9001")
    assert c("http://s3.example.test") != c("https://s3.example.test")
    assert c("http://1234.example.test") == "http://1234.example.test:80"  # a name: as it is


@pytest.mark.parametrize(
    "argv",
    [
        ["cp", "s3://src/k", "s3://dst/k", "--max-attempts", "1", "--json"],
        ["sync", "s3://src/p/", "s3://dst/q/", "--max-attempts", "1", "--json"],
    ],
    ids=["cp", "sync"],
)
def test_timeouts_bound_a_store_that_never_answers(
    creds: None,
    listener: tuple[socket.socket, str],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    """The listener takes the connection (the kernel's backlog) and never answers: by
    default an attempt waits 10 s to connect plus 60 s for the answer, one deadline for
    both; the flags make it a second."""
    _, url = listener
    extra = ["--endpoint-url", url, "--region", "ap-test-1"]
    status = cli([*argv, *extra, "--connect-timeout", "0.8", "--read-timeout", "0.2"])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert status == 1 and "no answer in time" in json.dumps(doc["error"]), out


def test_ls_into_a_reader_that_stops_early_ends_quietly(creds: None) -> None:
    """`partcopy ls ... | head -1`: the pipe closes while ls still writes; it stops with
    SIGPIPE's status and no traceback."""
    store = MemoryStore("s3")
    store.create_bucket("src")
    for i in range(4000):  # ~180 KB of lines: more than a pipe holds
        store.put_object("src", f"t/k{i:05d}", b"x")
    with EmulatorThread(dialect="s3", store=store) as emu:
        proc = subprocess.Popen(
            [sys.executable, "-m", "partcopy", "ls", "s3://src/t/", "--endpoint-url", emu.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        assert proc.stdout is not None and proc.stdout.readline().endswith(b" k00000\n")
        proc.stdout.close()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == SIGPIPE_STATUS and b"Traceback" not in err, err


def test_a_silent_store_is_said_once_at_the_default_level(
    creds: None, listener: tuple[socket.socket, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each attempt waits a whole deadline: the first timeout that will be retried is a
    warning (the default level shows it), not only an info line."""
    _, url = listener
    argv = ["cp", "s3://src/k", "s3://dst/k", "--endpoint-url", url, "--region", "ap-test-1"]
    argv += ["--connect-timeout", "0.4", "--read-timeout", "0.1", "--max-attempts", "3"]
    assert cli(argv) == 1
    err = capsys.readouterr().err
    assert err.count("no answer in time: retrying") == 1, err
