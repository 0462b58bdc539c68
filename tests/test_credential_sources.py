"""Every AWS credential source, end to end: botocore's chain finds the keys (files, process,
STS on moto's server, container and IMDSv2 endpoints on loopback), partcopy signs with them,
and the emulator checks each request's signature and session token.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from cred_servers import CredentialServer, FakeClock, KeyTable
from net_helpers import moto_server
from partcopy.emulator import EmulatorThread
from partcopy.emulator.auth import StoredKey
from partcopy.engine.copier import Copier
from partcopy.engine.events import Event, PartCompleted
from partcopy.errors import ConfigError, CopyError
from partcopy.transports import make_transport
from partcopy.transports.aws_profile import aws_chain
from partcopy.transports.credentials import StaticCredentials
from partcopy.transports.signing.common import Credentials

MiB = 1024 * 1024
ROLE_ARN = "arn:aws:iam::123456789012:role/copier"


@pytest.fixture
def table() -> KeyTable:
    return KeyTable()


@pytest.fixture
def emu(table: KeyTable, emulator_thread: Callable[..., EmulatorThread]) -> EmulatorThread:
    return emulator_thread(
        dialect="s3", objects=["src/k.bin=64KiB", "dst/keep=0"], keys=table.lookup
    )


@pytest.fixture
def no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PARTCOPY_", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        for var in [v for v in os.environ if v.startswith(name)]:
            monkeypatch.delenv(var)


def copy_once(emu: EmulatorThread, **copier: Any) -> tuple[str, str]:
    """One verified copy; returns the credential source the copier reported and the key."""

    async def run() -> tuple[str, str]:
        async with Copier(endpoint_url=emu.url, **copier) as c:
            job = c.prepare("s3://src/k.bin", "s3://dst/k.bin")
            await c.resolve_credentials()
            provider = job.src.transport.credentials  # type: ignore[attr-defined]
            await job.run()
            return provider.source, provider.current().access_key

    return anyio.run(run)


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_shared_credentials_file_by_profile_and_by_aws_profile(
    emu: EmulatorThread, table: KeyTable, no_env_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    table.add("AKIDDEV", StoredKey("dev-secret"))
    creds = os.environ["AWS_SHARED_CREDENTIALS_FILE"]
    write(Path(creds), "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n")
    source, key = copy_once(emu, profile="dev")
    assert (key, source) == ("AKIDDEV", "AWS profile 'dev' (shared credentials file)")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    source, key = copy_once(emu)
    assert key == "AKIDDEV" and "shared credentials file" in source
    assert table.seen.count("AKIDDEV") >= 4  # every request of both copies, each verified


def test_credential_process_with_session_token(
    emu: EmulatorThread, table: KeyTable, no_env_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    access_key, key = table.issue(expires)
    out = {
        "Version": 1,
        "AccessKeyId": access_key,
        "SecretAccessKey": key.secret_key,
        "SessionToken": key.session_token,
        "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    script = write(Path(os.environ["HOME"]) / "creds.py", f"print({json.dumps(out)!r})")
    config = os.environ["AWS_CONFIG_FILE"]
    write(Path(config), f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    source, seen = copy_once(emu, profile="proc")
    assert seen == access_key and source == "AWS profile 'proc' (credential_process)"


@pytest.fixture(scope="module")
def moto_sts() -> Iterator[str]:
    with moto_server() as url:
        yield url


def moto_keys(access_key: str) -> StoredKey | None:
    """The temporary keys moto's STS issued (the emulator accepts exactly those)."""
    from moto.sts.models import sts_backends

    for role in sts_backends["123456789012"]["aws"].assumed_roles:
        if role.access_key_id == access_key:
            expires = role.expiration.replace(tzinfo=UTC)  # moto keeps naive UTC
            return StoredKey(role.secret_access_key, role.session_token, expires)
    return None


def test_assume_role_with_source_profile_on_moto(
    emu: EmulatorThread,
    table: KeyTable,
    moto_sts: str,
    no_env_keys: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table.extra.append(moto_keys)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_sts)
    write(
        Path(os.environ["AWS_CONFIG_FILE"]),
        f"[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base\n"
        f"[profile copier]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n",
    )
    source, key = copy_once(emu, profile="copier")
    assert source == "AWS profile 'copier' (assume role)"
    assert key in table.seen and moto_keys(key) is not None


def test_web_identity_on_moto(
    emu: EmulatorThread,
    table: KeyTable,
    moto_sts: str,
    no_env_keys: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    table.extra.append(moto_keys)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_sts)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write(tmp_path / "token", "jwt-token"))
    monkeypatch.setenv("AWS_ROLE_ARN", ROLE_ARN)
    source, key = copy_once(emu)
    assert source.startswith("AWS credential chain (web identity token")
    assert key in table.seen and moto_keys(key) is not None


