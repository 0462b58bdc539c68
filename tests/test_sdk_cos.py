"""cos-python-sdk-v5, Tencent's own SDK, drives the COS emulator in IP/Port mode: requests go
to 127.0.0.1 and carry (and sign) ``Host: <bucket-appid>.cos.<region>.myqcloud.com``, from
which the emulator reads the bucket."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from emulator_helpers import COS_REGION, cos_host
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from sdk_helpers import open_uploads, overwrite, record_requests, stored_bytes, stored_etag

pytestmark = pytest.mark.usefixtures("loopback_only")

MiB = 1024 * 1024
BUCKET, SRC, DST = "src-1250000000", "dir/src obj+.bin", "dir/copy.bin"
SIZE = 2 * MiB + MiB // 2
RANGES = [(0, MiB - 1), (MiB, 2 * MiB - 1), (2 * MiB, SIZE - 1)]
"""Three copy ranges: COS's minimum part is 1 MiB, and the last one is shorter."""
SOURCE = {"Bucket": BUCKET, "Key": SRC, "Region": COS_REGION}

MakeClient = Callable[..., CosS3Client]


@pytest.fixture
def emu(emulator_thread: Callable[..., EmulatorThread]) -> EmulatorThread:
    return emulator_thread(dialect="cos", objects=[f"{BUCKET}/{SRC}={SIZE}"])


@pytest.fixture
def make_client(emu: EmulatorThread) -> Iterator[MakeClient]:
    """``make_client(secret=...)``: SDK clients in IP/Port mode, each on its own session
    (not the SDK's process-wide pool), closed at the end."""
    port = int(emu.url.rsplit(":", 1)[1])
    sessions: list[requests.Session] = []

    def make(*, secret: str = DEFAULT_SECRET_KEY) -> CosS3Client:
        config = CosConfig(
            Region=COS_REGION,
            SecretId=DEFAULT_ACCESS_KEY,
            SecretKey=secret,
            Scheme="http",
            IP="127.0.0.1",
            Port=port,
        )
        sessions.append(requests.Session())
        return CosS3Client(config, retry=0, session=sessions[-1])

    yield make
    for session in sessions:
        session.close()


def _error(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as info:
        call()
    return info.value.get_status_code(), info.value.get_error_code()


def test_copy_parts_with_range_and_if_match_then_complete_and_read_back(
    emu: EmulatorThread, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = record_requests(emu, monkeypatch)
    client = make_client()
    head = client.head_object(Bucket=BUCKET, Key=SRC)
    assert int(head["Content-Length"]) == SIZE
    etag = head["ETag"]
    assert etag.strip('"') == stored_etag(emu, BUCKET, SRC)

    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=DST)["UploadId"]
    etags = []
    for number, (first, last) in enumerate(RANGES, start=1):
        copied = client.upload_part_copy(
            Bucket=BUCKET,
            Key=DST,
            PartNumber=number,
            UploadId=upload_id,
            CopySource=SOURCE,
            CopySourceRange=f"bytes={first}-{last}",
            CopySourceIfMatch=etag,
        )
        etags.append(copied["ETag"])

    listed = client.list_parts(Bucket=BUCKET, Key=DST, UploadId=upload_id)
    assert [(int(p["PartNumber"]), int(p["Size"]), p["ETag"]) for p in listed["Part"]] == [
        (n, last - first + 1, e)
        for n, (first, last), e in zip([1, 2, 3], RANGES, etags, strict=True)
    ]

    parts = [{"PartNumber": n, "ETag": e} for n, e in zip([1, 2, 3], etags, strict=True)]
    done = client.complete_multipart_upload(
        Bucket=BUCKET, Key=DST, UploadId=upload_id, MultipartUpload={"Part": parts}
    )
    assert done["ETag"].strip('"').endswith("-3")

    body = client.get_object(Bucket=BUCKET, Key=DST)["Body"].get_raw_stream().read()
    assert body == stored_bytes(emu, BUCKET, SRC)
    assert open_uploads(emu) == 0
    assert {(s.scheme, s.host) for s in seen} == {("q-sign-algorithm=sha1", cos_host(BUCKET))}
    assert len(seen) == 8  # head, initiate, 3 copies, list, complete, get


def test_abort_leaves_no_upload(emu: EmulatorThread, make_client: MakeClient) -> None:
    client = make_client()
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=DST)["UploadId"]
    assert open_uploads(emu) == 1

    client.abort_multipart_upload(Bucket=BUCKET, Key=DST, UploadId=upload_id)

    listing = lambda: client.list_parts(Bucket=BUCKET, Key=DST, UploadId=upload_id)  # noqa: E731
    assert _error(listing) == (404, "NoSuchUpload")
    assert "Upload" not in client.list_multipart_uploads(Bucket=BUCKET)
    assert open_uploads(emu) == 0


