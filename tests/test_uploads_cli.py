"""``partcopy uploads list|abort`` against the emulator, in all four dialects."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from partcopy.cli import main
from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.thread import EmulatorThread


@dataclass(frozen=True)
class Case:
    dialect: str
    scheme: str
    bucket: str


CASES = [
    Case("s3", "s3", "bkt"),
    Case("obs", "obs", "bkt"),
    Case("cos", "cos", "bkt-1250000000"),
    Case("qingstor", "qs", "bkt"),
]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)


@pytest.fixture(params=CASES, ids=[c.dialect for c in CASES])
def setup(request: pytest.FixtureRequest) -> Iterator[tuple[Case, EmulatorThread, list[str]]]:
    case: Case = request.param
    with EmulatorThread(dialect=case.dialect) as emu:

        def make() -> list[str]:
            store = emu.emulator.store
            store.create_bucket(case.bucket)
            old = store.create_upload(case.bucket, "dir/old.bin")
            old.initiated = datetime.now(UTC) - timedelta(days=2)
            young = store.create_upload(case.bucket, "dir/young.bin")
            other = store.create_upload(case.bucket, "elsewhere.bin")
            return [old.upload_id, young.upload_id, other.upload_id]

        yield case, emu, emu.call(make)


def uploads(
    capsys: pytest.CaptureFixture[str], case: Case, emu: EmulatorThread, *args: str
) -> tuple[int, dict[str, list[dict[str, object]]]]:
    url = f"{case.scheme}://{case.bucket}/dir/"
    status = main(["uploads", args[0], url, "--endpoint-url", emu.url, "--json", *args[1:]])
    out = capsys.readouterr().out
    return status, json.loads(out) if out else {}


def open_ids(emu: EmulatorThread, bucket: str) -> set[str]:
    def ids() -> set[str]:
        page, _ = emu.emulator.store.list_uploads(bucket)
        return {u.upload_id for u in page}

    return emu.call(ids)


def test_list_then_abort_by_age(
    setup: tuple[Case, EmulatorThread, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    case, emu, (old, young, other) = setup

    status, listed = uploads(capsys, case, emu, "list")
    assert status == 0
    assert {u["upload_id"] for u in listed["uploads"]} == {old, young}

    status, listed = uploads(capsys, case, emu, "list", "--older-than", "1d")
    assert status == 0 and [u["upload_id"] for u in listed["uploads"]] == [old]

    status, done = uploads(capsys, case, emu, "abort", "--older-than", "1h")
    assert status == 0 and (listed["status"], done["status"], done["dry_run"]) == (
        "completed",
        "completed",
        False,
    )
    assert [u["upload_id"] for u in done["aborted"]] == [old]
    assert [u["upload_id"] for u in done["kept"]] == [young]
    assert open_ids(emu, case.bucket) == {young, other}

    status, done = uploads(capsys, case, emu, "abort", "--older-than", "0s")
    assert status == 0 and [u["upload_id"] for u in done["aborted"]] == [young]
    assert open_ids(emu, case.bucket) == {other}


def test_abort_needs_an_age_or_all_and_dry_run_aborts_nothing(
    setup: tuple[Case, EmulatorThread, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    case, emu, (old, young, other) = setup
    url = f"{case.scheme}://{case.bucket}/dir/"
    status = main(["uploads", "abort", url, "--endpoint-url", emu.url])
    err = capsys.readouterr().err.splitlines()
    assert status == 2 and len(err) == 1 and "--older-than DURATION or --all" in err[0]
    assert open_ids(emu, case.bucket) == {old, young, other}  # nothing was aborted

    status, plan = uploads(capsys, case, emu, "abort", "--all", "--dry-run")
    assert status == 0 and plan["dry_run"] is True
    assert {u["upload_id"] for u in plan["would_abort"]} == {old, young}
    status, plan = uploads(capsys, case, emu, "abort", "--older-than", "1h", "--dry-run")
    assert [u["upload_id"] for u in plan["would_abort"]] == [old]
    assert [u["upload_id"] for u in plan["kept"]] == [young]
    assert open_ids(emu, case.bucket) == {old, young, other}

    status, done = uploads(capsys, case, emu, "abort", "--all")
    assert status == 0 and {u["upload_id"] for u in done["aborted"]} == {old, young}
    assert open_ids(emu, case.bucket) == {other}


@pytest.mark.parametrize("flag", ["--all", "--dry-run"])
def test_list_refuses_abort_flags_before_any_request(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--all`` and ``--dry-run`` steer an abort: on list they would do nothing, silently."""
    with EmulatorThread(dialect="s3") as emu:
        status = main(["uploads", "list", "s3://bkt/", "--endpoint-url", emu.url, flag])
        assert emu.call(emu.emulator.stats).requests == 0
    err = capsys.readouterr().err.splitlines()
    assert status == 2 and len(err) == 1 and f"{flag} needs 'uploads abort'" in err[0]


