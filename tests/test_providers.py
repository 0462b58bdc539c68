"""Providers as data: the rows, the CLI that lists them, and a new store added as one row."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import structlog

from partcopy.cli import main
from partcopy.config import resolve_endpoint
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from partcopy.engine.copier import Copier
from partcopy.engine.verify import composite_etag
from partcopy.errors import UsageError
from partcopy.providers import (
    DIALECT_ROWS,
    PROFILES,
    PROVIDERS,
    SCHEMES,
    PartLimits,
    Provider,
    get_provider,
    markdown_table,
    register,
    unregister,
)
from partcopy.store.memory import MemoryStore
from partcopy.transports import make_transport
from partcopy.transports.cos import COS_SPEC
from partcopy.transports.memory import MemoryTransport
from partcopy.transports.obs import OBS_SPEC
from partcopy.transports.qingstor import QINGSTOR_SPEC
from partcopy.transports.s3 import S3_SPEC
from partcopy.units import MiB

ROOT = Path(__file__).resolve().parent.parent


_DIALECT_SPECS = {"s3": S3_SPEC, "obs": OBS_SPEC, "cos": COS_SPEC, "qingstor": QINGSTOR_SPEC}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("row", PROVIDERS.values(), ids=lambda r: r.name)
def test_every_row_is_consistent(row: Provider) -> None:
    lim = row.limits
    assert lim.name == row.name and PROFILES[row.name] is lim
    assert 0 < lim.min_part <= lim.max_part and lim.max_parts >= 1
    assert lim.max_object <= lim.max_part * lim.max_parts  # the parts can build it
    assert lim.single_max <= lim.max_part  # a relayed single copy is one part
    assert lim.first_part_number in (0, 1)
    assert DIALECT_ROWS[row.dialect].dialect == row.dialect
    assert all(SCHEMES[s] == row.dialect for s in row.schemes)
    if row.endpoint_template is not None and "{region}" in row.endpoint_template:
        assert row.endpoint_for("xx-1") == row.endpoint_template.replace("{region}", "xx-1")
    endpoint = row.endpoint_for("xx-1")
    if endpoint is not None:  # the row's own default endpoint is one of its public hosts
        assert row.is_public_host(endpoint.split("://", 1)[1])
    assert not row.is_public_host("127.0.0.1") and not row.is_public_host("s3.example.test")
    # a row that takes canned ACLs speaks a dialect with an ACL header to send them in
    assert not row.canned_acls or _DIALECT_SPECS[row.dialect].acl is not None


def test_the_rows_the_issue_asks_for_exist_with_their_documented_quirks() -> None:
    assert {"s3", "obs", "obs2", "cos", "qingstor", "minio", "ceph", "seaweedfs", "r2"} <= set(
        PROVIDERS
    )
    assert {"b2", "wasabi", "spaces", "scaleway", "gcs"} <= set(PROVIDERS)
    assert PROVIDERS["scaleway"].limits.max_parts == 1000
    assert PROVIDERS["qingstor"].limits.first_part_number == 0
    assert not PROVIDERS["gcs"].server_side_copy
    weed = PROVIDERS["seaweedfs"]
    assert not weed.copy_part_etag_md5 and weed.composite_etag == "md5-of-md5s"
    assert not weed.quirks.list_uploads_next_key_marker and weed.quirks.min_bucket_name > 1


@pytest.mark.parametrize("name", PROVIDERS)
def test_plan_accepts_every_row(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = run(capsys, "plan", "--profile", name, "--size", "1TiB", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    limits = PROVIDERS[name].limits
    assert doc["profile"] == name and doc["part_count"] <= limits.max_parts
    assert doc["first_part_number"] == limits.first_part_number


def test_a_single_copy_above_the_rows_largest_part_is_bad_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # B2 takes parts of at most 5 GB: a 5 GiB object is not one copy there (a relay of a
    # single copy is one part), so a threshold of 5 GiB is refused before any request.
    argv = ["plan", "--profile", "b2", "--size", "5GiB", "--single-threshold", "5GiB"]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "invalid single-copy threshold 5368709120" in err and "5000000000" in err


def test_providers_command_lists_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "providers", "--json")
    assert code == 0
    rows = json.loads(out)["providers"]
    assert [r["name"] for r in rows] == list(PROVIDERS)
    scaleway = next(r for r in rows if r["name"] == "scaleway")
    assert scaleway["max_parts"] == 1000 and scaleway["dialect"] == "s3"
    code, out, _ = run(capsys, "providers")  # piped: one tab-separated line per row
    lines = out.splitlines()
    assert code == 0 and lines[0].split("\t")[:3] == ["provider", "store", "dialect"]
    assert [line.split("\t")[0] for line in lines[1:]] == list(PROVIDERS)
    assert all(line.count("\t") == 6 for line in lines)


def test_readme_providers_table_is_the_rendered_rows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- providers-table: begin -->\n", "<!-- providers-table: end -->"
    assert begin in readme and end in readme, "README lost its generated Providers table"
    shown = readme.split(begin, 1)[1].split(end, 1)[0]
    assert shown == markdown_table(), "README table drifted: paste `partcopy providers --markdown`"


def test_composite_rules() -> None:
    parts = [hashlib.md5(b).hexdigest() for b in (b"one", b"two")]
    binary = hashlib.md5(b"".join(bytes.fromhex(p) for p in parts)).hexdigest()
    quoted = [f'"{p}"' for p in parts]
    assert composite_etag(quoted) == f"{binary}-2"
    assert composite_etag(quoted, "opaque") is None
    assert composite_etag(['"9047948d8fa500799635527a8b89062c-2"', quoted[0]]) is None


# --- a store that does not copy server-side: auto relays, copy is refused up front ------


def test_a_row_without_upload_part_copy_relays_in_auto_and_refuses_copy_mode() -> None:
    store = MemoryStore("s3")
    store.create_bucket("src")
    store.create_bucket("dst")
    transport = MemoryTransport(store)

    async def prepare() -> None:
        async with Copier(transport=transport) as copier:
            job = copier.prepare("s3://src/a", "s3://dst/a", provider="gcs")
            assert job.part_mode == "relay" and job.provider.name == "gcs"
            assert copier.prepare("s3://src/a", "s3://dst/a").part_mode == "copy"
            with pytest.raises(UsageError, match="no UploadPartCopy"):
                copier.prepare("s3://src/a", "s3://dst/a", provider="gcs", mode="copy")

    anyio.run(prepare)


@pytest.mark.parametrize("flag", ["--provider", "--part-limits"])
def test_the_cli_picks_a_row_with_provider_and_its_hidden_old_name(
    flag: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gcs row has no UploadPartCopy: --mode copy under it is refused before any request
    # (the endpoint is a closed port), which only happens when the flag selected that row.
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", "b")
    argv = ["cp", "s3://src-bkt/a", "s3://dst-bkt/a", "--endpoint-url", "http://127.0.0.1:9"]
    code, _, err = run(capsys, *argv, "--mode", "copy", flag, "gcs")
    assert code == 2 and "no UploadPartCopy" in err and len(err.strip().splitlines()) == 1
    _, usage, _ = run(capsys, "cp", "--help")
    assert "--provider NAME" in usage and "--part-limits" not in usage


def test_plan_takes_the_row_as_profile_and_as_provider(capsys: pytest.CaptureFixture[str]) -> None:
    docs = []
    for flag in ("--profile", "--provider"):
        code, out, err = run(capsys, "plan", flag, "scaleway", "--size", "1TiB", "--json")
        assert code == 0, err
        docs.append(json.loads(out))
    assert docs[0] == docs[1] and docs[0]["profile"] == "scaleway"
    assert docs[0]["part_count"] <= 1000  # Scaleway's documented part count, not S3's


# --- adding an S3-compatible store is one row ------------------------------------------

ACME = Provider(
    "acme",
    "Acme Object Storage",
    "s3",
    PartLimits("acme", min_part=8 * MiB, max_parts=4),
    default_region="acme-1",
    endpoint_template="https://s3.{region}.acme.test",
    public_hosts=(".acme.test",),
)
"""A store with a documented 4-part limit and 8 MiB minimum part: everything else as S3."""


@pytest.fixture
def acme_row() -> Iterator[Provider]:
    row = register(ACME)
    try:
        yield row
    finally:
        unregister("acme")


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    emu = EmulatorThread(dialect="s3", objects=["src-bkt/big.bin=40MiB", "dst-bkt/keep=0"])
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("PARTCOPY_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    yield
    structlog.reset_defaults()


def test_a_new_store_is_one_row(
    acme_row: Provider,
    emulator: EmulatorThread,
    clean_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Listed and planned like the built-in rows...
    code, out, _ = run(capsys, "providers", "--json")
    assert "acme" in [r["name"] for r in json.loads(out)["providers"]]
    code, out, _ = run(
        capsys, "plan", "--profile", "acme", "--size", "40MiB", "--part-size", "5MiB", "--json"
    )
    assert code == 0 and json.loads(out)["part_count"] == 4  # 5 MiB asked: 4 parts at most
    # ...its region and endpoint come from the row (nothing is contacted: config only)...
    config = resolve_endpoint(
        "s3",
        env={"PARTCOPY_ACCESS_KEY_ID": "a", "PARTCOPY_SECRET_ACCESS_KEY": "b"},
        provider=acme_row,
    )
    assert config.region == "acme-1" and config.provider is acme_row
    transport = make_transport("s3", None, config.region, config.credentials, provider=acme_row)
    assert "s3.acme-1.acme.test" in repr(transport) and "'acme'" in repr(transport)
    # ...and a real copy through the emulator follows the row's limits: 40 MiB in at most
    # 4 parts (5 MiB asked, 10 MiB chosen), verified like any other copy.
    code, out, err = run(
        capsys,
        "cp",
        "s3://src-bkt/big.bin",
        "s3://dst-bkt/acme.bin",
        "--provider",
        "acme",
        "--part-size",
        "5MiB",
        "--endpoint-url",
        emulator.url,
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "completed" and doc["mode"] == "copy"
    assert doc["parts"] == 4 and doc["part_size"] == 10 * MiB
    assert re.fullmatch(r'"?[0-9a-f]{32}-4"?', doc["etag"])


def test_an_unknown_row_is_bad_input_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "--profile", "acme", "--size", "1GiB")
    assert code == 2 and "acme" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(UsageError, match="'acme'"):
        get_provider("acme")
