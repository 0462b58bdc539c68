"""SigV4: AWS's known answer, botocore's S3SigV4Auth as the oracle, and sign→verify round trips."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.utils import percent_encode
from hypothesis import given, settings
from hypothesis import strategies as st

from partcopy.transports.signing import Credentials, MalformedAuthorization, sigv4

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
HOST = "examplebucket.s3.amazonaws.com"
KAT_SIGNATURE = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
NOW = datetime(2013, 5, 24, tzinfo=UTC)


def test_aws_documented_example() -> None:
    added = sigv4.sign(
        method="GET",
        path="/test.txt",
        query=[],
        headers={"Host": HOST, "Range": "bytes=0-9"},
        credentials=Credentials(AK, SK),
        now=NOW,
        region="us-east-1",
        payload_hash=sigv4.EMPTY_SHA256,
    )
    assert added["X-Amz-Date"] == "20130524T000000Z"
    assert added["X-Amz-Content-SHA256"] == sigv4.EMPTY_SHA256
    assert added["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature={KAT_SIGNATURE}"
    )


def test_aws_documented_example_verifies_server_side() -> None:
    headers = {
        "Host": HOST,
        "Range": "bytes=0-9",
        "x-amz-date": "20130524T000000Z",
        "x-amz-content-sha256": sigv4.EMPTY_SHA256,
    }
    auth = sigv4.parse_authorization(
        f"AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={KAT_SIGNATURE}"
    )
    assert (auth.access_key, auth.region, auth.service) == (AK, "us-east-1", "s3")
    kwargs = {"method": "GET", "path": "/test.txt", "query": "", "headers": headers}
    assert sigv4.expected_signature(auth, secret_key=SK, **kwargs) == KAT_SIGNATURE
    assert sigv4.verify(auth, secret_key=SK, **kwargs)
    assert not sigv4.verify(auth, secret_key=SK + "x", **kwargs)


def test_reprs_hide_secrets() -> None:
    creds = Credentials(AK, SK, session_token="TOKEN-SECRET")
    auth = sigv4.parse_authorization(
        f"AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host, Signature={KAT_SIGNATURE}"
    )
    for text in (repr(creds), str(creds), repr(auth)):
        assert SK not in text
        assert "TOKEN-SECRET" not in text
        assert KAT_SIGNATURE not in text
    assert AK in repr(creds)


# ---------------------------------------------------------------- differential vs botocore

KEY_CHARS = st.one_of(
    st.sampled_from(list(" +%~/?#&=é中")),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
)
keys = st.text(KEY_CHARS, min_size=1, max_size=20)
query_params = st.lists(
    st.tuples(st.text(KEY_CHARS, min_size=1, max_size=8), st.none() | st.text(KEY_CHARS)),
    max_size=4,
)
RESERVED = {"host", "date", "authorization", "x-amz-date", "x-amz-content-sha256"}
header_names = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,12}", fullmatch=True),
    st.sampled_from(["User-Agent", "Expect", "Range", "x-amz-copy-source", "Content-MD5"]),
).filter(lambda n: n.lower() not in RESERVED and n.lower() != "x-amz-security-token")
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.just("\t"))
header_maps = st.dictionaries(header_names, header_values, max_size=5).filter(
    lambda h: len({k.lower() for k in h}) == len(h)
)
methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"])


def botocore_signed(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    token: str | None,
    unsigned: bool,
    params: list[tuple[str, str]] | None = None,
) -> AWSRequest:
    request = AWSRequest(method=method, url=url, headers=headers, data=body, params=params)
    if unsigned:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    auth = S3SigV4Auth(BotoCredentials(AK, SK, token), "s3", "eu-west-1")
    # botocore reads the clock itself; this pins it to the test's time.
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        auth.add_auth(request)
    return request


@settings(max_examples=500, deadline=None)
@given(
    method=methods,
    key=keys,
    query=query_params,
    headers=header_maps,
    body=st.binary(max_size=16),
    unsigned=st.booleans(),
    token=st.none() | st.just("session/token+="),
    params_mode=st.booleans(),
)
def test_matches_botocore(
    method: str,
    key: str,
    query: list[tuple[str, str | None]],
    headers: dict[str, str],
    body: bytes,
    unsigned: bool,
    token: str | None,
    params_mode: bool,
) -> None:
    path = sigv4.encode_path("/bkt/" + key)
    assert path == "/bkt/" + percent_encode(key, safe="/~")  # botocore's key serialisation
    wire_query = sigv4.encode_query(query)
    headers = {"Host": "127.0.0.1:9000", **headers}
    if params_mode:
        # botocore encodes request.params itself: the unencoded pairs go in.
        url = f"http://127.0.0.1:9000{path}"
        params = [(k, v or "") for k, v in query]
        request = botocore_signed(
            method, url, dict(headers), body, token=token, unsigned=unsigned, params=params
        )
    else:
        url = f"http://127.0.0.1:9000{path}" + (f"?{wire_query}" if wire_query else "")
        request = botocore_signed(method, url, dict(headers), body, token=token, unsigned=unsigned)
    payload = sigv4.UNSIGNED_PAYLOAD if unsigned else hashlib.sha256(body).hexdigest()
    ours = sigv4.sign(
        method=method,
        path=path,
        query=query,
        headers=headers,
        credentials=Credentials(AK, SK, token),
        now=NOW,
        region="eu-west-1",
        payload_hash=payload,
    )
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Content-SHA256"] == request.headers["X-Amz-Content-SHA256"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")
    # Server side: what botocore sent verifies against the raw wire path and query.
    auth = sigv4.parse_authorization(request.headers["Authorization"])
    split = urlsplit(url)
    expected = sigv4.expected_signature(
        auth,
        method=method,
        path=split.path,
        query=split.query if not params_mode else wire_query,
        headers=request.headers,
        secret_key=SK,
    )
    assert expected == auth.signature


def test_botocore_date_header_mode_verifies() -> None:
    """botocore signs with ``Date`` instead of ``X-Amz-Date`` when a Date header is present."""
    request = botocore_signed(
        "PUT",
        "http://127.0.0.1:9000/bkt/k%20ey?partNumber=3&uploadId=U%2B1",
        {"Date": "x", "Host": "127.0.0.1:9000"},
        b"data",
        token=None,
        unsigned=False,
    )
    assert "X-Amz-Date" not in request.headers
    auth = sigv4.parse_authorization(request.headers["Authorization"])
    assert "date" in auth.signed_headers
    assert sigv4.verify(
        auth,
        method="PUT",
        path="/bkt/k%20ey",
        query="partNumber=3&uploadId=U%2B1",
        headers=request.headers,
        secret_key=SK,
    )


# ---------------------------------------------------------------- round trips and rejection


def _signed_request(payload_hash: str) -> tuple[dict[str, str], str, str]:
    query = [("partNumber", "7"), ("uploadId", "up+id/ü"), ("uploads", None)]
    headers = {
        "Host": "127.0.0.1:9000",
        "x-amz-copy-source": "src/a%20b",
        "x-amz-copy-source-range": "bytes=0-5242879",
        "User-Agent": "partcopy/0.1",
    }
    added = sigv4.sign(
        method="PUT",
        path="/dst/dir/k%2B%20y~",
        query=query,
        headers=headers,
        credentials=Credentials(AK, SK, "tok"),
        now=datetime(2026, 11, 22, 10, 0, 1, tzinfo=UTC),
        region="us-east-1",
        payload_hash=payload_hash,
    )
    return {**headers, **added}, "/dst/dir/k%2B%20y~", sigv4.encode_query(query)


@pytest.mark.parametrize("payload_hash", [sigv4.UNSIGNED_PAYLOAD, hashlib.sha256(b"x").hexdigest()])
def test_round_trip_and_tampering(payload_hash: str) -> None:
    headers, path, query = _signed_request(payload_hash)
    auth = sigv4.parse_authorization(headers["Authorization"])
    assert "user-agent" not in auth.signed_headers
    assert "x-amz-security-token" in auth.signed_headers
    assert sigv4.request_timestamp(headers) == "20261122T100001Z"

    def ok(**changes: object) -> bool:
        kwargs: dict[str, object] = {
            "method": "PUT",
            "path": path,
            "query": query,
            "headers": headers,
            "secret_key": SK,
        }
        kwargs.update(changes)
        return sigv4.verify(auth, **kwargs)  # type: ignore[arg-type]

    assert ok()
    assert ok(headers={**headers, "User-Agent": "other"})  # unsigned header may change
    assert not ok(secret_key="wrong")
    assert not ok(method="GET")
    assert not ok(path=path.replace("k", "K"))
    assert not ok(query=query.replace("7", "8"))
    assert not ok(headers={**headers, "x-amz-copy-source-range": "bytes=0-1"})
    assert not ok(headers={**headers, "X-Amz-Content-SHA256": sigv4.EMPTY_SHA256})
    missing = {k: v for k, v in headers.items() if k != "x-amz-copy-source"}
    assert not ok(headers=missing)
    with pytest.raises(MalformedAuthorization):
        sigv4.expected_signature(
            auth, method="PUT", path=path, query=query, headers=missing, secret_key=SK
        )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "AWS AK:sig",
        "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3, SignedHeaders=host, Signature=x",
        "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, Signature=x",
        "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host, "
        "Signature=x",
    ],
)
def test_malformed_authorization(value: str) -> None:
    with pytest.raises(MalformedAuthorization):
        sigv4.parse_authorization(value)


def test_sign_rejects_missing_host_and_naive_time() -> None:
    common = {"method": "GET", "path": "/", "query": [], "region": "r"}
    with pytest.raises(ValueError, match="Host"):
        sigv4.sign(headers={}, credentials=Credentials(AK, SK), now=NOW, **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone"):
        sigv4.sign(
            headers={"Host": "h"},
            credentials=Credentials(AK, SK),
            now=NOW.replace(tzinfo=None),
            **common,  # type: ignore[arg-type]
        )
