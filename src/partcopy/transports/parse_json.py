"""QingStor's JSON bodies: errors, initiate, list parts, list uploads, the complete body.

Same contract as :mod:`partcopy.transports.parse`: nothing but ``ProtocolError`` escapes,
and ``error_body`` / ``json_verdict`` never raise for a merely bad body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from partcopy.errors import ProtocolError
from partcopy.transports.base import (
    BucketInfo,
    BucketsPage,
    ListedObject,
    ObjectsPage,
    PartInfo,
    PartsPage,
    UploadInfo,
    UploadsPage,
)
from partcopy.transports.parse import parse_time
from partcopy.transports.verdict import BodyVerdict, ErrorBody

__all__ = [
    "build_complete_json",
    "json_error",
    "json_verdict",
    "parse_initiate_json",
    "parse_list_buckets_json",
    "parse_list_objects_json",
    "parse_list_parts_json",
    "parse_list_uploads_json",
]


class _Bad(Exception):
    """Internal: the bytes are not a JSON object."""


def _load(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _Bad(f"malformed JSON ({type(exc).__name__})") from exc
    if not isinstance(value, dict):
        raise _Bad(f"expected a JSON object, got {type(value).__name__}")
    return value


def _strict(body: bytes, what: str) -> dict[str, Any]:
    if not body.strip():
        raise ProtocolError(f"{what}: empty body")
    try:
        return _load(body)
    except _Bad as exc:
        raise ProtocolError(f"{what}: {exc}") from exc


def _str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    return None


def _error_of(doc: dict[str, Any]) -> ErrorBody | None:
    code = _str(doc, "code")
    if code is None:
        return None
    return ErrorBody(code, _str(doc, "message"), _str(doc, "request_id"), _str(doc, "url"))


def json_error(body: bytes) -> ErrorBody | None:
    """QingStor's ``{code, message, request_id, url}``; None when the body is not one."""
    if not body.strip():
        return None
    try:
        return _error_of(_load(body))
    except _Bad:
        return None


def json_verdict(etag_header: str | None, body: bytes, root: str = "") -> BodyVerdict:
    """Judge a 2xx answer to a copy part, copy or complete: the ETag header proves it
    (``root`` names the XML dialects' result document; QingStor has none)."""
    error: ErrorBody | None = None
    if body.strip():
        try:
            error = _error_of(_load(body))
        except _Bad as exc:
            return BodyVerdict(None, detail=f"unexpected body: {exc}")
    if error is not None:
        return BodyVerdict(None, error=error, detail="error document in a 2xx")
    if not etag_header:
        return BodyVerdict(None, detail="no ETag header")
    return BodyVerdict(etag_header)


def parse_initiate_json(body: bytes) -> str:
    """The ``upload_id`` of an initiate answer."""
    upload_id = _str(_strict(body, "InitiateMultipartUpload"), "upload_id")
    if not upload_id:
        raise ProtocolError("InitiateMultipartUpload: no upload_id")
    return upload_id


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{what}: expected an integer, got {type(value).__name__}")
    return value


def parse_list_parts_json(body: bytes, limit: int) -> PartsPage:
    """One page of ListMultipart. Without ``has_more``, a full page is taken as truncated."""
    what = "ListMultipart"
    doc = _strict(body, what)
    raw_parts = doc.get("object_parts") or []
    if not isinstance(raw_parts, list):
        raise ProtocolError(f"{what}: object_parts is not a list")
    parts = []
    for item in raw_parts:
        if not isinstance(item, dict):
            raise ProtocolError(f"{what}: a part is not an object")
        etag = _str(item, "etag")
        if not etag:
            raise ProtocolError(f"{what}: a part has no etag")
        parts.append(
            PartInfo(
                _int(item.get("part_number"), what),
                etag,
                _int(item.get("size"), what),
                parse_time(_str(item, "created")),
            )
        )
    has_more = doc.get("has_more")
    truncated = bool(has_more) if isinstance(has_more, bool) else len(parts) >= limit > 0
    marker = parts[-1].part_number if truncated and parts else None
    return PartsPage(tuple(parts), truncated and marker is not None, marker)


