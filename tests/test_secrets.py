"""Secrets never leak: secret keys, SSE-C keys (raw and base64) and request signatures do not
appear in any log line (debug level), exception text, repr or JSON output, through faults,
retries, failed copies, a wrong SSE-C key and a wrong secret key, in all four dialects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Mapping
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest

from partcopy.cli.logs import configure_logging
from partcopy.config import Credentials, EndpointConfig
from partcopy.emulator import EmulatorThread
from partcopy.emulator.server import Emulator
from partcopy.engine.copier import Copier
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import PartcopyError
from partcopy.logs import capture_events
from partcopy.transports import make_transport
from partcopy.transports.base import SSECustomerKey, Transport

ACCESS_KEY = "AKIDPARTCOPYLEAKTEST"
SECRET_KEY = "Zq9/LeakTest+SecretKey=partcopy0123456789"
WRONG_SECRET = "Wr0ng/Secret+Key=ShouldNeverShowUp987654"
KEY_1 = hashlib.sha256(b"partcopy sse-c key one").digest()
KEY_2 = hashlib.sha256(b"partcopy sse-c key two").digest()
REGION = "us-east-1"
MiB = 1024**2
FAULTS = [
    "slowdown:0.25@copy_part,complete,create",
    "500:0.15@copy_part,head",
    "429:0.1:0.001@copy_part",
    "reset:0.1@copy_part",
    "noetag:0.1@copy_part",
    "error200:0.1@copy_part,complete",
    "truncated:0.1@copy_part",
]
RETRY = RetryPolicy(max_attempts=40, initial=0.0, cap=0.0)


def forms_of_key(key: bytes) -> list[str]:
    """Every way an SSE-C key could be written out."""
    return [
        base64.b64encode(key).decode(),
        key.hex(),
        repr(key)[2:-1],
        key.decode("latin-1"),
    ]


def forbidden(signatures: list[str]) -> dict[str, str]:
    secrets = {"secret key": SECRET_KEY, "wrong secret key": WRONG_SECRET}
    for name, key in (("sse-c key 1", KEY_1), ("sse-c key 2", KEY_2)):
        for i, form in enumerate(forms_of_key(key)):
            secrets[f"{name} form {i}"] = form
    for i, sig in enumerate(signatures):
        secrets[f"signature {i}"] = sig
    return secrets


def assert_clean(text: str, secrets: Mapping[str, str], where: str) -> None:
    for name, value in secrets.items():
        assert value not in text, f"{name} leaked into {where}"


def signature_values(headers: Mapping[str, str]) -> list[str]:
    """The secret-derived parts of an Authorization header (the MAC, not the access key)."""
    auth = headers.get("Authorization", "")
    found = re.findall(r"Signature=([0-9a-f]+)", auth)  # SigV4
    found += re.findall(r"q-signature=([0-9a-f]+)", auth)  # COS
    if auth.startswith(("OBS ", "QS ", "AWS ")):
        found.append(auth.split(":", 1)[-1])
    return [auth, *found] if found else [auth]


class RecordingFactory:
    """Builds the real transports and records every signature they send."""

    def __init__(self) -> None:
        self.signatures: list[str] = []

    def __call__(self, config: EndpointConfig, session: aiohttp.ClientSession) -> Transport:
        transport = make_transport(
            config.dialect,
            config.endpoint_url,
            config.region or REGION,
            config.credentials,
            session,
        )
        sign = transport._sign  # type: ignore[attr-defined]

        def recording(req: Any) -> Mapping[str, str]:
            out: Mapping[str, str] = sign(req)
            self.signatures += [s for s in signature_values(out) if s]
            return out

        transport._sign = recording  # type: ignore[attr-defined]
        return transport


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


async def instant(seconds: float) -> None:
    await asyncio.sleep(0)


class Capture:
    """Everything a run can say: rendered debug log, raw structlog events, texts we collect."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.rendered = io.StringIO()
        self.texts: list[str] = []
        self.caplog = caplog
        configure_logging("debug", stream=self.rendered)
        logging.getLogger("partcopy").propagate = True  # caplog sees the records too
        self._stack = contextlib.ExitStack()
        self.raw_events: list[dict[str, Any]] = self._stack.enter_context(capture_events())
        caplog.set_level(logging.DEBUG)

    def error(self, exc: BaseException) -> None:
        self.texts.extend(traceback.format_exception(exc))
        self.texts.append(repr(exc))
        if isinstance(exc, PartcopyError):
            self.texts.append(json.dumps({"type": exc.kind, "message": str(exc)}))

    def assert_clean(self, signatures: list[str]) -> None:
        self._stack.close()
        assert len(signatures) > 20  # the scan below has something to find
        secrets = forbidden(signatures)
        assert self.raw_events and self.rendered.getvalue()
        assert any(e.get("event") == "retry" for e in self.raw_events)
        assert_clean(self.rendered.getvalue(), secrets, "the rendered debug log")
        for event in self.raw_events:
            assert_clean(repr(event), secrets, f"log event {event.get('event')!r}")
        assert_clean(self.caplog.text, secrets, "stdlib logging")
        for text in self.texts:
            assert_clean(text, secrets, "an exception, repr or JSON")


