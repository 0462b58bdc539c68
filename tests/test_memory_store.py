"""The in-memory store: content segments, S3's multipart rules, versioning, SSE-C, stats."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partcopy.planners import PROFILES
from partcopy.store.data import PATTERN_BLOCK, Content, Pattern, pattern_bytes
from partcopy.store.memory import MemoryStore, StoreError
from partcopy.transports.base import ObjectAttributes

MiB = 1024 * 1024
GiB = 1024 * MiB


def _store(profile: str = "s3") -> MemoryStore:
    store = MemoryStore(profile)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    return store


def _code(exc: pytest.ExceptionInfo[StoreError]) -> tuple[int, str]:
    return exc.value.status, exc.value.code


# --- content ---------------------------------------------------------------------------


def test_pattern_is_deterministic_and_offset_dependent() -> None:
    a = pattern_bytes(7, 0, 3 * PATTERN_BLOCK)
    assert a == pattern_bytes(7, 0, 3 * PATTERN_BLOCK)
    assert pattern_bytes(7, 100, 50) == a[100:150]
    # a shift by a whole block still differs: each block carries its index
    assert a[:PATTERN_BLOCK] != a[PATTERN_BLOCK : 2 * PATTERN_BLOCK]
    assert pattern_bytes(8, 0, 64) != a[:64]


@settings(max_examples=50, deadline=None)
@given(
    size=st.integers(1, 4 * PATTERN_BLOCK),
    data=st.data(),
)
def test_slices_of_content_read_like_slices_of_bytes(size: int, data: st.DataObject) -> None:
    real = Content.real(bytes(range(256)) * 3)
    virtual = Content.virtual(3, size)
    content = Content.concat([virtual, real, virtual.slice(0, size // 2)])
    whole = content.read()
    assert len(whole) == content.size
    first = data.draw(st.integers(0, content.size - 1))
    last = data.draw(st.integers(first, content.size - 1))
    assert content.slice(first, last).read() == whole[first : last + 1]
    assert b"".join(content.chunks(first, last, chunk=1000)) == whole[first : last + 1]


def test_adjacent_pattern_slices_merge_back_into_one_segment() -> None:
    content = Content.virtual(5, 80 * GiB)
    part = 16 * MiB
    pieces = [content.slice(i, min(i + part, content.size) - 1) for i in range(0, 10 * part, part)]
    joined = Content.concat(pieces)
    assert joined.segments == (Pattern(5, 0, 10 * part),)


def test_md5_is_real_for_bytes_and_layout_based_for_patterns() -> None:
    assert Content.real(b"abc").md5() == hashlib.md5(b"abc").digest()
    a, b = Content.virtual(1, 10 * GiB), Content.virtual(1, 10 * GiB)
    assert a.md5() == b.md5()
    assert a.slice(0, MiB - 1).md5() != a.slice(MiB, 2 * MiB - 1).md5()


# --- objects ---------------------------------------------------------------------------


def test_bucket_names_follow_s3_rules() -> None:
    store = MemoryStore()
    for bad in ["_emulator", "a" * 64, "UPPER", "-lead"]:
        with pytest.raises(StoreError) as exc:
            store.create_bucket(bad)
        assert _code(exc) == (400, "InvalidBucketName")
    store.create_bucket("b")  # the contract's example bucket


def test_missing_bucket_and_key() -> None:
    store = _store()
    with pytest.raises(StoreError) as exc:
        store.get("nope-bkt", "k")
    assert _code(exc) == (404, "NoSuchBucket")
    with pytest.raises(StoreError) as exc:
        store.get("src-bkt", "k")
    assert _code(exc) == (404, "NoSuchKey")


def test_overwrite_without_versioning_replaces_and_changes_etag() -> None:
    store = _store()
    v1 = store.put_virtual("src-bkt", "k", 10 * MiB)
    v2 = store.put_virtual("src-bkt", "k", 10 * MiB)
    assert v1.version_id == v2.version_id == "null"
    assert v1.etag != v2.etag
    assert [v.etag for v in store.versions("src-bkt", "k")] == [v2.etag]


def test_versioning_keeps_versions_and_delete_markers() -> None:
    store = _store()
    store.set_versioning("src-bkt", True)
    v1 = store.put_object("src-bkt", "k", b"one")
    v2 = store.put_object("src-bkt", "k", b"two")
    assert v1.version_id != v2.version_id
    assert store.get("src-bkt", "k").etag == v2.etag
    assert store.get("src-bkt", "k", v1.version_id).etag == v1.etag
    marker = store.delete_object("src-bkt", "k")
    assert marker is not None and marker.is_delete_marker
    with pytest.raises(StoreError) as exc:
        store.get("src-bkt", "k")
    assert _code(exc) == (404, "NoSuchKey")
    with pytest.raises(StoreError) as exc:
        store.get("src-bkt", "k", marker.version_id)
    assert _code(exc) == (405, "MethodNotAllowed")
    assert store.get("src-bkt", "k", v1.version_id).etag == v1.etag
    store.set_versioning("src-bkt", False)
    assert store.get_versioning("src-bkt") == "Suspended"


def test_sse_c_key_is_demanded_to_read_and_copy() -> None:
    store = _store()
    key_md5 = base64.b64encode(hashlib.md5(b"k" * 32).digest()).decode()
    store.put_object("src-bkt", "enc", b"secret", sse_c_md5=key_md5)
    with pytest.raises(StoreError) as exc:
        store.get("src-bkt", "enc")
    assert _code(exc) == (400, "InvalidRequest")
    with pytest.raises(StoreError) as exc:
        store.get("src-bkt", "enc", sse_c_md5="wrong")
    assert _code(exc) == (403, "AccessDenied")
    assert store.get("src-bkt", "enc", sse_c_md5=key_md5).size == 6
    with pytest.raises(StoreError):
        store.copy_object("src-bkt", "enc", "dst-bkt", "out", None)
    copied = store.copy_object("src-bkt", "enc", "dst-bkt", "out", None, src_sse_c_md5=key_md5)
    assert copied.sse_c_md5 is None


def test_copy_object_keeps_or_replaces_attributes_and_enforces_the_size_limit() -> None:
    store = _store()
    attrs = ObjectAttributes(content_type="text/plain", metadata={"a": "1"})
    src = store.put_object("src-bkt", "k", b"data", attrs)
    kept = store.copy_object("src-bkt", "k", "dst-bkt", "k", None)
    assert kept.attrs == src.attrs and kept.etag == src.etag
    new = ObjectAttributes(content_type="image/png")
    assert store.copy_object("src-bkt", "k", "dst-bkt", "k2", new).attrs == new
    store.put_virtual("src-bkt", "huge", 5 * GiB + 1)
    with pytest.raises(StoreError) as exc:
        store.copy_object("src-bkt", "huge", "dst-bkt", "k3", None)
    assert _code(exc) == (400, "InvalidRequest")
    with pytest.raises(StoreError) as exc:
        store.copy_object("src-bkt", "k", "dst-bkt", "k", None, if_match='"nope"')
    assert _code(exc) == (412, "PreconditionFailed")


# --- multipart -------------------------------------------------------------------------


def test_virtual_multipart_copy_is_o_parts_and_reads_back() -> None:
    store = _store()
    size = 80 * GiB
    src = store.put_virtual("src-bkt", "big", size)
    upload = store.create_upload("dst-bkt", "big")
    part = 16 * MiB
    count = size // part
    etags = []
    for n in range(1, count + 1):
        first = (n - 1) * part
        stored = store.upload_part_copy(
            "dst-bkt",
            "big",
            upload.upload_id,
            n,
            "src-bkt",
            "big",
            first=first,
            last=first + part - 1,
            if_match=src.etag,
        )
        etags.append((n, stored.etag))
    done = store.complete("dst-bkt", "big", upload.upload_id, etags)
    assert done.etag.endswith(f"-{count}")
    assert done.content is not None and len(done.content.segments) == 1
    assert src.content is not None
    for offset in (0, part - 10, 37 * part + 5, size - 100):
        assert done.content.read(offset, offset + 99) == src.content.read(offset, offset + 99)
    stats = store.stats()
    assert stats.parts_copied == count and stats.bytes_copied == size
    assert stats.every_complete_issued and stats.open_uploads == 0


def test_composite_etag_is_md5_of_part_md5s() -> None:
    store = _store()
    upload = store.create_upload("dst-bkt", "k")
    a = store.upload_part("dst-bkt", "k", upload.upload_id, 1, b"a" * (5 * MiB))
    b = store.upload_part("dst-bkt", "k", upload.upload_id, 2, b"b" * 10)
    done = store.complete("dst-bkt", "k", upload.upload_id, [(1, f'"{a.etag}"'), (2, b.etag)])
    expected = hashlib.md5(bytes.fromhex(a.etag) + bytes.fromhex(b.etag)).hexdigest() + "-2"
    assert done.etag == expected and done.parts_count == 2
    assert store.get("dst-bkt", "k").content is not None


@pytest.mark.parametrize(
    ("profile", "good", "bad"),
    [("s3", [1, 10000], [0, 10001]), ("qingstor", [0, 9999], [-1, 10000])],
)
def test_part_numbers_follow_the_profile(profile: str, good: list[int], bad: list[int]) -> None:
    store = _store(profile)
    upload = store.create_upload("dst-bkt", "k")
    for n in good:
        store.upload_part("dst-bkt", "k", upload.upload_id, n, b"x")
    for n in bad:
        with pytest.raises(StoreError) as exc:
            store.upload_part("dst-bkt", "k", upload.upload_id, n, b"x")
        assert _code(exc) == (400, "InvalidArgument")


def test_complete_enforces_size_order_and_issued_etags() -> None:
    store = _store("cos")
    limits = PROFILES["cos"]
    upload = store.create_upload("dst-bkt", "k")
    uid = upload.upload_id
    small = store.upload_part("dst-bkt", "k", uid, 1, b"s" * (limits.min_part - 1))
    last = store.upload_part("dst-bkt", "k", uid, 2, b"t")
    cases = [
        ([], "MalformedXML"),
        ([(2, last.etag), (1, small.etag)], "InvalidPartOrder"),
        ([(1, small.etag), (1, small.etag)], "InvalidPartOrder"),
        ([(1, "0" * 32)], "InvalidPart"),
        ([(3, last.etag)], "InvalidPart"),
        ([(1, small.etag), (2, last.etag)], "EntityTooSmall"),
    ]
    for parts, code in cases:
        with pytest.raises(StoreError) as exc:
            store.complete("dst-bkt", "k", uid, parts)
        assert _code(exc) == (400, code)
    records = store.stats().completes
    assert [r.ok for r in records] == [False] * len(cases)
    assert not records[3].all_issued and records[5].all_issued
    # the last part alone may be small
    done = store.complete("dst-bkt", "k", uid, [(2, last.etag)])
    assert done.size == 1


def test_a_replaced_part_invalidates_its_old_etag() -> None:
    store = _store()
    uid = store.create_upload("dst-bkt", "k").upload_id
    old = store.upload_part("dst-bkt", "k", uid, 1, b"old")
    new = store.upload_part("dst-bkt", "k", uid, 1, b"new")
    with pytest.raises(StoreError) as exc:
        store.complete("dst-bkt", "k", uid, [(1, old.etag)])
    assert _code(exc) == (400, "InvalidPart")
    assert store.stats().completes[-1].all_issued  # issued once, just not current
    store.complete("dst-bkt", "k", uid, [(1, new.etag)])


def test_repeating_a_complete_returns_the_same_object() -> None:
    store = _store()
    uid = store.create_upload("dst-bkt", "k").upload_id
    p = store.upload_part("dst-bkt", "k", uid, 1, b"x")
    first = store.complete("dst-bkt", "k", uid, [(1, p.etag)])
    assert store.complete("dst-bkt", "k", uid, [(1, p.etag)]) == first
    with pytest.raises(StoreError) as exc:
        store.complete("dst-bkt", "k", uid, [(1, "f" * 32)])
    assert _code(exc) == (404, "NoSuchUpload")


def test_abort_then_no_such_upload() -> None:
    store = _store()
    uid = store.create_upload("dst-bkt", "k").upload_id
    store.abort("dst-bkt", "k", uid)
    for call in (
        lambda: store.abort("dst-bkt", "k", uid),
        lambda: store.upload_part("dst-bkt", "k", uid, 1, b"x"),
        lambda: store.list_parts("dst-bkt", "k", uid),
        lambda: store.upload("dst-bkt", "other-key", uid),
    ):
        with pytest.raises(StoreError) as exc:
            call()
        assert _code(exc) == (404, "NoSuchUpload")


def test_upload_part_copy_rules() -> None:
    store = _store()
    src = store.put_virtual("src-bkt", "big", 6 * MiB)
    store.put_object("src-bkt", "small", b"x" * 100)
    uid = store.create_upload("dst-bkt", "k").upload_id

    def copy(key: str, first: int | None, last: int | None, **kw: object) -> None:
        store.upload_part_copy(
            "dst-bkt",
            "k",
            uid,
            1,
            "src-bkt",
            key,
            first=first,
            last=last,
            **kw,  # type: ignore[arg-type]
        )

    cases: list[tuple[dict[str, object], tuple[int, str]]] = [
        ({"key": "small", "first": 0, "last": 9}, (400, "InvalidRequest")),
        ({"key": "big", "first": 0, "last": 6 * MiB}, (400, "InvalidArgument")),
        ({"key": "big", "first": 5, "last": 4}, (400, "InvalidArgument")),
        ({"key": "big", "first": 0, "last": 9, "if_match": '"bad"'}, (412, "PreconditionFailed")),
        ({"key": "gone", "first": None, "last": None}, (404, "NoSuchKey")),
    ]
    for kwargs, expected in cases:
        with pytest.raises(StoreError) as exc:
            copy(**kwargs)  # type: ignore[arg-type]
        assert _code(exc) == expected
    copy("small", None, None)  # a whole small source is fine
    copy("big", 0, 9, if_match=f'"{src.etag}"')


def test_list_parts_and_uploads_page() -> None:
    store = _store()
    uid = store.create_upload("dst-bkt", "k").upload_id
    for n in (3, 1, 2, 5):
        store.upload_part("dst-bkt", "k", uid, n, b"x")
    page, truncated, marker = store.list_parts("dst-bkt", "k", uid, max_parts=3)
    assert [p.number for p in page] == [1, 2, 3] and truncated and marker == 3
    page, truncated, _ = store.list_parts("dst-bkt", "k", uid, marker=marker, max_parts=3)
    assert [p.number for p in page] == [5] and not truncated
    ids = [store.create_upload("dst-bkt", key).upload_id for key in ("a", "b", "b", "c")]
    first, more = store.list_uploads("dst-bkt", max_uploads=2)
    assert more and [u.key for u in first] == ["a", "b"]
    rest, more = store.list_uploads(
        "dst-bkt", key_marker=first[-1].key, upload_id_marker=first[-1].upload_id
    )
    assert not more and [u.key for u in rest] == ["b", "c", "k"]
    assert {u.upload_id for u in first + rest} == {*ids, uid}
    only, _ = store.list_uploads("dst-bkt", prefix="c")
    assert [u.key for u in only] == ["c"]


def test_in_flight_counter_and_reset() -> None:
    store = _store()
    with store.copy_in_flight(), store.copy_in_flight() as now:
        assert now == 2
    store.count_fault("slowdown")
    stats = store.stats()
    assert (stats.in_flight, stats.peak_in_flight, stats.faults) == (0, 2, {"slowdown": 1})
    store.reset()
    assert store.stats().peak_in_flight == 0 and store.bucket_names() == []