def parse_list_uploads_json(body: bytes, bucket: str) -> UploadsPage:
    """One page of ListMultipartUploads."""
    what = "ListMultipartUploads"
    doc = _strict(body, what)
    raw = doc.get("uploads") or []
    if not isinstance(raw, list):
        raise ProtocolError(f"{what}: uploads is not a list")
    uploads = []
    for item in raw:
        if not isinstance(item, dict):
            raise ProtocolError(f"{what}: an upload is not an object")
        key, upload_id = _str(item, "key"), _str(item, "upload_id")
        if key is None or not upload_id:
            raise ProtocolError(f"{what}: an upload lacks key or upload_id")
        uploads.append(UploadInfo(bucket, key, upload_id, parse_time(_str(item, "created"))))
    return UploadsPage(
        tuple(uploads),
        doc.get("has_more") is True,
        _str(doc, "next_key_marker") or None,
        _str(doc, "next_upload_id_marker") or None,
    )


def _modified(item: dict[str, Any]) -> datetime | None:
    value = item.get("modified")
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return parse_time(_str(item, "modified") or _str(item, "created"))


def parse_list_objects_json(body: bytes) -> ObjectsPage:
    """One page of QingStor's GET Bucket: ``keys``, ``common_prefixes``, ``has_more``.

    The next marker is ``next_marker``, else the page's last key or prefix.
    """
    what = "ListObjects"
    doc = _strict(body, what)
    raw_keys = doc.get("keys") or []
    raw_prefixes = doc.get("common_prefixes") or []
    if not isinstance(raw_keys, list) or not isinstance(raw_prefixes, list):
        raise ProtocolError(f"{what}: keys or common_prefixes is not a list")
    objects = []
    for item in raw_keys:
        if not isinstance(item, dict):
            raise ProtocolError(f"{what}: a key is not an object")
        key = _str(item, "key")
        if not key:
            raise ProtocolError(f"{what}: an entry has no key")
        size = _int(item.get("size"), what)
        objects.append(
            ListedObject(
                key, size, _str(item, "etag"), _modified(item), _str(item, "storage_class")
            )
        )
    prefixes = tuple(p for p in raw_prefixes if isinstance(p, str) and p)
    truncated = doc.get("has_more") is True
    token: str | None = None
    if truncated:
        token = _str(doc, "next_marker") or None
        if token is None:
            last = [objects[-1].key] if objects else []
            token = max(last + list(prefixes[-1:]), default=None)
    return ObjectsPage(tuple(objects), prefixes, truncated, token)


def parse_list_buckets_json(body: bytes, token: str | None = None) -> BucketsPage:
    """One page of QingStor's GET Service: ``{"count", "buckets": [{name, location,
    created}]}``, paged by ``offset``: ``token`` is the offset this page was asked from,
    and the next is past its buckets while that is short of ``count``."""
    what = "ListBuckets"
    doc = _strict(body, what)
    raw = doc.get("buckets") or []
    if not isinstance(raw, list):
        raise ProtocolError(f"{what}: buckets is not a list")
    buckets = []
    for item in raw:
        if not isinstance(item, dict):
            raise ProtocolError(f"{what}: a bucket is not an object")
        name = _str(item, "name")
        if not name:
            raise ProtocolError(f"{what}: a bucket has no name")
        buckets.append(
            BucketInfo(name, parse_time(_str(item, "created")), _str(item, "location") or None)
        )
    count = doc.get("count")
    offset = int(token) if token and token.isdigit() else 0
    seen = offset + len(buckets)
    more = isinstance(count, int) and not isinstance(count, bool) and bool(buckets) and seen < count
    return BucketsPage(tuple(buckets), str(seen) if more else None)


def build_complete_json(parts: Sequence[tuple[int, str]]) -> bytes:
    """The complete body: ``{"object_parts": [{"part_number": n, "etag": e}, ...]}``."""
    return json.dumps(
        {"object_parts": [{"part_number": n, "etag": etag} for n, etag in parts]},
        separators=(",", ":"),
    ).encode()
