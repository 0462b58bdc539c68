"""botocore's own S3 client against the emulator: the S3 dialect end to end."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread

MiB = 1024 * 1024
Start = Callable[..., EmulatorThread]


_OPEN: list[BaseClient] = []


def client(url: str, secret: str = DEFAULT_SECRET_KEY, access: str = DEFAULT_ACCESS_KEY) -> Any:
    made = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    _OPEN.append(made)
    return made


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response: Any = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def admin(url: str, method: str, path: str, body: object = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_emulator/{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_botocore_multipart_copy_round_trip(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3", objects=["src-bkt/big.bin=12MiB"])
    c = client(emu.url)
    c.create_bucket(Bucket="dst-bkt")
    source = c.head_object(Bucket="src-bkt", Key="big.bin")
    assert source["ContentLength"] == 12 * MiB
    upload_id = c.create_multipart_upload(Bucket="dst-bkt", Key="out.bin")["UploadId"]
    parts = []
    for number, (first, last) in enumerate([(0, 5 * MiB - 1), (5 * MiB, 12 * MiB - 1)], 1):
        answer = c.upload_part_copy(
            Bucket="dst-bkt",
            Key="out.bin",
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": "src-bkt", "Key": "big.bin"},
            CopySourceRange=f"bytes={first}-{last}",
            CopySourceIfMatch=source["ETag"],
        )
        parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
    done = c.complete_multipart_upload(
        Bucket="dst-bkt", Key="out.bin", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert done["ETag"].endswith('-2"')
    copied = c.get_object(Bucket="dst-bkt", Key="out.bin")["Body"].read()
    original = c.get_object(Bucket="src-bkt", Key="big.bin")["Body"].read()
    assert copied == original and len(copied) == 12 * MiB
    ranged = c.get_object(Bucket="dst-bkt", Key="out.bin", Range="bytes=100-199")
    assert ranged["ContentRange"] == f"bytes 100-199/{12 * MiB}"
    assert ranged["Body"].read() == original[100:200]
    stats = emu.emulator.stats()
    assert stats.parts_copied == 2 and stats.every_complete_issued


def test_upload_part_and_put_with_odd_keys(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3")
    c = client(emu.url)
    c.create_bucket(Bucket="dst-bkt")
    key = "dir/a b+c/ü%.bin"
    c.put_object(Bucket="dst-bkt", Key=key, Body=b"hello", Metadata={"colour": "blue"})
    head = c.head_object(Bucket="dst-bkt", Key=key)
    assert head["Metadata"] == {"colour": "blue"}
    assert head["ETag"] == '"' + hashlib.md5(b"hello").hexdigest() + '"'
    upload_id = c.create_multipart_upload(Bucket="dst-bkt", Key=key)["UploadId"]
    one = c.upload_part(
        Bucket="dst-bkt", Key=key, UploadId=upload_id, PartNumber=1, Body=b"a" * (5 * MiB)
    )
    two = c.upload_part(Bucket="dst-bkt", Key=key, UploadId=upload_id, PartNumber=2, Body=b"b")
    listed = c.list_parts(Bucket="dst-bkt", Key=key, UploadId=upload_id, MaxParts=1)
    assert listed["IsTruncated"] and listed["NextPartNumberMarker"] == 1
    rest = c.list_parts(Bucket="dst-bkt", Key=key, UploadId=upload_id, PartNumberMarker=1)
    assert [p["PartNumber"] for p in rest["Parts"]] == [2] and not rest["IsTruncated"]
    uploads = c.list_multipart_uploads(Bucket="dst-bkt")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [(key, upload_id)]
    c.complete_multipart_upload(
        Bucket="dst-bkt",
        Key=key,
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": one["ETag"]},
                {"PartNumber": 2, "ETag": two["ETag"]},
            ]
        },
    )
    assert c.get_object(Bucket="dst-bkt", Key=key)["Body"].read() == b"a" * (5 * MiB) + b"b"


def test_wrong_secret_is_403_signature_does_not_match(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3", objects=["src-bkt/k=1KiB"])
    with pytest.raises(ClientError) as exc:
        client(emu.url, secret="not-the-secret").list_objects_v2(Bucket="src-bkt")
    assert _error(exc) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as exc:
        client(emu.url, access="someone-else").list_objects_v2(Bucket="src-bkt")
    assert _error(exc) == (403, "InvalidAccessKeyId")
    # a custom key pair works, and the default then does not
    other = emulator_thread(dialect="s3", access_key="AK2", secret_key="SK2")
    client(other.url, secret="SK2", access="AK2").create_bucket(Bucket="mine-bkt")
    with pytest.raises(ClientError) as exc:
        client(other.url).create_bucket(Bucket="mine-bkt")
    assert _error(exc) == (403, "InvalidAccessKeyId")


def test_s3_rules_are_enforced(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3", objects=["src-bkt/big=8MiB", "src-bkt/small=1MiB"])
    c = client(emu.url)
    c.create_bucket(Bucket="dst-bkt")
    uid = c.create_multipart_upload(Bucket="dst-bkt", Key="k")["UploadId"]

    def copy(number: int, key: str, rng: str | None, **extra: Any) -> Any:
        args = {"CopySourceRange": rng} if rng else {}
        return c.upload_part_copy(
            Bucket="dst-bkt",
            Key="k",
            UploadId=uid,
            PartNumber=number,
            CopySource={"Bucket": "src-bkt", "Key": key},
            **args,
            **extra,
        )

    with pytest.raises(ClientError) as exc:
        copy(1, "small", "bytes=0-99")
    assert _error(exc) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as exc:
        copy(1, "big", f"bytes=0-{8 * MiB}")
    assert _error(exc) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as exc:
        copy(0, "big", "bytes=0-99")
    assert _error(exc) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as exc:
        copy(1, "big", "bytes=0-99", CopySourceIfMatch='"0123"')
    assert _error(exc) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as exc:
        c.get_object(Bucket="src-bkt", Key="small", Range=f"bytes={MiB}-")
    assert _error(exc) == (416, "InvalidRange")
    small = copy(1, "big", "bytes=0-99")["CopyPartResult"]["ETag"]
    last = copy(2, "big", "bytes=100-199")["CopyPartResult"]["ETag"]
    parts = [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]
    with pytest.raises(ClientError) as exc:
        c.complete_multipart_upload(
            Bucket="dst-bkt", Key="k", UploadId=uid, MultipartUpload={"Parts": parts}
        )
    assert _error(exc) == (400, "EntityTooSmall")
    with pytest.raises(ClientError) as exc:
        c.complete_multipart_upload(
            Bucket="dst-bkt",
            Key="k",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"' + "a" * 32 + '"'}]},
        )
    assert _error(exc) == (400, "InvalidPart")
    with pytest.raises(ClientError) as exc:
        c.complete_multipart_upload(
            Bucket="dst-bkt", Key="k", UploadId=uid, MultipartUpload={"Parts": parts[::-1]}
        )
    assert _error(exc) == (400, "InvalidPartOrder")
    c.abort_multipart_upload(Bucket="dst-bkt", Key="k", UploadId=uid)
    with pytest.raises(ClientError) as exc:
        copy(1, "big", "bytes=0-99")
    assert _error(exc) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as exc:
        c.head_object(Bucket="src-bkt", Key="missing")
    assert _error(exc)[0] == 404
    with pytest.raises(ClientError) as exc:
        c.get_object(Bucket="src-bkt", Key="missing")
    assert _error(exc) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as exc:
        c.create_bucket(Bucket="Bad_Name")
    assert _error(exc) == (400, "InvalidBucketName")


def test_versioning_copy_object_and_delete_markers(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3")
    c = client(emu.url)
    c.create_bucket(Bucket="ver-bkt")
    c.put_bucket_versioning(Bucket="ver-bkt", VersioningConfiguration={"Status": "Enabled"})
    assert c.get_bucket_versioning(Bucket="ver-bkt")["Status"] == "Enabled"
    v1 = c.put_object(Bucket="ver-bkt", Key="k", Body=b"one", ContentType="text/plain")
    c.put_object(Bucket="ver-bkt", Key="k", Body=b"two")
    old = c.get_object(Bucket="ver-bkt", Key="k", VersionId=v1["VersionId"])
    assert old["Body"].read() == b"one" and old["VersionId"] == v1["VersionId"]
    copied = c.copy_object(
        Bucket="ver-bkt",
        Key="copy",
        CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": v1["VersionId"]},
    )
    assert copied["CopyObjectResult"]["ETag"] == v1["ETag"]
    head = c.head_object(Bucket="ver-bkt", Key="copy")
    assert head["ContentType"] == "text/plain"
    c.copy_object(
        Bucket="ver-bkt",
        Key="copy",
        CopySource={"Bucket": "ver-bkt", "Key": "copy"},
        MetadataDirective="REPLACE",
        ContentType="image/png",
        Metadata={"m": "1"},
    )
    head = c.head_object(Bucket="ver-bkt", Key="copy")
    assert (head["ContentType"], head["Metadata"]) == ("image/png", {"m": "1"})
    deleted = c.delete_object(Bucket="ver-bkt", Key="k")
    assert deleted["DeleteMarker"] is True
    with pytest.raises(ClientError) as exc:
        c.get_object(Bucket="ver-bkt", Key="k")
    assert _error(exc) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as exc:
        c.copy_object(Bucket="ver-bkt", Key="x", CopySource={"Bucket": "ver-bkt", "Key": "k"})
    assert _error(exc) == (404, "NoSuchKey")


def test_sse_c_key_is_demanded(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3")
    c = client(emu.url)
    c.create_bucket(Bucket="enc-bkt")
    key = b"k" * 32
    c.put_object(
        Bucket="enc-bkt",
        Key="e",
        Body=b"x" * (6 * MiB),
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=key,
    )
    with pytest.raises(ClientError) as exc:
        c.head_object(Bucket="enc-bkt", Key="e")
    assert _error(exc)[0] == 400
    with pytest.raises(ClientError) as exc:
        c.get_object(
            Bucket="enc-bkt", Key="e", SSECustomerAlgorithm="AES256", SSECustomerKey=b"w" * 32
        )
    assert _error(exc) == (403, "AccessDenied")
    got = c.get_object(Bucket="enc-bkt", Key="e", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"x" * (6 * MiB)
    assert got["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(key).digest()).decode()
    uid = c.create_multipart_upload(Bucket="enc-bkt", Key="d")["UploadId"]
    with pytest.raises(ClientError):
        c.upload_part_copy(
            Bucket="enc-bkt",
            Key="d",
            UploadId=uid,
            PartNumber=1,
            CopySource={"Bucket": "enc-bkt", "Key": "e"},
            CopySourceRange="bytes=0-9",
        )
    part = c.upload_part_copy(
        Bucket="enc-bkt",
        Key="d",
        UploadId=uid,
        PartNumber=1,
        CopySource={"Bucket": "enc-bkt", "Key": "e"},
        CopySourceRange="bytes=0-9",
        CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=key,
    )
    assert part["CopyPartResult"]["ETag"] == '"' + hashlib.md5(b"x" * 10).hexdigest() + '"'


def test_admin_endpoints(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3")
    url = emu.url
    status, made = admin(
        url,
        "POST",
        "objects",
        {
            "objects": [
                "src-bkt/v.bin=3MiB",
                {"bucket": "src-bkt", "key": "s", "size": 10, "seed": 4},
            ]
        },
    )
    assert status == 200 and [o["size"] for o in made["objects"]] == [3 * MiB, 10]
    request = urllib.request.Request(
        f"{url}/_emulator/objects/src-bkt/real%20key", data=b"raw", method="PUT"
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["etag"] == hashlib.md5(b"raw").hexdigest()
    c = client(url)
    assert c.get_object(Bucket="src-bkt", Key="real key")["Body"].read() == b"raw"
    assert admin(url, "POST", "buckets", {"bucket": "ver-bkt", "versioning": True}) == (
        200,
        {"bucket": "ver-bkt", "versioning": "Enabled"},
    )
    status, stats = admin(url, "GET", "stats")
    assert status == 200 and stats["requests"] == 1 and stats["open_uploads"] == 0
    assert stats["completes"] == [] and admin(url, "GET", "stats?completes=0")[1]["completes"] == 0
    assert admin(url, "POST", "faults", {"faults": ["bogus:1"]})[0] == 400
    assert admin(url, "POST", "objects", {"objects": ["no-size"]})[0] == 400
    assert admin(url, "GET", "nothing-here")[0] == 404
    assert admin(url, "POST", "reset") == (200, {"reset": True})
    with pytest.raises(ClientError) as exc:
        c.head_object(Bucket="src-bkt", Key="real key")
    assert _error(exc)[0] == 404


def test_store_changes_through_the_thread(emulator_thread: Start) -> None:
    emu = emulator_thread(dialect="s3", objects=["src-bkt/a=10"])
    etag = emu.call(lambda: emu.emulator.store.put_virtual("src-bkt", "a", 10).etag)
    c: BaseClient = client(emu.url)
    assert c.head_object(Bucket="src-bkt", Key="a")["ETag"] == f'"{etag}"'  # type: ignore[attr-defined]
