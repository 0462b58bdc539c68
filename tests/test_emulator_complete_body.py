"""The emulator's Complete body reader: the allow-list fast path agrees with defusedxml."""

from __future__ import annotations

import pytest

from partcopy.emulator.s3like import XmlWire, _parsed_complete_parts
from partcopy.store.memory import StoreError
from partcopy.transports.parse import build_complete

PARTS = [(1, '"0123456789abcdef0123456789abcdef"'), (2, '"fe-3"'), (10000, "plain.etag_1")]
NS = b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _item(number: bytes, etag: bytes) -> bytes:
    return b"<Part><PartNumber>" + number + b"</PartNumber><ETag>" + etag + b"</ETag></Part>"


SAME_AS_PARSER = [
    build_complete(PARTS),
    build_complete([]),
    build_complete([(3, "")]),
    DECL + build_complete(PARTS).replace(b"Upload>", b"Upload " + NS + b">", 1),
    b"<CompleteMultipartUpload>" + _item(b"7", b"&quot;ab&quot;") + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload>" + _item(b"007", b"x") + b"</CompleteMultipartUpload>\r\n",
    # outside the allow-list: these take the parser, with the same meaning
    b"<CompleteMultipartUpload>"
    + b"<Part><ETag>b</ETag><PartNumber>2</PartNumber></Part>"
    + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload>" + _item(b" 4 ", b"a&amp;b") + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload>\n  "
    + _item(b"5", b"&#34;c&#34;")
    + b"\n</CompleteMultipartUpload>",
]


@pytest.mark.parametrize("body", SAME_AS_PARSER)
def test_fast_path_and_parser_read_the_same_parts(body: bytes) -> None:
    assert XmlWire._complete_parts(body) == _parsed_complete_parts(body)


def test_partcopys_own_body_round_trips() -> None:
    assert XmlWire._complete_parts(build_complete(PARTS)) == tuple(PARTS)


HOSTILE_OR_BROKEN = [
    b'<!DOCTYPE x [<!ENTITY e "boom">]><CompleteMultipartUpload>'
    + _item(b"1", b"&e;")
    + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload>" + _item(b"1", b"a") + b"</CompleteMultipartUpload>\x0b",
    b"\x0b<CompleteMultipartUpload>" + _item(b"1", b"a") + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload>" + _item(b"1", b"a"),
    b"<CompleteMultipartUpload>" + _item(b"1", b"a&b") + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload>" + _item(b"9" * 5000, b"a") + b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
]


@pytest.mark.parametrize("body", HOSTILE_OR_BROKEN)
def test_hostile_or_broken_bodies_are_malformed_xml(body: bytes) -> None:
    with pytest.raises(StoreError) as caught:
        XmlWire._complete_parts(body)
    assert caught.value.code == "MalformedXML"
