"""The order of the credential chain, the vendors' files, and renewal under concurrency."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from cred_servers import FakeClock
from partcopy.errors import ConfigError
from partcopy.transports.aws_profile import load_profile
from partcopy.transports.credential_chain import resolve_credentials
from partcopy.transports.credentials import (
    CredentialRefreshError,
    RefreshingCredentials,
    TimedCredentials,
)
from partcopy.transports.signing.common import Credentials

PAIR = {"PARTCOPY_ACCESS_KEY_ID": "AK-ANY", "PARTCOPY_SECRET_ACCESS_KEY": "sk-any"}


def key(dialect: str, role: str = "source", **env: str) -> tuple[str, str]:
    provider = resolve_credentials(dialect, role, env=env)  # type: ignore[arg-type]
    return provider.current().access_key, provider.source


def test_per_side_variables_win_over_shared_ones_and_vendor_names() -> None:
    env = {
        **PAIR,
        "PARTCOPY_SRC_ACCESS_KEY_ID": "AK-SRC",
        "PARTCOPY_SRC_SECRET_ACCESS_KEY": "sk-src",
        "AWS_ACCESS_KEY_ID": "AK-AWS",
        "AWS_SECRET_ACCESS_KEY": "sk-aws",
    }
    assert key("s3", "source", **env) == ("AK-SRC", "environment PARTCOPY_SRC_ACCESS_KEY_ID")
    assert key("s3", "destination", **env) == ("AK-ANY", "environment PARTCOPY_ACCESS_KEY_ID")
    only_vendor = {"AWS_ACCESS_KEY_ID": "AK-AWS", "AWS_SECRET_ACCESS_KEY": "sk-aws"}
    assert key("s3", **only_vendor)[0] == "AK-AWS"


def test_aws_security_token_is_read_as_botocore_reads_it() -> None:
    # botocore's EnvProvider reads AWS_SECURITY_TOKEN (the old name), then AWS_SESSION_TOKEN.
    def token(**env: str) -> str | None:
        keys = {"AWS_ACCESS_KEY_ID": "AK-AWS", "AWS_SECRET_ACCESS_KEY": "sk-aws", **env}
        return resolve_credentials("s3", env=keys).current().session_token

    assert token(AWS_SECURITY_TOKEN="old") == "old"
    assert token(AWS_SECURITY_TOKEN="old", AWS_SESSION_TOKEN="new") == "old"
    assert token(AWS_SECURITY_TOKEN="", AWS_SESSION_TOKEN="new") == "new"
    assert token() is None
    # partcopy's own variables have one name only; other stores' tools never read it.
    pair = {**PAIR, "AWS_SECURITY_TOKEN": "old"}
    assert resolve_credentials("s3", env=pair).current().session_token is None
    obs = {"OBS_ACCESS_KEY_ID": "AK", "OBS_SECRET_ACCESS_KEY": "sk", "AWS_SECURITY_TOKEN": "t"}
    assert resolve_credentials("obs", env=obs).current().session_token is None


@pytest.mark.parametrize(
    ("dialect", "names"),
    [
        ("obs", ("OBS_ACCESS_KEY_ID", "OBS_SECRET_ACCESS_KEY")),
        ("cos", ("COS_SECRET_ID", "COS_SECRET_KEY")),
        ("qingstor", ("QINGSTOR_ACCESS_KEY_ID", "QINGSTOR_SECRET_ACCESS_KEY")),
    ],
)
def test_each_store_reads_its_own_tools_variables(dialect: str, names: tuple[str, str]) -> None:
    env = {names[0]: "AK-VENDOR", names[1]: "sk"}
    assert key(dialect, **env) == ("AK-VENDOR", f"environment {names[0]}")
    with pytest.raises(ConfigError, match=r"no credentials for the source \(s3\)"):
        key("s3", **env)  # another store's names do not count


def test_explicit_credentials_read_nothing_from_the_environment() -> None:
    explicit = Credentials("AK-EXPLICIT", "sk")
    provider = resolve_credentials("s3", credentials=explicit, env={"PARTCOPY_SRC_": "x"})
    assert provider.current() is explicit and provider.source == "explicit credentials"


def test_half_a_pair_names_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match="PARTCOPY_DST_SECRET_ACCESS_KEY is not"):
        key("s3", "destination", PARTCOPY_DST_ACCESS_KEY_ID="AK")


def test_qingstor_yaml_coscmd_conf_and_obsutilconfig(tmp_path: Path) -> None:
    qs = tmp_path / ".qingstor"
    qs.mkdir()
    (qs / "config.yaml").write_text(
        "# qsctl\naccess_key_id: 'AK-QS'\nsecret_access_key: \"sk-qs\"\nzone: pek3b\n"
    )
    (tmp_path / ".cos.conf").write_text("[common]\nsecret_id = AK-COS\nsecret_key = sk-cos\n")
    (tmp_path / ".obsutilconfig").write_text(
        "endpoint=https://obs.x\nak=AK-OBS\nsk=sk-obs\ntoken=\n"
    )
    home = {"HOME": str(tmp_path)}
    assert key("qingstor", **home) == ("AK-QS", f"QingStor config file {qs / 'config.yaml'}")
    assert key("cos", **home) == ("AK-COS", str(tmp_path / ".cos.conf"))
    assert key("obs", **home) == ("AK-OBS", str(tmp_path / ".obsutilconfig"))
    (qs / "config.yaml").write_text("access_key_id 'no colon'\n")
    with pytest.raises(ConfigError, match="cannot parse QingStor config file"):
        key("qingstor", **home)
    missing = {"QINGSTOR_CONFIG_PATH": str(tmp_path / "nope.yaml")}
    with pytest.raises(ConfigError, match=r"no credentials for the source \(qingstor\)"):
        key("qingstor", **missing)


@pytest.mark.parametrize(
    ("dialect", "name", "text", "message"),
    [
        ("cos", ".cos.conf", "[common]\nsecret_id = AK\nsecret_key =\n", "secret_id is set but "
         "secret_key is not"),
        ("obs", ".obsutilconfig", "ak=\nsk=sk-obs\n", "sk is set but ak is not"),
        ("qingstor", "config.yaml", "access_key_id: AK\nzone: pek3b\n", "access_key_id is set "
         "but secret_access_key is not"),
    ],
)  # fmt: skip
def test_half_a_pair_in_a_stores_config_file_names_the_file_and_the_missing_key(
    tmp_path: Path, dialect: str, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    env = {"HOME": str(tmp_path), "QINGSTOR_CONFIG_PATH": str(path)}
    with pytest.raises(ConfigError) as failed:
        key(dialect, **env)
    assert str(failed.value) == f"incomplete credentials in {path}: {message}"


def test_a_profile_is_read_from_the_files_the_callers_env_names(tmp_path: Path) -> None:
    process_file = Path(os.environ["AWS_CONFIG_FILE"])  # the process's own, hermetic
    process_file.write_text(
        "[profile dev]\naws_access_key_id = AK-PROCESS\naws_secret_access_key = a\n"
    )
    mine = tmp_path / "config"
    mine.write_text(
        "[profile dev]\nregion = eu-west-3\n"
        "aws_access_key_id = AK-CALLER\naws_secret_access_key = b\n"
    )
    env = {"AWS_CONFIG_FILE": str(mine), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    provider = resolve_credentials("s3", profile="dev", env=env)
    anyio.run(provider.ensure_fresh)
    assert provider.current().access_key == "AK-CALLER"
    assert load_profile("dev", env).region == "eu-west-3"


def test_one_renewal_however_many_requests_wait_and_failures_keep_valid_keys() -> None:
    clock = FakeClock()
    fetched: list[int] = []
    fail = False

    def fetch() -> TimedCredentials:
        if fail:
            raise CredentialRefreshError("the metadata service did not answer")
        fetched.append(1)
        return TimedCredentials(
            Credentials(f"AK{len(fetched)}", "sk"), clock() + timedelta(hours=1)
        )

    provider = RefreshingCredentials(fetch, source="test", identity="test", clock=clock)

    async def many() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(provider.ensure_fresh)

    anyio.run(many)
    assert len(fetched) == 1 and provider.current().access_key == "AK1"
    clock.advance(timedelta(minutes=49))
    anyio.run(many)
    assert len(fetched) == 1  # 11 minutes left: not yet due
    clock.advance(timedelta(minutes=2))
    anyio.run(many)
    assert len(fetched) == 2 and provider.current().access_key == "AK2"
    clock.advance(timedelta(minutes=55))
    fail = True
    anyio.run(provider.ensure_fresh)  # renewal failed, but AK2 is valid for 5 more minutes
    assert provider.current().access_key == "AK2"
    clock.advance(timedelta(minutes=6))
    with pytest.raises(CredentialRefreshError):
        anyio.run(provider.ensure_fresh)


def test_a_slow_renewal_holds_back_no_request_while_the_keys_are_still_good() -> None:
    clock = FakeClock()
    started, release = threading.Event(), threading.Event()
    keys = iter(["AK1", "AK2"])

    def fetch() -> TimedCredentials:
        key = next(keys)
        if key == "AK2":  # the renewal: STS or the metadata service is slow to answer
            started.set()
            release.wait(30)
        return TimedCredentials(Credentials(key, "sk"), clock() + timedelta(hours=1))

    provider = RefreshingCredentials(fetch, source="test", identity="test", clock=clock)
    anyio.run(provider.ensure_fresh)
    clock.advance(timedelta(minutes=51))  # 9 minutes left: due for renewal
    signed: list[str] = []

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(provider.ensure_fresh)  # renews, and waits for the answer
            await anyio.to_thread.run_sync(started.wait, 10)
            try:
                with anyio.fail_after(10):  # without the fix: waits for the renewal
                    for _ in range(20):
                        await provider.ensure_fresh()
                        signed.append(provider.current().access_key)
            finally:
                release.set()

    anyio.run(main)
    assert signed == ["AK1"] * 20 and provider.current().access_key == "AK2"
    assert provider.fetches == 2


def test_keys_that_come_back_already_due_are_not_fetched_again_for_every_request() -> None:
    clock = FakeClock()
    fetched: list[int] = []

    def fetch() -> TimedCredentials:  # a credential_process whose keys live 5 minutes
        fetched.append(1)
        return TimedCredentials(Credentials("AK", "sk"), clock() + timedelta(minutes=5))

    provider = RefreshingCredentials(fetch, source="test", identity="test", clock=clock)

    async def requests() -> None:
        for _ in range(50):
            await provider.ensure_fresh()

    anyio.run(requests)
    assert len(fetched) == 1  # not one process (or STS call) per request
    clock.advance(timedelta(seconds=31))
    anyio.run(requests)
    assert len(fetched) == 2
    clock.advance(timedelta(minutes=5))  # expired: every request waits for fresh ones
    anyio.run(provider.ensure_fresh)
    assert len(fetched) == 3


def test_a_renewal_that_never_answers_has_a_deadline() -> None:
    clock = FakeClock()
    first, stuck = True, threading.Event()

    def fetch() -> TimedCredentials:
        nonlocal first
        if not first:
            stuck.wait(30)  # a credential_process or STS that never answers
        first = False
        return TimedCredentials(Credentials("AK1", "sk"), clock() + timedelta(hours=1))

    provider = RefreshingCredentials(
        fetch, source="credential_process", identity="t", clock=clock, renew_timeout=0.05
    )
    try:
        anyio.run(provider.ensure_fresh)
        clock.advance(timedelta(minutes=55))
        anyio.run(provider.ensure_fresh)  # still valid: given up on, kept, tried again later
        assert provider.current().access_key == "AK1"
        clock.advance(timedelta(minutes=6))
        with pytest.raises(CredentialRefreshError) as failed:
            anyio.run(provider.ensure_fresh)
    finally:
        stuck.set()
    assert str(failed.value) == (
        "could not get credentials from credential_process: no answer within 0.05s"
    )


def test_a_first_fetch_that_never_answers_has_a_deadline_and_is_stopped() -> None:
    stuck, stops = threading.Event(), []

    def fetch() -> TimedCredentials:
        stuck.wait(30)  # a credential_process that never exits
        raise CredentialRefreshError("could not get credentials: the process was killed")

    def stop() -> str:
        stops.append(1)
        stuck.set()
        return "its credential_process was stopped"

    provider = RefreshingCredentials(
        fetch, source="AWS profile 'p'", identity="t", first_timeout=0.05, stop=stop
    )
    try:
        with pytest.raises(ConfigError) as failed:
            anyio.run(provider.ensure_fresh)
    finally:
        stuck.set()
    assert str(failed.value) == (
        "could not get credentials from AWS profile 'p': no answer within 0.05s "
        "(its credential_process was stopped)"
    )
    assert stops == [1] and provider.fetches == 0


def test_a_fetch_stuck_for_good_does_not_hold_the_process_at_exit() -> None:
    import subprocess
    import sys

    code = (
        "import threading, anyio\n"
        "from partcopy.errors import ConfigError\n"
        "from partcopy.transports.credentials import RefreshingCredentials\n"
        "def fetch():\n"
        "    threading.Event().wait()  # a prompt nobody answers\n"
        "p = RefreshingCredentials(fetch, source='AWS profile x', identity='x', "
        "first_timeout=0.05)\n"
        "try:\n"
        "    anyio.run(p.ensure_fresh)\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "could not get credentials from AWS profile x: no answer within 0.05s\n"


def test_first_fetch_failure_is_a_config_error() -> None:
    def fetch() -> TimedCredentials:
        raise CredentialRefreshError("could not get credentials from somewhere")

    provider = RefreshingCredentials(fetch, source="test", identity="test")
    with pytest.raises(ConfigError, match="somewhere"):
        anyio.run(provider.ensure_fresh)


def test_help_and_the_environment_path_never_import_botocore() -> None:
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "from partcopy.cli import main\n"
        "from partcopy.config import resolve_endpoint\n"
        "resolve_endpoint('s3', env={'AWS_ACCESS_KEY_ID': 'a', 'AWS_SECRET_ACCESS_KEY': 'b'})\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['cp', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('botocore')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