def test_container_credentials_with_token_file(
    emu: EmulatorThread,
    table: KeyTable,
    no_env_keys: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with CredentialServer(table, auth_token="pod-token").running() as server:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url + "/container-creds")
        monkeypatch.setenv(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write(tmp_path / "tok", "pod-token")
        )
        source, key = copy_once(emu)
    assert source == "AWS credential chain (container credentials endpoint)"
    assert server.issued == [key] and key in table.seen


def test_imds_v2(
    emu: EmulatorThread, table: KeyTable, no_env_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CredentialServer(table).running() as server:
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url + "/")
        source, key = copy_once(emu)
    assert source == "AWS credential chain (instance metadata (IMDS))"
    assert server.requests[0] == "PUT /latest/api/token"  # v2: a session token first
    assert server.issued == [key] and key in table.seen


def test_sso_token_cache_from_the_cli(emu: EmulatorThread, table: KeyTable, tmp_path: Path) -> None:
    # botocore fixes the SSO cache directory from HOME when it is imported: a fresh process.
    import hashlib
    import os
    import subprocess

    start_url = "https://partcopy.awsapps.test/start"
    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    token = {
        "startUrl": start_url,
        "region": "us-east-1",
        "accessToken": "sso-access-token",
        "expiresAt": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    name = hashlib.sha1(start_url.encode()).hexdigest() + ".json"
    (cache / name).write_text(json.dumps(token))
    config = write(
        tmp_path / "config",
        f"[profile sso]\nsso_start_url = {start_url}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = sso-role\n",
    )
    with CredentialServer(table).running() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTCOPY_", "AWS_"))}
        env |= {
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": config,
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PROFILE": "sso",
            "AWS_ENDPOINT_URL_SSO": server.url,
        }
        done = subprocess.run(
            [sys.executable, "-m", "partcopy", "cp", "s3://src/k.bin", "s3://dst/k.bin",
             "--endpoint-url", emu.url, "--json"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"
    assert len(server.issued) == 1 and server.issued[0] in table.seen


def test_credentials_rotate_mid_copy_with_no_failed_part(
    table: KeyTable,
    emulator_thread: Callable[..., EmulatorThread],
    no_env_keys: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    emu = emulator_thread(
        dialect="s3", objects=["src/big.bin=64MiB", "dst/keep=0"], keys=table.lookup, clock=clock
    )

    def factory(config: Any, session: Any) -> Any:
        return make_transport(
            config.dialect, config.endpoint_url, config.region, config.credentials, session,
            clock=clock,
        )  # fmt: skip

    def run(provider: Any, advance: timedelta) -> Any:
        done = 0

        def on_event(event: Event) -> None:
            nonlocal done
            if isinstance(event, PartCompleted):
                done += 1
                if done == 5:  # between two parts: nothing signed is in flight
                    clock.advance(advance)

        async def go() -> Any:
            async with Copier(
                endpoint_url=emu.url, credentials=provider, transport_factory=factory,
                concurrency=1, on_event=on_event, hedge=None,
            ) as c:  # fmt: skip
                return await c.copy("s3://src/big.bin", "s3://dst/big.bin", part_size=5 * MiB)

        return anyio.run(go)

    with CredentialServer(table, clock=clock).running() as server:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url + "/container-creds")
        provider = aws_chain(None, missing="none", clock=clock)
        result = run(provider, timedelta(minutes=52))  # 8 minutes before expiry
        assert result.parts == 13 and result.retries == 0, result.retries_by_reason
        first, second = server.issued  # renewed once, 10 minutes ahead of expiry
        assert provider.fetches == 2 and provider.current().access_key == second
        assert first in table.seen and second in table.seen
        assert table.seen.index(second) > table.seen.index(first)

        # The control: keys that are never renewed fail once they expire mid-copy.
        clock.advance(timedelta(hours=2))
        ak, key = table.issue(clock() + timedelta(hours=1))
        frozen = StaticCredentials(Credentials(ak, key.secret_key, key.session_token))
        with pytest.raises(CopyError, match="ExpiredToken"):
            run(frozen, timedelta(minutes=65))


def test_profile_problems_are_config_errors_naming_the_value(
    no_env_keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partcopy.config import resolve_endpoint

    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        resolve_endpoint("s3", profile="nope")
    config = os.environ["AWS_CONFIG_FILE"]
    write(Path(config), "[profile broken\naws_access_key_id = x\n")
    with pytest.raises(ConfigError, match="cannot parse AWS config file"):
        resolve_endpoint("s3", profile="broken")
    (tmp_path / "dir-config").mkdir()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "dir-config"))
    with pytest.raises(ConfigError, match=r"cannot read AWS config file .*dir-config"):
        resolve_endpoint("s3", profile="any")


def test_an_explicit_profile_without_keys_never_borrows_the_machines_identity(
    emu: EmulatorThread, table: KeyTable, no_env_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A misspelt key name leaves the profile without credentials; botocore would go on to the
    # container endpoint and IMDS and copy as the pod's or the instance's role instead.
    write(
        Path(os.environ["AWS_CONFIG_FILE"]),
        "[profile dev]\nregion = eu-west-1\naws_access_key = AKIDDEV\naws_secret_access_key = s\n",
    )
    with CredentialServer(table).running() as server:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url + "/container-creds")
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url + "/")
        with pytest.raises(ConfigError, match=r"^profile 'dev' has no credentials$"):
            copy_once(emu, profile="dev")
        assert server.requests == [] and server.issued == []
        # Without --profile the chain is botocore's (and aws-cli's): the container answers.
        source, key = copy_once(emu)
    assert source == "AWS credential chain (container credentials endpoint)"
    assert server.issued == [key] and key in table.seen


def test_a_profile_may_still_name_the_container_as_its_credential_source(
    emu: EmulatorThread,
    table: KeyTable,
    moto_sts: str,
    no_env_keys: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table.extra.append(moto_keys)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_sts)
    write(
        Path(os.environ["AWS_CONFIG_FILE"]),
        f"[profile pod]\nrole_arn = {ROLE_ARN}\ncredential_source = EcsContainer\n",
    )
    with CredentialServer(table).running() as server:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url + "/container-creds")
        source, key = copy_once(emu, profile="pod")
    assert source == "AWS profile 'pod' (assume role)"
    assert len(server.issued) == 1  # the container's keys signed the AssumeRole call
    assert key not in server.issued and moto_keys(key) is not None and key in table.seen


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    server.settimeout(0.05)
    stop = False

    def accept() -> None:
        while not stop:
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop = True
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


