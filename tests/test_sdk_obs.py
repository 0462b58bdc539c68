"""esdk-obs-python, Huawei's own SDK, drives the OBS emulator: with native ``OBS ak:sig``
signing, and once in the AWS-v2 signing it uses by default on an IP endpoint.

The SDK percent-encodes every header value it sends (``"`` becomes ``%22``), so the
if-match conditions below carry the bare ETag, which S3-like services accept as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import obs
import pytest
from obs import (
    CompleteMultipartUploadRequest,
    CompletePart,
    CopyObjectHeader,
    GetObjectHeader,
    ObsClient,
    SseCHeader,
    SseKmsHeader,
)

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread
from sdk_helpers import open_uploads, overwrite, record_requests, stored_bytes, stored_etag

pytestmark = pytest.mark.usefixtures("loopback_only")

KiB = 1024
BUCKET, SRC, DST = "src-bkt", "dir/src obj+.bin", "dir/copy.bin"
SIZE = 1024 * KiB + 300 * KiB
RANGES = [(0, 512 * KiB - 1), (512 * KiB, 1024 * KiB - 1), (1024 * KiB, SIZE - 1)]
"""Three copy ranges: OBS takes parts down to 100 KiB, and the last one is shorter."""

MakeClient = Callable[..., ObsClient]


def native_obs(client: ObsClient) -> ObsClient:
    """Switch a constructed client to OBS's own signature and ``x-obs-`` headers."""
    client.signature = "obs"
    client.thread_local.signature = "obs"
    client.ha = obs.convertor.Adapter("obs")
    client.convertor = obs.convertor.Convertor("obs", client.ha)
    return client


@pytest.fixture
def emu(emulator_thread: Callable[..., EmulatorThread]) -> EmulatorThread:
    return emulator_thread(dialect="obs", objects=[f"{BUCKET}/{SRC}={SIZE}"])


@pytest.fixture
def make_client(emu: EmulatorThread) -> Iterator[MakeClient]:
    """``make_client(native=True, secret=...)``: SDK clients on the emulator, closed at the end."""
    made: list[ObsClient] = []

    def make(*, native: bool = True, secret: str = DEFAULT_SECRET_KEY) -> ObsClient:
        client = ObsClient(
            access_key_id=DEFAULT_ACCESS_KEY, secret_access_key=secret, server=emu.url
        )
        made.append(native_obs(client) if native else client)
        return made[-1]

    yield make
    for client in made:
        client.close()


def _prefix(native: bool) -> str:
    return "x-obs-" if native else "x-amz-"


@pytest.mark.parametrize("native", [True, False], ids=["obs-signature", "aws-v2-signature"])
def test_copy_parts_with_range_and_if_match_then_complete_and_read_back(
    emu: EmulatorThread,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    native: bool,
) -> None:
    seen = record_requests(emu, monkeypatch)
    client = make_client(native=native)
    head = client.getObjectMetadata(BUCKET, SRC)
    assert head.status == 200 and head.body.contentLength == SIZE
    etag = head.body.etag.strip('"')
    assert etag == stored_etag(emu, BUCKET, SRC)

    init = client.initiateMultipartUpload(BUCKET, DST)
    assert init.status == 200, init.errorCode
    upload_id = init.body.uploadId
    etags = []
    for number, (first, last) in enumerate(RANGES, start=1):
        copied = client.copyPart(
            BUCKET,
            DST,
            number,
            upload_id,
            f"{BUCKET}/{SRC}",
            copySourceRange=f"{first}-{last}",
            extensionHeaders={_prefix(native) + "copy-source-if-match": etag},
        )
        assert copied.status == 200, copied.errorCode
        etags.append(copied.body.etag)

    listed = client.listParts(BUCKET, DST, upload_id)
    assert listed.status == 200
    assert [(p.partNumber, p.size, p.etag) for p in listed.body.parts] == [
        (n, last - first + 1, e)
        for n, (first, last), e in zip([1, 2, 3], RANGES, etags, strict=True)
    ]

    parts = [CompletePart(n, e) for n, e in zip([1, 2, 3], etags, strict=True)]
    done = client.completeMultipartUpload(
        BUCKET, DST, upload_id, CompleteMultipartUploadRequest(parts)
    )
    assert done.status == 200, done.errorCode
    assert done.body.etag.strip('"').endswith("-3")

    got = client.getObject(BUCKET, DST, loadStreamInMemory=True)
    assert got.status == 200
    assert got.body.buffer == stored_bytes(emu, BUCKET, SRC)
    assert open_uploads(emu) == 0
    # every request was signed the way this client was configured, and checked
    assert {s.scheme for s in seen} == {"OBS" if native else "AWS"} and len(seen) == 8


def test_abort_leaves_no_upload(emu: EmulatorThread, make_client: MakeClient) -> None:
    client = make_client()
    upload_id = client.initiateMultipartUpload(BUCKET, DST).body.uploadId
    assert open_uploads(emu) == 1

    assert client.abortMultipartUpload(BUCKET, DST, upload_id).status == 204

    listed = client.listParts(BUCKET, DST, upload_id)
    assert (listed.status, listed.errorCode) == (404, "NoSuchUpload")
    uploads = client.listMultipartUploads(BUCKET)
    assert uploads.status == 200 and uploads.body.upload == []
    assert open_uploads(emu) == 0


