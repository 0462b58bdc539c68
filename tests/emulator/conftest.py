"""The emulator conformance run: the same boto3 cases against the emulator and moto's
server, so the two test doubles are compared on each (a skip names moto's gap)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from doubles import SECOND_USER, Target, make_client

from net_helpers import moto_server
from partcopy.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, EmulatorThread


@pytest.fixture(scope="session")
def emulator_service() -> Iterator[EmulatorThread]:
    emu = EmulatorThread(dialect="s3", users=[SECOND_USER]).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def moto_service() -> Iterator[str]:
    with moto_server() as url:
        yield url


_clients: dict[str, Any] = {}


@pytest.fixture(params=["emulator", "moto"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "emulator":
        emu: EmulatorThread = request.getfixturevalue("emulator_service")
        if emu.url not in _clients:
            _clients[emu.url] = make_client(emu.url, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
        return Target("emulator", emu.url, _clients[emu.url], emu)
    url = request.getfixturevalue("moto_service")
    if url not in _clients:
        _clients[url] = make_client(url, "AKIDMOTO", "moto-secret")
    return Target("moto", url, _clients[url])


@pytest.fixture
def emulator_client(emulator_service: EmulatorThread) -> Callable[..., Any]:
    """``emulator_client(user=(ak, sk))``: a boto3 client on the session's emulator."""

    def make(user: tuple[str, str] = (DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)) -> Any:
        return make_client(emulator_service.url, *user)

    return make