def test_an_sts_that_never_answers_fails_within_the_copys_timeouts(
    emu: EmulatorThread, silent_server: str, no_env_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's own client waits 60 seconds for each of 3 attempts: 3 minutes of silence.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", silent_server)
    write(
        Path(os.environ["AWS_CONFIG_FILE"]),
        f"[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base\n"
        f"[profile copier]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n",
    )
    with pytest.raises(ConfigError) as failed:
        copy_once(emu, profile="copier", connect_timeout=0.2, read_timeout=0.2)
    assert str(failed.value).startswith(
        "could not get credentials from AWS profile 'copier': ReadTimeoutError: "
    )


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _children_running(script: str) -> list[int]:
    """This process's children that run ``script`` and still live."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and script.encode() in cmdline and _running(int(entry.name)):
            found.append(int(entry.name))
    return found


def _eventually(condition: Callable[[], bool]) -> bool:
    """``condition`` holds within 20 seconds (a guard against hanging, not a timing)."""
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def stuck_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A profile ``stuck`` whose credential_process never exits (it writes its pid first);
    whatever it left running is killed at teardown."""
    pidfile = tmp_path / "pid"
    script = write(
        tmp_path / "stuck_creds.py",
        f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "while True:\n    time.sleep(60)\n",
    )
    write(
        Path(os.environ["AWS_CONFIG_FILE"]),
        f"[profile stuck]\ncredential_process = {sys.executable} {script}\n",
    )
    yield script, pidfile
    for pid in _children_running(script):
        os.kill(pid, 9)


def test_a_credential_process_that_never_exits_fails_the_first_fetch_and_is_killed(
    stuck_process: tuple[str, Path], no_env_keys: None
) -> None:
    script, _ = stuck_process
    provider = aws_chain("stuck", missing="none", first_timeout=0.5)

    async def fetch() -> None:
        with anyio.fail_after(30):  # a guard: without a deadline of its own this hangs
            await provider.ensure_fresh()

    with pytest.raises(ConfigError) as failed:
        anyio.run(fetch)
    assert str(failed.value).startswith(
        "could not get credentials from AWS profile 'stuck': no answer within 0.5s"
    )
    # Killed, so botocore's wait on it returns: nothing runs on, no thread stays stuck.
    assert _eventually(lambda: not _children_running(script))
    assert _eventually(
        lambda: not any(t.name == "partcopy credentials" for t in threading.enumerate())
    )


def test_an_interrupted_first_fetch_kills_its_credential_process(
    stuck_process: tuple[str, Path], no_env_keys: None
) -> None:
    script, pidfile = stuck_process
    provider = aws_chain("stuck", missing="none", first_timeout=60)

    async def interrupt_once_started() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(provider.ensure_fresh)
            for _ in range(1500):  # until the process runs (30 seconds at most)
                if pidfile.exists() and pidfile.read_text():
                    break
                await anyio.sleep(0.02)
            tg.cancel_scope.cancel()

    anyio.run(interrupt_once_started)
    pid = int(pidfile.read_text())
    assert _eventually(lambda: not _running(pid))
    assert not _children_running(script)
