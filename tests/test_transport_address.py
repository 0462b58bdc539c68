"""Endpoints and bucket addressing: path style, virtual host, COS's Host header."""

from __future__ import annotations

import asyncio

import pytest

from partcopy.errors import ConfigError
from partcopy.providers import Dialect
from partcopy.transports import make_transport
from partcopy.transports.address import (
    Endpoint,
    HostHeader,
    Located,
    NoBucketHost,
    PathStyle,
    PerBucket,
    bucket_host_refusal,
    quote_key,
    s3_addressing,
)
from partcopy.transports.cos import cos_host
from partcopy.transports.http import parse_retry_after
from partcopy.transports.signing import Credentials


def test_endpoint_parsing_and_default_ports() -> None:
    assert Endpoint.parse("https://s3.eu-west-1.amazonaws.com").netloc == (
        "s3.eu-west-1.amazonaws.com"
    )
    assert Endpoint.parse("http://127.0.0.1:9000/").base == "http://127.0.0.1:9000"
    assert Endpoint.parse("https://h:443").netloc == "h"
    assert Endpoint.parse("minio.internal:9000") == Endpoint("https", "minio.internal", 9000)
    assert Endpoint.parse("http://[::1]:8080").netloc == "[::1]:8080"


@pytest.mark.parametrize(
    "bad", ["ftp://h", "http://h/base", "http://h?x=1", "http://h:99999", "http://"]
)
def test_bad_endpoints_are_config_errors_naming_the_value(bad: str) -> None:
    with pytest.raises(ConfigError, match="invalid endpoint URL"):
        Endpoint.parse(bad)


def test_auto_addressing_is_virtual_only_on_the_providers_own_endpoints() -> None:
    for url in ("http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:1"):
        assert isinstance(s3_addressing(Endpoint.parse(url), "auto", own=True), PathStyle)
    custom = Endpoint.parse("http://minio.internal:9000")
    assert isinstance(s3_addressing(custom, "auto"), PathStyle)  # as boto3: no bucket.minio
    assert isinstance(s3_addressing(custom, "virtual"), PerBucket)
    aws = Endpoint.parse("https://s3.us-east-1.amazonaws.com")
    assert isinstance(s3_addressing(aws, "auto", own=True), PerBucket)
    assert isinstance(s3_addressing(aws, "path", own=True), PathStyle)
    assert isinstance(s3_addressing(aws, "virtual", own=True), PerBucket)
    assert s3_addressing(custom, "virtual").locate("b", "k").host == "b.minio.internal:9000"


@pytest.mark.parametrize(
    ("dialect", "url", "address"),
    [
        ("s3", "http://127.0.0.1:19000", "127.0.0.1"),
        ("s3", "http://[::1]:19000", "::1"),
        ("obs", "https://10.0.0.7", "10.0.0.7"),
        ("qingstor", "http://127.0.0.1:19000", "127.0.0.1"),
    ],
)
def test_virtual_addressing_refuses_an_ip_address_endpoint(
    dialect: Dialect, url: str, address: str
) -> None:
    """Every bucket's request is refused before it is sent (nothing listens on these
    ports, nor is 10.0.0.7 reached: a request sent would fail otherwise); the bucket list,
    which names no bucket, is not refused."""
    creds = Credentials("AK", "SK")
    message = f"virtual addressing needs a DNS name endpoint, not the address {address}"
    assert str(bucket_host_refusal(url, "virtual")) == message
    assert bucket_host_refusal(url, "path") is None
    assert bucket_host_refusal("http://minio.internal:9000", "virtual") is None

    async def main() -> None:
        transport = make_transport(dialect, url, "r1", creds, addressing="virtual")
        try:
            with pytest.raises(ConfigError) as caught:
                await transport.head("a-bkt", "k")
            assert str(caught.value) == message
        finally:
            await transport.aclose()

    asyncio.run(main())
    service = NoBucketHost(Endpoint.parse(url))
    with pytest.raises(ConfigError, match="DNS name endpoint"):
        service.locate("a-bkt", "")
    for style in ("auto", "path"):  # IP endpoints keep path style
        make_transport(dialect, url, "r1", creds, addressing=style)
    local = s3_addressing(Endpoint.parse("http://localhost:9000"), "virtual")
    assert local.locate("b", "k").host == "b.localhost:9000"  # a name: its DNS decides


def test_per_bucket_addressing_falls_back_to_path_style() -> None:
    aws = PerBucket(Endpoint.parse("https://s3.us-east-1.amazonaws.com"))
    assert aws.locate("my-bucket", "a b") == Located(
        "https://my-bucket.s3.us-east-1.amazonaws.com",
        "my-bucket.s3.us-east-1.amazonaws.com",
        "/a%20b",
        True,
    )
    # Upper case is not DNS-safe and dots break the TLS wildcard: path style.
    for bucket in ("My_Bucket", "with.dots"):
        loc = aws.locate(bucket, "k")
        assert (loc.host, loc.path, loc.bucket_in_host) == (
            "s3.us-east-1.amazonaws.com",
            f"/{bucket}/k",
            False,
        )
    assert aws.locate("my-bucket", "").path == "/"
    assert PathStyle(Endpoint.parse("http://127.0.0.1:1")).locate("b", "").path == "/b"


def test_cos_host_header_addressing_connects_elsewhere() -> None:
    emulator = Endpoint.parse("http://127.0.0.1:4567")
    loc = HostHeader(emulator, lambda b: cos_host(b, "ap-guangzhou")).locate("b-125", "x/y z")
    assert loc == Located(
        "http://127.0.0.1:4567", "b-125.cos.ap-guangzhou.myqcloud.com", "/x/y%20z", True
    )


def test_keys_keep_unreserved_characters_and_slashes() -> None:
    assert quote_key("a-b._~/c d+ü%?#") == "a-b._~/c%20d%2B%C3%BC%25%3F%23"


def test_retry_after_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    now = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=lambda: now) == 10.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now=lambda: now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_transport_configuration_errors_come_before_any_request() -> None:
    creds = Credentials("AK", "SK", session_token="TOKEN")
    with pytest.raises(ConfigError, match="session token"):
        make_transport("qingstor", None, "pek3b", creds)
    with pytest.raises(ConfigError, match="unknown dialect"):
        make_transport("gcs", None, "r", creds)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="invalid endpoint"):
        make_transport("s3", "ftp://x", "r", creds)
