"""Every benchmark scenario runs end to end at ``--quick`` sizes and writes its results.

These are smoke tests of the harness (emulator processes, contenders in their own
processes, tables, JSON and PNG); they assert on what was produced, never on timings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.run import SCENARIOS, main

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario_runs_quick_and_writes_json_and_png(scenario: str, tmp_path: Path) -> None:
    assert main([scenario, "--quick", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / f"{scenario}.json").read_text())
    assert data["scenario"] == scenario
    assert data["quick"] is True
    assert data["machine"]["cores"] >= 1
    assert "--quick" in data["command"]
    rows = data["rows"]
    partcopy = [r for r in rows if r["contender"] == "partcopy"]
    assert partcopy, rows
    assert all(r["ok"] for r in partcopy), [r["error"] for r in partcopy]
    for row in rows:
        if row["contender"] == "rclone" and not data["machine"]["rclone"]:
            assert not row["ok"] and row["error"].startswith("absent")
    for target in data["targets"]:
        assert set(target) == {"name", "measured", "limit", "op", "met"}
    assert (tmp_path / f"{scenario}.png").read_bytes()[:4] == b"\x89PNG"
    for row in partcopy:  # schedule-like rows: the plot's error bars are the repeats' spread
        if "vs_ideal" in row:
            assert row["vs_ideal_min"] <= row["vs_ideal"] <= row["vs_ideal_max"]
    if scenario == "schedule":  # the floor, which the other rows are read against, ran
        floor = [r for r in rows if r["contender"] == "floor"]
        assert floor and all(r["ok"] for r in floor), [r["error"] for r in floor]
        assert all(r["parts"] == data["params"]["parts"] for r in floor)
