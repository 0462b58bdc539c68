"""Crash campaign: kill a journaled ``partcopy cp`` at every stage, rerun it, count the damage.

Each trial starts ``partcopy cp --journal`` against the emulator (with faults: 503s, 500s,
resets, ETag-less answers, lost create answers, a slow Complete), sends it SIGKILL,
SIGTERM or SIGINT at one stage (upload created, half the parts, every part copied, after
Complete), then finishes the job with the same command or ``partcopy resume`` (faults off,
so every copy the store counts is one the rerun chose to make), and checks:

* torn: the destination's size or sampled byte ranges differ from the source's;
* orphaned: uploads the trial left open in the destination bucket after the rerun;
* recopied: parts the rerun copied although the store already held them (in the kept
  upload, or in the completed object);
* bad exits: a signal's exit status other than 128+N (or -9), a rerun that failed, or a
  traceback on stderr.

``python -m benchmarks.chaos`` runs a few trials; ``--trials 30`` gives the README figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread

SIZE = 256 * 1024 * 1024
PART = 8 * 1024 * 1024
PLANNED = SIZE // PART
STAGES = ("create", "parts", "complete", "after-complete")
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
FAULTS = (
    "slowdown:0.03",
    "500:0.02@copy_part,create,complete,abort",
    "reset:0.02@copy_part,complete",
    "noetag:0.02@copy_part",
    "truncated:0.3@create#1",
    "delay:1:0.4s@complete",
)
"""The killed run's faults: the create answer lost once, Complete slow enough to be hit."""
SAMPLES = 16
SAMPLE_SIZE = 64 * 1024
# Ctrl-C as on a terminal, even when this script runs where SIGINT is ignored.
ENTRY = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'partcopy'; from partcopy.cli import main; sys.exit(main())"
)


@dataclass(frozen=True)
class Trial:
    """What one kill-and-rerun left behind."""

    number: int
    stage: str
    signal: str
    exit_status: int
    rerun: str
    rerun_status: int
    torn: bool
    orphaned: int
    recopied: int
    tracebacks: int


class Store:
    """The emulator's store, read from this thread."""

    def __init__(self, emu: EmulatorThread) -> None:
        self.emu = emu

    def upload_parts(self, key: str) -> int | None:
        """Parts in the open upload of ``key`` (None when there is none)."""

        def count() -> int | None:
            uploads, _ = self.emu.emulator.store.list_uploads("dst", prefix=key)
            mine = [u for u in uploads if u.key == key]
            return max(len(u.parts) for u in mine) if mine else None

        return self.emu.call(count)

    def has_object(self, key: str) -> bool:
        def exists() -> bool:
            return key in self.emu.emulator.store.keys("dst")

        return self.emu.call(exists)

    def open_uploads(self) -> int:
        return self.emu.call(lambda: len(self.emu.emulator.store.list_uploads("dst")[0]))

    def settled_copies(self) -> int:
        """Parts copied once nothing is in flight (a dead client's requests may land)."""
        while self.emu.call(lambda: self.emu.emulator.stats().in_flight):
            time.sleep(0.005)
        return self.emu.call(lambda: self.emu.emulator.stats().parts_copied)

    def same_bytes(self, key: str, rng: random.Random) -> bool:
        def compare() -> bool:
            store = self.emu.emulator.store
            src, dst = store.get("src", "big").content, store.get("dst", key).content
            if src.size != dst.size:
                return False
            for _ in range(SAMPLES):
                first = rng.randrange(0, SIZE - SAMPLE_SIZE)
                last = first + SAMPLE_SIZE - 1
                if src.read(first, last) != dst.read(first, last):
                    return False
            return src.read(SIZE - 1, SIZE - 1) == dst.read(SIZE - 1, SIZE - 1)

        return self.emu.call(compare)


