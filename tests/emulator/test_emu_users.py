"""Several key pairs on one emulator: each access key owns the buckets it creates, sees
only its own in ListBuckets, and is refused (403) on another's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from doubles import SECOND_USER


def _status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_each_user_owns_its_buckets(emulator_client: Callable[..., Any]) -> None:
    first, second = emulator_client(), emulator_client(SECOND_USER)
    first.create_bucket(Bucket="owned-by-first")
    first.put_object(Bucket="owned-by-first", Key="k", Body=b"mine")
    second.create_bucket(Bucket="owned-by-second")
    second.put_object(Bucket="owned-by-second", Key="k", Body=b"theirs")
    names = {b["Name"] for b in second.list_buckets()["Buckets"]}
    assert "owned-by-second" in names and "owned-by-first" not in names
    owner = second.list_buckets()["Owner"]
    assert owner["DisplayName"] == SECOND_USER[0]
    for call in (
        lambda: second.get_object(Bucket="owned-by-first", Key="k"),
        lambda: second.put_object(Bucket="owned-by-first", Key="k", Body=b"overwrite"),
        lambda: second.list_objects_v2(Bucket="owned-by-first"),
        lambda: second.copy_object(
            Bucket="owned-by-second",
            Key="stolen",
            CopySource={"Bucket": "owned-by-first", "Key": "k"},
        ),
    ):
        with pytest.raises(ClientError) as denied:
            call()
        assert _status(denied) == 403
    with pytest.raises(ClientError) as taken:
        second.create_bucket(Bucket="owned-by-first")
    assert taken.value.response["Error"]["Code"] == "BucketAlreadyExists"
    assert first.get_object(Bucket="owned-by-first", Key="k")["Body"].read() == b"mine"
    listed = second.list_objects_v2(Bucket="owned-by-second", FetchOwner=True)
    assert listed["Contents"][0]["Owner"]["DisplayName"] == SECOND_USER[0]


def test_an_unknown_key_is_refused(emulator_client: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as unknown:
        emulator_client(("nobody", "x")).list_buckets()
    assert unknown.value.response["Error"]["Code"] == "InvalidAccessKeyId"
