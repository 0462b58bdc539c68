"""MemoryTransport specifics beyond the conformance suite: error mapping and edge cases."""

from __future__ import annotations

import pytest

from partcopy.errors import PreconditionFailed, ServiceError, UsageError
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import CopySource, ObjectAttributes, SSECustomerKey, Transport
from partcopy.transports.memory import MemoryTransport

pytestmark = pytest.mark.anyio
MiB = 1024 * 1024


def _transport(dialect: str = "s3") -> MemoryTransport:
    store = MemoryStore(dialect)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    return MemoryTransport(store, dialect)  # type: ignore[arg-type]


async def test_it_is_a_transport_and_maps_refusals_to_service_errors() -> None:
    t = _transport()
    assert isinstance(t, Transport) and t.dialect == "s3" and t.limits.name == "s3"
    t.store.put_virtual("src-bkt", "k", 6 * MiB)
    upload_id = await t.create_multipart("dst-bkt", "k", ObjectAttributes())
    with pytest.raises(PreconditionFailed) as exc:
        await t.upload_part_copy(
            "dst-bkt", "k", upload_id, 1, CopySource("src-bkt", "k", if_match='"x"'), 0, 9
        )
    assert (exc.value.status, exc.value.code, exc.value.operation) == (
        412,
        "PreconditionFailed",
        "upload_part_copy",
    )
    with pytest.raises(ServiceError) as err:
        await t.upload_part("dst-bkt", "k", upload_id, 1, b"abc", 4)
    assert (err.value.status, err.value.code) == (400, "IncompleteBody")
    with pytest.raises(ServiceError) as err:
        await t.upload_part("dst-bkt", "k", upload_id, 1, b"abc", 3, content_md5="AAAA")
    assert err.value.code == "BadDigest"


async def test_a_part_copy_of_a_whole_small_source_of_known_size_sends_no_range() -> None:
    # As on S3, a range copy needs a source over 5 MiB; the whole object needs none.
    t = _transport()
    t.store.put_virtual("src-bkt", "k", 3 * MiB)
    upload_id = await t.create_multipart("dst-bkt", "k", ObjectAttributes())
    with pytest.raises(ServiceError, match="byte-range copy source"):
        await t.upload_part_copy(
            "dst-bkt", "k", upload_id, 1, CopySource("src-bkt", "k"), 0, 3 * MiB - 1
        )
    with pytest.raises(ServiceError, match="byte-range copy source"):  # a part of it: a range
        await t.upload_part_copy(
            "dst-bkt", "k", upload_id, 1, CopySource("src-bkt", "k", size=3 * MiB), 0, MiB - 1
        )
    whole = CopySource("src-bkt", "k", size=3 * MiB)
    result = await t.upload_part_copy("dst-bkt", "k", upload_id, 1, whole, 0, 3 * MiB - 1)
    assert result.etag is not None
    assert t.store.upload("dst-bkt", "k", upload_id).parts[1].size == 3 * MiB


async def test_get_range_clamps_the_end_and_refuses_a_start_past_it() -> None:
    t = _transport()
    version = t.store.put_object("src-bkt", "k", b"0123456789")
    async with t.get_range("src-bkt", "k", 7, 100, if_match=f'"{version.etag}"') as chunks:
        assert b"".join([c async for c in chunks]) == b"789"
    with pytest.raises(ServiceError) as exc:
        async with t.get_range("src-bkt", "k", 10, 20):
            pass
    assert (exc.value.status, exc.value.code) == (416, "InvalidRange")


async def test_sse_c_objects_need_their_key() -> None:
    t = _transport()
    key = SSECustomerKey(b"s" * 32)
    assert "ssss" not in repr(key)
    with pytest.raises(ServiceError) as missing:
        await t.copy_object(CopySource("src-bkt", "missing"), "dst-bkt", "x", ObjectAttributes())
    assert (missing.value.status, missing.value.code) == (404, "NoSuchKey")
    t.store.put_object("src-bkt", "plain", b"data")
    await t.copy_object(
        CopySource("src-bkt", "plain"), "dst-bkt", "enc", ObjectAttributes(sse_c=key)
    )
    with pytest.raises(ServiceError) as exc:
        await t.head("dst-bkt", "enc")
    assert exc.value.status == 400
    info = await t.head("dst-bkt", "enc", sse_c=key)
    assert info.size == 4 and info.attributes.sse_c is None


async def test_qingstor_numbers_parts_from_zero_and_names_no_versions() -> None:
    t = _transport("qingstor")
    assert t.limits.first_part_number == 0
    upload_id = await t.create_multipart("dst-bkt", "k", ObjectAttributes())
    part = await t.upload_part("dst-bkt", "k", upload_id, 0, b"x", 1)
    assert part.etag is not None
    with pytest.raises(ServiceError):
        await t.upload_part("dst-bkt", "k", upload_id, 10000, b"x", 1)
    with pytest.raises(UsageError):
        await t.upload_part_copy(
            "dst-bkt", "k", upload_id, 1, CopySource("src-bkt", "k", version_id="v1"), 0, 0
        )
    done = await t.complete("dst-bkt", "k", upload_id, [(0, part.etag)])
    assert done.etag is not None and done.version_id is None
    await t.aclose()
