"""The one-pass forms of Complete's per-part work agree with the per-part ones: the
composite ETag of the usual quoted MD5s, and a Complete body with nothing to escape."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st

from partcopy.engine.verify import composite_etag, composite_per_part
from partcopy.transports.parse import build_complete

md5s = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.md5(b).hexdigest())
etag_forms = st.one_of(
    md5s.map(lambda h: f'"{h}"'),  # the usual form
    md5s.map(lambda h: f'"{h.upper()}"'),
    md5s,
    md5s.map(lambda h: f'W/"{h}"'),
    md5s.map(lambda h: f'"{h}-3"'),
    md5s.map(lambda h: f'"{h}"\n"{h}"'),  # two in one: never counted as two parts
    md5s.map(lambda h: f'"{h[:31]}"'),
    md5s.map(lambda h: f'"{h}g"'),
    st.text(max_size=40),
)


@given(st.lists(etag_forms, max_size=6))
def test_composite_etag_agrees_with_the_per_part_rule(etags: list[str]) -> None:
    assert composite_etag(etags) == composite_per_part(etags)


@given(st.lists(md5s.map(lambda h: f'"{h}"'), min_size=1, max_size=6))
def test_usual_etags_make_the_composite(etags: list[str]) -> None:
    expected = composite_per_part(etags)
    assert expected is not None and composite_etag(etags) == expected


@given(st.lists(st.tuples(st.integers(1, 10000), st.text(max_size=20)), max_size=5))
def test_complete_body_is_escaped_exactly_as_before(parts: list[tuple[int, str]]) -> None:
    items = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(e)}</ETag></Part>" for n, e in parts
    )
    expected = f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()
    assert build_complete(parts) == expected
