"""Aborts that must happen, and reports that must say whether they did (issue 15, item 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import IO, Any

import anyio
import anyio.lowlevel
import pytest

from cred_servers import FakeClock
from partcopy import Copier
from partcopy.emulator import EmulatorThread
from partcopy.engine.events import Aborting, Event, Failed, PartCompleted
from partcopy.engine.retry import RetryPolicy
from partcopy.errors import AbortFailed, ConnectError, CopyError, PartFailed
from partcopy.store.memory import MemoryStore
from partcopy.transports.credentials import (
    CredentialRefreshError,
    RefreshingCredentials,
    TimedCredentials,
)
from partcopy.transports.faults import Fault, FaultyTransport
from partcopy.transports.memory import MemoryTransport
from partcopy.transports.signing.common import Credentials
from partcopy.units import MiB

SRC = "s3://src-bkt/obj"
DST = "s3://dst-bkt/obj"


def new_store(size: int = 40 * MiB) -> MemoryStore:
    store = MemoryStore(seed=1)
    store.create_bucket("src-bkt")
    store.create_bucket("dst-bkt")
    store.put_virtual("src-bkt", "obj", size)
    return store


async def no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


async def long_sleeps_never_end(seconds: float) -> None:
    """Short backoffs pass at once; a long wait (a Retry-After pause) never ends."""
    if seconds > 5:
        await anyio.sleep_forever()
    await anyio.lowlevel.checkpoint()


def test_a_huge_retry_after_on_parts_does_not_hold_back_the_abort() -> None:
    store = new_store()
    faults = [Fault("429", 1.0, arg=100000.0)]
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def main() -> None:
        async with Copier(
            transport=transport,
            sleep=long_sleeps_never_end,
            retry=RetryPolicy(max_attempts=1),
            seed=3,
        ) as c:
            with anyio.fail_after(10):  # a guard only: the abort used to wait out the pause
                await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(PartFailed):
        anyio.run(main)
    assert store.open_uploads() == 0


def test_a_lost_create_answer_leaves_no_second_upload() -> None:
    store = new_store()
    # The first CreateMultipartUpload happens, then its answer is lost; the retry makes a
    # second upload. The first must not be left open.
    faults = [Fault("reset", 1.0, ops=frozenset({"create_multipart"}), limit=1)]
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def main() -> None:
        async with Copier(transport=transport, sleep=no_sleep, seed=3) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    anyio.run(main)
    assert store.open_uploads() == 0
    assert store.get("dst-bkt", "obj").size == 40 * MiB


def test_an_interrupted_copy_whose_abort_fails_names_the_open_upload() -> None:
    store = new_store(200 * MiB)
    faults = [Fault("500", 1.0, ops=frozenset({"abort"}))]
    transport = FaultyTransport(MemoryTransport(store), faults)
    seen: list[Event] = []
    scopes: list[anyio.CancelScope] = []

    def on_event(event: Event) -> None:
        seen.append(event)
        if sum(isinstance(e, PartCompleted) for e in seen) == 3:
            scopes[0].cancel()

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with Copier(
                transport=transport,
                sleep=no_sleep,
                retry=RetryPolicy(max_attempts=2, initial=0.0),
                seed=3,
                concurrency=2,
                on_event=on_event,
            ) as c:
                await c.copy(SRC, DST, part_size="5MiB")

    anyio.run(main)
    (failed,) = [e for e in seen if isinstance(e, Failed)]
    uploads, _ = store.list_uploads("dst-bkt")
    assert [u.upload_id for u in uploads] == [failed.upload_id]
    assert failed.error_type == "Cancelled" and "left open" in failed.message


def test_an_interrupted_copy_whose_abort_succeeds_says_so() -> None:
    store = new_store(200 * MiB)
    seen: list[Event] = []
    scopes: list[anyio.CancelScope] = []

    def on_event(event: Event) -> None:
        seen.append(event)
        if sum(isinstance(e, PartCompleted) for e in seen) == 3:
            scopes[0].cancel()

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            kwargs: dict[str, Any] = {"sleep": no_sleep, "seed": 3, "concurrency": 2}
            async with Copier(transport=MemoryTransport(store), on_event=on_event, **kwargs) as c:
                await c.copy(SRC, DST, part_size="5MiB")

    anyio.run(main)
    (failed,) = [e for e in seen if isinstance(e, Failed)]
    assert failed.upload_id is None and "was aborted" in failed.message
    assert store.open_uploads() == 0


# --- the CLI's report of an interrupt (a real process, a real signal) ----------------------

CTRL_C_ENTRY = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'partcopy'; from partcopy.cli import main; sys.exit(main())"
)


@pytest.mark.slow
def test_ctrl_c_while_the_abort_is_refused_says_the_upload_is_open() -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
    from partcopy.emulator.thread import EmulatorThread

    env = {
        **os.environ,
        "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
    }
    with EmulatorThread(
        dialect="s3", latency_ms=20, objects=["src/big=1GiB"], faults=["500:1@abort"]
    ) as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))
        args = ["cp", "s3://src/big", "s3://dst/big", "--endpoint-url", emu.url]
        args += ["--part-size", "8MiB", "--concurrency", "4", "--max-attempts", "2", "--json"]
        proc = subprocess.Popen(
            [sys.executable, "-c", CTRL_C_ENTRY, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        while emu.call(lambda: emu.emulator.stats().parts_copied) < 8:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        (upload,) = emu.call(lambda: emu.emulator.store.list_uploads("dst")[0])
    assert proc.returncode == 130, err
    summary = json.loads(out)
    assert summary["error"]["upload_id"] == upload.upload_id
    assert (summary["mode"], summary["parts"]) == ("copy", 128)
    assert "left open" in err.decode() and "was aborted" not in err.decode()


@pytest.mark.parametrize(
    ("lost", "left_open"),
    [({"create_multipart", "list_uploads"}, 2), ({"create_multipart"}, 0)],
    ids=["strays-unlisted", "strays-aborted"],
)
def test_a_lost_create_says_whether_an_upload_may_be_left_open(
    lost: set[str], left_open: int
) -> None:
    """Every CreateMultipartUpload happens and its answer is lost. When the uploads it made
    can be listed they are aborted and nothing is said of them; when they cannot, the
    error says one may be left open and where to look."""
    store = new_store()
    faults = [Fault("reset", 1.0, ops=frozenset(lost))]
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def main() -> None:
        async with Copier(
            transport=transport, sleep=no_sleep, retry=RetryPolicy(max_attempts=2), seed=3
        ) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(CopyError, match="could not start the upload") as info:
        anyio.run(main)
    assert store.open_uploads() == left_open  # one per attempt, unless found and aborted
    hint = f"may be left open (partcopy uploads list {DST} shows it)"
    assert (hint in str(info.value)) is bool(left_open)


@pytest.mark.parametrize("attempts", [1, 3])
def test_a_complete_whose_answer_is_lost_is_proven_by_the_destination(attempts: int) -> None:
    """Complete happens, its answer is reset every time (later attempts find no upload):
    the destination carries the size and the composite ETag of the verified parts, so the
    copy is completed, not reported failed over an object that is there."""
    store = new_store()
    faults = [Fault("reset", 1.0, ops=frozenset({"complete"}))]
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def main() -> str:
        retry = RetryPolicy(max_attempts=attempts)
        async with Copier(transport=transport, sleep=no_sleep, retry=retry, seed=3) as c:
            result = await c.copy(SRC, DST, part_size="5MiB")
            return result.etag

    etag = anyio.run(main)
    stored = store.get("dst-bkt", "obj")
    assert stored.size == 40 * MiB and etag.strip('"') == stored.etag.strip('"')
    assert etag.strip('"').endswith("-8")
    assert store.open_uploads() == 0


def test_a_complete_that_keeps_failing_is_named_not_the_read_back_that_checked_it() -> None:
    """Complete answers 500 every time and the destination was never written: the error is
    the Complete's, not the 404 of the HEAD that looked for a lost Complete's object."""
    store = new_store()
    faults = [Fault("500", 1.0, ops=frozenset({"complete"}))]
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def main() -> None:
        retry = RetryPolicy(max_attempts=2)
        async with Copier(transport=transport, sleep=no_sleep, retry=retry, seed=3) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(CopyError) as failed:
        anyio.run(main)
    message = str(failed.value)
    assert message.startswith("could not complete the upload: complete: HTTP 500 InternalError")
    assert message.endswith("; the destination was checked: it does not exist")
    assert "HEAD" not in message and type(failed.value) is CopyError
    assert store.open_uploads() == 0  # aborted


def test_a_lost_complete_over_another_object_is_still_a_failure() -> None:
    """The upload vanished without completing (here: aborted behind the copy's back), and
    the destination holds an older object of the same size: not this copy."""
    store = new_store()
    store.put_virtual("dst-bkt", "obj", 40 * MiB)  # same size, a plain (non-multipart) ETag

    class Vanishing(MemoryTransport):
        async def complete(self, bucket: str, key: str, upload_id: str, *a: Any, **k: Any) -> Any:
            store.abort(bucket, key, upload_id)
            raise ConnectError("complete: connection reset", operation="complete")

    async def main() -> None:
        retry = RetryPolicy(max_attempts=1)
        async with Copier(transport=Vanishing(store), sleep=no_sleep, retry=retry) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(CopyError, match="could not complete the upload"):
        anyio.run(main)


def test_an_abort_is_announced_before_it_is_sent() -> None:
    """``Aborting`` names the upload and the destination before the abort request, for an
    interrupt (``cancelled``) and for a failure alike; ``Failed`` follows."""
    store = new_store(200 * MiB)
    seen: list[Event] = []
    scopes: list[anyio.CancelScope] = []
    aborts_before: list[int] = []

    class Counting(MemoryTransport):
        async def abort(self, bucket: str, key: str, upload_id: str) -> None:
            aborts_before.append(len(seen))
            await super().abort(bucket, key, upload_id)

    def on_event(event: Event) -> None:
        seen.append(event)
        if sum(isinstance(e, PartCompleted) for e in seen) == 3 and scopes:
            scopes.pop().cancel()

    async def interrupted() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with Copier(
                transport=Counting(store), on_event=on_event, sleep=no_sleep, concurrency=2
            ) as c:
                await c.copy(SRC, DST, part_size="5MiB")

    anyio.run(interrupted)
    aborting = [e for e in seen if isinstance(e, Aborting)]
    assert len(aborting) == 1 and aborting[0].cancelled and aborting[0].timeout == 60.0
    (failed,) = [e for e in seen if isinstance(e, Failed)]
    assert (aborting[0].destination, aborting[0].job_id) == (DST, failed.job_id)
    assert aborting[0].upload_id in failed.message and "was aborted" in failed.message
    (before,) = aborts_before
    assert isinstance(seen[before - 1], Aborting)  # the last event before the request
    assert seen.index(aborting[0]) < seen.index(failed)

    seen.clear()
    faults = [Fault("500", 1.0)]  # every part copy
    transport = FaultyTransport(MemoryTransport(store), faults)

    async def failing() -> None:
        retry = RetryPolicy(max_attempts=1)
        async with Copier(transport=transport, on_event=seen.append, retry=retry) as c:
            await c.copy(SRC, DST, part_size="5MiB")

    with pytest.raises(CopyError):
        anyio.run(failing)
    (aborting_after_failure,) = [e for e in seen if isinstance(e, Aborting)]
    assert not aborting_after_failure.cancelled and aborting_after_failure.destination == DST
    assert store.open_uploads() == 0


def _read_until(stream: IO[bytes], needle: bytes, deadline: float) -> bytes:
    """What ``stream`` gave up to and including ``needle``; fails (with what came) when the
    process ends or ``deadline`` seconds pass first. A guard, not a measurement."""
    import os
    import select
    import time

    data = b""
    end = time.monotonic() + deadline
    while needle not in data:
        left = end - time.monotonic()
        assert left > 0, f"not said within {deadline}s: {data!r}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"the process ended without saying it: {data!r}"
            data += chunk
    return data


def test_ctrl_c_says_at_once_that_it_aborts_the_upload_and_a_second_leaves_it_open() -> None:
    """Parts and the abort stall (120 s, past the 60 s cleanup bound): the first Ctrl-C is
    answered on stderr at once, naming the upload and the destination, while the abort
    still waits; a second Ctrl-C ends the wait and says the upload may be left open."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
    from partcopy.emulator.thread import EmulatorThread

    env = {
        **os.environ,
        "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
    }
    stalls = ["delay:1.0:120s@copy_part", "delay:1.0:120s@abort"]
    with EmulatorThread(dialect="s3", objects=["src/big=64MiB"], faults=stalls) as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))

        def ops(name: str) -> int:
            return emu.call(lambda: emu.emulator.stats().ops.get(name, 0))

        args = ["cp", "s3://src/big", "s3://dst/big", "--endpoint-url", emu.url]
        args += ["--part-size", "8MiB", "--concurrency", "4", "--json"]
        proc = subprocess.Popen(
            [sys.executable, "-c", CTRL_C_ENTRY, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert proc.stderr is not None
            while ops("copy_part") == 0:  # the upload exists, its parts hang
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.005)
            proc.send_signal(signal.SIGINT)
            said = _read_until(proc.stderr, b"leaves it open\n", deadline=30)
            while ops("abort") == 0:  # announced before it is sent: now it is pending
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.005)
            assert proc.poll() is None  # still waiting for the abort's answer
            proc.send_signal(signal.SIGINT)
            out, rest = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        (upload,) = emu.call(lambda: emu.emulator.store.list_uploads("dst")[0])
    first = said.decode()
    assert first == (
        f"partcopy: interrupted; aborting the upload {upload.upload_id} of s3://dst/big "
        "(waiting up to 60s for the store); Ctrl-C again stops waiting and leaves it open\n"
    )
    assert proc.returncode == 130, rest
    error = json.loads(out)["error"]
    assert error["upload_id"] == upload.upload_id
    last = rest.decode().splitlines()[-1]
    assert last == (
        f"partcopy: interrupted; the abort of the upload {upload.upload_id} of s3://dst/big "
        "was cut short: it may be left open (partcopy uploads list s3://dst/big shows it)"
    )


