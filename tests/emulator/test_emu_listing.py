"""Listing conformance with boto3 on the emulator and on moto: ListObjectsV2 pages,
delimiters, start-after, URL encoding, owners; ListObjects v1 markers; versions;
multi-delete; buckets; multipart upload listings."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError
from doubles import Target

KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d e+f", "z/ü%x"]


def _fill(target: Target, keys: list[str] = KEYS) -> str:
    bucket = target.bucket()
    for key in keys:
        target.s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_list_v2_pages_through_every_key_with_continuation_tokens(target: Target) -> None:
    bucket = _fill(target)
    pages = target.s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    seen = [(page["KeyCount"], [o["Key"] for o in page.get("Contents", [])]) for page in pages]
    assert [k for _, keys in seen for k in keys] == sorted(KEYS)
    assert all(count == len(keys) for count, keys in seen)
    assert len(seen) == 4
    first = target.s3.list_objects_v2(Bucket=bucket, MaxKeys=3)
    assert first["IsTruncated"] and first["MaxKeys"] == 3
    after = target.s3.list_objects_v2(
        Bucket=bucket, ContinuationToken=first["NextContinuationToken"]
    )
    assert [o["Key"] for o in after["Contents"]] == sorted(KEYS)[3:]
    assert not after["IsTruncated"] and "NextContinuationToken" not in after


def test_list_v2_echoes_the_continuation_token(target: Target) -> None:
    target.moto_gap("leaves ContinuationToken out of the ListObjectsV2 answer")
    bucket = _fill(target, ["1", "2"])
    first = target.s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    token = first["NextContinuationToken"]
    assert (
        target.s3.list_objects_v2(Bucket=bucket, ContinuationToken=token)["ContinuationToken"]
        == token
    )


def test_list_v2_delimiter_groups_common_prefixes_and_counts_them(target: Target) -> None:
    bucket = _fill(target)
    top = target.s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c", "d e+f"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/", "z/"]
    assert top["KeyCount"] == 5 and top["Delimiter"] == "/"
    inner = target.s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in inner["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["a/b/"]
    pages = target.s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}
    )
    flat = [
        name
        for page in pages
        for name in [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        + [o["Key"] for o in page.get("Contents", [])]
    ]
    assert sorted(flat) == ["a/", "b/", "c", "d e+f", "z/"]


def test_list_v2_start_after_fetch_owner_and_url_encoding(target: Target) -> None:
    bucket = _fill(target)
    listed = target.s3.list_objects_v2(Bucket=bucket, StartAfter="b/1")
    assert listed["StartAfter"] == "b/1"
    assert [o["Key"] for o in listed["Contents"]] == ["c", "d e+f", "z/ü%x"]
    assert all("Owner" not in o for o in listed["Contents"])
    owned = target.s3.list_objects_v2(Bucket=bucket, Prefix="c", FetchOwner=True)
    assert owned["Contents"][0]["Owner"]["ID"]
    # asked by the caller, encoding-type=url reaches the caller encoded
    encoded = target.s3.list_objects_v2(Bucket=bucket, Prefix="z/", EncodingType="url")
    assert encoded["EncodingType"] == "url"
    assert [o["Key"] for o in encoded["Contents"]] == ["z/%C3%BC%25x"]
    # boto3 asks for it on its own and decodes: odd keys come back intact
    decoded = target.s3.list_objects_v2(Bucket=bucket, Prefix="z/")
    assert [o["Key"] for o in decoded["Contents"]] == ["z/ü%x"]


def test_list_v2_refuses_a_forged_continuation_token(target: Target) -> None:
    target.moto_gap("answers 500 (an internal error) to a forged continuation token")
    bucket = _fill(target, ["1"])
    with pytest.raises(ClientError) as bad:
        target.s3.list_objects_v2(Bucket=bucket, ContinuationToken="not a token!")
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_list_v1_pages_after_a_marker(target: Target) -> None:
    bucket = _fill(target)
    plain = target.s3.list_objects(Bucket=bucket, Marker="a/b/3", MaxKeys=2)
    assert [o["Key"] for o in plain["Contents"]] == ["b/1", "c"]
    assert plain["IsTruncated"]
    assert plain["Contents"][0]["Owner"]["ID"]  # v1 always names the owner


def test_list_v1_counts_common_prefixes_in_max_keys_and_resumes_after_one(
    target: Target,
) -> None:
    target.moto_gap("does not count common prefixes against MaxKeys")
    bucket = _fill(target)
    grouped = target.s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "b/"]
    assert grouped["IsTruncated"] and grouped["NextMarker"] == "b/"
    rest = target.s3.list_objects(Bucket=bucket, Delimiter="/", Marker=grouped["NextMarker"])
    assert [o["Key"] for o in rest["Contents"]] == ["c", "d e+f"]
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["z/"]


def test_list_object_versions_answers_versions_and_delete_markers(target: Target) -> None:
    bucket = target.bucket(versioned=True)
    ids = [target.s3.put_object(Bucket=bucket, Key="k", Body=b)["VersionId"] for b in (b"1", b"2")]
    target.s3.put_object(Bucket=bucket, Key="other", Body=b"o")
    marker = target.s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"]
    listed = target.s3.list_object_versions(Bucket=bucket)
    versions = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]]
    assert versions[:2] == [("k", ids[1], False), ("k", ids[0], False)]
    assert versions[2][0] == "other" and versions[2][2]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
        ("k", marker["VersionId"], True)
    ]
    assert "Contents" not in listed  # a ListVersionsResult, not a ListBucketResult
    pages = target.s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1}
    )
    paged = [
        v["VersionId"] for p in pages for v in p.get("Versions", []) + p.get("DeleteMarkers", [])
    ]
    assert sorted(paged) == sorted([*ids, marker["VersionId"], listed["Versions"][2]["VersionId"]])
    assert len(paged) == 4
    assert target.s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_listing_a_bucket_with_an_sse_c_object_needs_no_key(target: Target) -> None:
    bucket = target.bucket()
    key = os.urandom(32)
    target.s3.put_object(
        Bucket=bucket, Key="secret", Body=b"hidden", SSECustomerAlgorithm="AES256",
        SSECustomerKey=key,
    )  # fmt: skip
    target.s3.put_object(Bucket=bucket, Key="plain", Body=b"open")
    assert [o["Key"] for o in target.s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "plain",
        "secret",
    ]
    assert len(target.s3.list_objects(Bucket=bucket)["Contents"]) == 2


def test_delete_objects_deletes_many_and_reports_each(target: Target) -> None:
    bucket = _fill(target)
    answer = target.s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a/1"}, {"Key": "c"}, {"Key": "never-there"}]},
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["a/1", "c", "never-there"]
    assert "Errors" not in answer
    left = [o["Key"] for o in target.s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["a/2", "a/b/3", "b/1", "d e+f", "z/ü%x"]


def test_delete_objects_quiet_reports_only_errors(target: Target) -> None:
    target.moto_gap("ignores Quiet and lists every deleted key")
    bucket = _fill(target, ["q"])
    quiet = target.s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "q"}], "Quiet": True}
    )
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert target.s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_list_v1_echoes_the_marker(target: Target) -> None:
    target.moto_gap("leaves Marker out of ListObjects and sends NextMarker without a delimiter")
    bucket = _fill(target, ["1", "2"])
    listed = target.s3.list_objects(Bucket=bucket, Marker="0", MaxKeys=1)
    assert listed["Marker"] == "0"
    assert listed["IsTruncated"] and "NextMarker" not in listed  # S3: only with a delimiter


def test_delete_objects_in_a_versioned_bucket_makes_markers(target: Target) -> None:
    bucket = target.bucket(versioned=True)
    version = target.s3.put_object(Bucket=bucket, Key="v", Body=b"1")["VersionId"]
    target.s3.put_object(Bucket=bucket, Key="w", Body=b"2")
    answer = target.s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "v", "VersionId": version}, {"Key": "w"}]}
    )
    by_key = {d["Key"]: d for d in answer["Deleted"]}
    assert by_key["v"]["VersionId"] == version
    assert by_key["w"]["DeleteMarker"] and by_key["w"]["DeleteMarkerVersionId"]


def test_list_buckets_and_delete_bucket(target: Target) -> None:
    bucket = _fill(target, ["only"])
    assert bucket in [b["Name"] for b in target.s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as full:
        target.s3.delete_bucket(Bucket=bucket)
    assert _code(full) == "BucketNotEmpty"
    target.s3.delete_object(Bucket=bucket, Key="only")
    target.s3.delete_bucket(Bucket=bucket)
    assert bucket not in [b["Name"] for b in target.s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as gone:
        target.s3.head_bucket(Bucket=bucket)
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_multipart_uploads_pages_by_key_and_upload_id(target: Target) -> None:
    target.moto_gap("ignores max-uploads and never pages")
    bucket = target.bucket()
    made = sorted(
        (key, target.s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
        for key in ("u/1", "u/1", "u/2")
    )
    pages = target.s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1}
    )
    listed = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
    assert sorted(listed) == made and len(listed) == 3