def test_wrong_secret_gets_signature_does_not_match(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    client = make_client(secret="not-the-secret")
    refused = _error(lambda: client.create_multipart_upload(Bucket=BUCKET, Key=DST))
    assert refused == (403, "SignatureDoesNotMatch")
    assert open_uploads(emu) == 0


def test_if_match_on_a_changed_source_gets_412(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    client = make_client()
    etag = client.head_object(Bucket=BUCKET, Key=SRC)["ETag"]
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=DST)["UploadId"]
    overwrite(emu, BUCKET, SRC, b"a different source" * 100_000)

    def copy() -> object:
        return client.upload_part_copy(
            Bucket=BUCKET,
            Key=DST,
            PartNumber=1,
            UploadId=upload_id,
            CopySource=SOURCE,
            CopySourceRange=f"bytes=0-{MiB - 1}",
            CopySourceIfMatch=etag,
        )

    assert _error(copy) == (412, "PreconditionFailed")
    assert "Part" not in client.list_parts(Bucket=BUCKET, Key=DST, UploadId=upload_id)


def test_list_objects_with_delimiter_and_marker(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    for key in ("dir/b", "top"):
        overwrite(emu, BUCKET, key, key.encode())
    client = make_client()
    first = client.list_objects(Bucket=BUCKET, Delimiter="/", MaxKeys=1)
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["dir/"]
    assert first["IsTruncated"] == "true" and first["NextMarker"] == "dir/"
    rest = client.list_objects(Bucket=BUCKET, Delimiter="/", Marker="dir/")
    assert [c["Key"] for c in rest["Contents"]] == ["top"]


PAST_HTTP = "Mon, 01 Jan 2001 00:00:00 GMT"
FUTURE_HTTP = "Fri, 01 Jan 2100 00:00:00 GMT"


def test_upload_part_copy_without_a_range_copies_the_whole_object(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    client = make_client()
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=DST)["UploadId"]
    copied = client.upload_part_copy(
        Bucket=BUCKET, Key=DST, PartNumber=1, UploadId=upload_id, CopySource=SOURCE
    )  # the SDK sends an empty x-cos-copy-source-range
    parts = client.list_parts(Bucket=BUCKET, Key=DST, UploadId=upload_id)["Part"]
    assert [(p["PartNumber"], int(p["Size"])) for p in parts] == [("1", SIZE)]
    client.complete_multipart_upload(
        Bucket=BUCKET,
        Key=DST,
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": copied["ETag"]}]},
    )
    assert stored_bytes(emu, BUCKET, DST) == stored_bytes(emu, BUCKET, SRC)


def test_copy_source_date_conditions_are_412(emu: EmulatorThread, make_client: MakeClient) -> None:
    client = make_client()
    for condition in (
        {"CopySourceIfModifiedSince": FUTURE_HTTP},
        {"CopySourceIfUnmodifiedSince": PAST_HTTP},
    ):
        status, code = _error(
            lambda c=condition: client.copy_object(  # type: ignore[misc]
                Bucket=BUCKET, Key=DST, CopySource=SOURCE, **c
            )
        )
        assert (status, code) == (412, "PreconditionFailed"), condition
    client.copy_object(
        Bucket=BUCKET, Key=DST, CopySource=SOURCE, CopySourceIfModifiedSince=PAST_HTTP
    )
    assert stored_bytes(emu, BUCKET, DST) == stored_bytes(emu, BUCKET, SRC)
