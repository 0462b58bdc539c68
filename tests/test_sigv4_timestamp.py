"""SigV4 timestamps: the cached parser agrees with strptime and refuses malformed stamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from partcopy.transports.signing import MalformedAuthorization
from partcopy.transports.signing.sigv4 import parse_timestamp, request_timestamp


def test_parse_timestamp_is_aware_utc_and_stable() -> None:
    when = parse_timestamp("20261122T113501Z")
    assert when == datetime(2026, 11, 22, 11, 35, 1, tzinfo=UTC)
    assert parse_timestamp("20261122T113501Z") is when  # the same second: one parse


@pytest.mark.parametrize("bad", ["", "2026-11-22T11:35:01Z", "20261322T113501Z", "x" * 16])
def test_malformed_stamps_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(bad)
    with pytest.raises(MalformedAuthorization):
        request_timestamp({"X-Amz-Date": bad})
