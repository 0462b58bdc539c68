"""The crash campaign script runs end to end: one kill-and-rerun trial, nothing torn or
orphaned (the README's figure comes from ``python -m benchmarks.chaos --trials 30``)."""

from __future__ import annotations

import json

import pytest
from benchmarks import chaos


@pytest.mark.slow
def test_a_trial_of_the_crash_campaign(capsys: pytest.CaptureFixture[str]) -> None:
    status = chaos.main(["--trials", "1", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["trials"] == 1
    assert [t["stage"] for t in report["trials"]] == ["create"]
    assert report["totals"]["torn"] == report["totals"]["orphaned"] == 0
    assert report["totals"]["bad_exits"] == 0 and status == 0
