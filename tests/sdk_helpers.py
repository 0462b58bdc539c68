"""What the vendors' SDK tests share: the emulator's view of the requests an SDK sent, and
the store's bytes and uploads read directly (never through the SDK under test)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from partcopy.emulator import EmulatorThread
from partcopy.emulator.auth import SignedRequest
from partcopy.transports.signing.common import get_header


@dataclass(frozen=True)
class Seen:
    """One request as the emulator received it: the signature scheme and the Host header."""

    scheme: str
    host: str


def record_requests(emu: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> list[Seen]:
    """Record every signed request the emulator checks from now on (the test's end undoes it).

    Only the scheme word of the Authorization is kept ("OBS", "AWS", "QS",
    "q-sign-algorithm=sha1"), never a signature.
    """
    seen: list[Seen] = []
    verify = emu.emulator._verify  # the emulator's own check, still applied to every request

    def spy(req: SignedRequest) -> None:
        auth = get_header(req.headers, "Authorization") or ""
        seen.append(
            Seen(auth.split(" ", 1)[0].split("&", 1)[0], get_header(req.headers, "Host") or "")
        )
        verify(req)

    monkeypatch.setattr(emu.emulator, "_verify", spy)
    return seen


def stored_bytes(emu: EmulatorThread, bucket: str, key: str) -> bytes:
    """The current bytes of ``bucket/key`` in the emulator's store."""
    content = emu.call(lambda: emu.emulator.store.get(bucket, key).content)
    assert content is not None
    return content.read()


def stored_etag(emu: EmulatorThread, bucket: str, key: str) -> str:
    """The ETag (unquoted) the store holds for ``bucket/key``."""
    return emu.call(lambda: emu.emulator.store.get(bucket, key).etag).strip('"')


def overwrite(emu: EmulatorThread, bucket: str, key: str, data: bytes) -> None:
    """Replace ``bucket/key`` behind the client's back (the source changes mid-copy)."""
    emu.call(lambda: emu.emulator.store.put_object(bucket, key, data))


def open_uploads(emu: EmulatorThread) -> int:
    """Multipart uploads the store still holds open."""
    return emu.call(emu.emulator.store.open_uploads)
