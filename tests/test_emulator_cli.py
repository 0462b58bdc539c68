"""``partcopy emulator`` as a subprocess: URL line, flags, every fault kind, clean exit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from partcopy.cli import main

MiB = 1024 * 1024
Spawn = Callable[..., tuple[subprocess.Popen[str], str]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start ``python -m partcopy emulator ARGS`` and read its URL line; stopped at teardown."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "partcopy", "emulator", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else line
        return proc, line

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def _client(url: str, access_key: str = "partcopy", secret_key: str = "partcopy-secret") -> Any:
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )


def _stats(url: str) -> Any:
    with urllib.request.urlopen(f"{url}/_emulator/stats") as response:
        return json.loads(response.read())


def _status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    response: Any = exc.value.response
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


def test_every_fault_kind_from_flags_and_a_clean_sigterm(spawn: Spawn) -> None:
    proc, url = spawn(
        "--dialect",
        "s3",
        "--object",
        "src-bkt/big.bin=12MiB",
        "--fault",
        "slowdown:1@head",
        "--fault",
        "500:1@get",
        "--fault",
        "429:1:2@list_parts",
        "--fault",
        "noetag:1@copy_part",
        "--fault",
        "error200:1@complete",
        "--fault",
        "truncated:1@copy_object",
        "--fault",
        "reset:1@upload_part",
        "--fault",
        "delay:1:1ms@create",
    )
    c = _client(url)
    try:
        with pytest.raises(ClientError) as exc:
            c.head_object(Bucket="src-bkt", Key="big.bin")
        assert _status(exc) == 503
        with pytest.raises(ClientError) as exc:
            c.get_object(Bucket="src-bkt", Key="big.bin")
        assert (_status(exc), exc.value.response["Error"]["Code"]) == (500, "InternalError")
        c.create_bucket(Bucket="dst-bkt")
        upload_id = c.create_multipart_upload(Bucket="dst-bkt", Key="k")["UploadId"]
        with pytest.raises(ClientError) as exc:
            c.list_parts(Bucket="dst-bkt", Key="k", UploadId=upload_id)
        assert _status(exc) == 429
        assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"
        part = c.upload_part_copy(
            Bucket="dst-bkt",
            Key="k",
            UploadId=upload_id,
            PartNumber=1,
            CopySource={"Bucket": "src-bkt", "Key": "big.bin"},
            CopySourceRange="bytes=0-5242879",
        )
        assert "ETag" not in part["CopyPartResult"]  # botocore does not notice: we must
        with pytest.raises(ClientError) as exc:
            c.complete_multipart_upload(
                Bucket="dst-bkt",
                Key="k",
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
            )
        assert exc.value.response["Error"]["Code"] == "InternalError"
        # botocore reports a cut 200 to CopyObject as a 500 of its own making
        with pytest.raises((ClientError, botocore.exceptions.BotoCoreError)):
            c.copy_object(Bucket="dst-bkt", Key="copy", CopySource="src-bkt/big.bin")
        with pytest.raises(botocore.exceptions.BotoCoreError):
            c.upload_part(
                Bucket="dst-bkt", Key="k", UploadId=upload_id, PartNumber=2, Body=b"x" * 1000
            )
        stats = _stats(url)
        assert stats["faults"] == {
            "slowdown": 1,
            "500": 1,
            "429": 1,
            "noetag": 1,
            "error200": 1,
            "truncated": 1,
            "reset": 1,
            "delay": 1,
        }
    finally:
        c.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_throttle_from_flags_refuses_copies_beyond_the_bound(spawn: Spawn) -> None:
    _, url = spawn(
        "--dialect",
        "s3",
        "--object",
        "src-bkt/big.bin=12MiB",
        "--fault",
        "throttle:1",
        "--latency-ms",
        "1500",
    )
    c = _client(url)
    try:
        c.create_bucket(Bucket="dst-bkt")
        upload_id = c.create_multipart_upload(Bucket="dst-bkt", Key="k")["UploadId"]

        def copy(number: int) -> Any:
            return c.upload_part_copy(
                Bucket="dst-bkt",
                Key="k",
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": "src-bkt", "Key": "big.bin"},
                CopySourceRange="bytes=0-5242879",
            )

        results: list[Any] = []
        slow = threading.Thread(target=lambda: results.append(copy(1)))
        slow.start()
        in_flight = threading.Event()
        for _ in range(3000):  # until the first copy is in its modelled latency
            if _stats(url)["in_flight"] == 1:
                in_flight.set()
                break
            in_flight.wait(0.001)
        assert in_flight.is_set()
        with pytest.raises(ClientError) as exc:
            copy(2)
        assert (_status(exc), exc.value.response["Error"]["Code"]) == (503, "SlowDown")
        slow.join(timeout=30)
        assert "ETag" in results[0]["CopyPartResult"]
        assert _stats(url)["faults"] == {"throttle": 1}
    finally:
        c.close()


def test_sigint_stops_the_emulator(spawn: Spawn) -> None:
    proc, url = spawn(
        "--dialect",
        "qingstor",
        "--port",
        "0",
        "--latency-ms",
        "0",
        "--gbps",
        "10",
        "--access-key",
        "AK",
        "--secret-key",
        "SK",
    )
    assert _stats(url)["requests"] == 0
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--dialect", "s3", "--fault", "slowdown:7"], "slowdown:7"),
        (["--dialect", "s3", "--object", "src-bkt/k=lots"], "lots"),
        (["--dialect", "s3", "--object", "Bad_Bkt/k=1"], "'Bad_Bkt'"),
        (["--dialect", "s3", "--latency-ms", "-1"], "-1"),
        (["--dialect", "s3", "--latency-ms", "inf"], "--latency-ms: invalid latency 'inf'"),
        (["--dialect", "s3", "--latency-ms", "nan"], "'nan'"),
        (["--dialect", "s3", "--gbps", "nan"], "--gbps: invalid bandwidth 'nan'"),
        (["--dialect", "s3", "--gbps", "infinity"], "'infinity'"),
        (["--dialect", "s3", "--access-key", ""], "--access-key: invalid access key ''"),
        (["--dialect", "s3", "--secret-key", ""], "secret key ''"),
        (["--dialect", "s3", "--port", "70000"], "70000"),
        (["--dialect", "gcs"], "gcs"),
    ],
)
def test_bad_flags_exit_2_naming_the_value(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(["emulator", *args])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]


def test_secret_keys_from_a_file_and_the_environment_never_show_in_ps(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, spawn: Spawn
) -> None:
    secret_file = tmp_path / "main.secret"
    secret_file.write_text("file-secret-1\n")
    bob_file = tmp_path / "bob.secret"
    bob_file.write_text("bob-secret-2\n")
    proc, url = spawn(
        "--dialect", "s3", "--secret-key-file", str(secret_file), "--user", f"bob:@{bob_file}"
    )  # fmt: skip
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    assert b"file-secret-1" not in cmdline and b"bob-secret-2" not in cmdline
    main_client = _client(url, "partcopy", "file-secret-1")
    main_client.create_bucket(Bucket="main-bkt")
    bob = _client(url, "bob", "bob-secret-2")
    bob.create_bucket(Bucket="bob-bkt")
    assert [b["Name"] for b in bob.list_buckets()["Buckets"]] == ["bob-bkt"]
    monkeypatch.setenv("PARTCOPY_EMULATOR_SECRET_KEY", "env-secret-3")
    _, env_url = spawn("--dialect", "s3")
    assert _client(env_url, "partcopy", "env-secret-3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--user", "bob"], "--user"),
        (["--user", "bob:@/nonexistent/secret"], "/nonexistent/secret"),
        (["--secret-key", "x", "--secret-key-file", "/dev/null"], "--secret-key-file"),
    ],
)
def test_bad_user_and_secret_flags_exit_2_without_a_secret(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(["emulator", "--dialect", "s3", *args])
    except SystemExit as exc:
        status = int(exc.code or 0)
    _, err = capsys.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "x" + ":" not in lines[0]
