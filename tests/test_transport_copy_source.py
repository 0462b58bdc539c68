"""Copy-source headers agree with the official SDKs' own encoders on arbitrary keys."""

from __future__ import annotations

from urllib.parse import quote

from botocore.handlers import _quote_source_header_from_dict
from hypothesis import given, settings
from hypothesis import strategies as st
from qcloud_cos.cos_comm import gen_copy_source_url

from partcopy.transports.base import CopySource
from partcopy.transports.cos import CosCopySource
from partcopy.transports.qingstor import qs_copy_source
from partcopy.transports.s3 import s3_copy_source

keys = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=60,
)
versions = st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789._-", min_size=1)


@settings(deadline=None)  # shared CI cores: time is not the property
@given(keys, versions)
def test_s3_and_obs_copy_source_match_botocore(key: str, version: str | None) -> None:
    ours = s3_copy_source(CopySource("src-bkt", key, version_id=version))
    spec = {"Bucket": "src-bkt", "Key": key}
    if version is not None:
        spec["VersionId"] = version
    assert ours == _quote_source_header_from_dict(spec)


@settings(deadline=None)  # shared CI cores: time is not the property
@given(keys.filter(lambda k: not k.startswith("/")), versions)
def test_cos_copy_source_matches_the_cos_sdk(key: str, version: str | None) -> None:
    # The COS SDK drops one leading "/" from a key; keys without one must agree exactly.
    ours = CosCopySource("ap-guangzhou")(CopySource("src-1250000000", key, version_id=version))
    spec = {"Bucket": "src-1250000000", "Key": key, "Region": "ap-guangzhou"}
    if version is not None:
        spec["VersionId"] = version
    assert ours == gen_copy_source_url(spec, True, True)  # CosConfig defaults


@settings(deadline=None)  # shared CI cores: time is not the property
@given(keys)
def test_qingstor_copy_source_matches_the_qingstor_sdk(key: str) -> None:
    # qingstor-sdk quotes the whole "/bucket/key" header value with urllib's defaults.
    assert qs_copy_source(CopySource("src-bkt", key)) == quote(f"/src-bkt/{key}")
