"""ListBuckets, ``partcopy ls s3://``: each dialect's transport against the emulator (its
signatures checked), S3 against moto, paging as each store pages, a store that repeats a
page token, the service endpoint (never a bucket's host) and the CLI's lines and JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from net_helpers import ForwardProxy
from partcopy.cli import main
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator, EmulatorThread
from partcopy.engine.listing import iter_buckets
from partcopy.errors import AccessDenied, ProtocolError
from partcopy.store.memory import MemoryStore
from partcopy.transports import make_transport
from partcopy.transports.base import BucketInfo, Transport
from partcopy.transports.memory import MemoryTransport
from partcopy.transports.s3 import make_s3_transport
from partcopy.transports.signing import Credentials

CREDS = Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)


@dataclass(frozen=True)
class Case:
    dialect: str
    scheme: str
    names: tuple[str, ...]
    pages: bool  # the dialect pages ListBuckets (OBS answers every bucket at once)


CASES = [
    Case("s3", "s3", ("a-bkt", "b-bkt", "c-bkt", "d-bkt", "e-bkt"), True),
    Case("obs", "obs", ("a-bkt", "b-bkt", "c-bkt", "d-bkt", "e-bkt"), False),
    Case("cos", "cos", tuple(f"{c}-1250000000" for c in "abcde"), True),
    Case("qingstor", "qs", ("a-bkt", "b-bkt", "c-bkt", "d-bkt", "e-bkt"), True),
]
by_dialect = pytest.mark.parametrize("case", CASES, ids=[c.dialect for c in CASES])


@asynccontextmanager
async def emulated(case: Case) -> AsyncIterator[tuple[Emulator, Transport]]:
    async with Emulator(case.dialect, users=[("other", "other-secret")]) as emu:
        for name in case.names:
            emu.store.create_bucket(name, DEFAULT_ACCESS_KEY)
        emu.store.create_bucket("theirs-1250000000", "other")  # not listed: not the caller's
        transport = make_transport(case.dialect, emu.url, "ap-test-1", CREDS)  # type: ignore[arg-type]
        try:
            yield emu, transport
        finally:
            await transport.aclose()


async def collect(buckets: AsyncIterator[BucketInfo]) -> list[BucketInfo]:
    return [b async for b in buckets]


@by_dialect
def test_each_dialect_lists_the_callers_buckets_with_their_dates(case: Case) -> None:
    async def main_() -> None:
        async with emulated(case) as (emu, t):
            page = await t.list_buckets()
            assert [b.name for b in page.buckets] == list(case.names)
            assert page.next_token is None
            created = dict((n, c) for n, c, _ in emu.store.buckets())
            assert all(b.created == created[b.name].replace(microsecond=0) for b in page.buckets)

    asyncio.run(main_())


@by_dialect
def test_paging_follows_every_page_where_the_dialect_pages(case: Case) -> None:
    async def main_() -> None:
        async with emulated(case) as (_, t):
            first = await t.list_buckets(max_buckets=2)
            if case.pages:
                assert [b.name for b in first.buckets] == list(case.names[:2])
                assert first.next_token is not None
            else:
                assert len(first.buckets) == 5 and first.next_token is None
            everything = await collect(iter_buckets(t, page_size=2))
            assert [b.name for b in everything] == list(case.names)

    asyncio.run(main_())


def test_the_memory_transport_pages_as_the_wire_ones_do() -> None:
    store = MemoryStore()
    for name in ("a-bkt", "b-bkt", "c-bkt"):
        store.create_bucket(name)
    t = MemoryTransport(store)

    async def main_() -> None:
        first = await t.list_buckets(max_buckets=2)
        assert [b.name for b in first.buckets] == ["a-bkt", "b-bkt"]
        rest = await t.list_buckets(token=first.next_token, max_buckets=2)
        assert [b.name for b in rest.buckets] == ["c-bkt"] and rest.next_token is None
        assert [b.name for b in await collect(iter_buckets(t, page_size=1))] == [
            "a-bkt",
            "b-bkt",
            "c-bkt",
        ]

    asyncio.run(main_())


def test_s3_against_moto_lists_what_boto3_created(moto_url: str, s3: Any) -> None:
    names = sorted(f"lsb-{os.getpid()}-{i}" for i in range(3))
    for name in names:
        s3.create_bucket(Bucket=name)

    async def main_() -> None:
        t = make_s3_transport(moto_url, "us-east-1", Credentials("AKIDMOTO", "moto-secret"))
        try:
            listed = await collect(iter_buckets(t))
        finally:
            await t.aclose()
        mine = [b for b in listed if b.name in names]
        assert [b.name for b in mine] == names and all(b.created for b in mine)

    asyncio.run(main_())


@asynccontextmanager
async def looping_store(tokens: list[str | None]) -> AsyncIterator[tuple[str, list[str]]]:
    """An S3 endpoint whose n-th ListBuckets page names ``tokens[n]`` as the next one."""
    asked: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        asked.append(request.query.get("continuation-token", ""))
        nxt = tokens[min(len(asked) - 1, len(tokens) - 1)]
        more = f"<ContinuationToken>{nxt}</ContinuationToken>" if nxt else ""
        body = (
            "<ListAllMyBucketsResult><Buckets><Bucket><Name>"
            f"b{len(asked)}</Name></Bucket></Buckets>{more}</ListAllMyBucketsResult>"
        )
        return web.Response(text=body, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("tokens", [["A", "A"], ["A", "B", "A"]], ids=["same", "cycle"])
def test_a_store_that_repeats_a_page_token_is_refused_not_listed_forever(
    tokens: list[str | None],
) -> None:
    async def main_() -> None:
        async with looping_store(tokens) as (url, asked):
            t = make_s3_transport(url, "us-east-1", CREDS)
            seen: list[str] = []
            try:
                with pytest.raises(ProtocolError, match="again"):
                    async for bucket in iter_buckets(t):
                        seen.append(bucket.name)
            finally:
                await t.aclose()
            assert len(asked) == len(tokens) and seen == [f"b{i + 1}" for i in range(len(tokens))]

    asyncio.run(main_())


def test_a_last_page_ends_the_listing() -> None:
    async def main_() -> None:
        async with looping_store(["A", "B", None]) as (url, asked):
            t = make_s3_transport(url, "us-east-1", CREDS)
            try:
                names = [b.name for b in await collect(iter_buckets(t))]
            finally:
                await t.aclose()
        assert names == ["b1", "b2", "b3"] and asked == ["", "A", "B"]

    asyncio.run(main_())


def test_a_stranger_is_refused_with_the_access_key_named() -> None:
    async def main_() -> None:
        async with Emulator("s3") as emu:
            t = make_transport("s3", emu.url, "ap-test-1", Credentials("nobody", "x"))
            try:
                with pytest.raises(AccessDenied, match="listing buckets, access key 'nobody'"):
                    await t.list_buckets()
            finally:
                await t.aclose()

    asyncio.run(main_())


# --- where the request goes ----------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("PARTCOPY_", "AWS_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PARTCOPY_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
    monkeypatch.setenv("PARTCOPY_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    return monkeypatch


SERVICE_HOSTS = [
    # (dialect, scheme, addressing, bucket, the Host header GET / must carry)
    ("s3", "s3", "virtual", "a-bkt", "{endpoint}"),
    ("qingstor", "qs", "virtual", "a-bkt", "{endpoint}"),
    ("cos", "cos", "auto", "a-1250000000", "service.cos.myqcloud.com"),
]


@pytest.mark.parametrize(
    ("dialect", "scheme", "style", "bucket", "host"),
    SERVICE_HOSTS,
    ids=[f"{d}-{s}" for d, _, s, _, _ in SERVICE_HOSTS],
)
def test_the_bucket_list_is_asked_of_the_service_endpoint_never_a_bucket_host(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dialect: str,
    scheme: str,
    style: str,
    bucket: str,
    host: str,
) -> None:
    emu = emulator_thread(dialect=dialect, objects=[f"{bucket}/k=1"])
    endpoint = f"store.example.test:{emu.url.rsplit(':', 1)[1]}"
    with ForwardProxy().running() as proxy:
        status = main(
            ["ls", f"{scheme}://", "--endpoint-url", f"http://{endpoint}", "--region",
             "ap-test-1", "--addressing-style", style, "--proxy", proxy.url]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0 and out.split()[-1:] == [bucket], out
    requests = [(s.line.split()[0], s.line.split()[1].split("?")[0], s.host) for s in proxy.seen]
    assert requests == [("GET", f"http://{endpoint}/", host.format(endpoint=endpoint))]


VIRTUAL_ON_IP = [("s3", "s3"), ("obs", "obs"), ("qingstor", "qs")]


@pytest.mark.parametrize(("dialect", "scheme"), VIRTUAL_ON_IP, ids=[d for d, _ in VIRTUAL_ON_IP])
def test_virtual_addressing_on_an_ip_endpoint_lists_buckets_and_refuses_a_bucket(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dialect: str,
    scheme: str,
) -> None:
    """The bucket list names no bucket, so no bucket host: virtual addressing on an IP
    address does not stand in its way. A bucket's listing still is refused, exit 2 in one
    line before any request."""
    emu = emulator_thread(dialect=dialect, objects=["a-bkt/k=1"])
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1", "--addressing-style", "virtual"]
    assert main(["ls", f"{scheme}://", *common]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.split()[-1:] == ["a-bkt"]
    before = emu.call(emu.emulator.stats).requests
    assert main(["ls", f"{scheme}://a-bkt/", *common]) == 2
    out, err = capsys.readouterr()
    address = emu.url.split("//")[1].rsplit(":", 1)[0]
    refusal = f"virtual addressing needs a DNS name endpoint, not the address {address}"
    assert (out, err) == ("", f"partcopy: error: {refusal}\n")
    assert emu.call(emu.emulator.stats).requests == before


def test_a_copier_that_listed_buckets_still_refuses_a_bucket_on_virtual_ip(
    emulator_thread: Callable[..., EmulatorThread],
) -> None:
    """One ``Copier``: the endpoint its bucket list resolved is not a pass for buckets."""
    from partcopy import Copier
    from partcopy.errors import ConfigError

    emu = emulator_thread(dialect="s3", objects=["a-bkt/k=1", "b-bkt/k=1"])
    creds = {"PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY}
    creds["PARTCOPY_SECRET_ACCESS_KEY"] = DEFAULT_SECRET_KEY

    async def main_() -> list[str]:
        async with Copier(endpoint_url=emu.url, addressing_style="virtual", env=creds) as c:
            names = [b.name async for b in c.list_buckets("s3")]
            sent = emu.call(emu.emulator.stats).requests
            with pytest.raises(ConfigError, match="DNS name endpoint"):
                await c.copy("s3://a-bkt/k", "s3://b-bkt/k")
            assert emu.call(emu.emulator.stats).requests == sent
            return names

    assert asyncio.run(main_()) == ["a-bkt", "b-bkt"]


def test_a_destination_refused_virtual_on_ip_stops_the_copy_before_the_source_is_asked(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """Path style for the source's profile, virtual for the destination's, one IP
    endpoint: the copy is refused before its first request (the source's HEAD)."""
    from partcopy import Copier
    from partcopy.errors import ConfigError

    emu = emulator_thread(dialect="s3", objects=["a-bkt/k=1", "b-bkt/x=1"])
    config = tmp_path / "config"
    keys = f"aws_access_key_id = {DEFAULT_ACCESS_KEY}\naws_secret_access_key = {DEFAULT_SECRET_KEY}"
    config.write_text(
        f"[profile src]\nregion = us-east-1\n{keys}\ns3 =\n    addressing_style = path\n"
        f"[profile dst]\nregion = us-east-1\n{keys}\ns3 =\n    addressing_style = virtual\n"
    )
    env.setenv("AWS_CONFIG_FILE", str(config))

    async def main_() -> None:
        async with Copier(endpoint_url=emu.url, src_profile="src", dst_profile="dst") as c:
            with pytest.raises(ConfigError, match="DNS name endpoint"):
                await c.copy("s3://a-bkt/k", "s3://b-bkt/k")

    before = emu.call(emu.emulator.stats).requests
    asyncio.run(main_())
    assert emu.call(emu.emulator.stats).requests == before


# --- the CLI ------------------------------------------------------------------------


@by_dialect
def test_ls_of_a_scheme_prints_a_line_per_bucket_and_one_json_object(
    case: Case,
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulator_thread(dialect=case.dialect, objects=[f"{n}/k=1" for n in case.names[:2]])
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1"]
    assert main(["ls", f"{case.scheme}://", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines] == list(case.names[:2])
    assert all(len(line.split()) == 3 and line[4] == "-" and line[13] == ":" for line in lines)

    assert main(["ls", f"{case.scheme}://", "--json", *common]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["bucket"] for e in doc["entries"]] == list(case.names[:2])
    assert all(e["created"] and set(e) == {"bucket", "created", "region"} for e in doc["entries"])
    assert (doc["url"], doc["buckets"], doc["status"], doc["error"]) == (
        f"{case.scheme}://",
        2,
        "completed",
        None,
    )


def test_ls_of_a_scheme_with_bad_credentials_fails_in_one_line_and_in_the_json(
    emulator_thread: Callable[..., EmulatorThread],
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = emulator_thread(dialect="s3", objects=["a-bkt/k=1"])
    env.setenv("PARTCOPY_SECRET_ACCESS_KEY", "not-the-secret")
    common = ["--endpoint-url", emu.url, "--region", "ap-test-1"]
    assert main(["ls", "s3://", *common]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("partcopy: ls failed: AccessDenied:") and "not-the-secret" not in err
    assert main(["ls", "s3://", "--json", *common]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["status"], doc["buckets"], doc["error"]["type"]) == ("failed", 0, "AccessDenied")


def test_ls_of_an_unreachable_endpoint_fails_in_one_line(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["ls", "obs://", "--endpoint-url", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("partcopy: ls failed: ConnectError:"), err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["ls", "s3://", "--recursive"], "--recursive"),
        (["ls", "cos://", "--exclude", "*"], "--include/--exclude"),
        (["ls", "gcs://"], "'gcs://'"),
    ],
)
def test_ls_of_a_scheme_refuses_key_flags_before_any_request(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.setblocking(False)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        assert main([*argv, "--endpoint-url", url]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and named in err, err
        with pytest.raises(BlockingIOError):
            sock.accept()


# --- the answers' bodies -------------------------------------------------------------


def test_cos_pages_by_next_marker_or_the_last_name_and_s3_by_its_token() -> None:
    from partcopy.transports.parse import parse_list_buckets

    def doc(inner: str) -> bytes:
        return f"<ListAllMyBucketsResult>{inner}</ListAllMyBucketsResult>".encode()

    two = "<Buckets><Bucket><Name>a-1</Name><Location>ap-x</Location></Bucket>"
    two += "<Bucket><Name>b-1</Name></Bucket></Buckets>"
    assert parse_list_buckets(doc(f"<IsTruncated>true</IsTruncated>{two}")).next_token == "b-1"
    marked = doc(f"<NextMarker>m</NextMarker><IsTruncated>true</IsTruncated>{two}")
    assert parse_list_buckets(marked).next_token == "m"
    assert parse_list_buckets(doc(f"<IsTruncated>false</IsTruncated>{two}")).next_token is None
    page = parse_list_buckets(doc(f"{two}<ContinuationToken>t</ContinuationToken>"))
    assert page.next_token == "t" and page.buckets[0].region == "ap-x"
    with pytest.raises(ProtocolError, match="truncated"):
        parse_list_buckets(doc("<IsTruncated>true</IsTruncated><Buckets/>"))
    with pytest.raises(ProtocolError, match="no Name"):
        parse_list_buckets(doc("<Buckets><Bucket><Name></Name></Bucket></Buckets>"))
    with pytest.raises(ProtocolError):
        parse_list_buckets(b"<html>proxy says no</html>")


def test_qingstor_pages_by_offset_while_count_says_more() -> None:
    from partcopy.transports.parse_json import parse_list_buckets_json

    def doc(count: int, *names: str) -> bytes:
        return json.dumps({"count": count, "buckets": [{"name": n} for n in names]}).encode()

    assert parse_list_buckets_json(doc(5, "a", "b")).next_token == "2"
    assert parse_list_buckets_json(doc(5, "c", "d"), "2").next_token == "4"
    assert parse_list_buckets_json(doc(5, "e"), "4").next_token is None
    # A count of this page's buckets (not of all) ends the listing rather than looping.
    assert parse_list_buckets_json(doc(2, "c", "d"), "2").next_token is None
    assert parse_list_buckets_json(doc(5), "2").next_token is None
    with pytest.raises(ProtocolError, match="no name"):
        parse_list_buckets_json(b'{"buckets": [{"location": "pek3b"}]}')
