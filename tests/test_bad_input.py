"""Bad input, table-driven, over the CLI and the library: exit 2 / ``UsageError``, one line
naming the bad value, and not a single request sent (the emulator's counter proves it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
import structlog

from env_helpers import hermetic_aws
from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.engine.manifest import read_manifest
from partcopy.errors import UsageError

SRC = "s3://src-bkt/big.bin"
DST = "s3://dst-bkt/copy.bin"
LONG_KEY = "k" * 1025
CREDS = {
    "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
    "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    emu = EmulatorThread(dialect="s3", objects=["src-bkt/big.bin=64MiB", "dst-bkt/keep=0"])
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def requests(emu: EmulatorThread) -> int:
    return emu.call(emu.emulator.stats).requests


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No credentials, endpoints or regions leak in from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("PARTCOPY_", "AWS_")):
            monkeypatch.delenv(name)
    hermetic_aws(monkeypatch, tmp_path)
    yield
    structlog.reset_defaults()  # cp configures logging onto the captured stderr


# --- the CLI ---------------------------------------------------------------------------------

# (id, argv after "cp" with {url} for the emulator, the bad value the one line must name)
CP_CASES: list[tuple[str, list[str], str]] = [
    ("no-scheme", ["not-a-url", DST], "not-a-url"),
    ("one-slash", ["s3:/src-bkt/big.bin", DST], "s3:/src-bkt/big.bin"),
    ("empty-url", ["", DST], "''"),
    ("unknown-scheme", ["gs://src-bkt/big.bin", DST], "gs"),
    ("unknown-scheme-dst", [SRC, "ftp://dst-bkt/x"], "ftp"),
    ("upper-case-bucket", ["s3://Src-Bkt/big.bin", DST], "Src-Bkt"),
    ("bucket-hyphen-start", [SRC, "s3://-dst/x"], "-dst"),
    ("bucket-ip-address", ["s3://192.168.1.10/big.bin", DST], "192.168.1.10"),
    ("bucket-too-long", [f"s3://{'b' * 64}/big.bin", DST], "b" * 64),
    ("bucket-double-dot", ["s3://a..b/big.bin", DST], "a..b"),
    ("no-key", ["s3://src-bkt", DST], "s3://src-bkt"),
    ("empty-key", ["s3://src-bkt/", DST], "s3://src-bkt/"),  # a destination so ends is a folder
    ("key-1025-bytes", [SRC, f"s3://dst-bkt/{LONG_KEY}"], "1025"),
    ("key-multibyte-over-1024", [SRC, "s3://dst-bkt/" + "é" * 513], "1026"),
    ("key-control-char", [SRC, "s3://dst-bkt/a\x01b"], "dst-bkt"),
    ("dst-version-id", [SRC, DST + "?versionId=v1"], "versionId=v1"),
    ("part-size-negative", [SRC, DST, "--part-size=-5MiB"], "-5MiB"),
    ("part-size-zero", [SRC, DST, "--part-size", "0"], "0"),
    ("part-size-words", [SRC, DST, "--part-size", "lots"], "lots"),
    ("part-size-unit", [SRC, DST, "--part-size", "5XB"], "5XB"),
    ("part-size-fraction", [SRC, DST, "--part-size", "0.5B"], "0.5B"),
    ("part-size-absurd", [SRC, DST, "--part-size", "999999999TiB"], "999999999TiB"),
    ("concurrency-zero", [SRC, DST, "--concurrency", "0"], "0"),
    ("concurrency-negative", [SRC, DST, "--concurrency", "-4"], "-4"),
    ("concurrency-words", [SRC, DST, "--concurrency", "many"], "many"),
    ("max-attempts-zero", [SRC, DST, "--max-attempts", "0"], "0"),
    ("endpoint-ftp", [SRC, DST, "--endpoint-url", "ftp://127.0.0.1:1"], "ftp://127.0.0.1:1"),
    ("endpoint-no-host", [SRC, DST, "--endpoint-url", "http://"], "http://"),
    (
        "endpoint-bad-port",
        [SRC, DST, "--endpoint-url", "http://127.0.0.1:99999"],
        "99999': the port",
    ),
    ("profile-unknown", [SRC, DST, "--profile", "gcs"], "gcs"),
    ("provider-unknown", [SRC, DST, "--provider", "storj"], "storj"),
    ("provider-old-name-unknown", [SRC, DST, "--part-limits", "storj"], "storj"),
    ("src-profile-unknown", [SRC, DST, "--src-profile", "nope-src"], "nope-src"),
    ("profile-conflict", [SRC, DST, "--profile", "a", "--dst-profile", "b"], "--dst-profile"),
    ("proxy-scheme", [SRC, DST, "--proxy", "socks5://127.0.0.1:1080"], "socks5://127.0.0.1:1080"),
    ("proxy-not-url", [SRC, DST, "--proxy", "http://:8080"], "http://:8080"),
    ("proxy-password-hidden", [SRC, DST, "--proxy", "ftp://u:pw@h:1"], "ftp://u:***@h:1"),
    ("region-redirects-host", [SRC, DST, "--region", "x@127.0.0.1:9#"], "x@127.0.0.1:9#"),
    ("region-empty", [SRC, DST, "--region", ""], "''"),
    ("region-space", [SRC, DST, "--region", "US East"], "US East"),
    ("dst-region-slash", [SRC, DST, "--dst-region", "eu/west"], "eu/west"),
    ("connect-timeout-zero", [SRC, DST, "--connect-timeout", "0"], "connect timeout '0'"),
    ("read-timeout-nan", [SRC, DST, "--read-timeout", "nan"], "read timeout 'nan'"),
    ("read-timeout-a-week", [SRC, DST, "--read-timeout", "604800"], "'604800'"),
    ("ca-bundle-missing", [SRC, DST, "--ca-bundle", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
    ("ca-bundle-no-verify", [SRC, DST, "--ca-bundle", "x.pem", "--no-verify-tls"], "x.pem"),
    ("addressing-unknown", [SRC, DST, "--addressing-style", "dns"], "dns"),
    (
        "addressing-virtual-ip",
        [SRC, DST, "--addressing-style", "virtual"],
        "virtual addressing needs a DNS name endpoint, not the address 127.0.0.1",
    ),
    ("cos-without-appid", [SRC, "cos://dst-bkt/x"], "cos://dst-bkt/x"),
    ("mode-unknown", [SRC, DST, "--mode", "teleport"], "teleport"),
    ("restart-without-journal", [SRC, DST, "--restart-on-change"], "needs --journal"),
    (
        "restart-without-journal-recursive",
        ["s3://src-bkt/", "s3://dst-bkt/", "--recursive", "--restart-on-change"],
        "--restart-on-change needs --journal",
    ),
]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = int(exc.code or 0)
    out = capsys.readouterr()
    return status, out.out, out.err


def assert_one_line_naming(err: str, value: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert value in lines[0], (value, lines[0])
    assert "Traceback" not in err


@pytest.mark.parametrize(("argv", "value"), [c[1:] for c in CP_CASES], ids=[c[0] for c in CP_CASES])
def test_cp_bad_input_exits_2_naming_the_value_before_any_request(
    argv: list[str],
    value: str,
    emulator: EmulatorThread,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, secret in CREDS.items():
        monkeypatch.setenv(name, secret)
    before = requests(emulator)
    args = ["cp", *argv]
    if "--endpoint-url" not in argv:
        args += ["--endpoint-url", emulator.url]
    status, out, err = run_cli([*args, "--json"], capsys)
    assert status == 2, (out, err)
    assert_one_line_naming(err, value)
    assert out == ""  # bad input is not a copy: no JSON object
    assert requests(emulator) == before


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HTTPS_PROXY", "not a url", "HTTPS_PROXY"),
        ("http_proxy", "ftp://proxy:21", "ftp://proxy:21"),
        ("AWS_CA_BUNDLE", "/nonexistent/bundle.pem", "/nonexistent/bundle.pem"),
        ("AWS_PROFILE", "missing-profile", "missing-profile"),
        ("PARTCOPY_REGION", "a.b@127.0.0.1", "PARTCOPY_REGION 'a.b@127.0.0.1'"),
    ],
)
def test_cp_bad_network_or_profile_variables_exit_2_naming_them(
    variable: str,
    value: str,
    named: str,
    emulator: EmulatorThread,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    if variable != "AWS_PROFILE":
        for name, secret in CREDS.items():
            monkeypatch.setenv(name, secret)
    before = requests(emulator)
    status, out, err = run_cli(["cp", SRC, DST, "--endpoint-url", emulator.url], capsys)
    assert status == 2, (out, err)
    assert_one_line_naming(err, named)
    assert requests(emulator) == before


def test_cp_unreadable_aws_config_exits_2_naming_the_file(
    emulator: EmulatorThread,
    clean_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "config-dir").mkdir()  # a directory where the file should be: not readable
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config-dir"))
    before = requests(emulator)
    argv = ["cp", SRC, DST, "--endpoint-url", emulator.url, "--profile", "dev"]
    status, _, err = run_cli(argv, capsys)
    assert status == 2
    assert_one_line_naming(err, str(tmp_path / "config-dir"))
    assert requests(emulator) == before


def test_cp_without_credentials_exits_2_naming_the_variables(
    emulator: EmulatorThread, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = requests(emulator)
    status, _, err = run_cli(["cp", SRC, DST, "--endpoint-url", emulator.url], capsys)
    assert status == 2
    assert_one_line_naming(err, "PARTCOPY_ACCESS_KEY_ID")
    assert requests(emulator) == before


def test_the_emulator_counts_requests_so_the_zero_above_means_something(
    emulator: EmulatorThread,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, secret in CREDS.items():
        monkeypatch.setenv(name, secret)
    before = requests(emulator)
    status, _, err = run_cli(
        ["cp", SRC, "s3://dst-bkt/ok.bin", "--endpoint-url", emulator.url, "--quiet"], capsys
    )
    assert status == 0, err
    assert requests(emulator) > before


@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["plan", "--profile", "s3", "--size", "-1"], "-1"),
        (["plan", "--profile", "s3", "--size", "big"], "big"),
        (["plan", "--profile", "s3", "--size", "99999999999TiB"], "99999999999TiB"),
        (["plan", "--profile", "s3", "--size", "1GiB", "--part-size", "0"], "0"),
        (["plan", "--profile", "s3", "--size", "1GiB", "--concurrency", "0"], "0"),
        (["plan", "--profile", "nope", "--size", "1GiB"], "nope"),
    ],
)
def test_plan_bad_input_exits_2(
    argv: list[str], value: str, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run_cli(argv, capsys)
    assert status == 2
    assert_one_line_naming(err, value)


# --- the library -----------------------------------------------------------------------------


async def _lib_copy(emu_url: str, env: dict[str, str], **kwargs: object) -> None:
    copier_args = {k[7:]: v for k, v in kwargs.items() if k.startswith("copier_")}
    copy_args = {k: v for k, v in kwargs.items() if not k.startswith("copier_")}
    src = copy_args.pop("src", SRC)
    dst = copy_args.pop("dst", DST)
    copier_args.setdefault("endpoint_url", emu_url)
    async with Copier(env=env, **copier_args) as copier:  # type: ignore[arg-type]
        await copier.copy(src, dst, **copy_args)  # type: ignore[arg-type]


LIB_CASES: list[tuple[str, dict[str, object], str]] = [
    ("malformed-url", {"src": "s3:src-bkt/big.bin"}, "s3:src-bkt/big.bin"),
    ("not-a-string", {"src": 42}, "42"),
    ("unknown-scheme", {"dst": "azure://dst-bkt/x"}, "azure"),
    ("bad-bucket", {"dst": "s3://dst_BKT/x"}, "dst_BKT"),
    ("key-over-1024", {"dst": f"s3://dst-bkt/{LONG_KEY}"}, "1025"),
    ("part-size-negative", {"part_size": -1}, "-1"),
    ("part-size-zero", {"part_size": 0}, "0"),
    ("part-size-text", {"part_size": "huge"}, "huge"),
    ("part-size-absurd", {"part_size": "999999999TiB"}, "999999999TiB"),
    ("part-size-bool", {"part_size": True}, "True"),
    ("concurrency-zero-copy", {"concurrency": 0}, "0"),
    ("concurrency-negative-copy", {"concurrency": -2}, "-2"),
    ("concurrency-zero-copier", {"copier_concurrency": 0}, "0"),
    ("concurrency-negative-copier", {"copier_concurrency": -8}, "-8"),
    ("mode-unknown", {"mode": "teleport"}, "teleport"),
    ("provider-unknown", {"provider": "storj"}, "storj"),
    ("endpoint-bad", {"copier_endpoint_url": "127.0.0.1 9000"}, "127.0.0.1 9000"),
]


@pytest.mark.parametrize(
    ("kwargs", "value"), [c[1:] for c in LIB_CASES], ids=[c[0] for c in LIB_CASES]
)
def test_library_bad_input_raises_usage_error_before_any_request(
    kwargs: dict[str, object], value: str, emulator: EmulatorThread
) -> None:
    before = requests(emulator)
    with pytest.raises(UsageError) as info:
        anyio.run(lambda: _lib_copy(emulator.url, CREDS, **kwargs))
    message = str(info.value)
    assert "\n" not in message
    assert value in message
    assert requests(emulator) == before


def test_library_missing_credentials_is_a_config_error(emulator: EmulatorThread) -> None:
    from partcopy.errors import ConfigError

    before = requests(emulator)
    with pytest.raises(ConfigError, match="PARTCOPY_ACCESS_KEY_ID"):
        anyio.run(lambda: _lib_copy(emulator.url, {}))
    assert requests(emulator) == before


@pytest.mark.parametrize(
    ("make", "value"),
    [
        (lambda p: p / "missing-dir" / "state.db", "missing-dir"),
        (lambda p: p, str(Path("/"))),  # a directory, not a file
        (lambda p: Path("/"), "'/'"),  # no file name at all (nor one for its lock file)
        (lambda p: _write(p / "foreign.db", b"this is not a database at all" * 100), "foreign.db"),
        (lambda p: _write(p / "empty-sqlite.db", _foreign_sqlite()), "empty-sqlite.db"),
    ],
    ids=["missing-dir", "a-directory", "root", "not-sqlite", "foreign-sqlite"],
)
def test_library_unusable_journal_path_is_a_journal_error(
    make: Callable[[Path], Path], value: str, tmp_path: Path, emulator: EmulatorThread
) -> None:
    from partcopy.errors import JournalError

    path = make(tmp_path)
    before = requests(emulator)
    with pytest.raises(JournalError) as info:
        Copier(journal=path, env=CREDS, endpoint_url=emulator.url)
    assert "\n" not in str(info.value)
    assert value in str(info.value) or path.name in str(info.value)
    assert requests(emulator) == before


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _foreign_sqlite() -> bytes:
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "x.db"
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        con.commit()
        con.close()
        return db.read_bytes()


def test_missing_manifest_is_a_config_error(tmp_path: Path) -> None:
    from partcopy.errors import ConfigError

    missing = tmp_path / "nope.jsonl"
    with pytest.raises(ConfigError, match=r"nope\.jsonl"):
        list(read_manifest(missing))


def test_malformed_manifest_lines_are_each_named_by_number(tmp_path: Path) -> None:
    from partcopy.engine.manifest import ManifestProblem

    manifest = tmp_path / "m.jsonl"
    manifest.write_bytes(
        b'{"src": "s3://src-bkt/a", "dst": "s3://dst-bkt/a"}\n'
        b"not json at all\n"
        b'{"src": "gs://x/y", "dst": "s3://dst-bkt/b"}\n'
        b'["src", "dst"]\n'
        b'{"src": "s3://src-bkt/a"}\n'
        b"\xff\xfe\n"
    )
    problems = [i for i in read_manifest(manifest) if isinstance(i, ManifestProblem)]
    assert [p.line for p in problems] == [2, 3, 4, 5, 6]
    assert all("\n" not in p.reason for p in problems)
    assert "gs" in problems[1].reason


# --- files: journals, manifests, reports (CLI) -------------------------------------------------


def _files(tmp: Path) -> dict[str, Path]:
    (tmp / "a-dir").mkdir(exist_ok=True)
    files = {
        "dir": tmp / "a-dir",
        "missing": tmp / "no-such-dir" / "file",
        "foreign": _write(tmp / "foreign.db", b"not a database, not a manifest\n" * 10),
        "foreign-sqlite": _write(tmp / "other-app.db", _foreign_sqlite()),
        "manifest": _write(
            tmp / "ok.jsonl", b'{"src": "' + SRC.encode() + b'", "dst": "s3://dst-bkt/m"}\n'
        ),
    }
    return files


FILE_CASES: list[tuple[str, list[str], str]] = [
    ("cp-journal-missing-dir", ["cp", SRC, DST, "--journal", "{missing}"], "no-such-dir"),
    ("cp-journal-is-a-dir", ["cp", SRC, DST, "--journal", "{dir}"], "a-dir"),
    ("cp-journal-not-sqlite", ["cp", SRC, DST, "--journal", "{foreign}"], "foreign.db"),
    (
        "cp-journal-foreign-sqlite",
        ["cp", SRC, DST, "--journal", "{foreign-sqlite}"],
        "other-app.db",
    ),
    ("cp-journal-empty", ["cp", SRC, DST, "--journal", ""], "--journal: invalid journal path ''"),
    ("cp-journal-dot", ["cp", SRC, DST, "--journal", "."], "journal path '.'"),
    ("resume-journal-not-sqlite", ["resume", "--journal", "{foreign}"], "foreign.db"),
    ("resume-journal-empty", ["resume", "--journal", ""], "journal path ''"),
    ("resume-journal-root", ["resume", "--journal", "/"], "journal path '/'"),
    ("resume-journal-missing", ["resume", "--journal", "{missing}"], "no-such-dir"),
    ("bulk-manifest-missing", ["bulk", "{missing}"], "no-such-dir"),
    ("bulk-manifest-is-a-dir", ["bulk", "{dir}"], "a-dir"),
    ("bulk-report-unwritable", ["bulk", "{manifest}", "--report", "{missing}"], "no-such-dir"),
    ("bulk-journal-not-sqlite", ["bulk", "{manifest}", "--journal", "{foreign}"], "foreign.db"),
    ("bulk-journal-empty", ["bulk", "{manifest}", "--journal", ""], "journal path ''"),
    ("bulk-journal-dot", ["bulk", "{manifest}", "--journal", "."], "journal path '.'"),
    ("sync-journal-empty", ["sync", "s3://src-bkt/", "s3://dst-bkt/", "--journal", ""], "''"),
    ("sync-journal-dot", ["sync", "s3://src-bkt/", "s3://dst-bkt/", "--journal", "."], "'.'"),
    ("bulk-concurrency-zero", ["bulk", "{manifest}", "--concurrency", "0"], "0"),
    ("bulk-part-size-words", ["bulk", "{manifest}", "--part-size", "big"], "big"),
]


@pytest.mark.parametrize(
    ("argv", "value"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_unusable_files_exit_2_naming_them_before_any_request(
    argv: list[str],
    value: str,
    tmp_path: Path,
    emulator: EmulatorThread,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, secret in CREDS.items():
        monkeypatch.setenv(name, secret)
    files = _files(tmp_path)
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    if args[0] in {"cp", "bulk", "sync"}:
        args += ["--endpoint-url", emulator.url]
    before = requests(emulator)
    status, out, err = run_cli([*args, "--json"], capsys)
    assert status == 2, (out, err)
    assert_one_line_naming(err, value)
    assert requests(emulator) == before


def test_a_manifest_of_garbage_lines_sends_nothing_and_reports_each_line(
    tmp_path: Path,
    emulator: EmulatorThread,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bad lines are the bulk run's per-line report (exit 1), never a request."""
    for name, secret in CREDS.items():
        monkeypatch.setenv(name, secret)
    garbage = _write(tmp_path / "garbage.jsonl", b"\x00\xff not json\n{]\n[1, 2]\n")
    before = requests(emulator)
    status, out, _ = run_cli(
        ["bulk", str(garbage), "--endpoint-url", emulator.url, "--json"], capsys
    )
    assert status == 1
    doc = json.loads(out)
    assert (doc["invalid"], doc["ok"], doc["failed"]) == (3, 0, 0)
    assert requests(emulator) == before


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 86401])
def test_library_timeouts_outside_a_day_are_config_errors(seconds: float) -> None:
    from partcopy.errors import ConfigError

    with pytest.raises(ConfigError, match="read timeout"):
        Copier(read_timeout=seconds)
    with pytest.raises(ConfigError, match="connect timeout"):
        Copier(connect_timeout=seconds)


def test_a_bad_endpoint_in_the_environment_is_named_as_the_variable(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, secret in CREDS.items():
        monkeypatch.setenv(name, secret)
    monkeypatch.setenv("PARTCOPY_DST_ENDPOINT_URL", "ftp://127.0.0.1:1")
    status, out, err = run_cli(["cp", SRC, DST, "--endpoint-url", "http://127.0.0.1:9"], capsys)
    assert status == 2 and out == ""
    assert_one_line_naming(err, "endpoint URL in PARTCOPY_DST_ENDPOINT_URL 'ftp://127.0.0.1:1'")
