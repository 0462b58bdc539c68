"""QingStor: qingstor-sdk's own test vector, its Request signer as oracle, round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qingstor.sdk.config import Config
from qingstor.sdk.request import Request

from partcopy.transports.signing import Credentials, MalformedAuthorization
from partcopy.transports.signing import qingstor as qs_signing
from partcopy.transports.signing.common import http_date

# qingstor-sdk-python tests/test_sign.py (SignTestCase): the wire form of its request.
SDK_TEST_PATH = "/test_bucket/%E4%B8%AD%E6%96%87%E6%B5%8B%E8%AF%95.json"
SDK_TEST_QUERY = [("test_params_1", "test_val"), ("test_params_2", "中文测试")]
SDK_TEST_HEADERS = {
    "Host": "pek3a.qingstor.com",
    "x-qs-test-header1": "test",
    "x-qs-copy-source": "%E4%B8%AD%E6%96%87%E6%B5%8B%E8%AF%95",
    "x-qs-fetch-source": "https://google.com/logo.png",
    "test_empty_header": "",
    "Content-Type": "application/json",
}
SDK_TEST_NOW = datetime(2014, 12, 10, 17, 20, 31, tzinfo=UTC)
SDK_TEST_SIGNATURE = "L1Aiatm0YRH9qk8/4phJYtOlJiyHvq+ejH3sRlyUusI="


def test_sdk_vector_client_side() -> None:
    added = qs_signing.sign(
        method="GET",
        path=SDK_TEST_PATH,
        query=SDK_TEST_QUERY,
        headers=SDK_TEST_HEADERS,
        credentials=Credentials("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"),
        now=SDK_TEST_NOW,
    )
    assert added == {
        "Date": "Wed, 10 Dec 2014 17:20:31 GMT",
        "Authorization": f"QS ACCESS_KEY_ID:{SDK_TEST_SIGNATURE}",
    }


def test_sdk_vector_server_side() -> None:
    auth = qs_signing.parse_authorization(f"QS ACCESS_KEY_ID:{SDK_TEST_SIGNATURE}")
    assert auth.access_key == "ACCESS_KEY_ID"
    assert SDK_TEST_SIGNATURE not in repr(auth)
    kwargs = {
        "method": "GET",
        "path": SDK_TEST_PATH,
        "query": qs_signing.encode_query(SDK_TEST_QUERY),
        "headers": {**SDK_TEST_HEADERS, "Date": "Wed, 10 Dec 2014 17:20:31 GMT"},
    }
    assert qs_signing.verify(auth, secret_key="SECRET_ACCESS_KEY", **kwargs)
    assert not qs_signing.verify(auth, secret_key="SECRET_ACCESS_KEY2", **kwargs)


def test_x_qs_date_blanks_date() -> None:
    headers = {"Date": "ignored", "x-qs-date": "Wed, 10 Dec 2014 17:20:31 GMT"}
    text = qs_signing.string_to_sign(method="GET", path="/b/k", query=[], headers=headers)
    assert text == "GET\n\n\n\nx-qs-date:Wed, 10 Dec 2014 17:20:31 GMT\n/b/k"


# ---------------------------------------------------------------- differential vs the SDK

KEY_CHARS = st.one_of(
    st.sampled_from(list(" +%~/?#&=é中")),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
)
PARAM_NAMES = ["part_number", "upload_id", "acl", "limit", "part_number_marker", "uploads"]
params = st.dictionaries(
    st.sampled_from(PARAM_NAMES) | st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
    st.text(KEY_CHARS, max_size=8),
    max_size=4,
)
header_names = st.sampled_from(
    ["Content-Type", "Content-MD5", "Range", "If-Match", "X-QS-Date"]
) | st.from_regex(r"[xX]-[qQ][sS]-[a-z0-9-]{1,8}", fullmatch=True)
header_maps = st.dictionaries(
    header_names, st.from_regex(r"[!-~][ -~]{0,12}", fullmatch=True), max_size=4
).filter(lambda h: len({k.lower() for k in h}) == len(h))


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    # requests drops "." / ".." path segments after the SDK signed them: an SDK bug, skipped.
    key=st.text(KEY_CHARS, min_size=1, max_size=16).filter(
        lambda k: not {".", ".."} & set(k.split("/"))
    ),
    query=params,
    headers=header_maps,
    uploads=st.booleans(),
)
def test_matches_qingstor_sdk(
    method: str, key: str, query: dict[str, str], headers: dict[str, str], uploads: bool
) -> None:
    config = Config("AK", "SK")
    config.host, config.port, config.protocol = "127.0.0.1", 9000, "http"
    date = http_date(SDK_TEST_NOW)
    operation = {
        "API": "Test",
        "Method": method,
        "URI": "/<bucket-name>/<object-key>" + ("?uploads" if uploads else ""),
        "Headers": {**headers, "Date": date},
        "Params": dict(query),
        "Elements": {},
        "Properties": {"zone": "", "bucket-name": "bkt", "object-key": key},
        "Body": None,
    }
    prepared = Request(config, operation).sign()
    split = urlsplit(prepared.url)
    assert split.path == qs_signing.encode_path(f"/bkt/{key}")
    auth = qs_signing.parse_authorization(prepared.headers["Authorization"])
    expected = qs_signing.expected_signature(
        auth,
        method=method,
        path=split.path,
        query=split.query,
        headers=prepared.headers,
        secret_key="SK",
    )
    assert expected == auth.signature

    sent_query: list[tuple[str, str | None]] = [(k, v) for k, v in query.items() if v != ""]
    if uploads:
        sent_query.append(("uploads", None))
    ours = qs_signing.sign(
        method=method,
        path=split.path,
        query=sent_query,
        headers={k: v for k, v in prepared.headers.items() if k not in ("Authorization", "Date")},
        credentials=Credentials("AK", "SK"),
        now=SDK_TEST_NOW,
    )
    assert ours["Authorization"] == prepared.headers["Authorization"]


# ---------------------------------------------------------------- round trips and rejection


def test_round_trip_and_tampering() -> None:
    query = [("part_number", "0"), ("upload_id", "u p+/ü"), ("limit", "5")]
    headers = {
        "Host": "127.0.0.1:9000",
        "x-qs-copy-source": "/src/k%20ey",
        "x-qs-copy-range": "bytes=0-4194303",
        "Content-Type": "application/octet-stream",
    }
    added = qs_signing.sign(
        method="PUT",
        path="/dst/k%2By",
        query=query,
        headers=headers,
        credentials=Credentials("AK", "SK"),
        now=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
    )
    assert added["Date"] == "Sun, 22 Nov 2026 10:00:00 GMT"
    sent = {**headers, **added}
    auth = qs_signing.parse_authorization(sent["Authorization"])
    wire_query = qs_signing.encode_query(query)

    def ok(**changes: object) -> bool:
        kwargs: dict[str, object] = {
            "method": "PUT",
            "path": "/dst/k%2By",
            "query": wire_query,
            "headers": sent,
            "secret_key": "SK",
        }
        kwargs.update(changes)
        return qs_signing.verify(auth, **kwargs)  # type: ignore[arg-type]

    assert ok()
    assert ok(query=wire_query.replace("limit=5", "limit=6"))  # not a sub-resource
    assert not ok(secret_key="wrong")
    assert not ok(method="GET")
    assert not ok(path="/dst/k%2Bz")
    assert not ok(query=wire_query.replace("part_number=0", "part_number=1"))
    assert not ok(headers={**sent, "x-qs-copy-range": "bytes=0-1"})
    assert not ok(headers={**sent, "Date": "Sun, 22 Nov 2026 10:00:01 GMT"})


def test_session_token_is_refused() -> None:
    with pytest.raises(ValueError, match="session token"):
        qs_signing.sign(
            method="GET",
            path="/b/k",
            query=[],
            headers={},
            credentials=Credentials("AK", "SK", "tok"),
            now=SDK_TEST_NOW,
        )


@pytest.mark.parametrize("value", ["", "QS", "QS AK", "QS :sig", "OBS AK:sig", "QS AK:"])
def test_malformed_authorization(value: str) -> None:
    with pytest.raises(MalformedAuthorization):
        qs_signing.parse_authorization(value)
