"""Bulk manifests: JSON lines and CSV, streamed, every bad line reported by number."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partcopy.engine.manifest import (
    ManifestEntry,
    ManifestProblem,
    detect_format,
    read_manifest,
)
from partcopy.engine.report import BulkSummary, ObjectOutcome, ReportWriter, read_report
from partcopy.errors import ConfigError, UsageError


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_jsonl_entries_and_problems_by_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.jsonl",
        '{"src": "s3://a/k1", "dst": "cos://b-1250000000/k1"}\n'
        "\n"
        "not json\n"
        '{"src": "s3://a/k2"}\n'
        '["s3://a/k3", "s3://b/k3"]\n'
        '{"src": "ftp://a/k4", "dst": "s3://b/k4"}\n'
        '{"src": "s3://a", "dst": "s3://b/k5"}\n'
        '{"src": 7, "dst": "s3://b/k6"}\n'
        '{"src": "s3://a/same", "dst": "s3://a/same"}\n'
        '{"src": "qs://a/k%20x", "dst": "obs://b/dir/k x"}\n',
    )
    items = list(read_manifest(path))
    assert items[0] == ManifestEntry(1, "s3://a/k1", "cos://b-1250000000/k1")
    assert items[-1] == ManifestEntry(10, "qs://a/k%20x", "obs://b/dir/k x")
    problems = {p.line: p.reason for p in items if isinstance(p, ManifestProblem)}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9]
    assert "not valid JSON" in problems[3]
    assert "missing 'dst'" in problems[4]
    assert "JSON object" in problems[5]
    assert "unknown scheme" in problems[6]
    assert "no object key" in problems[7]
    assert "not a string" in problems[8]
    assert "same object" in problems[9]


def test_csv_with_header_quotes_and_bad_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.csv",
        "src,dst\n"
        "s3://a/k1,s3://b/k1\n"
        '"s3://a/with,comma","s3://b/with,comma"\n'
        "s3://a/only-one-field\n"
        "s3://a/x,s3://b/x,extra\n"
        '"s3://a/unterminated,s3://b/y\n',
    )
    items = list(read_manifest(path))
    assert items[0] == ManifestEntry(2, "s3://a/k1", "s3://b/k1")
    assert items[1] == ManifestEntry(3, "s3://a/with,comma", "s3://b/with,comma")
    assert [(p.line, type(p)) for p in items[2:]] == [
        (4, ManifestProblem),
        (5, ManifestProblem),
        (6, ManifestProblem),
    ]


def test_format_detected_by_content_and_extension(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path, "a.txt", '\n{"src": 1}\n')) == "jsonl"
    assert detect_format(write(tmp_path, "b.txt", "s3://a/k,s3://b/k\n")) == "csv"
    assert detect_format(write(tmp_path, "c.csv", '{"x": 1}\n')) == "csv"
    assert detect_format(tmp_path / "missing.jsonl") == "jsonl"
    with pytest.raises(ConfigError, match=r"missing\.txt"):
        detect_format(tmp_path / "missing.txt")
    with pytest.raises(ConfigError, match=r"missing\.jsonl"):
        list(read_manifest(tmp_path / "missing.jsonl"))


def test_undecodable_and_overlong_lines_are_problems(tmp_path: Path) -> None:
    good = b'{"src": "s3://a/k", "dst": "s3://b/k"}\n'
    other = b'{"src": "s3://a/k", "dst": "s3://b/l"}\n'
    path = write(tmp_path, "m.jsonl", good + b"\xff\xfe\n" + b"x" * 200_000 + b"\n" + other)
    items = list(read_manifest(path))
    assert [type(i).__name__ for i in items] == [
        "ManifestEntry",
        "ManifestProblem",
        "ManifestProblem",
        "ManifestEntry",
    ]
    assert [i.line for i in items] == [1, 2, 3, 4]
    assert "UTF-8" in items[1].reason  # type: ignore[union-attr]
    assert "longer than" in items[2].reason  # type: ignore[union-attr]


def test_shards_partition_lines_by_number(tmp_path: Path) -> None:
    lines = [json.dumps({"src": f"s3://a/{i}", "dst": f"s3://b/{i}"}) for i in range(10)]
    lines[4] = "{broken"
    path = write(tmp_path, "m.jsonl", "\n".join(lines) + "\n")
    shards = [list(read_manifest(path, shard=(k, 3))) for k in range(3)]
    assert sorted(i.line for s in shards for i in s) == list(range(1, 11))
    for k, shard in enumerate(shards):
        assert all((i.line - 1) % 3 == k for i in shard)
    with pytest.raises(UsageError, match="shard"):
        list(read_manifest(path, shard=(3, 3)))


def test_reading_is_streamed_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        for i in range(50_000):
            fh.write(f'{{"src": "s3://a/{i:08d}", "dst": "s3://b/{i:08d}"}}\n')
    tracemalloc.start()
    try:
        count = 0
        for item in read_manifest(path):
            count += isinstance(item, ManifestEntry)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 512 * 1024  # the file is ~2.5 MB: it was never held whole


urls = st.from_regex(
    r"((s3|obs|qs)://[a-z0-9][a-z0-9-]{1,10}[a-z0-9]|cos://[a-z0-9]{1,10}-[0-9]{5,10})"
    r"/[A-Za-z0-9_./ -]{1,20}",
    fullmatch=True,
)  # a COS bucket carries its appid


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(urls, urls).filter(lambda p: p[0] != p[1]),
        max_size=30,
        unique_by=lambda p: p[1],  # a repeated destination is a problem of its own
    ),
    bad=st.sets(st.integers(min_value=0, max_value=40), max_size=5),
    csv_format=st.booleans(),
)
def test_every_bad_line_is_reported_exactly(
    tmp_path: Path, rows: list[tuple[str, str]], bad: set[int], csv_format: bool
) -> None:
    bad_line = "only-one-field" if csv_format else "{oops"
    lines: list[str] = []
    expected_bad: list[int] = []
    pending = list(rows)
    while pending or len(expected_bad) < len(bad):
        if len(lines) in bad or not pending:
            lines.append(bad_line)
            expected_bad.append(len(lines))
            continue
        src, dst = pending.pop(0)
        lines.append(f'"{src}","{dst}"' if csv_format else json.dumps({"src": src, "dst": dst}))
    path = write(tmp_path, "m.csv" if csv_format else "m.jsonl", "\n".join(lines) + "\n")
    items = list(read_manifest(path))
    assert [p.line for p in items if isinstance(p, ManifestProblem)] == expected_bad
    assert [(e.src, e.dst) for e in items if isinstance(e, ManifestEntry)] == rows


def test_report_lines_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    with out.open("w") as fh:
        writer = ReportWriter(fh)
        writer.write(ObjectOutcome(1, "s3://a/k", "s3://b/k", "ok", 10, 1, '"e"', 2, "single"))
        writer.write(ObjectOutcome(2, "s3://a/l", "s3://b/l", "skipped", 5, 1, '"f"'))
        writer.write(ObjectOutcome(3, None, None, "invalid"))
        summary = writer.summary(2.0)
    back = list(read_report(out.read_text().splitlines()))
    assert [o.status for o in back] == ["ok", "skipped", "invalid"]
    assert back[0] == ObjectOutcome(1, "s3://a/k", "s3://b/k", "ok", 10, 1, '"e"', 2, "single")
    assert summary == BulkSummary(3, 1, 0, 1, 1, 10, 2, 2.0, {"single": 1})
    assert summary.objects_per_second == 1.5 and not summary.succeeded
    merged = summary.merged(BulkSummary(objects=2, ok=2, bytes=4, seconds=3.0))
    assert merged.as_dict()["objects"] == 5 and merged.seconds == 3.0
    assert merged.as_dict()["status"] == "failed"


def test_lines_may_carry_the_source_size_and_etag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.jsonl",
        '{"src": "s3://a/k1", "dst": "s3://b/k1", "size": 12, "etag": "\\"0123\\""}\n'
        '{"src": "s3://a/k2", "dst": "s3://b/k2", "size": 12}\n'
        '{"src": "s3://a/k3", "dst": "s3://b/k3", "size": -1, "etag": "e"}\n'
        '{"src": "s3://a/k4", "dst": "s3://b/k4", "size": true, "etag": "e"}\n'
        '{"src": "s3://a/k5", "dst": "s3://b/k5", "size": 5, "etag": ""}\n',
    )
    items = list(read_manifest(path))
    first = items[0]
    assert isinstance(first, ManifestEntry) and first.facts is not None
    assert (first.facts.key, first.facts.size, first.facts.etag) == ("k1", 12, '"0123"')
    reasons = [p.reason for p in items[1:] if isinstance(p, ManifestProblem)]
    assert len(reasons) == 4
    assert "go together" in reasons[0]
    assert "-1" in reasons[1] and "True" in reasons[2] and "'etag'" in reasons[3]


def test_csv_lines_may_carry_size_and_etag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.csv",
        "src,dst,size,etag\ns3://a/k1,s3://b/k1,7,abc\ns3://a/k2,s3://b/k2,x,abc\n"
        "s3://a/k3,s3://b/k3,7\n",
    )
    items = list(read_manifest(path))
    assert isinstance(items[0], ManifestEntry) and items[0].facts is not None
    assert (items[0].facts.size, items[0].facts.etag) == (7, "abc")
    assert isinstance(items[1], ManifestProblem) and "'x'" in items[1].reason
    assert isinstance(items[2], ManifestProblem) and "found 3" in items[2].reason
