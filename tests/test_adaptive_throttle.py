"""The throttling scenario, small: an emulator that answers SlowDown beyond N copy parts in
flight. Adaptive concurrency settles at about N and draws far fewer throttled answers than
the same copy at a fixed 4×N. Assertions are on counts (store and client), never on time.
"""

from __future__ import annotations

import anyio
import pytest

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.engine.events import ConcurrencyChanged, Event
from partcopy.engine.result import CopyResult
from partcopy.engine.retry import RetryPolicy

N = 2
MiB = 1024**2
PARTS = 40
CREDS = {
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}
# Short backoffs keep the test quick; enough attempts that the fixed copy finishes too.
RETRY = RetryPolicy(max_attempts=200, initial=0.002, cap=0.02)


def copy_once(adaptive: bool) -> tuple[CopyResult, int, list[Event]]:
    """One copy at max concurrency 4×N through a fresh throttling emulator."""
    events: list[Event] = []
    with EmulatorThread(
        dialect="s3",
        objects=[f"src-bkt/big.bin={PARTS * 5 * MiB}", "dst-bkt/keep=0"],
        latency_ms=10,  # copies take long enough to overlap, so in-flight counts matter
        faults=[f"throttle:{N}"],
    ) as emu:

        async def main() -> CopyResult:
            async with Copier(
                concurrency=4 * N,
                endpoint_url=emu.url,
                env=CREDS,
                adaptive=adaptive,
                retry=RETRY,
                hedge=None,
                on_event=events.append,
            ) as copier:
                return await copier.copy(
                    "s3://src-bkt/big.bin", "s3://dst-bkt/copy.bin", part_size=5 * MiB
                )

        result = anyio.run(main)
        stats = emu.call(emu.emulator.stats)
    assert stats.parts_copied >= PARTS and stats.every_complete_issued
    return result, stats.faults.get("throttle", 0), events


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[CopyResult, int, list[Event]]]:
    return {"fixed": copy_once(False), "adaptive": copy_once(True)}


def test_adaptive_draws_far_fewer_throttled_answers_than_fixed_4n(
    runs: dict[str, tuple[CopyResult, int, list[Event]]],
) -> None:
    fixed, fixed_throttled, _ = runs["fixed"]
    adaptive, adaptive_throttled, _ = runs["adaptive"]
    assert fixed.parts == adaptive.parts == PARTS
    assert fixed_throttled > 4 * adaptive_throttled
    # The client saw every throttled answer the store sent (it counts what it reads).
    assert fixed.concurrency is not None and adaptive.concurrency is not None
    assert fixed.concurrency.throttled == fixed_throttled
    assert adaptive.concurrency.throttled == adaptive_throttled


def test_adaptive_settles_at_about_n_and_fixed_stays_at_4n(
    runs: dict[str, tuple[CopyResult, int, list[Event]]],
) -> None:
    fixed, _, _ = runs["fixed"]
    adaptive, _, events = runs["adaptive"]
    assert fixed.concurrency is not None and adaptive.concurrency is not None
    assert (fixed.concurrency.max, fixed.concurrency.final, fixed.concurrency.min) == (8, 8, 8)
    assert adaptive.concurrency.max == 4 * N
    assert adaptive.concurrency.min <= N
    # Where exactly it ends depends on how requests overlap in the store: below the start.
    assert adaptive.concurrency.final <= 2 * N
    changes = [e for e in events if isinstance(e, ConcurrencyChanged)]
    assert changes and changes[0].limit < 4 * N
    assert all(e.job_id == adaptive.job_id for e in changes)
    assert adaptive.as_dict()["concurrency"] == adaptive.concurrency.as_dict()


@pytest.mark.parametrize("fixed", [False, True], ids=["adaptive", "fixed"])
def test_cp_json_reports_concurrency_and_can_keep_it_fixed(
    fixed: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from partcopy.cli import main

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    with EmulatorThread(
        dialect="s3",
        objects=[f"src-bkt/big.bin={8 * 5 * MiB}", "dst-bkt/keep=0"],
        latency_ms=10,
        faults=[f"throttle:{N}"],
    ) as emu:
        argv = ["cp", "s3://src-bkt/big.bin", "s3://dst-bkt/c.bin", "--endpoint-url", emu.url]
        argv += ["--part-size", "5MiB", "--concurrency", str(4 * N), "--max-attempts", "100"]
        status = main([*argv, "--json", *(["--fixed-concurrency"] if fixed else [])])
        store_throttled = emu.call(emu.emulator.stats).faults.get("throttle", 0)
    doc = json.loads(capsys.readouterr().out)
    assert status == 0 and doc["status"] == "completed"
    conc = doc["concurrency"]
    assert conc["adaptive"] is not fixed and conc["max"] == 4 * N
    assert conc["throttled"] == store_throttled > 0
    if fixed:
        assert conc["final"] == conc["min"] == 4 * N
    else:
        assert conc["min"] < 4 * N
