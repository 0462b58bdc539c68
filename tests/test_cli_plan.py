"""``partcopy plan``: JSON schema, table output and every bad input."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from partcopy.cli import main
from partcopy.units import MiB


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "--profile", "cos", "--size", "5TiB", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert set(doc) >= {
        "profile",
        "size",
        "part_size",
        "part_count",
        "first_part_number",
        "parts",
        "adjustments",
    }
    parts = doc["parts"]
    assert len(parts) == doc["part_count"] <= 10_000
    assert parts[0][1] == 0 and parts[-1][2] == doc["size"] - 1
    for (n1, _, l1), (n2, f2, _) in itertools.pairwise(parts):
        assert n2 == n1 + 1 and f2 == l1 + 1
    assert all(last - first + 1 >= MiB for _, first, last in parts[:-1])


def test_issue_examples(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "plan", "--profile", "qingstor", "--size", "20MiB", "--part-size", "4MiB", "--json"
    )
    assert [p[0] for p in json.loads(out)["parts"]] == [0, 1, 2, 3, 4]
    _, out, _ = run(
        capsys, "plan", "--profile", "obs", "--size", "1MiB", "--part-size", "100KiB", "--json"
    )
    sizes = [last - first + 1 for _, first, last in json.loads(out)["parts"]]
    assert sizes == [102400] * 10 + [24576]
    _, out, _ = run(
        capsys, "plan", "--profile", "s3", "--size", "10GiB", "--part-size", "1MiB", "--json"
    )
    doc = json.loads(out)
    assert doc["part_size"] == 5 * MiB
    assert doc["adjustments"][0]["requested"] == MiB


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--profile", "s3", "--size", "1GiB", "--part-size", "8MiB")
    assert code == 0
    assert "multipart" in out and "128" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--profile", "s3", "--size", "-5"], "-5"),
        (["--profile", "s3", "--size", "12XB"], "12XB"),
        (["--profile", "azure", "--size", "1"], "azure"),
        (["--profile", "s3", "--size", "1GiB", "--concurrency", "0"], "0"),
        (["--profile", "s3", "--size", "1GiB", "--part-size", "0"], "0"),
        (["--profile", "s3", "--size", "60TiB"], "too large"),
        (["--profile", "s3", "--size", "1.5"], "1.5"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, "plan", *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "partcopy", "plan", "--profile", "s3", "--size", "60TiB"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "too large" in done.stderr
