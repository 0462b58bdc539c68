"""A profile that names S3's endpoint (``endpoint_url``, an ``s3 =`` block, or a
``services`` section) is used as the AWS SDKs use it: requests go there, never to AWS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from env_helpers import hermetic_aws
from partcopy.cli import main
from partcopy.config import resolve_endpoint
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread

PROFILES = {
    "plain": "endpoint_url = {url}\n",
    "s3-block": "s3 =\n  endpoint_url = {url}\n",
    "services": "services = mine\n",
}


def write_config(home: Path, form: str, url: str) -> None:
    body = PROFILES[form].format(url=url)
    text = f"[profile emu]\nregion = eu-west-1\n{body}"
    text += f"aws_access_key_id = {DEFAULT_ACCESS_KEY}\n"
    text += f"aws_secret_access_key = {DEFAULT_SECRET_KEY}\n"
    if form == "services":
        text += f"\n[services mine]\ns3 =\n  endpoint_url = {url}\n"
    (home / "aws-config").write_text(text)


@pytest.mark.parametrize("form", list(PROFILES))
def test_a_profiles_endpoint_is_where_ls_goes(
    form: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    emulator_thread: Callable[..., EmulatorThread],
    capsys: pytest.CaptureFixture[str],
) -> None:
    hermetic_aws(monkeypatch, tmp_path)
    for name in ("PARTCOPY_ENDPOINT_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    # Should the profile's endpoint be missed, the request would be for AWS: it goes to a
    # loopback port where nothing listens, and no name is ever resolved here.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    emu = emulator_thread(dialect="s3", objects=["bkt/p/k.bin=10"])
    write_config(tmp_path, form, emu.url)
    assert main(["ls", "s3://bkt/p/", "--profile", "emu"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(" 10 k.bin")


def test_the_variable_and_the_flag_come_before_the_profile_and_it_can_be_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hermetic_aws(monkeypatch, tmp_path)
    write_config(tmp_path, "plain", "http://127.0.0.1:1111")
    env = {"AWS_CONFIG_FILE": str(tmp_path / "aws-config")}

    def endpoint(extra: dict[str, str], **args: str) -> str | None:
        config = resolve_endpoint("s3", profile="emu", env=env | extra, **args)  # type: ignore[arg-type]
        return config.endpoint_url

    assert endpoint({}) == "http://127.0.0.1:1111"
    assert endpoint({"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:2222"}) == "http://127.0.0.1:2222"
    assert endpoint({}, endpoint_url="http://127.0.0.1:3333") == "http://127.0.0.1:3333"
    ignore = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert endpoint(ignore) is None  # public AWS
    assert endpoint(ignore | {"AWS_ENDPOINT_URL": "http://127.0.0.1:4444"}) is None
    assert endpoint(ignore | {"PARTCOPY_ENDPOINT_URL": "http://127.0.0.1:5555"}) == (
        "http://127.0.0.1:5555"  # partcopy's own variable is no AWS configuration
    )