RUNS = {
    "bulk": ["bulk", "{manifest}", "--workers", "1"],
    "cp-recursive": ["cp", "--recursive", "s3://src/d/", "s3://dst/d/", "--workers", "1"],
    "sync": ["sync", "s3://src/d/", "s3://dst/d/", "--workers", "1"],
}


@pytest.mark.parametrize("command", list(RUNS))
def test_ctrl_c_in_a_run_of_many_says_once_that_it_aborts_the_open_uploads(
    command: str, tmp_path: Any
) -> None:
    """Three objects in flight, their parts stalled: the first Ctrl-C is answered at once,
    in one line for the run (not one per object), while the three aborts are sent; the
    last line says what they left."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
    from partcopy.emulator.thread import EmulatorThread

    env = {
        **os.environ,
        "PARTCOPY_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "PARTCOPY_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
    }
    keys = ["d/a", "d/b", "d/c"]
    objects = [f"src/{key}=24MiB" for key in keys]
    with EmulatorThread(dialect="s3", objects=objects, faults=["delay:1.0:120s@copy_part"]) as emu:
        emu.call(lambda: emu.emulator.store.create_bucket("dst"))

        def ops(name: str) -> int:
            return emu.call(lambda: emu.emulator.stats().ops.get(name, 0))

        manifest = tmp_path / "m.jsonl"
        manifest.write_text(
            "".join(
                json.dumps({"src": f"s3://src/{k}", "dst": f"s3://dst/{k}"}) + "\n" for k in keys
            )
        )
        args = [a.format(manifest=manifest) for a in RUNS[command]]
        args += ["--endpoint-url", emu.url, "--part-size", "8MiB", "--concurrency", "4"]
        proc = subprocess.Popen(
            [sys.executable, "-c", CTRL_C_ENTRY, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert proc.stderr is not None
            while ops("create") < len(keys) or ops("copy_part") < len(keys):
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.005)
            proc.send_signal(signal.SIGINT)
            said = _read_until(proc.stderr, b"leaves them open\n", deadline=30)
            _, rest = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        left = emu.call(lambda: emu.emulator.store.open_uploads())
        aborts = ops("abort")
    # one read may have taken the lines after the notice too: they belong to the rest
    notice, mark, after = said.decode().partition("leaves them open\n")
    assert (notice + mark).splitlines() == [
        "partcopy: interrupted; aborting the open uploads of this run (each waits up to 60s "
        "for the store); Ctrl-C again stops waiting and leaves them open"
    ]
    assert proc.returncode == 130, rest
    assert (left, aborts) == (0, len(keys))
    tail = after + rest.decode()
    assert "aborting" not in tail  # once per run
    assert tail.splitlines()[-1] == f"partcopy: interrupted; {len(keys)} open upload(s) aborted"


def test_credentials_lost_mid_copy_are_named_once_when_the_abort_fails_too(
    emulator_thread: Callable[..., EmulatorThread],
) -> None:
    """The keys expire mid-copy and cannot be renewed: the part fails, and so does the
    abort, for the same reason; the message says it once and names the upload left."""
    emu = emulator_thread(dialect="s3", objects=["src/big.bin=20MiB", "dst/keep=0"])
    clock = FakeClock()
    fetched: list[int] = []

    def fetch() -> TimedCredentials:
        fetched.append(1)
        if len(fetched) > 1:
            raise CredentialRefreshError("could not get credentials from the vault: gone")
        keys = Credentials("partcopy", "partcopy-secret")
        return TimedCredentials(keys, clock() + timedelta(hours=1))

    provider = RefreshingCredentials(fetch, source="the vault", identity="vault", clock=clock)

    def on_event(event: Event) -> None:
        if isinstance(event, PartCompleted):
            clock.advance(timedelta(hours=2))  # expired, and the vault is gone

    async def main() -> None:
        async with Copier(
            endpoint_url=emu.url, credentials=provider, concurrency=1, on_event=on_event,
            sleep=no_sleep, retry=RetryPolicy(max_attempts=2), hedge=None,
        ) as c:  # fmt: skip
            await c.copy("s3://src/big.bin", "s3://dst/big.bin", part_size="5MiB")

    with pytest.raises(AbortFailed) as failed:
        anyio.run(main)
    message, upload_id = str(failed.value), failed.value.upload_id
    assert upload_id is not None and message.count("could not get credentials") == 1
    assert message == (
        "part 2 failed after 2 attempt(s): could not get credentials from the vault: gone; "
        f"the upload {upload_id} could not be aborted for the same reason"
    )
