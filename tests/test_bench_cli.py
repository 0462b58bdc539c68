"""``partcopy bench`` against the emulator: an object sweep and a prefix sweep, a table or
one JSON object, a PNG plot; it writes only under the named scratch prefix and leaves
nothing there; bad input is exit 2 with one line before any request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.bench import RequestTimes
from partcopy.store.memory import MemoryStore
from partcopy.units import MiB


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    store = MemoryStore("s3")
    for bucket in ("src", "scratch"):
        store.create_bucket(bucket)
    store.put_virtual("src", "big", 24 * MiB)
    for i in range(12):
        store.put_object("src", f"many/k{i}", f"small {i}".encode() * 30)
    store.put_object("scratch", "mine/keep", b"the user's own object")
    with EmulatorThread(dialect="s3", store=store) as emu:
        yield emu


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)


def scratch_keys(emu: EmulatorThread) -> list[str]:
    return emu.call(lambda: emu.emulator.store.keys("scratch"))


def src_keys(emu: EmulatorThread) -> list[str]:
    return emu.call(lambda: emu.emulator.store.keys("src"))


def requests(emu: EmulatorThread) -> int:
    return emu.call(emu.emulator.stats).requests


def test_object_sweep_json_plot_and_cleanup(
    emulator: EmulatorThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = src_keys(emulator)
    plot = tmp_path / "sweep.png"
    argv = ["bench", "--endpoint-url", emulator.url, "s3://src/big", "s3://scratch/mine/"]
    code = main([*argv, "--part-sizes", "5MiB,8MiB", "--concurrency", "1,4", "--json"])
    code_plot = main([*argv, "--part-sizes", "8MiB", "--concurrency", "2", "--plot", str(plot)])
    out = capsys.readouterr().out
    doc = json.loads(out.splitlines()[0])
    assert code == 0 and code_plot == 0 and doc["kind"] == "object"
    points = doc["points"]
    assert [(p["part_size"], p["concurrency"]) for p in points] == [
        (5 * MiB, 1),
        (5 * MiB, 4),
        (8 * MiB, 1),
        (8 * MiB, 4),
    ]
    assert all(p["bytes"] == 24 * MiB and p["error"] is None for p in points)
    assert [p["asked_part_size"] for p in points] == [p["part_size"] for p in points]
    assert [p["requests"] for p in points] == [5, 5, 3, 3]  # one UploadPartCopy per part
    assert all(0 < p["p50_ms"] <= p["p99_ms"] and p["throttle_rate"] == 0 for p in points)
    assert "MiB/s" in out and plot.read_bytes().startswith(b"\x89PNG")
    assert scratch_keys(emulator) == ["mine/keep"]  # every copy deleted, the user's kept
    assert src_keys(emulator) == before  # nothing written next to the source


def test_a_point_reports_the_part_size_used_and_the_one_asked(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """The planner raises 1 B to S3's 5 MiB floor, and a 6 GiB part (over the 5 GiB
    ceiling) of a 24 MiB object is the whole object in one part: each point says so."""
    argv = ["bench", "--endpoint-url", emulator.url, "s3://src/big", "s3://scratch/mine/"]
    argv += ["--part-sizes", "1,6GiB", "--concurrency", "2"]
    assert main([*argv, "--json"]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert [(p["part_size"], p["asked_part_size"]) for p in points] == [
        (5 * MiB, 1),
        (24 * MiB, 6 * 1024 * MiB),
    ]
    assert [p["requests"] for p in points] == [5, 1]
    assert main(argv) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows[0].split()[:2] == ["5", "MiB"] and rows[0].endswith("(asked 1 B)")
    assert rows[1].split()[:2] == ["24", "MiB"] and rows[1].endswith("(asked 6 GiB)")
    assert scratch_keys(emulator) == ["mine/keep"]


def test_prefix_sweep_counts_objects_per_second_and_throttles(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.call(lambda: emulator.emulator.set_faults(["slowdown:1@copy_object#3"], seed=3))
    try:
        code = main(
            [
                *("bench", "--endpoint-url", emulator.url, "s3://src/many/", "s3://scratch/t/"),
                *("--concurrency", "2,8", "--max-objects", "10", "--json"),
            ]
        )
    finally:
        emulator.call(lambda: emulator.emulator.set_faults([]))
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["kind"] == "prefix"
    assert [(p["concurrency"], p["objects"]) for p in doc["points"]] == [(2, 10), (8, 10)]
    assert sum(p["throttled"] for p in doc["points"]) == 3  # the first three CopyObjects
    for p in doc["points"]:  # one CopyObject per object, plus a retry per throttle
        assert p["requests"] == 10 + p["throttled"]
        assert p["throttle_rate"] == pytest.approx(p["throttled"] / p["requests"], abs=1e-4)
    assert scratch_keys(emulator) == ["mine/keep"]


def test_latency_percentiles_are_of_answered_copies_not_of_refusals(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store takes 40 ms for every copy but refuses six at once (503 SlowDown): more
    than half the requests, yet no copy took under 40 ms, so neither can p50; the
    refusals still count in ``requests`` and the throttle rate."""

    def slow_and_throttling(latency_ms: float, faults: list[str]) -> None:
        emulator.emulator.latency_ms = latency_ms
        emulator.emulator.set_faults(faults, seed=3)

    emulator.call(lambda: slow_and_throttling(40.0, ["slowdown:1@copy_object#6"]))
    try:
        code = main(
            [
                *("bench", "--endpoint-url", emulator.url, "s3://src/many/", "s3://scratch/t/"),
                *("--concurrency", "2", "--max-objects", "4", "--json"),
            ]
        )
    finally:
        emulator.call(lambda: slow_and_throttling(0.0, []))
    (point,) = json.loads(capsys.readouterr().out)["points"]
    assert code == 0 and point["objects"] == 4
    assert (point["requests"], point["throttled"]) == (10, 6)
    assert point["throttle_rate"] == pytest.approx(0.6)
    assert 40.0 <= point["p50_ms"] <= point["p99_ms"]