def _reached(store: Store, key: str, stage: str) -> bool:
    if stage == "after-complete":
        return store.has_object(key)
    parts = store.upload_parts(key)
    if parts is None:
        return False
    return stage == "create" or parts >= (PLANNED // 2 if stage == "parts" else PLANNED)


def _cp(url: str, key: str, journal: Path) -> list[str]:
    return [
        *("cp", "s3://src/big", f"s3://dst/{key}", "--endpoint-url", url),
        *("--part-size", str(PART), "--concurrency", "4", "--max-attempts", "20"),
        *("--journal", str(journal), "--json", "--quiet"),
    ]


def run_trial(number: int, store: Store, workdir: Path, env: dict[str, str]) -> Trial:
    """Kill one journaled copy at one stage with one signal, finish it, check the store."""
    stage = STAGES[number % len(STAGES)]
    sig = SIGNALS[(number // len(STAGES)) % len(SIGNALS)]
    key, journal = f"obj-{number}", workdir / f"trial-{number}.db"
    open_before = store.open_uploads()
    store.emu.call(lambda: store.emu.emulator.set_faults(FAULTS, seed=number))
    cmd = [sys.executable, "-c", ENTRY, *_cp(store.emu.url, key, journal)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while proc.poll() is None and not _reached(store, key, stage):
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    tracebacks = err.count(b"Traceback")
    store.emu.call(lambda: store.emu.emulator.set_faults([]))
    before = store.settled_copies()
    kept = store.upload_parts(key)
    needed = 0 if store.has_object(key) and kept is None else PLANNED - (kept or 0)
    rerun = "resume" if number % 2 else "cp"
    again = _cp(store.emu.url, key, journal) if rerun == "cp" else ["resume", "--journal"]
    if rerun == "resume":
        again.append(str(journal))
    done = subprocess.run(
        [sys.executable, "-m", "partcopy", *again],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    tracebacks += done.stderr.count(b"Traceback")
    copied = store.settled_copies() - before
    return Trial(
        number=number,
        stage=stage,
        signal=sig.name,
        exit_status=proc.returncode,
        rerun=rerun,
        rerun_status=done.returncode,
        torn=store.has_object(key) and not store.same_bytes(key, random.Random(number)),
        orphaned=store.open_uploads() - open_before,
        recopied=max(copied - needed, 0),
        tracebacks=tracebacks,
    )


def _bad_exit(trial: Trial) -> bool:
    expected = {-signal.SIGKILL, 128 + signal.SIGTERM, 128 + signal.SIGINT, 0}
    return trial.exit_status not in expected or trial.rerun_status != 0 or trial.tracebacks > 0


def summary(trials: list[Trial]) -> dict[str, int]:
    """The campaign's totals."""
    return {
        "trials": len(trials),
        "torn": sum(t.torn for t in trials),
        "orphaned": sum(t.orphaned for t in trials),
        "recopied_parts": sum(t.recopied for t in trials),
        "whole_object_recopied": sum(t.recopied >= PLANNED for t in trials),
        "bad_exits": sum(_bad_exit(t) for t in trials),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    parser.add_argument("--trials", type=int, default=4, help="kill-and-rerun trials (4)")
    parser.add_argument("--json", action="store_true", help="print the trials and totals")
    args = parser.parse_args(argv)
    env = {
        **os.environ,
        "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
    }
    trials: list[Trial] = []
    with (
        tempfile.TemporaryDirectory(prefix="partcopy-chaos-") as tmp,
        EmulatorThread(dialect="s3", latency_ms=5, objects=[f"src/big={SIZE}"]) as emu,
    ):
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))
        store = Store(emu)
        for number in range(args.trials):
            trial = run_trial(number, store, Path(tmp), env)
            trials.append(trial)
            if not args.json:
                print(
                    f"trial {trial.number:2d} {trial.signal:7s} at {trial.stage:14s} "
                    f"exit {trial.exit_status:4d}, {trial.rerun:6s} exit {trial.rerun_status}: "
                    f"torn {int(trial.torn)} orphaned {trial.orphaned} "
                    f"recopied {trial.recopied} tracebacks {trial.tracebacks}",
                    flush=True,
                )
    totals = summary(trials)
    if args.json:
        print(json.dumps({"totals": totals, "trials": [asdict(t) for t in trials]}))
    else:
        print(", ".join(f"{name.replace('_', ' ')} {value}" for name, value in totals.items()))
    return 0 if totals["torn"] == totals["orphaned"] == totals["bad_exits"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
