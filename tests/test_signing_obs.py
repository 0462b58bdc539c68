"""OBS: the DIALECTS.md vector, esdk-obs-python as oracle (OBS and AWS-v2 modes), round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from obs import auth as obs_auth
from obs import convertor as obs_convertor
from obs import util as obs_util

from partcopy.transports.signing import Credentials, MalformedAuthorization
from partcopy.transports.signing import obs as obs_signing
from partcopy.transports.signing.common import http_date

AK, SK = "AKEXAMPLE", "SKEXAMPLE"
KAT_NOW = datetime(2015, 7, 1, 5, 28, 27, tzinfo=UTC)
KAT_HEADERS = {
    "x-obs-copy-source": "src-bkt/a%20b/%C3%BC%2B%25.bin?versionId=v1",
    "x-obs-copy-source-range": "bytes=0-5242879",
}
KAT_PATH = "/dst-bkt/dir/dst%20obj%2B.bin"
KAT_QUERY = [("partNumber", "1"), ("uploadId", "UPID")]
KAT_AUTHORIZATION = "OBS AKEXAMPLE:jjbWic5wXCdWBiG/s2SQGnD4hso="


def test_dialects_vector_client_side() -> None:
    added = obs_signing.sign(
        method="PUT",
        path=KAT_PATH,
        query=KAT_QUERY,
        headers=KAT_HEADERS,
        credentials=Credentials(AK, SK),
        now=KAT_NOW,
    )
    assert added == {"Date": "Wed, 01 Jul 2015 05:28:27 GMT", "Authorization": KAT_AUTHORIZATION}


def test_dialects_vector_server_side() -> None:
    auth = obs_signing.parse_authorization(KAT_AUTHORIZATION)
    assert (auth.variant, auth.access_key) == ("obs", AK)
    headers = {**KAT_HEADERS, "Date": "Wed, 01 Jul 2015 05:28:27 GMT"}
    kwargs = {
        "method": "PUT",
        "path": KAT_PATH,
        "query": obs_signing.encode_query(KAT_QUERY),
        "headers": headers,
    }
    assert obs_signing.expected_signature(auth, secret_key=SK, **kwargs) == auth.signature
    assert obs_signing.verify(auth, secret_key=SK, **kwargs)
    assert not obs_signing.verify(auth, secret_key="other", **kwargs)
    assert auth.signature not in repr(auth)


def test_obs_date_header_blanks_date() -> None:
    with_date = {**KAT_HEADERS, "x-obs-date": "Wed, 01 Jul 2015 05:28:27 GMT", "Date": "ignored"}
    text = obs_signing.string_to_sign(
        method="PUT", path=KAT_PATH, query=KAT_QUERY, headers=with_date
    )
    assert text.split("\n")[:4] == ["PUT", "", "", ""]
    assert "x-obs-date:Wed, 01 Jul 2015 05:28:27 GMT" in text


# ---------------------------------------------------------------- differential vs esdk-obs

KEY_CHARS = st.one_of(
    st.sampled_from(list(" +%~/?#&=é中")),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
)
ARG_NAMES = ["uploadId", "partNumber", "versionId", "uploads", "acl", "UploadId", "x-obs-foo"]
path_args = st.dictionaries(
    st.sampled_from(ARG_NAMES) | st.text(KEY_CHARS, min_size=1, max_size=6),
    st.none() | st.text(KEY_CHARS, max_size=8),
    max_size=4,
)
PAD = st.sampled_from(["", " ", "  "])
VALUE = st.builds(
    lambda a, b, c: a + b + c,
    PAD,
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    PAD,
)


def header_maps(prefix: str) -> st.SearchStrategy[dict[str, str]]:
    names = st.sampled_from(
        ["Content-Type", "Content-MD5", "Range", "If-Match", "Content-Length"]
    ) | st.from_regex(rf"({prefix}|{prefix}meta-|X-Other-)[a-z0-9-]{{1,8}}", fullmatch=True)
    return st.dictionaries(names, VALUE, max_size=5).filter(
        lambda h: len({k.lower() for k in h}) == len(h)
    )


@settings(max_examples=200, deadline=None)
@given(
    variant=st.sampled_from(["obs", "aws"]),
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    key=st.none() | st.text(KEY_CHARS, min_size=1, max_size=16),
    args=path_args,
    data=st.data(),
    use_prefix_date=st.booleans(),
)
def test_matches_esdk_obs(
    variant: obs_signing.Variant,
    method: str,
    key: str | None,
    args: dict[str, str | None],
    data: st.DataObject,
    use_prefix_date: bool,
) -> None:
    prefix = f"x-{variant if variant == 'obs' else 'amz'}-"
    headers = data.draw(header_maps(prefix))
    date = http_date(KAT_NOW)
    sdk_headers = {**headers, "Date": date, "Host": "127.0.0.1:9000"}
    if use_prefix_date:
        sdk_headers[f"{prefix}date"] = date
    sdk = obs_auth.Authentication(
        AK, SK, True, obs_convertor.Adapter(variant), "127.0.0.1", False
    ).doAuth(method, "bkt", key, dict(args), dict(sdk_headers))
    wire = obs_util.PathFormat().get_url("bkt", key, dict(args))
    split = urlsplit(wire)
    assert split.path == obs_signing.encode_path(f"/bkt/{key}" if key else "/bkt")

    ours = obs_signing.sign(
        method=method,
        path=split.path,
        query=list(args.items()),
        headers={k: v for k, v in sdk_headers.items() if k != "Date"},
        credentials=Credentials(AK, SK),
        now=KAT_NOW,
        variant=variant,
    )
    assert ours["Authorization"] == sdk["Authorization"]

    auth = obs_signing.parse_authorization(sdk["Authorization"])
    assert auth.variant == variant
    expected = obs_signing.expected_signature(
        auth,
        method=method,
        path=split.path,
        query=split.query,
        headers=sdk_headers,
        secret_key=SK,
    )
    assert expected == auth.signature


def test_virtual_hosted_resource_matches_esdk() -> None:
    """With the bucket in the host name the SDK still signs ``/bucket/key``."""
    headers = {"Date": http_date(KAT_NOW), "x-obs-acl": "private"}
    sdk = obs_auth.Authentication(
        AK, SK, False, obs_convertor.Adapter("obs"), "obs.example.com", False
    ).doAuth("PUT", "bkt", "a b/c", {"uploads": None}, dict(headers))
    wire = urlsplit(obs_util.SubdomainFormat().get_url("bkt", "a b/c", {"uploads": None}))
    auth = obs_signing.parse_authorization(sdk["Authorization"])
    assert obs_signing.verify(
        auth,
        method="PUT",
        path=wire.path,
        query=wire.query,
        headers=headers,
        secret_key=SK,
        bucket="bkt",
    )


# ---------------------------------------------------------------- round trips and rejection


@pytest.mark.parametrize("variant", ["obs", "aws"])
def test_round_trip_and_tampering(variant: obs_signing.Variant) -> None:
    prefix = "x-obs-" if variant == "obs" else "x-amz-"
    query = [("uploadId", "U+1/ü"), ("partNumber", "2"), ("ignored", "x")]
    headers = {
        "Host": "127.0.0.1:9000",
        f"{prefix}copy-source": "src/k%20ey",
        f"{prefix}meta-note": "  padded  ",
        "Content-Type": "application/xml",
    }
    added = obs_signing.sign(
        method="PUT",
        path="/dst/k%2By",
        query=query,
        headers=headers,
        credentials=Credentials(AK, SK, "tok"),
        now=KAT_NOW,
        variant=variant,
    )
    assert added[f"{prefix}security-token"] == "tok"
    sent = {**headers, **added}
    wire_query = obs_signing.encode_query(query)
    auth = obs_signing.parse_authorization(sent["Authorization"])

    def ok(**changes: object) -> bool:
        kwargs: dict[str, object] = {
            "method": "PUT",
            "path": "/dst/k%2By",
            "query": wire_query,
            "headers": sent,
            "secret_key": SK,
        }
        kwargs.update(changes)
        return obs_signing.verify(auth, **kwargs)  # type: ignore[arg-type]

    assert ok()
    assert ok(path="/dst/k+y")  # same key, other valid encoding
    assert ok(query=wire_query.replace("ignored=x", "ignored=y"))  # not a sub-resource
    assert not ok(secret_key="wrong")
    assert not ok(path="/dst/k%2Bz")
    assert not ok(query=wire_query.replace("partNumber=2", "partNumber=3"))
    assert not ok(headers={**sent, f"{prefix}copy-source": "src/other"})
    assert not ok(headers={**sent, f"{prefix}security-token": "other"})
    assert not ok(headers={**sent, "Date": "Thu, 02 Jul 2015 05:28:27 GMT"})
    assert not ok(headers={**sent, "Content-Type": "text/plain"})


@pytest.mark.parametrize("value", ["", "OBS", "OBS AK", "OBS :sig", "QS AK:sig", "OBS AK:"])
def test_malformed_authorization(value: str) -> None:
    with pytest.raises(MalformedAuthorization):
        obs_signing.parse_authorization(value)