@pytest.mark.parametrize(
    ("n", "q", "rank"),
    [(10, 0.5, 5), (100, 0.99, 99), (100, 0.5, 50), (2, 0.5, 1), (1, 0.99, 1), (200, 0.99, 198)],
)
def test_percentiles_are_the_nearest_rank(n: int, q: float, rank: int) -> None:
    """Latencies of 1..n ms: the q quantile is the ceil(q * n)-th smallest, whatever the
    parity of q * n (p50 of ten is the fifth, p99 of a hundred is not the maximum)."""
    times = RequestTimes(latencies=[i / 1000 for i in range(n, 0, -1)])
    assert times.percentile(q) == pytest.approx(float(rank))


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["s3://src/big"], "DST_PREFIX"),
        (["s3://src/big", "s3://scratch/no-slash"], "no-slash"),
        (["s3://src/big", "s3://scratch/t/", "--part-sizes", "5MiB,zero"], "zero"),
        (["s3://src/big", "s3://scratch/t/", "--concurrency", "0"], "0"),
        (["s3://src/big", "s3://scratch/t/", "--concurrency", "4,,8"], "'4,,8'"),
        (["s3://src/big", "s3://scratch/t/", "--concurrency", "4,"], "'4,'"),
        (["s3://src/big", "s3://scratch/t/", "--part-sizes", "5MiB,,8MiB"], "'5MiB,,8MiB'"),
        (["nope://x/y", "s3://scratch/t/"], "nope://x/y"),
        (["s3://src/many/", "s3://src/many/tmp/"], "s3://src/many/tmp/"),
        (["s3://src/many/", "s3://src/"], "s3://src/"),
        (["s3://src/big", "s3://scratch/t/", "--provider", "nope"], "nope"),
        (["s3://src/big", "s3://scratch/t/", "--ca-bundle", "/no/such/ca.pem"], "ca.pem"),
        (["s3://src/big", "s3://scratch/t/", "--proxy", "ftp://127.0.0.1:1"], "ftp://"),
        (["s3://src/big", "s3://scratch/t/", "--plot", "/no/such/dir/p.png"], "p.png"),
    ],
)
def test_bad_input_is_one_line_and_no_request(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    before = requests(emulator)
    try:
        code = main(["bench", "--endpoint-url", emulator.url, *argv])
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and named in err[0], err
    assert requests(emulator) == before


def test_what_cannot_be_deleted_is_named_and_fails_the_run(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store that refuses the bench's deletes: exit 1, and stderr and the JSON name every
    object left behind, so the user can remove them (they are really there)."""
    emulator.call(lambda: emulator.emulator.set_faults(["500:1@delete"], seed=1))
    try:
        code = main(
            [
                *("bench", "--endpoint-url", emulator.url, "s3://src/big", "s3://scratch/d/"),
                *("--part-sizes", "8MiB", "--concurrency", "2", "--max-attempts", "1"),
                *("--provider", "minio", "--json"),
            ]
        )
    finally:
        emulator.call(lambda: emulator.emulator.set_faults([]))
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    left = doc["left_behind"]
    assert code == 1 and len(left) == 1 and doc["points"][0]["left_behind"] == left
    assert doc["points"][0]["error"] is None and doc["points"][0]["bytes"] == 24 * MiB
    assert left[0] in captured.err and "could not delete 1 object(s)" in captured.err
    key = left[0].removeprefix("s3://scratch/")
    assert key in scratch_keys(emulator)
    emulator.call(lambda: emulator.emulator.store.delete_object("scratch", key))
    assert scratch_keys(emulator) == ["mine/keep"]


def test_a_point_that_fails_after_complete_is_still_cleaned_up(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """Complete happened but its answer carried no ETag, on a store whose copied parts'
    ETags prove nothing (SeaweedFS's row), so the destination cannot prove it either: the
    point fails, and the object the store did assemble is deleted all the same."""
    completes = len(emulator.call(emulator.emulator.stats).completes)
    emulator.call(lambda: emulator.emulator.set_faults(["noetag:1@complete"], seed=1))
    try:
        code = main(
            [
                *("bench", "--endpoint-url", emulator.url, "s3://src/big", "s3://scratch/f/"),
                *("--part-sizes", "8MiB", "--concurrency", "2", "--max-attempts", "1", "--json"),
                *("--provider", "seaweedfs"),
            ]
        )
    finally:
        emulator.call(lambda: emulator.emulator.set_faults([]))
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["points"][0]["error"] and doc["left_behind"] == []
    assert len(emulator.call(emulator.emulator.stats).completes) == completes + 1  # it did
    assert scratch_keys(emulator) == ["mine/keep"]


def test_a_prefix_sweep_copies_and_deletes_keys_no_url_can_carry(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """``odd/v?versionId=x`` is a key of its own, not a version of ``odd/v``."""
    odd = ("v?versionId=x", "tab\tkey", "v")
    emulator.call(
        lambda: [emulator.emulator.store.put_object("src", f"odd/{k}", b"o" * 40) for k in odd]
    )
    code = main(
        [
            *("bench", "--endpoint-url", emulator.url, "s3://src/odd/", "s3://scratch/o/"),
            *("--concurrency", "2", "--json"),
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["points"][0]["objects"] == 3 and doc["points"][0]["error"] is None
    assert doc["points"][0]["requests"] == 3  # one CopyObject each, none refused
    assert scratch_keys(emulator) == ["mine/keep"]


def test_a_prefix_point_whose_copies_failed_counts_only_what_was_copied(
    emulator: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = src_keys(emulator)
    sizes = emulator.call(lambda: {k: emulator.emulator.store.get("src", k).size for k in keys})
    emulator.call(lambda: emulator.emulator.set_faults(["500:1@copy_object#2"], seed=3))
    try:
        code = main(
            [
                *("bench", "--endpoint-url", emulator.url, "s3://src/many/", "s3://scratch/f/"),
                *("--concurrency", "1", "--max-objects", "10", "--max-attempts", "1", "--json"),
            ]
        )
    finally:
        emulator.call(lambda: emulator.emulator.set_faults([]))
    doc = json.loads(capsys.readouterr().out)
    (point,) = doc["points"]
    assert code == 1 and point["error"]
    listed = sorted(k for k in sizes if k.startswith("many/"))[:10]
    copied = listed[2:]  # one at a time: the first two CopyObjects failed
    assert (point["objects"], point["bytes"]) == (8, sum(sizes[k] for k in copied))
    assert point["mib_per_s"] == pytest.approx(
        point["bytes"] / 1024**2 / point["seconds"], rel=0.05
    )
    assert scratch_keys(emulator) == ["mine/keep"]
