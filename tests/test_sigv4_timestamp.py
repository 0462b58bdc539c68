"""SigV4 timestamps: the cached parser agrees with strptime and refuses malformed stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from partcopy.transports.signing import Credentials, MalformedAuthorization
from partcopy.transports.signing.sigv4 import parse_timestamp, request_timestamp, sign


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


def _signed_at(now: datetime) -> str:
    added = sign(
        method="GET",
        path="/b/k",
        query=[],
        headers={"Host": "h"},
        credentials=Credentials("AK", "SK"),
        now=now,
        region="us-east-1",
    )
    return added["X-Amz-Date"]


def test_the_stamp_follows_the_clock_whatever_it_formatted_last() -> None:
    """The stamp of the last second is reused only within that second (of UTC)."""
    east = timezone(timedelta(hours=2))
    late = datetime(2026, 11, 22, 11, 35, 1, 999999, tzinfo=UTC)
    cases = [
        (late.replace(microsecond=0), "20261122T113501Z"),
        (late, "20261122T113501Z"),
        (late + timedelta(microseconds=1), "20261122T113502Z"),  # the next second
        (late, "20261122T113501Z"),  # a clock that went back
        (late.astimezone(east), "20261122T113501Z"),  # another zone, the same instant
        (datetime(2026, 11, 22, 13, 35, 2, tzinfo=east), "20261122T113502Z"),
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "19991231T235959Z"),
    ]
    for now, stamp in cases:
        assert _signed_at(now) == stamp


def test_a_naive_signing_time_is_refused() -> None:
    _signed_at(datetime(2026, 11, 22, 11, 35, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        _signed_at(datetime(2026, 11, 22, 11, 35, 1, 500))
