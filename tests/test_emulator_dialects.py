"""OBS, COS and QingStor on the wire: URLs, query names, headers, bodies and error formats
as DIALECTS.md describes them, signed with each dialect's own scheme."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from defusedxml import ElementTree

from emulator_helpers import Raw, RawClient, cos_host
from partcopy.emulator import Emulator
from partcopy.store.data import pattern_bytes

pytestmark = pytest.mark.anyio

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _xml(answer: Raw, name: str) -> str:
    root = ElementTree.fromstring(answer.body)
    found = [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == name]
    assert found, answer.body
    return found[0]


def _complete_xml(parts: list[tuple[int, str]]) -> bytes:
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    return f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()


# --- QingStor --------------------------------------------------------------------------


async def test_qingstor_multipart_copy_wire(session: aiohttp.ClientSession) -> None:
    async with Emulator("qingstor", objects=["src-bkt/big.bin=10MiB"]) as emu:
        raw = RawClient(session, emu.url, "qingstor")
        assert (await raw.request("PUT", "dst-bkt")).status == 201
        init = await raw.request("POST", "dst-bkt", "out.bin", query=[("uploads", None)])
        assert init.status == 200 and init.headers["Content-Type"] == "application/json"
        doc = init.json()
        assert (doc["bucket"], doc["key"]) == ("dst-bkt", "out.bin")
        upload_id = doc["upload_id"]

        def q(number: int) -> list[tuple[str, str | None]]:
            return [("part_number", str(number)), ("upload_id", upload_id)]

        copied = await raw.request(
            "PUT",
            "dst-bkt",
            "out.bin",
            query=q(0),
            headers={"x-qs-copy-source": "/src-bkt/big.bin", "x-qs-copy-range": "bytes=0-5242879"},
        )
        assert (copied.status, copied.body) == (201, b"")
        assert copied.headers["ETag"].startswith('"')
        tail = pattern_bytes(1, 0, 1000)
        uploaded = await raw.request("PUT", "dst-bkt", "out.bin", query=q(1), body=tail)
        assert (uploaded.status, uploaded.body) == (201, b"")
        too_far = await raw.request("PUT", "dst-bkt", "out.bin", query=q(10000), body=b"x")
        assert too_far.status == 400 and too_far.json()["code"] == "invalid_argument"

        page = await raw.request(
            "GET", "dst-bkt", "out.bin", query=[("limit", "1"), ("upload_id", upload_id)]
        )
        first = page.json()
        assert first["has_more"] is True and first["count"] == 2
        assert [p["part_number"] for p in first["object_parts"]] == [0]
        page = await raw.request(
            "GET",
            "dst-bkt",
            "out.bin",
            query=[("limit", "1"), ("part_number_marker", "0"), ("upload_id", upload_id)],
        )
        second = page.json()
        assert second["has_more"] is False
        assert [(p["part_number"], p["size"]) for p in second["object_parts"]] == [(1, 1000)]

        body = json.dumps(
            {
                "object_parts": [
                    {"part_number": 0, "etag": copied.headers["ETag"]},
                    {"part_number": 1, "etag": uploaded.headers["ETag"]},
                ]
            }
        ).encode()
        done = await raw.request(
            "POST", "dst-bkt", "out.bin", query=[("upload_id", upload_id)], body=body
        )
        assert done.status == 201 and done.headers["ETag"].endswith('-2"')
        got = await raw.request("GET", "dst-bkt", "out.bin")
        source = await raw.request("GET", "src-bkt", "big.bin")
        assert got.body == source.body[: 5 * MiB] + tail
        ranged = await raw.request("GET", "src-bkt", "big.bin", headers={"Range": "bytes=5-9"})
        assert (ranged.status, ranged.body) == (206, source.body[5:10])
        aborted = await raw.request(
            "DELETE", "dst-bkt", "out.bin", query=[("upload_id", upload_id)]
        )
        assert aborted.status == 404 and aborted.json()["code"] == "upload_not_exists"


async def test_qingstor_errors_are_json(session: aiohttp.ClientSession) -> None:
    async with Emulator("qingstor", objects=["src-bkt/k=10"]) as emu:
        missing = await RawClient(session, emu.url, "qingstor").request("GET", "src-bkt", "nope")
        doc = missing.json()
        assert missing.status == 404 and set(doc) == {"code", "message", "request_id", "url"}
        assert doc["code"] == "object_not_exists"
        wrong = RawClient(session, emu.url, "qingstor", secret_key="wrong")
        denied = await wrong.request("GET", "src-bkt", "k")
        assert denied.status == 403 and denied.json()["code"] == "signature_not_matched"
        head = await wrong.request("HEAD", "src-bkt", "k")
        assert (head.status, head.body) == (403, b"")


async def test_qingstor_unproven_answers(session: aiohttp.ClientSession) -> None:
    async with Emulator("qingstor", objects=["src-bkt/big.bin=10MiB"]) as emu:
        raw = RawClient(session, emu.url, "qingstor")
        await raw.request("PUT", "dst-bkt")
        upload_id = (await raw.request("POST", "dst-bkt", "o", query=[("uploads", None)])).json()[
            "upload_id"
        ]
        for kind in ("noetag", "truncated"):
            emu.set_faults([f"{kind}:1"])
            answer = await raw.request(
                "PUT",
                "dst-bkt",
                "o",
                query=[("part_number", "0"), ("upload_id", upload_id)],
                headers={"x-qs-copy-source": "/src-bkt/big.bin"},
            )
            assert answer.status == 201 and "ETag" not in answer.headers
        emu.set_faults(["error200:1"])
        answer = await raw.request(
            "PUT",
            "dst-bkt",
            "o",
            query=[("part_number", "0"), ("upload_id", upload_id)],
            headers={"x-qs-copy-source": "/src-bkt/big.bin"},
        )
        assert answer.status == 200 and answer.json()["code"] == "internal_server_error"


# --- COS -------------------------------------------------------------------------------


async def test_cos_reads_the_bucket_from_the_host(session: aiohttp.ClientSession) -> None:
    src, dst = "src-1250000000", "dst-1250000000"
    async with Emulator("cos", objects=[f"{src}/big.bin=3MiB"]) as emu:
        raw = RawClient(session, emu.url, "cos")
        assert (await raw.request("PUT", dst)).status == 200
        init = await raw.request("POST", dst, "dir/out.bin", query=[("uploads", None)])
        upload_id = _xml(init, "UploadId")
        etags = []
        for number, (first, last) in enumerate([(0, MiB - 1), (MiB, 3 * MiB - 1)], 1):
            answer = await raw.request(
                "PUT",
                dst,
                "dir/out.bin",
                query=[("partNumber", str(number)), ("uploadId", upload_id)],
                headers={
                    "x-cos-copy-source": f"{cos_host(src)}/big.bin",
                    "x-cos-copy-source-range": f"bytes={first}-{last}",
                },
            )
            assert answer.status == 200 and answer.headers["x-cos-request-id"]
            etags.append((number, _xml(answer, "ETag")))
        done = await raw.request(
            "POST", dst, "dir/out.bin", query=[("uploadId", upload_id)], body=_complete_xml(etags)
        )
        assert done.status == 200 and _xml(done, "ETag").endswith('-2"')
        assert emu.store.get(dst, "dir/out.bin").size == 3 * MiB
        missing = await raw.request("GET", dst, "nope")
        assert missing.status == 404
        assert (_xml(missing, "Code"), _xml(missing, "Resource")) == ("NoSuchKey", f"/{dst}/nope")
        assert _xml(missing, "TraceId")
        wrong = RawClient(session, emu.url, "cos", secret_key="wrong")
        denied = await wrong.request("GET", src, "big.bin")
        assert denied.status == 403 and _xml(denied, "Code") == "SignatureDoesNotMatch"


# --- OBS -------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "prefix"), [("obs", "x-obs-"), ("aws", "x-amz-")])
async def test_obs_both_signatures_and_small_parts(
    session: aiohttp.ClientSession, variant: str, prefix: str
) -> None:
    async with Emulator("obs", objects=["src-bkt/big.bin=1MiB"]) as emu:
        raw = RawClient(session, emu.url, "obs", obs_variant=variant)  # type: ignore[arg-type]
        assert (await raw.request("PUT", "dst-bkt")).status == 200
        upload_id = _xml(
            await raw.request("POST", "dst-bkt", "a b.bin", query=[("uploads", None)]), "UploadId"
        )
        etags = []
        # OBS 3.0 takes parts down to 100 KiB, and ranges of sources under 5 MiB
        for number, (first, last) in enumerate([(0, 200 * KiB - 1), (200 * KiB, MiB - 1)], 1):
            answer = await raw.request(
                "PUT",
                "dst-bkt",
                "a b.bin",
                query=[("partNumber", str(number)), ("uploadId", upload_id)],
                headers={
                    f"{prefix}copy-source": "src-bkt/big.bin",
                    f"{prefix}copy-source-range": f"bytes={first}-{last}",
                },
            )
            assert answer.status == 200, answer.body
            etags.append((number, _xml(answer, "ETag")))
        done = await raw.request(
            "POST", "dst-bkt", "a b.bin", query=[("uploadId", upload_id)], body=_complete_xml(etags)
        )
        assert done.status == 200 and _xml(done, "ETag").endswith('-2"')
        wrong = RawClient(session, emu.url, "obs", secret_key="wrong", obs_variant=variant)  # type: ignore[arg-type]
        denied = await wrong.request("GET", "src-bkt", "big.bin")
        assert denied.status == 403 and _xml(denied, "Code") == "SignatureDoesNotMatch"
        unsigned = await session.get(f"{emu.url}/src-bkt/big.bin")
        async with unsigned:
            assert unsigned.status == 403


# --- every dialect ---------------------------------------------------------------------


def _code(dialect: str, answer: Raw) -> str:
    return str(answer.json()["code"]) if dialect == "qingstor" else _xml(answer, "Code")


@pytest.mark.parametrize(
    ("dialect", "code"),
    [
        ("s3", "RequestTimeTooSkewed"),
        ("obs", "RequestTimeTooSkewed"),
        ("cos", "AccessDenied"),
        ("qingstor", "request_time_too_skewed"),
    ],
)
async def test_requests_signed_at_the_wrong_time_are_refused(
    session: aiohttp.ClientSession, dialect: str, code: str
) -> None:
    def later() -> datetime:
        return datetime.now(UTC) + timedelta(hours=2)

    async with Emulator(dialect, objects=["src-1250000000/k=10"], clock=later) as emu:
        answer = await RawClient(session, emu.url, dialect).request("GET", "src-1250000000", "k")
        assert answer.status == 403 and _code(dialect, answer) == code


async def test_cos_keys_under_the_admin_prefix_belong_to_the_bucket(
    session: aiohttp.ClientSession,
) -> None:
    async with Emulator("cos", objects=["src-1250000000/_emulator/stats=10"]) as emu:
        raw = RawClient(session, emu.url, "cos")
        answer = await raw.request("GET", "src-1250000000", "_emulator/stats")
        assert answer.status == 200 and len(answer.body) == 10
        async with session.get(f"{emu.url}/_emulator/stats") as admin_answer:
            assert (await admin_answer.json())["requests"] == 1


async def test_cos_answers_400_for_a_delete_marker_named_by_version(
    session: aiohttp.ClientSession,
) -> None:
    bucket = "ver-1250000000"
    async with Emulator("cos") as emu:
        emu.store.create_bucket(bucket)
        emu.store.set_versioning(bucket, True)
        emu.store.put_object(bucket, "k", b"data")
        marker = emu.store.delete_object(bucket, "k")
        assert marker is not None
        raw = RawClient(session, emu.url, "cos")
        current = await raw.request("GET", bucket, "k")
        assert current.status == 404 and _xml(current, "Code") == "NoSuchKey"
        named = await raw.request("GET", bucket, "k", query=[("versionId", marker.version_id)])
        assert named.status == 400


async def test_obs_clamps_a_copy_range_past_the_end(session: aiohttp.ClientSession) -> None:
    async with Emulator("obs", objects=["src-bkt/k=300KiB"]) as emu:
        raw = RawClient(session, emu.url, "obs")
        await raw.request("PUT", "dst-bkt")
        upload_id = _xml(
            await raw.request("POST", "dst-bkt", "o", query=[("uploads", None)]), "UploadId"
        )
        answer = await raw.request(
            "PUT",
            "dst-bkt",
            "o",
            query=[("partNumber", "1"), ("uploadId", upload_id)],
            headers={
                "x-obs-copy-source": "src-bkt/k",
                "x-obs-copy-source-range": f"bytes={100 * KiB}-{10 * MiB}",
            },
        )
        assert answer.status == 200
        assert emu.store.upload("dst-bkt", "o", upload_id).parts[1].size == 200 * KiB
