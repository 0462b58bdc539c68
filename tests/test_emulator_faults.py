"""Fault injection: the grammar, determinism, and every kind through the admin endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator_helpers import Raw, RawClient, admin, copy_part_args, prepared_upload
from partcopy.emulator import Emulator, FaultSpec, parse_fault
from partcopy.emulator.faults import FAULT_KINDS, OPERATIONS, FaultInjector
from partcopy.errors import UsageError

MiB = 1024 * 1024


# --- grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slowdown:0.05", FaultSpec("slowdown", 0.05)),
        ("delay:0.01:2s", FaultSpec("delay", 0.01, 2.0)),
        ("delay:1:250ms", FaultSpec("delay", 1.0, 0.25)),
        ("throttle:8", FaultSpec("throttle", 8.0)),
        ("429:0.5:3", FaultSpec("429", 0.5, 3.0)),
        (
            "error200:1@complete,copy_object",
            FaultSpec("error200", 1.0, None, frozenset({"complete", "copy_object"})),
        ),
        ("reset:0.2#3", FaultSpec("reset", 0.2, limit=3)),
    ],
)
def test_fault_grammar(text: str, expected: FaultSpec) -> None:
    spec = parse_fault(text)
    assert spec == expected
    assert parse_fault(spec.as_text()) == spec


def test_all_expands_to_every_operation() -> None:
    assert {"head", "complete", "copy_part", "get"} <= parse_fault("500:1@all").ops


@pytest.mark.parametrize(
    "text",
    [
        "bogus:1",
        "slowdown",
        "slowdown:2",
        "slowdown:x",
        "throttle:0",
        "throttle:1.5",
        "delay:0.5",
        "delay:0.5:soon",
        "noetag:1:2",
        "500:1@nothing",
        "500:1#x",
        "429:1:2:3",
    ],
)
def test_bad_faults_are_usage_errors_naming_the_spec(text: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_fault(text)
    assert repr(text) in str(exc.value)


def test_decisions_depend_on_identity_not_arrival_order() -> None:
    spec = parse_fault("slowdown:0.5")
    ids = [f"dst/k|u|{n}" for n in range(200)]

    def failing(order: list[str]) -> set[str]:
        injector = FaultInjector((spec,), seed=11)
        return {i for i in order if injector.decide("copy_part", i).fault is not None}

    forward = failing(ids)
    assert forward == failing(list(reversed(ids)))
    assert 60 < len(forward) < 140  # a rate, not all-or-nothing
    other_seed = FaultInjector((spec,), seed=12)
    assert forward != {i for i in ids if other_seed.decide("copy_part", i).fault}


def test_retries_of_one_request_draw_again_and_limits_cap_fires() -> None:
    injector = FaultInjector((parse_fault("500:0.5"),), seed=3)
    draws = [injector.decide("copy_part", "same").fault is not None for _ in range(40)]
    assert any(draws) and not all(draws)
    capped = FaultInjector((parse_fault("500:1#2"),))
    fired = [capped.decide("upload_part", f"x{n}").fault is not None for n in range(5)]
    assert fired == [True, True, False, False, False]
    assert FaultInjector((parse_fault("500:1"),)).decide("complete", "x").fault is None


# --- through the emulator ----------------------------------------------------------------


class GatedSleep:
    """An injected sleep: records durations; copies can be held until released."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.hold = False
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.hold:
            self.entered.set()
            await self.release.wait()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _copy_part(raw: RawClient, upload_id: str, number: int) -> Raw:
    return await raw.request("PUT", "dst-bkt", "out.bin", **copy_part_args(upload_id, number))


