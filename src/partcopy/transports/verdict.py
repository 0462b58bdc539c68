"""What a parser makes of a body: shared by the XML (S3, OBS, COS) and JSON (QingStor) parsers.

A parser turns bytes into these plain values and never raises anything but
``ProtocolError``; the dialect-independent HTTP core turns them into the protocol's
dataclasses and errors.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BodyVerdict", "ErrorBody"]


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """The fields of a service error document (XML ``<Error>`` or QingStor's JSON)."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class BodyVerdict:
    """What a 2xx answer to a copy or complete says: an ETag, or why there is none.

    ``etag`` is None when the body proves nothing; then ``detail`` says why in words and
    ``error`` holds the error document when the body was one.
    """

    etag: str | None
    version_id: str | None = None
    error: ErrorBody | None = None
    detail: str | None = None
    checksum: str | None = None
    """A flexible checksum the body named (``<ChecksumCRC64NVME>``), in wire form."""
