"""Location URLs: strict parsing, one-line UsageErrors naming the bad value, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partcopy.config import check_endpoint_url, resolve_endpoint
from partcopy.errors import ConfigError, UsageError
from partcopy.urls import Location, parse_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bkt/key", Location("s3", "bkt", "key")),
        ("s3://b/src", Location("s3", "b", "src")),
        ("obs://my.bucket/a/b/c.bin", Location("obs", "my.bucket", "a/b/c.bin")),
        ("cos://data-1250000000/x y+z", Location("cos", "data-1250000000", "x y+z")),
        ("qs://zone-bkt/k", Location("qs", "zone-bkt", "k")),
        ("s3://bkt/key?versionId=3HL4kqtJ", Location("s3", "bkt", "key", "3HL4kqtJ")),
        ("s3://bkt/dir/", Location("s3", "bkt", "dir/")),
        ("s3://bkt/what?is=this", Location("s3", "bkt", "what?is=this")),
        ("s3://bkt/50%3F.txt", Location("s3", "bkt", "50%3F.txt")),  # no percent-decoding
        # A key holding "?versionId=": an empty mark ends it, or a version follows it.
        ("s3://bkt/a?versionId=x?versionId=", Location("s3", "bkt", "a?versionId=x")),
        ("s3://bkt/a?versionId=x/y?versionId=", Location("s3", "bkt", "a?versionId=x/y")),
        ("s3://bkt/a?versionId=?versionId=", Location("s3", "bkt", "a?versionId=")),
        ("s3://bkt/a?versionId=x?versionId=V1", Location("s3", "bkt", "a?versionId=x", "V1")),
    ],
)
def test_valid_urls(url: str, expected: Location) -> None:
    assert parse_url(url) == expected
    assert str(parse_url(url)) == url


def test_dialect_of_each_scheme() -> None:
    assert [parse_url(f"{s}://bkt-1250000000/k").dialect for s in ("s3", "obs", "cos", "qs")] == [
        "s3",
        "obs",
        "cos",
        "qingstor",
    ]


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("bkt/key", "'bkt/key'"),
        ("gs://bkt/key", "'gs'"),
        ("S3://bkt/key", "'S3'"),
        ("s3:///key", "no bucket"),
        ("s3://bkt", "no object key"),
        ("s3://bkt/", "no object key"),
        ("s3://Bucket/key", "'Bucket'"),
        ("s3://bkt-/key", "'bkt-'"),
        ("s3://a..b/key", "'a..b'"),
        ("s3://192.168.1.1/key", "'192.168.1.1'"),
        ("s3://" + "b" * 64 + "/key", "b" * 64),
        ("s3://bkt/key?versionId=", "version id"),
        ("s3://bkt/a?versionId=x/y", "'s3://bkt/a?versionId=x/y?versionId='"),
        ("s3://bkt/line\nbreak", "control characters"),
        ("s3://bkt/" + "k" * 1025, "1025 bytes"),
        ("s3://bkt/" + "é" * 513, "1026 bytes"),
    ],
)
def test_invalid_urls_name_the_value_on_one_line(url: str, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_url(url)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_key_of_exactly_1024_bytes_is_fine() -> None:
    assert len(parse_url("s3://bkt/" + "k" * 1024).key) == 1024


_key_chars = st.characters(min_codepoint=0x20, exclude_categories=("Cs",)).filter(
    lambda c: c != "\x7f"
)


@given(
    scheme=st.sampled_from(["s3", "obs", "cos", "qs"]),
    bucket=st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}[a-z0-9]\Z"),
    key=st.text(_key_chars, min_size=1, max_size=60)
    | st.lists(st.text(_key_chars, max_size=8), min_size=2, max_size=4).map("?versionId=".join),
    version=st.none() | st.from_regex(r"\A[A-Za-z0-9._-]{1,30}\Z"),
)
def test_round_trip(scheme: str, bucket: str, key: str, version: str | None) -> None:
    if scheme == "cos":
        bucket = f"{bucket[:40]}-1250000000"  # a COS bucket carries its appid
    location = Location(scheme, bucket, key, version)
    assert parse_url(location.url) == location


@given(st.text(max_size=40))
def test_anything_parses_or_is_a_usage_error(text: str) -> None:
    try:
        parse_url(text)
    except UsageError as exc:
        assert "\n" not in str(exc).replace(repr(text), "")


def test_credentials_from_env_and_never_in_repr() -> None:
    env = {"PARTCOPY_ACCESS_KEY_ID": "AKID", "PARTCOPY_SECRET_ACCESS_KEY": "sekrit-value"}
    config = resolve_endpoint("obs", region="cn-north-4", env=env)
    assert config.credentials.current().access_key == "AKID"
    assert "sekrit-value" not in repr(config) and "sekrit-value" not in str(config)


def test_aws_variables_only_for_s3() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "sk", "AWS_REGION": "eu-west-1"}
    config = resolve_endpoint("s3", env=env)
    assert (config.credentials.current().access_key, config.region) == ("AKID", "eu-west-1")
    with pytest.raises(ConfigError, match="PARTCOPY_ACCESS_KEY_ID"):
        resolve_endpoint("cos", env=env)


def test_endpoint_from_env_and_destination_override() -> None:
    env = {
        "PARTCOPY_ACCESS_KEY_ID": "a",
        "PARTCOPY_SECRET_ACCESS_KEY": "b",
        "PARTCOPY_ENDPOINT_URL": "http://127.0.0.1:9000/",
        "PARTCOPY_DST_ENDPOINT_URL": "http://127.0.0.1:9001",
    }
    assert resolve_endpoint("s3", env=env).endpoint_url == "http://127.0.0.1:9000"
    dst = resolve_endpoint("s3", role="destination", env=env)
    assert dst.endpoint_url == "http://127.0.0.1:9001"
    assert dst.region == "us-east-1"


@pytest.mark.parametrize(
    "url", ["ftp://host", "127.0.0.1:9000", "http://", "http://h:99999", "http://u:p@h"]
)
def test_bad_endpoint_urls(url: str) -> None:
    with pytest.raises(UsageError, match="endpoint URL"):
        check_endpoint_url(url)


@pytest.mark.parametrize("bucket", ["examplebucket", "data-12x", "appid-1250000000x"])
def test_a_cos_bucket_without_its_appid_is_a_usage_error(bucket: str) -> None:
    with pytest.raises(UsageError, match=f"cos://{bucket}/k.*appid"):
        parse_url(f"cos://{bucket}/k")


@pytest.mark.parametrize(
    ("dialect", "scheme"), [("obs", "obs"), ("cos", "cos"), ("qingstor", "qs")]
)
def test_obs_cos_qs_without_a_region_or_endpoint_are_a_config_error(
    dialect: str, scheme: str
) -> None:
    env = {"PARTCOPY_ACCESS_KEY_ID": "AK", "PARTCOPY_SECRET_ACCESS_KEY": "sk"}
    with pytest.raises(ConfigError, match=rf"for the source \({scheme}://\): pass --region"):
        resolve_endpoint(dialect, env=env)  # type: ignore[arg-type]
    assert resolve_endpoint(dialect, env={**env, "PARTCOPY_REGION": "r1"}).region == "r1"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dialect", "endpoint", "region"),
    [
        ("s3", None, "us-east-1"),
        ("s3", "https://s3.eu-west-1.amazonaws.com", "eu-west-1"),
        ("obs", "https://obs.cn-east-3.myhuaweicloud.com", "cn-east-3"),
        ("cos", "https://cos.ap-beijing.myqcloud.com", "ap-beijing"),
        ("qingstor", "https://sh1a.qingstor.com", "sh1a"),
    ],
)
def test_the_region_named_by_the_endpoint(dialect: str, endpoint: str | None, region: str) -> None:
    env = {"PARTCOPY_ACCESS_KEY_ID": "AK", "PARTCOPY_SECRET_ACCESS_KEY": "sk"}
    config = resolve_endpoint(dialect, endpoint_url=endpoint, env=env)  # type: ignore[arg-type]
    assert config.region == region