@pytest.mark.anyio
async def test_every_fault_kind_through_the_admin_endpoint(
    session: aiohttp.ClientSession,
) -> None:
    sleep = GatedSleep()
    async with Emulator("s3", sleep=sleep) as emu:
        raw = RawClient(session, emu.url, "s3")
        upload_id = await prepared_upload(emu, raw)

        async def with_fault(spec: str) -> Raw:
            status, body = await admin(session, emu.url, "POST", "faults", {"faults": [spec]})
            assert status == 200 and body["faults"] == [parse_fault(spec).as_text()]
            return await _copy_part(raw, upload_id, 1)

        answer = await with_fault("slowdown:1")
        assert (answer.status, b"<Code>SlowDown</Code>" in answer.body) == (503, True)
        answer = await with_fault("500:1")
        assert (answer.status, b"<Code>InternalError</Code>" in answer.body) == (500, True)
        answer = await with_fault("429:1:2")
        assert (answer.status, answer.headers["Retry-After"]) == (429, "2")
        answer = await with_fault("error200:1")
        assert answer.status == 200 and answer.body.startswith(b"<?xml")
        assert b"<Error><Code>InternalError</Code>" in answer.body
        answer = await with_fault("noetag:1")
        assert answer.status == 200 and b"<CopyPartResult" in answer.body
        assert b"ETag" not in answer.body
        answer = await with_fault("truncated:1")
        assert answer.status == 200 and not answer.body.endswith(b"</CopyPartResult>")
        with pytest.raises(aiohttp.ClientError):
            await with_fault("reset:1")
        answer = await with_fault("delay:1:2s")
        assert answer.status == 200 and b"<ETag>" in answer.body
        assert sleep.calls == [2.0]

        # throttle: a second copy while one is in flight is refused with SlowDown
        await admin(session, emu.url, "POST", "faults", {"faults": ["throttle:1"]})
        emu.latency_ms = 5.0
        sleep.hold = True
        held = asyncio.create_task(_copy_part(raw, upload_id, 2))
        await sleep.entered.wait()
        assert emu.stats().in_flight == 1
        refused = await _copy_part(raw, upload_id, 1)
        assert refused.status == 503 and b"SlowDown" in refused.body
        sleep.release.set()
        assert (await held).status == 200

        _, stats = await admin(session, emu.url, "GET", "stats")
        assert stats["faults"] == {
            "slowdown": 1,
            "500": 1,
            "429": 1,
            "error200": 1,
            "noetag": 1,
            "truncated": 1,
            "reset": 1,
            "delay": 1,
            "throttle": 1,
        }
        assert stats["peak_in_flight"] == 1  # the refused copy never started
        # faults that refuse never copy; the damaged answers did
        assert stats["parts_copied"] == 5
        assert (await admin(session, emu.url, "DELETE", "faults"))[1]["faults"] == []


@pytest.mark.anyio
async def test_faults_scoped_to_complete_leave_parts_alone(
    session: aiohttp.ClientSession,
) -> None:
    async with Emulator("s3", faults=["error200:1@complete#1"]) as emu:
        raw = RawClient(session, emu.url, "s3")
        upload_id = await prepared_upload(emu, raw)
        parts = []
        for number in (1, 2, 3):
            if number == 3:
                answer = await raw.request(
                    "PUT",
                    "dst-bkt",
                    "out.bin",
                    query=[("partNumber", "3"), ("uploadId", upload_id)],
                    headers={
                        "x-amz-copy-source": "src-bkt/big.bin",
                        "x-amz-copy-source-range": f"bytes={10 * MiB}-{12 * MiB - 1}",
                    },
                )
            else:
                answer = await _copy_part(raw, upload_id, number)
            assert answer.status == 200
            etag = answer.body.split(b"<ETag>")[1].split(b"</ETag>")[0].decode()
            parts.append(f"<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>")
        body = (
            "<CompleteMultipartUpload>" + "".join(parts) + "</CompleteMultipartUpload>"
        ).encode()
        query = [("uploadId", upload_id)]
        first = await raw.request("POST", "dst-bkt", "out.bin", query=query, body=body)
        assert first.status == 200 and b"<Error>" in first.body
        second = await raw.request("POST", "dst-bkt", "out.bin", query=query, body=body)
        assert second.status == 200 and b"<CompleteMultipartUploadResult" in second.body
        # a retried Complete (answer lost after success) gets the same answer again
        again = await raw.request("POST", "dst-bkt", "out.bin", query=query, body=body)
        assert again.body == second.body
        stats = emu.stats()
        assert stats.faults == {"error200": 1} and stats.every_complete_issued


