"""The SeaweedFS fixture itself: loopback only, signatures checked."""

from __future__ import annotations

import psutil
import pytest
from botocore.exceptions import ClientError

from realstore.seaweedfs import SeaweedFS, s3_client


def test_every_socket_is_on_loopback(seaweedfs: SeaweedFS) -> None:
    s3_client(seaweedfs.url).list_buckets()  # some traffic between the components first
    inet = [c for c in psutil.Process(seaweedfs.pid).net_connections("inet")]
    listening = {c.laddr.port for c in inet if c.status == psutil.CONN_LISTEN}
    assert set(seaweedfs.ports.__dict__.values()) <= listening
    assert {c.laddr.ip for c in inet} == {"127.0.0.1"}
    assert {c.raddr.ip for c in inet if c.raddr} <= {"127.0.0.1"}


def test_a_wrong_secret_is_refused(seaweedfs: SeaweedFS) -> None:
    with pytest.raises(ClientError) as exc:
        s3_client(seaweedfs.url, secret_key="not-the-secret").list_buckets()
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
