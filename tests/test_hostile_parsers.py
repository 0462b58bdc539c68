"""Hostile bodies against the XML (S3, OBS, COS) and JSON (QingStor) parsers.

Whatever bytes a server sends, a parser returns a value or raises ``ProtocolError``: never
another exception, never a hang, never entity expansion. The verdict and error readers
(what the engine uses to judge a 2xx copy answer) never raise for a merely bad body.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partcopy.errors import ProtocolError
from partcopy.transports import parse, parse_json

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

XML_STRICT: list[Callable[[bytes], object]] = [
    parse.parse_initiate,
    parse.parse_list_parts,
    lambda body: parse.parse_list_uploads(body, "bkt"),
]
JSON_STRICT: list[Callable[[bytes], object]] = [
    parse_json.parse_initiate_json,
    lambda body: parse_json.parse_list_parts_json(body, 1000),
    lambda body: parse_json.parse_list_uploads_json(body, "bkt"),
]

# --- generated documents -------------------------------------------------------------------

NAMES = [
    "Error",
    "Code",
    "Message",
    "RequestId",
    "CopyPartResult",
    "CompleteMultipartUploadResult",
    "InitiateMultipartUploadResult",
    "ListPartsResult",
    "ListMultipartUploadsResult",
    "ETag",
    "UploadId",
    "Upload",
    "Key",
    "Part",
    "PartNumber",
    "Size",
    "LastModified",
    "Initiated",
    "IsTruncated",
    "NextPartNumberMarker",
    "VersionId",
    "x",
]
TEXTS = st.one_of(
    st.sampled_from(["", "1", "-1", "true", "false", '"etag"', "2026-01-01T00:00:00Z", "1e99"]),
    st.text(max_size=20),
)


def _escape(text: str) -> str:
    return (
        "".join(c for c in text if c in "\t\n\r" or " " <= c <= "\ud7ff" or c >= "\ue000")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
    )


@st.composite
def xml_tree(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(NAMES))
    if depth >= 3 or draw(st.booleans()):
        return f"<{name}>{_escape(draw(TEXTS))}</{name}>"
    children = draw(st.lists(xml_tree(depth + 1), max_size=4))
    return f"<{name}>{''.join(children)}</{name}>"


@st.composite
def xml_documents(draw: st.DrawFn) -> bytes:
    doc = draw(xml_tree())
    if draw(st.booleans()):
        doc = '<?xml version="1.0" encoding="UTF-8"?>' + doc
    if draw(st.booleans()):
        doc = doc.replace(">", ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/">', 1)
    data = doc.encode()
    cut = draw(st.integers(0, len(data)))
    return data if draw(st.booleans()) else data[:cut]  # truncated documents too


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "code",
                    "message",
                    "request_id",
                    "url",
                    "upload_id",
                    "object_parts",
                    "part_number",
                    "etag",
                    "size",
                    "created",
                    "has_more",
                    "uploads",
                    "key",
                    "next_key_marker",
                    "count",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    data = json.dumps(draw(JSON_VALUES)).encode()
    cut = draw(st.integers(0, len(data)))
    return data if draw(st.booleans()) else data[:cut]


ANY_BYTES = st.binary(max_size=300)


def _only_protocol_errors(fn: Callable[[bytes], object], body: bytes) -> None:
    try:
        fn(body)
    except ProtocolError as exc:
        assert str(exc)


# --- XML ------------------------------------------------------------------------------------


@FUZZ
@given(body=st.one_of(ANY_BYTES, xml_documents()))
def test_xml_strict_parsers_raise_only_protocol_errors(body: bytes) -> None:
    for fn in XML_STRICT:
        _only_protocol_errors(fn, body)


@FUZZ
@given(body=st.one_of(ANY_BYTES, xml_documents()))
def test_xml_verdict_and_error_readers_never_raise_for_bad_bytes(body: bytes) -> None:
    verdict = parse.copy_verdict(body)
    assert verdict.etag is None or verdict.etag.strip()
    if verdict.etag is None:
        assert verdict.detail
    error = parse.parse_error(body)
    assert error is None or error.code is None or isinstance(error.code, str)


@FUZZ
@given(etag=st.text(min_size=1, max_size=40).map(str.strip).filter(bool))
def test_xml_verdict_finds_an_etag_only_in_a_result_document(etag: str) -> None:
    body = f"<CopyPartResult><ETag>{_escape(etag)}</ETag></CopyPartResult>".encode()
    verdict = parse.copy_verdict(body)
    if verdict.etag is not None:
        assert verdict.error is None
    error_body = f"<Error><Code>SlowDown</Code><ETag>{_escape(etag)}</ETag></Error>".encode()
    assert parse.copy_verdict(error_body).etag is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CopyPartResult><ETag>&lol9;</ETag></CopyPartResult>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<InitiateMultipartUploadResult><UploadId>&xxe;</UploadId></InitiateMultipartUploadResult>"""
DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd">
<CopyPartResult><ETag>"x"</ETag></CopyPartResult>"""
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
    + b"A" * 100_000
    + b'">]><CopyPartResult><ETag>'
    + b"&a;" * 1000
    + b"</ETag></CopyPartResult>"
)


@pytest.mark.parametrize("bomb", [BILLION_LAUGHS, XXE, DTD_ONLY, QUADRATIC])
def test_entity_and_dtd_documents_are_refused_without_expansion(bomb: bytes) -> None:
    tracemalloc.start()
    try:
        for fn in [*XML_STRICT, parse.copy_verdict]:
            with pytest.raises(ProtocolError, match="hostile XML"):
                fn(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # the billion laughs would need gigabytes


def test_deeply_nested_xml_is_a_classified_answer() -> None:
    deep = b"<CopyPartResult>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</CopyPartResult>"
    assert parse.copy_verdict(deep).etag is None
    with pytest.raises(ProtocolError):
        parse.parse_initiate(deep)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"<!doctype html><html></html>",
        b'{"etag": "x"}',
        b"\xff\xfe<\x00E\x00",
        b'<?xml version="1.0" encoding="x-klingon"?><CopyPartResult/>',
        b"<CopyPartResult><ETag>abc</ETag>",
        b"\x00" * 64,
    ],
)
def test_wrong_content_is_a_classified_answer(body: bytes) -> None:
    verdict = parse.copy_verdict(body)
    assert verdict.etag is None and verdict.detail
    for fn in XML_STRICT:
        with pytest.raises(ProtocolError):
            fn(body)


# --- JSON -----------------------------------------------------------------------------------


@FUZZ
@given(body=st.one_of(ANY_BYTES, json_documents()))
def test_json_strict_parsers_raise_only_protocol_errors(body: bytes) -> None:
    for fn in JSON_STRICT:
        _only_protocol_errors(fn, body)


@FUZZ
@given(body=st.one_of(ANY_BYTES, json_documents()), etag=st.none() | st.text(max_size=10))
def test_json_verdict_and_error_readers_never_raise_for_bad_bytes(
    body: bytes, etag: str | None
) -> None:
    verdict = parse_json.json_verdict(etag, body)
    if verdict.etag is None:
        assert verdict.detail
    else:
        assert verdict.etag == etag
    parse_json.json_error(body)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"1" * 100_000,
        b'"' + b"\\u0000" * 1000 + b'"',
        b"NaN",
    ],
)
def test_pathological_json_is_a_classified_error(body: bytes) -> None:
    for fn in JSON_STRICT:
        with pytest.raises(ProtocolError):
            fn(body)
    assert parse_json.json_verdict("etag", body).etag in {None, "etag"}


@pytest.mark.parametrize("number", ["1e400", "1.5", '"7"', "true", "null", "-Infinity"])
def test_json_part_numbers_must_be_integers(number: str) -> None:
    body = f'{{"object_parts": [{{"part_number": {number}, "etag": "x", "size": 1}}]}}'
    with pytest.raises(ProtocolError):
        parse_json.parse_list_parts_json(body.encode(), 1000)