@pytest.mark.anyio
async def test_reset_after_complete_then_retry_succeeds(session: aiohttp.ClientSession) -> None:
    async with Emulator("s3", faults=["reset:1@complete#1"]) as emu:
        raw = RawClient(session, emu.url, "s3")
        upload_id = await prepared_upload(emu, raw)
        answer = await _copy_part(raw, upload_id, 1)
        etag = answer.body.split(b"<ETag>")[1].split(b"</ETag>")[0].decode()
        body = (
            f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag>"
            "</Part></CompleteMultipartUpload>"
        ).encode()
        with pytest.raises(aiohttp.ClientError):
            await raw.request(
                "POST", "dst-bkt", "out.bin", query=[("uploadId", upload_id)], body=body
            )
        retry = await raw.request(
            "POST", "dst-bkt", "out.bin", query=[("uploadId", upload_id)], body=body
        )
        assert retry.status == 200 and b'-1"</ETag>' in retry.body
        assert emu.store.get("dst-bkt", "out.bin").size == 5 * MiB


@pytest.mark.anyio
async def test_latency_model_sleeps_latency_plus_size_over_bandwidth(
    session: aiohttp.ClientSession,
) -> None:
    sleep = GatedSleep()
    async with Emulator("s3", latency_ms=20, gbps=8, sleep=sleep) as emu:
        raw = RawClient(session, emu.url, "s3")
        upload_id = await prepared_upload(emu, raw)
        assert (await _copy_part(raw, upload_id, 1)).status == 200
        assert sleep.calls == [pytest.approx(0.020 + 5 * MiB * 8 / 8e9)]


@pytest.mark.anyio
async def test_admin_fault_errors(session: aiohttp.ClientSession) -> None:
    async with Emulator("s3") as emu:
        status, body = await admin(session, emu.url, "POST", "faults", {"faults": "nope"})
        assert status == 400 and "list" in body["error"]
        status, body = await admin(
            session,
            emu.url,
            "POST",
            "faults",
            {
                "faults": [{"kind": "delay", "rate": 0.5, "arg": "1s", "ops": ["get"], "limit": 2}],
                "seed": 9,
            },
        )
        assert status == 200 and body == {"faults": ["delay:0.5:1.0s@get#2"], "seed": 9}
        status, body = await admin(session, emu.url, "POST", "faults", {"faults": [7]})
        assert status == 400


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(FAULT_KINDS)),
    rate=st.floats(0, 1),
    bound=st.integers(1, 10_000),
    arg=st.integers(0, 3_600_000).map(lambda ms: ms / 1000),  # durations in ms steps
    ops=st.sets(st.sampled_from(sorted(OPERATIONS)), min_size=1),
    limit=st.none() | st.integers(0, 10**6),
)
def test_any_spec_survives_a_round_trip_through_its_text(
    kind: str, rate: float, bound: int, arg: float, ops: set[str], limit: int | None
) -> None:
    if kind == "corrupt":  # it changes stored part bytes: part writes only
        ops = ops & {"copy_part", "upload_part"} or {"copy_part"}
    spec = FaultSpec(
        kind,
        float(bound) if kind == "throttle" else rate,
        arg if kind in {"delay", "429"} else None,
        frozenset(ops),
        limit,
    )
    assert parse_fault(spec.as_text()) == spec


@pytest.mark.anyio
async def test_faults_on_reads_cut_streams_and_drop_etags(
    session: aiohttp.ClientSession,
) -> None:
    async with Emulator("s3", objects=["src-bkt/big.bin=3MiB"]) as emu:
        raw = RawClient(session, emu.url, "s3")
        whole = (await raw.request("GET", "src-bkt", "big.bin")).body
        emu.set_faults(["truncated:1@get"])
        cut = await raw.request("GET", "src-bkt", "big.bin", headers={"Range": "bytes=0-999"})
        assert cut.status == 206 and cut.headers["Content-Range"] == "bytes 0-999/3145728"
        assert cut.body == whole[:500]
        emu.set_faults(["noetag:1@head"])
        head = await raw.request("HEAD", "src-bkt", "big.bin")
        assert head.status == 200 and "ETag" not in head.headers
        emu.set_faults(["slowdown:1@head"])
        refused = await raw.request("HEAD", "src-bkt", "big.bin")
        assert (refused.status, refused.body) == (503, b"")
        emu.set_faults(["reset:1@get"])
        with pytest.raises(aiohttp.ClientError):
            await raw.request("GET", "src-bkt", "big.bin")
        emu.set_faults([])
        again = await raw.request("GET", "src-bkt", "big.bin", headers={"Range": "bytes=10-19"})
        assert again.body == whole[10:20]
