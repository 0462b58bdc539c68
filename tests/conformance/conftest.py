"""Parametrises the conformance suite over every registered transport factory."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conformance_registry import FACTORIES, FIXTURES, Harness

for _path in sorted(Path(__file__).parent.glob("factory_*.py")):
    importlib.import_module(_path.stem)


@pytest.fixture(params=sorted(FACTORIES))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    needs = {name: request.getfixturevalue(name) for name in FIXTURES[request.param]}
    async with FACTORIES[request.param](**needs) as made:
        yield made
