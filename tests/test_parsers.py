"""The body parsers: whatever bytes arrive, they say exactly what the body was, or raise
ProtocolError, and nothing else (Hypothesis)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partcopy.errors import ProtocolError
from partcopy.transports import parse, parse_json
from partcopy.transports.verdict import BodyVerdict

xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    max_size=40,
)
token = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", min_size=1, max_size=20)
etags = token.map(lambda t: f'"{t}"')

BOMBS = [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    b"<CopyPartResult><ETag>&b;</ETag></CopyPartResult>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<Error><Code>&x;</Code></Error>",
    b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><Error/>',
]


def copy_doc(etag: str, root: str = "CopyPartResult", ns: bool = False) -> bytes:
    xmlns = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' if ns else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{xmlns}>'
        f"<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        f"<ETag>{escape(etag)}</ETag></{root}>"
    ).encode()


def error_doc(code: str, message: str, request_id: str) -> bytes:
    return (
        f"<?xml version='1.0'?><Error><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message><RequestId>{escape(request_id)}</RequestId></Error>"
    ).encode()


def outcome(fn: Callable[[bytes], Any], body: bytes) -> Any:
    """The parser's result, or the ProtocolError it raised; anything else fails the test."""
    try:
        return fn(body)
    except ProtocolError as exc:
        return exc


STRICT_XML: list[Callable[[bytes], Any]] = [
    parse.parse_initiate,
    parse.parse_list_parts,
    lambda b: parse.parse_list_uploads(b, "bkt"),
]


@settings(deadline=None)  # shared CI cores: time is not the property
@given(st.binary(max_size=300))
def test_any_bytes_give_a_verdict_or_a_protocol_error(body: bytes) -> None:
    verdict = outcome(parse.copy_verdict, body)
    assert isinstance(verdict, BodyVerdict | ProtocolError)
    if isinstance(verdict, BodyVerdict) and verdict.etag is None:
        assert verdict.detail
    outcome(parse.parse_error, body)
    for fn in STRICT_XML:
        outcome(fn, body)


@settings(deadline=None)  # shared CI cores: time is not the property
@given(
    etags,
    st.sampled_from(["CopyPartResult", "CopyObjectResult", "CompleteMultipartUploadResult"]),
    st.booleans(),
)
def test_a_whole_result_gives_its_etag(etag: str, root: str, ns: bool) -> None:
    assert parse.copy_verdict(copy_doc(etag, root, ns)) == BodyVerdict(etag)


@settings(deadline=None)  # shared CI cores: time is not the property
@given(etags, st.data())
def test_every_truncation_is_an_unproven_answer(etag: str, data: st.DataObject) -> None:
    doc = copy_doc(etag)
    cut = data.draw(st.integers(0, len(doc) - 1))
    verdict = parse.copy_verdict(doc[:cut])
    assert verdict.etag is None and verdict.error is None
    assert verdict.detail in {"empty body"} or verdict.detail.startswith("truncated")


@settings(deadline=None)  # shared CI cores: time is not the property
@given(token, xml_text, token)
def test_an_error_document_in_a_200_reports_its_code(
    code: str, message: str, request_id: str
) -> None:
    verdict = parse.copy_verdict(error_doc(code, message, request_id))
    assert verdict.etag is None and verdict.detail == "error document in a 2xx"
    assert verdict.error is not None
    assert (verdict.error.code, verdict.error.request_id) == (code, request_id)
    assert (verdict.error.message or "") == message.strip()
    error = parse.parse_error(error_doc(code, message, request_id))
    assert error == verdict.error
    for fn in STRICT_XML:
        with pytest.raises(ProtocolError, match="error document"):
            fn(error_doc(code, message, request_id))


def test_a_result_without_etag_is_unproven() -> None:
    verdict = parse.copy_verdict(b"<CopyPartResult><LastModified>x</LastModified></CopyPartResult>")
    assert verdict == BodyVerdict(None, detail="no ETag in <CopyPartResult>")
    assert parse.copy_verdict(b"<CopyPartResult><ETag>  </ETag></CopyPartResult>").etag is None


@pytest.mark.parametrize("bomb", BOMBS)
def test_dtds_and_entities_are_refused_everywhere(bomb: bytes) -> None:
    for fn in [parse.copy_verdict, parse.parse_error, *STRICT_XML]:
        with pytest.raises(ProtocolError, match="hostile"):
            fn(bomb)


def test_html_error_pages_are_no_error_document() -> None:
    assert parse.parse_error(b"<!DOCTYPE html><html><body>503</body></html>") is None
    assert parse.parse_error(b"") is None


