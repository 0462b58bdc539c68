"""One suite every transport passes: the multipart copy verbs and their failures."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import pytest
from conformance_registry import Harness

from partcopy.engine.verify import composite_etag, normalize_etag
from partcopy.errors import PreconditionFailed, ServiceError
from partcopy.store.data import pattern_bytes
from partcopy.transports.base import CopySource, ObjectAttributes

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
PART = 5 * MiB
"""At least every profile's minimum part, and a source above S3's 5 MiB range floor."""
SRC, DST = "conf-src", "conf-dst"


def _data(seed: int, size: int) -> bytes:
    return pattern_bytes(seed, 0, size)


async def _setup(h: Harness, size: int = 2 * PART + 123) -> tuple[bytes, str]:
    await h.make_bucket(SRC)
    await h.make_bucket(DST)
    data = _data(1, size)
    etag, _ = await h.put(SRC, "source.bin", data)
    return data, etag


def _check_quoting(h: Harness, etag: str) -> None:
    """Copy answers carry the ETag quoted (AWS's XML escapes the quotes), unless the
    backend says it sends them bare; either way the engine compares them unquoted."""
    assert etag.startswith('"') is h.caps.copy_etags_quoted, etag


def _n(h: Harness, index: int) -> int:
    """The part number of the ``index``-th part (0-based) under the harness's profile."""
    return h.limits.first_part_number + index


async def _copy_all(h: Harness, data: bytes, etag: str, key: str) -> list[tuple[int, str]]:
    t = h.transport
    upload_id = await t.create_multipart(DST, key, ObjectAttributes())
    parts = []
    source = CopySource(SRC, "source.bin", if_match=etag)
    for index, first in enumerate(range(0, len(data), PART)):
        last = min(first + PART, len(data)) - 1
        result = await t.upload_part_copy(DST, key, upload_id, _n(h, index), source, first, last)
        assert result.etag is not None and result.part_number == _n(h, index)
        _check_quoting(h, result.etag)
        md5 = hashlib.md5(data[first : last + 1]).hexdigest()
        # A store whose copy-part ETags are not MD5s of the range leaves nothing to
        # recompute the object's composite ETag from (partcopy then proves size only).
        assert (normalize_etag(result.etag) == md5) is h.caps.copy_part_etags_are_md5
        parts.append((result.part_number, result.etag))
    done = await t.complete(DST, key, upload_id, parts)
    assert done.etag is not None
    return parts


async def test_head_reports_size_and_etag(harness: Harness) -> None:
    data, etag = await _setup(harness)
    info = await harness.transport.head(SRC, "source.bin")
    assert (info.bucket, info.key, info.size, info.etag) == (SRC, "source.bin", len(data), etag)


async def test_missing_key_is_404(harness: Harness) -> None:
    await _setup(harness)
    with pytest.raises(ServiceError) as exc:
        await harness.transport.head(SRC, "no-such-key")
    assert exc.value.status == 404 and not exc.value.retryable


async def test_multipart_copy_with_ranges_reads_back(harness: Harness) -> None:
    data, etag = await _setup(harness)
    parts = await _copy_all(harness, data, etag, "copied.bin")
    assert await harness.read(DST, "copied.bin") == data
    info = await harness.transport.head(DST, "copied.bin")
    assert info.size == len(data) and info.etag is not None and info.etag.endswith('-3"')
    expected = composite_etag([e for _, e in parts])
    if harness.caps.copy_part_etags_are_md5:
        assert expected is not None and normalize_etag(info.etag) == expected
    else:
        assert expected is None  # not computable: the part ETags are not MD5s


async def test_get_range_streams_the_bytes(harness: Harness) -> None:
    data, _ = await _setup(harness)
    async with harness.transport.get_range(SRC, "source.bin", PART - 7, PART + 9) as chunks:
        got = b"".join([chunk async for chunk in chunks])
    assert got == data[PART - 7 : PART + 10]


async def test_upload_part_with_body(harness: Harness) -> None:
    await _setup(harness)
    t = harness.transport
    first, second = _data(2, PART), _data(3, 1000)
    upload_id = await t.create_multipart(DST, "uploaded.bin", ObjectAttributes())
    md5 = base64.b64encode(hashlib.md5(first).digest()).decode()
    one = await t.upload_part(
        DST, "uploaded.bin", upload_id, _n(harness, 0), first, PART, content_md5=md5
    )

    async def stream() -> AsyncIterator[bytes]:
        yield second[:400]
        yield second[400:]

    two = await t.upload_part(DST, "uploaded.bin", upload_id, _n(harness, 1), stream(), 1000)
    assert one.etag is not None and two.etag is not None
    assert one.etag.strip('"') == hashlib.md5(first).hexdigest()
    await t.complete(
        DST, "uploaded.bin", upload_id, [(one.part_number, one.etag), (two.part_number, two.etag)]
    )
    assert await harness.read(DST, "uploaded.bin") == first + second


async def test_list_parts_across_pages(harness: Harness) -> None:
    await _setup(harness)
    t = harness.transport
    upload_id = await t.create_multipart(DST, "paged.bin", ObjectAttributes())
    numbers = [_n(harness, i) for i in range(5)]
    etags = {}
    for n in numbers:
        etags[n] = (await t.upload_part(DST, "paged.bin", upload_id, n, b"p%d" % n, 2)).etag
    seen = []
    marker = None
    pages = 0
    while True:
        page = await t.list_parts(DST, "paged.bin", upload_id, marker=marker, max_parts=2)
        pages += 1
        seen.extend(page.parts)
        if not page.is_truncated:
            break
        marker = page.next_marker
        assert marker == page.parts[-1].part_number
    assert pages == 3
    assert [p.part_number for p in seen] == numbers
    assert all(p.etag == etags[p.part_number] and p.size == 2 for p in seen)
    await t.abort(DST, "paged.bin", upload_id)


async def test_complete_refuses_wrong_etags_and_small_parts(harness: Harness) -> None:
    await _setup(harness)
    t = harness.transport
    upload_id = await t.create_multipart(DST, "bad.bin", ObjectAttributes())
    small = harness.limits.min_part - 1
    one = await t.upload_part(DST, "bad.bin", upload_id, _n(harness, 0), b"s" * small, small)
    two = await t.upload_part(DST, "bad.bin", upload_id, _n(harness, 1), b"t", 1)
    assert one.etag is not None and two.etag is not None
    bogus = '"' + "0" * 32 + '"'
    with pytest.raises(ServiceError) as exc:
        await t.complete(DST, "bad.bin", upload_id, [(_n(harness, 0), bogus)])
    assert exc.value.status == 400 and not exc.value.retryable
    with pytest.raises(ServiceError) as exc:
        await t.complete(
            DST, "bad.bin", upload_id, [(_n(harness, 0), one.etag), (_n(harness, 1), two.etag)]
        )
    assert exc.value.status == 400 and not exc.value.retryable
    await t.abort(DST, "bad.bin", upload_id)


async def test_abort_then_the_upload_is_gone(harness: Harness) -> None:
    await _setup(harness)
    t = harness.transport
    upload_id = await t.create_multipart(DST, "aborted.bin", ObjectAttributes())
    page = await t.list_uploads(DST)
    assert upload_id in {u.upload_id for u in page.uploads}
    await t.abort(DST, "aborted.bin", upload_id)
    with pytest.raises(ServiceError) as exc:
        await t.list_parts(DST, "aborted.bin", upload_id)
    assert exc.value.status == 404
    page = await t.list_uploads(DST)
    assert upload_id not in {u.upload_id for u in page.uploads}


async def test_missing_upload_is_404(harness: Harness) -> None:
    await _setup(harness)
    with pytest.raises(ServiceError) as exc:
        await harness.transport.upload_part(DST, "k", "no-such-upload-id", _n(harness, 0), b"x", 1)
    assert exc.value.status == 404 and not exc.value.retryable


async def test_list_uploads_pages(harness: Harness) -> None:
    await _setup(harness)
    t = harness.transport
    made = {await t.create_multipart(DST, f"u/{i}", ObjectAttributes()) for i in range(3)}
    first = await t.list_uploads(DST, prefix="u/", max_uploads=2)
    assert first.is_truncated and len(first.uploads) == 2
    assert first.next_upload_id_marker is not None
    assert (first.next_key_marker is not None) is harness.caps.next_key_marker
    markers = first.continuation()
    assert markers is not None
    rest = await t.list_uploads(
        DST, prefix="u/", key_marker=markers[0], upload_id_marker=markers[1]
    )
    assert not rest.is_truncated
    assert {u.upload_id for u in first.uploads + rest.uploads} == made


async def test_single_copy(harness: Harness) -> None:
    data, etag = await _setup(harness, size=1000)
    result = await harness.transport.copy_object(
        CopySource(SRC, "source.bin", if_match=etag), DST, "single.bin", ObjectAttributes()
    )
    assert result.etag is not None
    _check_quoting(harness, result.etag)
    assert normalize_etag(result.etag) == normalize_etag(etag)
    assert await harness.read(DST, "single.bin") == data


async def test_changed_source_fails_the_pinned_copy_with_412(harness: Harness) -> None:
    data, etag = await _setup(harness)
    await harness.put(SRC, "source.bin", _data(9, len(data)))
    t = harness.transport
    upload_id = await t.create_multipart(DST, "pinned.bin", ObjectAttributes())
    with pytest.raises(PreconditionFailed) as exc:
        await t.upload_part_copy(
            DST,
            "pinned.bin",
            upload_id,
            _n(harness, 0),
            CopySource(SRC, "source.bin", if_match=etag),
            0,
            PART - 1,
        )
    assert exc.value.status == 412 and not exc.value.retryable
    await t.abort(DST, "pinned.bin", upload_id)


async def test_versioned_source_copies_the_named_version(harness: Harness) -> None:
    if harness.transport.dialect == "qingstor":
        pytest.skip("QingStor copy sources name no version (x-qs-copy-source: /bucket/key)")
    await harness.make_bucket(SRC, versioning=True)
    await harness.make_bucket(DST)
    old, new = _data(4, 2 * PART), _data(5, 2 * PART)
    old_etag, old_version = await harness.put(SRC, "v.bin", old)
    await harness.put(SRC, "v.bin", new)
    assert old_version is not None
    t = harness.transport
    source = CopySource(SRC, "v.bin", version_id=old_version, if_match=old_etag)
    upload_id = await t.create_multipart(DST, "v-copy.bin", ObjectAttributes())
    parts = []
    for index in range(2):
        r = await t.upload_part_copy(
            DST,
            "v-copy.bin",
            upload_id,
            _n(harness, index),
            source,
            index * PART,
            (index + 1) * PART - 1,
        )
        assert r.etag is not None
        parts.append((r.part_number, r.etag))
    await t.complete(DST, "v-copy.bin", upload_id, parts)
    assert await harness.read(DST, "v-copy.bin") == old
    info = await t.head(SRC, "v.bin", version_id=old_version)
    assert info.etag == old_etag and info.version_id == old_version


ODD_KEYS = (
    "tree/a b/c d.bin",
    "tree/dir/ü ñ 漢字.txt",
    "tree/dir/plus+sign.bin",
    "tree/dir/pct%20lit%2B.bin",
    "tree/dir/sub/deep.bin",
    "tree/top.bin",
    "tree/~tilde&amp.bin",
)
"""Keys that trip URL and XML encoding: spaces, unicode, '+', a literal '%', '&'."""


async def _put_tree(h: Harness) -> dict[str, str]:
    await h.make_bucket(SRC)
    etags = {}
    for index, key in enumerate(ODD_KEYS):
        etags[key], _ = await h.put(SRC, key, _data(index, 10 + index))
    await h.put(SRC, "treeless.bin", b"outside the prefix")
    return etags


async def test_list_objects_pages_in_key_order(harness: Harness) -> None:
    etags = await _put_tree(harness)
    seen = []
    token = None
    pages = 0
    while True:
        page = await harness.transport.list_objects(SRC, prefix="tree/", token=token, max_keys=3)
        pages += 1
        seen.extend(page.objects)
        if not page.is_truncated:
            break
        assert page.next_token
        token = page.next_token
    assert pages == 3
    assert [o.key for o in seen] == sorted(ODD_KEYS)
    for index, obj in enumerate(sorted(seen, key=lambda o: ODD_KEYS.index(o.key))):
        assert obj.size == 10 + index
        assert (obj.etag or "").strip('"') == etags[obj.key].strip('"')
        assert obj.last_modified is not None


async def test_list_objects_one_level_with_a_delimiter(harness: Harness) -> None:
    await _put_tree(harness)
    page = await harness.transport.list_objects(SRC, prefix="tree/", delimiter="/")
    assert not page.is_truncated
    assert [o.key for o in page.objects] == ["tree/top.bin", "tree/~tilde&amp.bin"]
    assert page.prefixes == ("tree/a b/", "tree/dir/")


async def test_delete_object_removes_it(harness: Harness) -> None:
    await _put_tree(harness)
    await harness.transport.delete_object(SRC, "tree/top.bin")
    with pytest.raises(ServiceError) as exc:
        await harness.transport.head(SRC, "tree/top.bin")
    assert exc.value.status == 404
    page = await harness.transport.list_objects(SRC, prefix="tree/")
    assert "tree/top.bin" not in [o.key for o in page.objects]


async def test_put_object_streams_the_body_with_its_attributes(harness: Harness) -> None:
    await _setup(harness, 10)
    t = harness.transport
    data = _data(4, 3000)
    attrs = ObjectAttributes(content_type="text/plain", metadata={"colour": "blue"})

    async def stream() -> AsyncIterator[bytes]:
        yield data[:1000]
        yield data[1000:]

    result = await t.put_object(DST, "put.bin", stream(), len(data), attrs)
    assert result.etag is not None
    assert normalize_etag(result.etag) == hashlib.md5(data).hexdigest()  # plain, no "-N"
    assert await harness.read(DST, "put.bin") == data
    head = await t.head(DST, "put.bin")
    assert head.size == len(data)
    assert head.attributes.content_type == "text/plain"
    assert head.attributes.metadata == {"colour": "blue"}
    empty = await t.put_object(DST, "empty.bin", b"", 0, ObjectAttributes())
    assert normalize_etag(empty.etag or "") == hashlib.md5(b"").hexdigest()
    assert (await t.head(DST, "empty.bin")).size == 0


async def test_put_object_refuses_a_wrong_content_md5(harness: Harness) -> None:
    if not harness.caps.put_checks_content_md5:
        pytest.skip("this backend does not check a PutObject's Content-MD5")
    await _setup(harness, 10)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ServiceError) as exc:
        await harness.transport.put_object(
            DST, "bad.bin", b"hello", 5, ObjectAttributes(), content_md5=wrong
        )
    assert exc.value.status == 400
    with pytest.raises(ServiceError):
        await harness.transport.head(DST, "bad.bin")


async def test_list_buckets_names_the_buckets_made(harness: Harness) -> None:
    await harness.make_bucket(SRC)
    await harness.make_bucket(DST)
    names = []
    token: str | None = None
    for _ in range(100):  # pages until the store says it is done
        page = await harness.transport.list_buckets(token=token)
        names += [b.name for b in page.buckets]
        if page.next_token is None:
            break
        token = page.next_token
    assert {SRC, DST} <= set(names) and len(names) == len(set(names))