@pytest.mark.parametrize("dialect", ["s3", "obs", "cos", "qingstor"])
def test_no_secret_in_logs_errors_or_results(
    dialect: str, caplog: pytest.LogCaptureFixture
) -> None:
    capture = Capture(caplog)
    factory = RecordingFactory()
    texts = capture.texts
    record_error = capture.error

    async def main() -> None:
        async with Emulator(
            dialect,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            faults=FAULTS,
            objects=[f"src-1250000000/plain.bin={30 * MiB}"],
            seed=3,
            sleep=instant,
        ) as emu:
            emu.store.create_bucket("dst-1250000000")

            def copier(secret: str = SECRET_KEY, **kwargs: Any) -> Copier:
                kwargs.setdefault("retry", RETRY)
                return Copier(
                    endpoint_url=emu.url,
                    region=REGION,
                    credentials=Credentials(ACCESS_KEY, secret),
                    transport_factory=factory,
                    sleep=no_sleep,
                    seed=5,
                    env={},
                    **kwargs,
                )

            key_1, key_2 = SSECustomerKey(KEY_1), SSECustomerKey(KEY_2)
            async with copier(concurrency=4) as c:
                first = await c.copy(
                    f"{_scheme(dialect)}://src-1250000000/plain.bin",
                    f"{_scheme(dialect)}://dst-1250000000/enc1.bin",
                    part_size=5 * MiB,
                    destination_sse_c=key_1,
                )
                second = await c.copy(
                    f"{_scheme(dialect)}://dst-1250000000/enc1.bin",
                    f"{_scheme(dialect)}://dst-1250000000/enc2.bin",
                    part_size=5 * MiB,
                    source_sse_c=key_1,
                    destination_sse_c=key_2,
                )
                texts.extend([repr(first), repr(second), json.dumps(second.as_dict())])
                texts.extend([repr(c), repr(key_1), str(key_2)])
                assert first.retries + second.retries > 0  # the faults were met
                # The wrong SSE-C key for the encrypted source: refused by the store.
                try:
                    await c.copy(
                        f"{_scheme(dialect)}://dst-1250000000/enc1.bin",
                        f"{_scheme(dialect)}://dst-1250000000/enc3.bin",
                        source_sse_c=key_2,
                    )
                except PartcopyError as exc:
                    record_error(exc)
                else:
                    pytest.fail("a wrong SSE-C key must not copy")
            # Every request fails: the copy fails after its retries.
            emu.set_faults(["500:1.0@copy_part"])
            async with copier(retry=RetryPolicy(max_attempts=2, initial=0, cap=0)) as c:
                with pytest.raises(PartcopyError) as info:
                    await c.copy(
                        f"{_scheme(dialect)}://src-1250000000/plain.bin",
                        f"{_scheme(dialect)}://dst-1250000000/failed.bin",
                        part_size=5 * MiB,
                        destination_sse_c=key_2,
                    )
                record_error(info.value)
            emu.set_faults([])
            # A wrong secret key: the store refuses the signature.
            async with copier(secret=WRONG_SECRET) as c:
                with pytest.raises(PartcopyError) as info:
                    await c.copy(
                        f"{_scheme(dialect)}://src-1250000000/plain.bin",
                        f"{_scheme(dialect)}://dst-1250000000/bad-sig.bin",
                    )
                record_error(info.value)

    anyio.run(main)
    capture.assert_clean(factory.signatures)