@pytest.mark.parametrize(
    ("url", "named"), [("ftp://bkt/", "ftp://bkt/"), ("s3://Bad_Bucket/", "Bad_Bucket")]
)
def test_bad_location_is_exit_2_with_one_line(
    url: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["uploads", "list", url, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and named in err[0]


@pytest.mark.parametrize(
    "age", ["soon", "-1h", "5 parsecs", "3600", "99999999999d", "999999w", "1" + "0" * 400 + "s"]
)
def test_bad_age_is_exit_2_with_one_line(age: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["uploads", "abort", "s3://bkt/", f"--older-than={age}"])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and age in err[0]


def test_missing_credentials_is_exit_2_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PARTCOPY_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    assert main(["uploads", "list", "obs://bkt/", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "credentials" in err[0]


@pytest.mark.parametrize("action", [["list"], ["abort", "--all"]])
def test_a_failed_listing_still_prints_one_json_object(
    capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    with EmulatorThread(dialect="s3") as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("bkt"))
        emu.call(lambda: emu.emulator.set_faults(["500:1@list_uploads"], seed=1))
        status = main(["uploads", *action[:1], "s3://bkt/", "--endpoint-url", emu.url, "--json",
                       "--max-attempts", "1", *action[1:]])  # fmt: skip
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert status == 1 and doc["status"] == "failed" and "500" in doc["error"]["message"]


def test_abort_retries_a_transient_failure(capsys: pytest.CaptureFixture[str]) -> None:
    """One 500 to an abort is retried, as a copy's requests are; with one attempt it fails."""
    with EmulatorThread(dialect="s3") as emu:

        def make() -> None:
            emu.emulator.store.create_bucket("bkt")
            emu.emulator.store.create_upload("bkt", "fa/00000")

        for attempts, status, left in (("1", 1, 1), ("3", 0, 0)):
            emu.call(make)
            emu.call(lambda: emu.emulator.set_faults(["500:1@abort#1"], seed=1))
            argv = ["uploads", "abort", "s3://bkt/fa/", "--endpoint-url", emu.url, "--all"]
            assert main([*argv, "--max-attempts", attempts, "--json"]) == status
            doc = json.loads(capsys.readouterr().out)
            assert len(doc["failed"]) == left and len(doc["aborted"]) == 1 - left
            emu.call(lambda: emu.emulator.store.reset())


def test_abort_by_upload_id_aborts_that_one_and_refuses_an_unknown_id(
    setup: tuple[Case, EmulatorThread, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    case, emu, (old, young, other) = setup
    url = f"{case.scheme}://{case.bucket}/dir/young.bin"
    base = ["uploads", "abort", url, "--endpoint-url", emu.url, "--json"]

    assert main([*base, "--upload-id", young, "--dry-run"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [u["upload_id"] for u in doc["would_abort"]] == [young]
    assert open_ids(emu, case.bucket) == {old, young, other}

    assert main([*base, "--upload-id", young]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [u["upload_id"] for u in doc["aborted"]] == [young]
    assert open_ids(emu, case.bucket) == {old, other}  # only that one

    # gone now (or a typo): said, never reported as aborted
    assert main([*base, "--upload-id", young]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "failed" and young in doc["error"]["message"]


@pytest.mark.parametrize(
    ("url", "extra", "named"),
    [
        ("s3://bkt/dir/", ["--upload-id", "abc"], "s3://bkt/dir/"),  # no key
        ("s3://bkt/k", ["--upload-id", " "], "' '"),
        ("s3://bkt/k", ["--upload-id", "abc", "--all"], "--all"),
    ],
)
def test_a_bad_upload_id_request_is_exit_2_before_any_request(
    url: str, extra: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) if "--all" in extra else contextlib.nullcontext():
        status = main(["uploads", "abort", url, "--endpoint-url", "http://127.0.0.1:9", *extra])
        assert status == 2
    err = capsys.readouterr().err
    assert named in err and err.count("\n") >= 1