@pytest.mark.parametrize("native", [True, False], ids=["obs-signature", "aws-v2-signature"])
def test_wrong_secret_gets_signature_does_not_match(
    emu: EmulatorThread, make_client: MakeClient, native: bool
) -> None:
    client = make_client(native=native, secret="not-the-secret")
    refused = client.initiateMultipartUpload(BUCKET, DST)
    assert (refused.status, refused.errorCode) == (403, "SignatureDoesNotMatch")
    assert open_uploads(emu) == 0


def test_if_match_on_a_changed_source_gets_412(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    client = make_client()
    etag = client.getObjectMetadata(BUCKET, SRC).body.etag.strip('"')
    upload_id = client.initiateMultipartUpload(BUCKET, DST).body.uploadId
    overwrite(emu, BUCKET, SRC, b"a different source" * 10_000)

    refused = client.copyPart(
        BUCKET,
        DST,
        1,
        upload_id,
        f"{BUCKET}/{SRC}",
        copySourceRange="0-102399",
        extensionHeaders={"x-obs-copy-source-if-match": etag},
    )
    assert (refused.status, refused.errorCode) == (412, "PreconditionFailed")
    assert client.listParts(BUCKET, DST, upload_id).body.parts == []


def test_list_objects_with_delimiter_and_marker(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    for key in ("dir/b", "top"):
        overwrite(emu, BUCKET, key, key.encode())
    client = make_client()
    first = client.listObjects(BUCKET, delimiter="/", max_keys=1)
    assert first.status == 200, first.errorMessage
    assert [p["prefix"] for p in first.body.commonPrefixs] == ["dir/"]
    assert first.body.is_truncated and first.body.next_marker == "dir/"
    rest = client.listObjects(BUCKET, delimiter="/", marker="dir/")
    assert [c["key"] for c in rest.body.contents] == ["top"]


PAST_HTTP = "Mon, 01 Jan 2001 00:00:00 GMT"
FUTURE_HTTP = "Fri, 01 Jan 2100 00:00:00 GMT"


def test_percent_encoded_if_match_values_match(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    """The SDK percent-encodes header values: ``"etag"`` travels as ``%22etag%22``."""
    client = make_client()
    etag = client.getObjectMetadata(BUCKET, SRC).body.etag
    assert etag.startswith('"')
    read = client.getObject(
        BUCKET, SRC, headers=GetObjectHeader(if_match=etag), loadStreamInMemory=True
    )
    assert read.status == 200, read.errorMessage
    copied = client.copyObject(BUCKET, SRC, BUCKET, DST, headers=CopyObjectHeader(if_match=etag))
    assert copied.status == 200, copied.errorMessage
    assert stored_bytes(emu, BUCKET, DST) == stored_bytes(emu, BUCKET, SRC)


def test_date_conditions_on_reads_and_copy_sources(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    client = make_client()
    for header in (
        CopyObjectHeader(if_modified_since=FUTURE_HTTP),
        CopyObjectHeader(if_unmodified_since=PAST_HTTP),
    ):
        refused = client.copyObject(BUCKET, SRC, BUCKET, DST, headers=header)
        assert (refused.status, refused.errorCode) == (412, "PreconditionFailed")
    unchanged = client.getObject(
        BUCKET, SRC, headers=GetObjectHeader(if_modified_since=FUTURE_HTTP), loadStreamInMemory=True
    )
    assert unchanged.status == 304
    copied = client.copyObject(
        BUCKET, SRC, BUCKET, DST, headers=CopyObjectHeader(if_modified_since=PAST_HTTP)
    )
    assert copied.status == 200, copied.errorMessage


def test_copy_part_and_upload_part_answer_their_encryption(
    emu: EmulatorThread, make_client: MakeClient
) -> None:
    """The SDK reads sseKms/sseKmsKey and sseC/sseCKeyMd5 from copyPart and uploadPart."""
    client = make_client()
    kms = client.initiateMultipartUpload(
        BUCKET, DST, sseHeader=SseKmsHeader.getInstance(key="kms-key-1")
    ).body.uploadId
    copied = client.copyPart(BUCKET, DST, 1, kms, f"{BUCKET}/{SRC}", copySourceRange="0-102399")
    assert copied.status == 200, copied.errorMessage
    assert (copied.body.sseKms, copied.body.sseKmsKey) == ("kms", "kms-key-1")
    key = b"k" * 32
    sse_c = SseCHeader.getInstance(key=key)
    customer = client.initiateMultipartUpload(BUCKET, "dir/c.bin", sseHeader=sse_c).body.uploadId
    part = client.uploadPart(BUCKET, "dir/c.bin", 1, customer, content=b"x" * 1000, sseHeader=sse_c)
    assert part.status == 200, part.errorMessage
    assert part.body.sseC == "AES256" and part.body.sseCKeyMd5
