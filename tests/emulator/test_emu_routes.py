"""No silent wrong answer: every request the emulator does not model answers 501
``NotImplemented`` in the dialect's error form, and leaves the store as it was."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import botocore.session
import pytest

from emulator_helpers import RawClient
from partcopy.emulator import Emulator
from partcopy.emulator.routes import QINGSTOR_ROUTES, XML_ROUTES

pytestmark = pytest.mark.anyio

BUCKET, KEY, BODY = "walk", "dir/obj.bin", b"the object's bytes"

MODELLED_S3 = {
    "AbortMultipartUpload", "CompleteMultipartUpload", "CopyObject", "CreateBucket",
    "CreateMultipartUpload", "DeleteBucket", "DeleteObject", "DeleteObjectTagging",
    "DeleteObjects", "GetBucketLocation", "GetBucketVersioning", "GetObject",
    "GetObjectTagging", "HeadBucket", "HeadObject", "ListBuckets", "ListMultipartUploads",
    "ListObjectVersions", "ListObjects", "ListObjectsV2", "ListParts", "PutBucketVersioning",
    "PutObject", "PutObjectTagging", "UploadPart", "UploadPartCopy",
    "ListDirectoryBuckets",  # the same request as ListBuckets (GET /)
}  # fmt: skip
"""botocore operations the emulator answers for real (each is tested on its own)."""

SUBRESOURCES = [
    "acl",
    "tagging",
    "policy",
    "lifecycle",
    "encryption",
    "cors",
    "website",
    "versioning",
    "attributes",
    "legal-hold",
    "retention",
    "object-lock",
    "replication",
    "notification",
    "logging",
    "analytics",
    "inventory",
    "metrics",
    "ownershipControls",
    "publicAccessBlock",
    "requestPayment",
    "restore",
    "select",
    "torrent",
    "accelerate",
    "intelligent-tiering",
    "policyStatus",
    "location",
    "versions",
    "uploads",
    "delete",
    "session",
    "metadataTable",
    "renameObject",
    "annotation",
]
DIALECT_EXTRAS = {
    "obs": [
        "append",
        "storagePolicy",
        "quota",
        "storageinfo",
        "modify",
        "rename",
        "truncate",
        "metadata",
        "fetch",
    ],
    "cos": ["append", "symlink", "domain", "origin", "referer", "intelligenttiering", "objectlock"],
    "qingstor": [
        "acl",
        "cors",
        "policy",
        "lifecycle",
        "logging",
        "notification",
        "replication",
        "mirror",
        "stats",
        "cname",
        "append",
        "image",
        "meta",
        "tagging",
        "delete",
        "uploads",
    ],
}
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _seeded(emu: Emulator, dialect: str, bucket: str) -> None:
    emu.store.create_bucket(bucket)
    emu.store.put_object(bucket, KEY, BODY)


def _error_code(dialect: str, body: bytes) -> str:
    if dialect == "qingstor":
        return str(json.loads(body)["code"])
    found = re.search(rb"<Code>([^<]*)</Code>", body)
    return found.group(1).decode() if found else ""


def _botocore_requests() -> list[tuple[str, str, str, bool, list[tuple[str, str | None]]]]:
    """(operation, method, sub-resource query, on an object?, query) of every S3 operation
    in botocore's model, with its required query members filled in."""
    model = botocore.session.get_session().get_service_model("s3")
    out = []
    for name in model.operation_names:
        op = model.operation_model(name)
        uri = op.http["requestUri"]
        path, _, fixed = uri.partition("?")
        query: list[tuple[str, str | None]] = []
        for piece in fixed.split("&") if fixed else []:
            k, eq, v = piece.partition("=")
            query.append((k, v if eq else None))
        shape = op.input_shape
        for member in shape.required_members if shape is not None else []:
            ref = shape.members[member]
            if ref.serialization.get("location") == "querystring":
                query.append((ref.serialization["name"], "1"))
        out.append((name, op.http["method"], fixed, "{Key+}" in path, query))
    return out


async def test_every_s3_operation_in_botocore_is_modelled_or_answers_501(
    session: aiohttp.ClientSession,
) -> None:
    async with Emulator(dialect="s3") as emu:
        await _seeded(emu, "s3", BUCKET)
        client = RawClient(session, emu.url, "s3")
        refused = []
        for name, method, fixed, on_object, query in _botocore_requests():
            if name in MODELLED_S3:
                continue
            bucket = "WriteGetObjectResponse" if name == "WriteGetObjectResponse" else BUCKET
            answer = await client.request(
                method, bucket, KEY if on_object else None, query=query, body=b"<x/>"
            )
            assert answer.status == 501, (name, method, fixed, answer.status, answer.body)
            assert _error_code("s3", answer.body) == "NotImplemented", name
            refused.append(name)
        assert len(refused) > 60  # the model has ~100 operations; most are refused
        assert emu.store.get(BUCKET, KEY).content.read() == BODY
        assert emu.store.bucket_names() == [BUCKET]


@pytest.mark.parametrize("dialect", ["s3", "obs", "cos", "qingstor"])
async def test_sub_resources_times_methods_answer_501_or_a_modelled_operation(
    session: aiohttp.ClientSession, dialect: str
) -> None:
    table = QINGSTOR_ROUTES if dialect == "qingstor" else XML_ROUTES
    modelled = table.for_dialect(dialect)
    names = DIALECT_EXTRAS.get(dialect, []) + (SUBRESOURCES if dialect == "s3" else ["acl"])
    async with Emulator(dialect=dialect) as emu:
        bucket = "walk-1250000000" if dialect == "cos" else BUCKET
        await _seeded(emu, dialect, bucket)
        client = RawClient(session, emu.url, dialect)
        checked = 0
        for sub in names:
            for level in ("bucket", "object"):
                for method in METHODS:
                    if (level, method, frozenset({sub})) in modelled:
                        continue
                    answer = await client.request(
                        method,
                        bucket,
                        KEY if level == "object" else None,
                        query=[(sub, None)],
                        body=b"<Tagging><TagSet/></Tagging>" if method != "HEAD" else b"",
                    )
                    where = (dialect, method, level, sub, answer.status, answer.body[:200])
                    assert answer.status == 501, where
                    if method != "HEAD":
                        assert _error_code(dialect, answer.body) in {
                            "NotImplemented",
                            "not_implemented",
                        }, where
                    checked += 1
        assert checked >= len(names) * 8
        assert emu.store.get(bucket, KEY).content.read() == BODY
        assert emu.store.bucket_names() == [bucket]
