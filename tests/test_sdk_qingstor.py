"""qingstor-sdk, QingCloud's own SDK, drives the QingStor emulator: parts numbered from 0,
201 answers with the ETag in a header, JSON bodies and errors, ``QS ak:sig`` signing.

The SDK needs ``part_number`` as a string (2.6.0 crashes quoting an int) and an empty zone
(a zone would be prepended to the host name and looked up in DNS).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from qingstor.sdk.config import Config
from qingstor.sdk.service.bucket import Bucket
from qingstor.sdk.service.qingstor import QingStor

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from sdk_helpers import open_uploads, overwrite, record_requests, stored_bytes, stored_etag

pytestmark = pytest.mark.usefixtures("loopback_only")

MiB = 1024 * 1024
BUCKET, SRC, DST = "src-bkt", "dir/src obj+.bin", "dir/copy.bin"
SIZE = 9 * MiB
RANGES = [(0, 4 * MiB - 1), (4 * MiB, 8 * MiB - 1), (8 * MiB, SIZE - 1)]
"""Three copy ranges: QingStor's minimum part is 4 MiB, and the last one is shorter."""
COPY_SOURCE = f"/{BUCKET}/{SRC}"

MakeBucket = Callable[..., Bucket]


@pytest.fixture
def emu(emulator_thread: Callable[..., EmulatorThread]) -> EmulatorThread:
    return emulator_thread(dialect="qingstor", objects=[f"{BUCKET}/{SRC}={SIZE}"])


@pytest.fixture
def make_bucket(emu: EmulatorThread) -> Iterator[MakeBucket]:
    """``make_bucket(secret=...)``: the SDK's bucket handle on the emulator; sessions closed
    at the end."""
    services: list[QingStor] = []

    def make(*, secret: str = DEFAULT_SECRET_KEY) -> Bucket:
        config = Config(DEFAULT_ACCESS_KEY, secret)
        config.host = "127.0.0.1"
        config.port = int(emu.url.rsplit(":", 1)[1])
        config.protocol = "http"
        services.append(QingStor(config))
        return services[-1].Bucket(BUCKET, "")

    yield make
    for service in services:
        service.client.close()


def _code(answer: Any) -> str:
    return str(json.loads(answer.content)["code"])