@pytest.mark.parametrize(("src", "dst"), [("s3", "cos"), ("qingstor", "obs")])
def test_no_secret_leaks_through_a_relay_with_sse_c_on_both_sides(
    src: str, dst: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Ranged GETs streamed into UploadPart between two stores, with faults on both."""
    capture = Capture(caplog)
    factory = RecordingFactory()
    faults = [*FAULTS, "500:0.15@get,upload_part", "reset:0.1@get", "slowdown:0.2@upload_part"]
    key_1, key_2 = SSECustomerKey(KEY_1), SSECustomerKey(KEY_2)

    async def main() -> None:
        async with (
            Emulator(
                src,
                access_key=ACCESS_KEY,
                secret_key=SECRET_KEY,
                faults=faults,
                objects=[f"src-1250000000/plain.bin={12 * MiB}"],
                seed=4,
                sleep=instant,
            ) as one,
            Emulator(
                dst,
                access_key=ACCESS_KEY,
                secret_key=SECRET_KEY,
                faults=faults,
                seed=5,
                sleep=instant,
            ) as two,
        ):
            two.store.create_bucket("dst-1250000000")
            one.store.create_bucket("back-1250000000")
            async with Copier(
                endpoint_url=one.url,
                dst_endpoint_url=two.url,
                region=REGION,
                credentials=Credentials(ACCESS_KEY, SECRET_KEY),
                transport_factory=factory,
                retry=RETRY,
                sleep=no_sleep,
                seed=6,
                env={},
            ) as c:
                there = await c.copy(
                    f"{_scheme(src)}://src-1250000000/plain.bin",
                    f"{_scheme(dst)}://dst-1250000000/enc.bin",
                    part_size=5 * MiB,
                    destination_sse_c=key_1,
                )
                assert there.mode == "relay"
                capture.texts += [repr(there), json.dumps(there.as_dict())]
            # Back again: the encrypted object is now the (SSE-C) source of a relay.
            async with Copier(
                endpoint_url=two.url,
                dst_endpoint_url=one.url,
                region=REGION,
                credentials=Credentials(ACCESS_KEY, SECRET_KEY),
                transport_factory=factory,
                retry=RETRY,
                sleep=no_sleep,
                seed=7,
                env={},
            ) as c:
                back = await c.copy(
                    f"{_scheme(dst)}://dst-1250000000/enc.bin",
                    f"{_scheme(src)}://back-1250000000/enc2.bin",
                    part_size=5 * MiB,
                    source_sse_c=key_1,
                    destination_sse_c=key_2,
                )
                capture.texts += [repr(back), json.dumps(back.as_dict())]
                assert there.retries + back.retries > 0
                try:
                    await c.copy(
                        f"{_scheme(dst)}://dst-1250000000/enc.bin",
                        f"{_scheme(src)}://back-1250000000/enc3.bin",
                        source_sse_c=key_2,
                    )
                except PartcopyError as exc:
                    capture.error(exc)
                else:
                    pytest.fail("a wrong SSE-C key must not copy")

    anyio.run(main)
    capture.assert_clean(factory.signatures)


def _scheme(dialect: str) -> str:
    return "qs" if dialect == "qingstor" else dialect


def test_cli_json_and_debug_log_carry_no_secret() -> None:
    """The CLI in a subprocess, through retries and a failure: stdout and stderr are clean."""
    env = dict(
        os.environ,
        PARTCOPY_ACCESS_KEY_ID=ACCESS_KEY,
        PARTCOPY_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_ACCESS_KEY_ID="",
        AWS_SECRET_ACCESS_KEY="",
    )
    with EmulatorThread(
        dialect="s3",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        objects=[f"src-1250000000/plain.bin={30 * MiB}", "dst-1250000000/keep=0"],
        faults=["slowdown:0.3@copy_part", "error200:0.2@copy_part", "reset:0.1@copy_part"],
    ) as emu:
        base = [sys.executable, "-m", "partcopy", "cp", "--endpoint-url", emu.url]
        base += ["--region", REGION, "--json", "--log-level", "debug", "--part-size", "5MiB"]
        ok = subprocess.run(
            [
                *base,
                "s3://src-1250000000/plain.bin",
                "s3://dst-1250000000/ok.bin",
                "--max-attempts",
                "30",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        emu.call(lambda: emu.emulator.set_faults(["500:1.0@copy_part"]))
        failed = subprocess.run(
            [
                *base,
                "s3://src-1250000000/plain.bin",
                "s3://dst-1250000000/no.bin",
                "--max-attempts",
                "2",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        env_wrong = dict(env, PARTCOPY_SECRET_ACCESS_KEY=WRONG_SECRET)
        refused = subprocess.run(
            [*base, "s3://src-1250000000/plain.bin", "s3://dst-1250000000/sig.bin"],
            capture_output=True,
            text=True,
            env=env_wrong,
            timeout=120,
        )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout)["retries"] > 0
    assert failed.returncode == 1 and json.loads(failed.stdout)["status"] == "failed"
    assert refused.returncode == 1 and "403" in refused.stdout
    outputs = [ok.stdout, ok.stderr, failed.stdout, failed.stderr, refused.stdout, refused.stderr]
    secrets = {"secret key": SECRET_KEY, "wrong secret key": WRONG_SECRET}
    for text in outputs:
        assert_clean(text, secrets, "CLI output")
        assert "Signature=" not in text and "AWS4-HMAC-SHA256" not in text
        assert not re.search(r"\b[0-9a-f]{64}\b", text), "a SHA-256/HMAC-looking value"