@settings(deadline=None)  # shared CI cores: time is not the property
@given(
    st.lists(st.tuples(st.integers(1, 10000), etags, st.integers(0, 5 << 30)), max_size=20),
    st.booleans(),
)
def test_list_parts_reads_every_part(parts: list[tuple[int, str, int]], truncated: bool) -> None:
    items = "".join(
        f"<Part><PartNumber>{n}</PartNumber><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
        f"<ETag>{escape(e)}</ETag><Size>{s}</Size></Part>"
        for n, e, s in parts
    )
    marker = f"<NextPartNumberMarker>{parts[-1][0]}</NextPartNumberMarker>" if parts else ""
    doc = (
        f"<ListPartsResult><IsTruncated>{str(truncated).lower()}</IsTruncated>{marker}{items}"
        f"</ListPartsResult>"
    ).encode()
    result = outcome(parse.parse_list_parts, doc)
    if truncated and not parts:
        assert isinstance(result, ProtocolError)
        return
    assert [(p.part_number, p.etag, p.size) for p in result.parts] == parts
    assert result.is_truncated == truncated
    assert result.next_marker == (parts[-1][0] if truncated else None)


def test_list_parts_refuses_a_part_without_its_fields() -> None:
    doc = b"<ListPartsResult><Part><PartNumber>1</PartNumber></Part></ListPartsResult>"
    with pytest.raises(ProtocolError):
        parse.parse_list_parts(doc)
    with pytest.raises(ProtocolError, match="integer"):
        parse.parse_list_parts(
            b"<ListPartsResult><Part><PartNumber>x</PartNumber></Part></ListPartsResult>"
        )


@settings(deadline=None)  # shared CI cores: time is not the property
@given(st.lists(st.tuples(st.integers(0, 10000), etags), max_size=30))
def test_complete_bodies_round_trip(parts: list[tuple[int, str]]) -> None:
    root = ET.fromstring(parse.build_complete(parts))
    assert [(int(p.findtext("PartNumber") or ""), p.findtext("ETag")) for p in root] == parts
    doc = json.loads(parse_json.build_complete_json(parts))
    assert [(p["part_number"], p["etag"]) for p in doc["object_parts"]] == parts


# -- QingStor JSON -------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
STRICT_JSON: list[Callable[[bytes], Any]] = [
    parse_json.parse_initiate_json,
    lambda b: parse_json.parse_list_parts_json(b, 100),
    lambda b: parse_json.parse_list_uploads_json(b, "bkt"),
]


@settings(deadline=None)  # shared CI cores: time is not the property
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_any_json_or_bytes_give_a_verdict_or_a_protocol_error(body: bytes) -> None:
    verdict = parse_json.json_verdict('"h"', body)
    assert isinstance(verdict, BodyVerdict)
    if verdict.etag is None:
        assert verdict.detail
    parse_json.json_error(body)
    for fn in STRICT_JSON:
        outcome(fn, body)


def test_deeply_nested_json_is_a_protocol_error_not_a_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for fn in STRICT_JSON:
        with pytest.raises(ProtocolError):
            fn(deep)
    assert parse_json.json_verdict('"e"', deep).etag is None


@settings(deadline=None)  # shared CI cores: time is not the property
@given(token, xml_text, token)
def test_a_json_error_in_a_2xx_reports_its_code(code: str, message: str, rid: str) -> None:
    body = json.dumps({"code": code, "message": message, "request_id": rid, "url": "u"}).encode()
    verdict = parse_json.json_verdict('"etag"', body)
    assert verdict.etag is None and verdict.error is not None
    assert (verdict.error.code, verdict.error.message, verdict.error.request_id) == (
        code,
        message,
        rid,
    )


def test_the_json_etag_header_is_the_proof() -> None:
    assert parse_json.json_verdict('"e"', b"") == BodyVerdict('"e"')
    assert parse_json.json_verdict(None, b"") == BodyVerdict(None, detail="no ETag header")
    assert parse_json.json_verdict('"e"', b"{tru").detail.startswith("unexpected body")


@settings(deadline=None)  # shared CI cores: time is not the property
@given(
    st.lists(st.tuples(st.integers(0, 9999), etags, st.integers(0, 5 << 30)), max_size=20),
    st.integers(1, 30),
)
def test_json_list_parts_pages(parts: list[tuple[int, str, int]], limit: int) -> None:
    body = json.dumps(
        {
            "count": len(parts),
            "object_parts": [
                {"part_number": n, "etag": e, "size": s, "created": "2026-01-01T00:00:00Z"}
                for n, e, s in parts
            ],
        }
    ).encode()
    page = parse_json.parse_list_parts_json(body, limit)
    assert [(p.part_number, p.etag, p.size) for p in page.parts] == parts
    assert page.is_truncated == (len(parts) >= limit)
    assert page.next_marker == (parts[-1][0] if page.is_truncated else None)
    explicit = json.loads(body)
    explicit["has_more"] = False
    assert not parse_json.parse_list_parts_json(json.dumps(explicit).encode(), limit).is_truncated


def test_whitespace_before_the_document_is_padding_not_an_error() -> None:
    padded = b"\n" + b" " * 5000 + copy_doc('"pad"')
    assert parse.copy_verdict(padded) == BodyVerdict('"pad"')
    error = parse.parse_error(b"  \n" + error_doc("InternalError", "m", "r"))
    assert error is not None and error.code == "InternalError"