def test_copy_parts_from_zero_with_range_and_if_match_then_complete_and_read_back(
    emu: EmulatorThread, make_bucket: MakeBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = record_requests(emu, monkeypatch)
    bucket = make_bucket()
    head = bucket.head_object(SRC)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == SIZE
    etag = head.headers["ETag"]
    assert etag.strip('"') == stored_etag(emu, BUCKET, SRC)

    init = bucket.initiate_multipart_upload(DST)
    assert init.status_code == 200
    upload_id = init["upload_id"]
    etags = []
    for number, (first, last) in enumerate(RANGES):
        copied = bucket.upload_multipart(
            DST,
            part_number=str(number),
            upload_id=upload_id,
            x_qs_copy_source=COPY_SOURCE,
            x_qs_copy_range=f"bytes={first}-{last}",
            x_qs_copy_source_if_match=etag,
        )
        assert copied.status_code == 201 and copied.content == b""
        etags.append(copied.headers["ETag"])

    listed = bucket.list_multipart(DST, upload_id=upload_id)
    assert listed.status_code == 200 and listed["count"] == 3
    assert [(p["part_number"], p["size"], p["etag"]) for p in listed["object_parts"]] == [
        (n, last - first + 1, e)
        for n, (first, last), e in zip([0, 1, 2], RANGES, etags, strict=True)
    ]

    parts = [{"part_number": n, "etag": e} for n, e in zip([0, 1, 2], etags, strict=True)]
    done = bucket.complete_multipart_upload(DST, upload_id=upload_id, object_parts=parts)
    assert done.status_code == 201

    got = bucket.get_object(DST)
    assert got.status_code == 200 and got.content == stored_bytes(emu, BUCKET, SRC)
    assert open_uploads(emu) == 0
    assert {s.scheme for s in seen} == {"QS"}
    assert len(seen) == 8  # head, initiate, 3 copies, list, complete, get


def test_abort_leaves_no_upload(emu: EmulatorThread, make_bucket: MakeBucket) -> None:
    bucket = make_bucket()
    upload_id = bucket.initiate_multipart_upload(DST)["upload_id"]
    assert open_uploads(emu) == 1

    assert bucket.abort_multipart_upload(DST, upload_id=upload_id).status_code == 204

    listed = bucket.list_multipart(DST, upload_id=upload_id)
    assert (listed.status_code, _code(listed)) == (404, "upload_not_exists")
    uploads = bucket.list_multipart_uploads()
    assert uploads.status_code == 200 and uploads["uploads"] == []
    assert open_uploads(emu) == 0


def test_wrong_secret_gets_signature_not_matched(
    emu: EmulatorThread, make_bucket: MakeBucket
) -> None:
    refused = make_bucket(secret="not-the-secret").initiate_multipart_upload(DST)
    assert (refused.status_code, _code(refused)) == (403, "signature_not_matched")
    assert open_uploads(emu) == 0


def test_if_match_on_a_changed_source_gets_412(
    emu: EmulatorThread, make_bucket: MakeBucket
) -> None:
    bucket = make_bucket()
    etag = bucket.head_object(SRC).headers["ETag"]
    upload_id = bucket.initiate_multipart_upload(DST)["upload_id"]
    overwrite(emu, BUCKET, SRC, b"a different source" * 300_000)

    refused = bucket.upload_multipart(
        DST,
        part_number="0",
        upload_id=upload_id,
        x_qs_copy_source=COPY_SOURCE,
        x_qs_copy_range=f"bytes=0-{4 * MiB - 1}",
        x_qs_copy_source_if_match=etag,
    )
    assert (refused.status_code, _code(refused)) == (412, "precondition_failed")
    assert bucket.list_multipart(DST, upload_id=upload_id)["object_parts"] == []


def test_list_objects_with_delimiter_limit_and_marker(
    emu: EmulatorThread, make_bucket: MakeBucket
) -> None:
    for key in ("dir/a", "dir/b", "top"):
        overwrite(emu, BUCKET, key, key.encode())
    bucket = make_bucket()
    first = bucket.list_objects(delimiter="/", limit="1")
    assert first.status_code == 200
    assert first["common_prefixes"] == ["dir/"] and first["keys"] == []
    assert first["has_more"] and first["next_marker"] == "dir/"
    rest = bucket.list_objects(delimiter="/", marker=first["next_marker"])
    assert [k["key"] for k in rest["keys"]] == ["top"] and not rest["has_more"]
    inner = bucket.list_objects(prefix="dir/", limit="10")
    assert [(k["key"], k["size"]) for k in inner["keys"]] == [
        ("dir/a", 5),
        ("dir/b", 5),
        (SRC, SIZE),
    ]
    assert inner["next_marker"] == "" and inner["common_prefixes"] == []


def test_unmodelled_sub_resources_answer_501_and_copy_sources_need_the_slash(
    emu: EmulatorThread, make_bucket: MakeBucket
) -> None:
    bucket = make_bucket()
    answer = bucket.get_acl()
    assert answer.status_code == 501 and _code(answer) == "not_implemented"
    upload_id = bucket.initiate_multipart_upload(DST)["upload_id"]
    bad = bucket.upload_multipart(
        DST, upload_id=upload_id, part_number="0", x_qs_copy_source=f"{BUCKET}/{SRC}"
    )
    assert bad.status_code == 400
    whole_tail = bucket.upload_multipart(
        DST,
        upload_id=upload_id,
        part_number="0",
        x_qs_copy_source=COPY_SOURCE,
        x_qs_copy_range=f"bytes={8 * MiB}-",
    )
    assert whole_tail.status_code == 201
    listed = bucket.list_multipart(DST, upload_id=upload_id)
    assert listed["object_parts"][0]["size"] == SIZE - 8 * MiB


def test_copy_source_date_conditions_are_412(emu: EmulatorThread, make_bucket: MakeBucket) -> None:
    bucket = make_bucket()
    upload_id = bucket.initiate_multipart_upload(DST)["upload_id"]
    for condition in (
        {"x_qs_copy_source_if_modified_since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        {"x_qs_copy_source_if_unmodified_since": "Mon, 01 Jan 2001 00:00:00 GMT"},
    ):
        refused = bucket.upload_multipart(
            DST,
            upload_id=upload_id,
            part_number="0",
            x_qs_copy_source=COPY_SOURCE,
            **condition,  # type: ignore[arg-type]
        )
        assert refused.status_code == 412 and _code(refused) == "precondition_failed"
    assert bucket.list_multipart(DST, upload_id=upload_id)["object_parts"] == []
