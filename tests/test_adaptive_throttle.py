"""Throttling through the wire: the store's SlowDown answers reach the copy's concurrency
limiter, which lowers its limit when adaptive and keeps it when fixed, and the client counts
exactly the throttled answers the store sent.

The store throttles a counted number of copy parts (``slowdown:1@copy_part#K``: the first K
copy-part requests it sees), so every count here is the same on a loaded machine as on an
idle one. How far adaptive concurrency beats a fixed 4×N against a store that refuses
whatever goes beyond N in flight depends on how requests overlap in time; that claim is
proven on scheduler turns in ``test_adaptive.py`` (``ThrottlingStore``) and measured with
the emulator's ``throttle:N`` by ``python -m benchmarks.run throttle``.
"""

from __future__ import annotations

import json

import anyio
import pytest

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.engine.events import ConcurrencyChanged, Event
from partcopy.engine.result import CopyResult
from partcopy.engine.retry import RetryPolicy

MAX = 8
MiB = 1024**2
PARTS = 16
THROTTLED = MAX
"""The store answers SlowDown to its first eight copy-part requests: the first window."""
FAULT = f"slowdown:1@copy_part#{THROTTLED}"
CREDS = {
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}
RETRY = RetryPolicy(max_attempts=THROTTLED + 2, initial=0.002, cap=0.02)


def copy_once(adaptive: bool) -> tuple[CopyResult, int, list[Event]]:
    """One copy at concurrency ``MAX`` through a fresh emulator with the counted throttle."""
    events: list[Event] = []
    with EmulatorThread(
        dialect="s3",
        objects=[f"src-bkt/big.bin={PARTS * 5 * MiB}", "dst-bkt/keep=0"],
        faults=[FAULT],
    ) as emu:

        async def main() -> CopyResult:
            async with Copier(
                concurrency=MAX,
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
    return result, stats.faults.get("slowdown", 0), events


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[CopyResult, int, list[Event]]]:
    return {"fixed": copy_once(False), "adaptive": copy_once(True)}


def test_the_client_counts_every_throttled_answer_the_store_sent(
    runs: dict[str, tuple[CopyResult, int, list[Event]]],
) -> None:
    for result, store_throttled, _ in runs.values():
        assert result.parts == PARTS
        assert store_throttled == THROTTLED
        assert result.concurrency is not None
        assert result.concurrency.throttled == THROTTLED


def test_adaptive_lowers_its_limit_and_fixed_keeps_it(
    runs: dict[str, tuple[CopyResult, int, list[Event]]],
) -> None:
    fixed, _, fixed_events = runs["fixed"]
    adaptive, _, events = runs["adaptive"]
    assert fixed.concurrency is not None and adaptive.concurrency is not None
    assert (fixed.concurrency.max, fixed.concurrency.final, fixed.concurrency.min) == (8, 8, 8)
    assert not [e for e in fixed_events if isinstance(e, ConcurrencyChanged)]
    # A whole window throttled is overload: the limit is halved at least once.
    assert adaptive.concurrency.max == MAX
    assert adaptive.concurrency.min <= MAX // 2
    changes = [e for e in events if isinstance(e, ConcurrencyChanged)]
    assert changes and changes[0].limit == MAX // 2
    assert all(e.job_id == adaptive.job_id for e in changes)
    assert adaptive.as_dict()["concurrency"] == adaptive.concurrency.as_dict()


@pytest.mark.parametrize("fixed", [False, True], ids=["adaptive", "fixed"])
def test_cp_json_reports_concurrency_and_can_keep_it_fixed(
    fixed: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from partcopy.cli import main

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    with EmulatorThread(
        dialect="s3",
        objects=[f"src-bkt/big.bin={MAX * 5 * MiB}", "dst-bkt/keep=0"],
        faults=[FAULT],
    ) as emu:
        argv = ["cp", "s3://src-bkt/big.bin", "s3://dst-bkt/c.bin", "--endpoint-url", emu.url]
        argv += ["--part-size", "5MiB", "--concurrency", str(MAX), "--max-attempts", "20"]
        status = main([*argv, "--json", *(["--fixed-concurrency"] if fixed else [])])
        store_throttled = emu.call(emu.emulator.stats).faults.get("slowdown", 0)
    doc = json.loads(capsys.readouterr().out)
    assert status == 0 and doc["status"] == "completed"
    conc = doc["concurrency"]
    assert conc["adaptive"] is not fixed and conc["max"] == MAX
    assert conc["throttled"] == store_throttled == THROTTLED
    if fixed:
        assert conc["final"] == conc["min"] == MAX
    else:
        assert conc["min"] <= MAX // 2
