"""copy_verdict's fast path for the plain CopyPartResult gives the XML parser's verdict,
and anything else (a DTD, an entity, other markup) still goes through defusedxml."""

from __future__ import annotations

import re

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given
from hypothesis import strategies as st

from partcopy.errors import ProtocolError
from partcopy.transports.parse import _PLAIN_COPY_RESULT, copy_verdict

NS = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'

READABLE = re.compile(
    rb'(?:<\?xml version="1\.0" encoding="UTF-8"\?>)?\s*'
    rb'<(CopyPartResult|CopyObjectResult)(?: xmlns="[\w:/.\-]*")?>'
    rb"<LastModified>[\w:.\-+]*</LastModified>"
    rb'<ETag>((?:[\w\-."]|&quot;)*)</ETag>'
    rb"</\1>\s*"
)
"""What ``_PLAIN_COPY_RESULT`` matches, written plainly (it is spelt for speed)."""


def doc(etag: str, root: str = "CopyPartResult", ns: str = NS, decl: bool = True) -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if decl else ""
    return (
        f"{head}<{root}{ns}><LastModified>2026-11-22T11:00:00.000Z</LastModified>"
        f"<ETag>{etag}</ETag></{root}>"
    ).encode()


def parsed_etag(body: bytes) -> str | None:
    root = SafeET.fromstring(body.lstrip(), forbid_dtd=True)
    for sub in root:
        if sub.tag.rsplit("}", 1)[-1] == "ETag":
            return (sub.text or "").strip() or None
    return None


@given(
    etag=st.text(alphabet='abcdef0123456789-"._', max_size=40),
    quote_entity=st.booleans(),
    root=st.sampled_from(["CopyPartResult", "CopyObjectResult"]),
    ns=st.sampled_from([NS, ""]),
    decl=st.booleans(),
)
def test_fast_path_matches_the_parser(
    etag: str, quote_entity: bool, root: str, ns: str, decl: bool
) -> None:
    text = etag.replace('"', "&quot;") if quote_entity else etag
    body = doc(text, root, ns, decl)
    assert _PLAIN_COPY_RESULT.fullmatch(body) is not None
    assert copy_verdict(body).etag == parsed_etag(body)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]>'
        b"<CopyPartResult><LastModified>x</LastModified><ETag>&e;</ETag></CopyPartResult>",
        b"<CopyPartResult><LastModified>x</LastModified><ETag>&e;</ETag></CopyPartResult>",
        b"<CopyPartResult><LastModified>x</LastModified><ETag>a<!-- c -->b</ETag></CopyPartResult>",
        b"<CopyPartResult><LastModified>x</LastModified><ETag>a\x00</ETag></CopyPartResult>",
        b"<CopyPartResult><LastModified>x</LastModified><ETag>&#34;a</ETag></CopyPartResult>",
    ],
)
def test_anything_else_is_left_to_the_parser(body: bytes) -> None:
    assert _PLAIN_COPY_RESULT.fullmatch(body.lstrip()) is None


def test_a_dtd_before_a_plain_looking_result_is_still_refused() -> None:
    body = b"<!DOCTYPE r [<!ENTITY e 'x'>]>" + doc('"abc"', decl=False)
    with pytest.raises(ProtocolError, match="hostile"):
        copy_verdict(body)


PIECES = st.sampled_from(
    [
        "a",
        "Z",
        "0",
        "_",
        "-",
        ".",
        ":",
        "+",
        "/",
        '"',
        "&quot;",
        "&amp;",
        "&",
        ";",
        " ",
        "\n",
        "<",
        ">",
        "é",
        "\x00",
    ]
)
fields = st.lists(PIECES, max_size=12).map("".join)


@given(
    etag=fields,
    date=fields,
    ns=fields,
    root=st.sampled_from(["CopyPartResult", "CopyObjectResult", "CompleteMultipartUploadResult"]),
    close=st.sampled_from(["", "CopyPartResult", "CopyObjectResult"]),
    space=st.sampled_from(["", " ", "\n", " \t\r\n"]),
    decl=st.booleans(),
    with_ns=st.booleans(),
)
def test_the_fast_pattern_matches_what_the_readable_one_does(
    etag: str, date: str, ns: str, root: str, close: str, space: str, decl: bool, with_ns: bool
) -> None:
    head = '<?xml version="1.0" encoding="UTF-8"?>' if decl else ""
    attr = f' xmlns="{ns}"' if with_ns else ""
    body = (
        f"{space}{head}{space}<{root}{attr}><LastModified>{date}</LastModified>"
        f"<ETag>{etag}</ETag></{close or root}>{space}"
    ).encode()
    fast, plain = _PLAIN_COPY_RESULT.fullmatch(body), READABLE.fullmatch(body)
    assert (fast is None) == (plain is None)
    if fast is not None and plain is not None:
        assert fast.groups() == plain.groups()
