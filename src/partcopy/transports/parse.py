"""XML bodies of the S3 family (S3, OBS, COS): parsed with defusedxml, namespace-blind.

Every function takes the raw body and raises nothing but ``ProtocolError``. Documents with
a DTD or entity declarations are hostile and always raise. ``copy_verdict`` never raises
for a merely bad body: an empty, truncated, error-bodied or ETag-less answer to a copy or
complete is a fact for the engine's verifier, not an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import quote, unquote_plus, urlencode
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as SafeET

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
from partcopy.transports.verdict import BodyVerdict, ErrorBody

__all__ = [
    "COPY_ROOTS",
    "build_complete",
    "copy_verdict",
    "parse_error",
    "parse_initiate",
    "parse_list_buckets",
    "parse_list_objects",
    "parse_list_parts",
    "parse_list_uploads",
    "parse_tagging",
    "parse_time",
]


class _Malformed(Exception):
    """Internal: the bytes are not well-formed XML (as opposed to hostile XML)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _root(body: bytes) -> Element:
    """Parse ``body``; hostile XML raises ProtocolError, malformed XML ``_Malformed``."""
    try:
        # S3 may pad a slow answer with whitespace before the document: not an error.
        root: Element = SafeET.fromstring(body.lstrip(), forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise ProtocolError(f"hostile XML refused ({type(exc).__name__})") from exc
    except (ParseError, ValueError, LookupError) as exc:  # LookupError: unknown encoding
        raise _Malformed(str(exc)) from exc
    return root


def _strict_root(body: bytes, what: str) -> Element:
    if not body.strip():
        raise ProtocolError(f"{what}: empty body")
    try:
        return _root(body)
    except _Malformed as exc:
        raise ProtocolError(f"{what}: malformed XML ({exc})") from exc


def _refuse_error_root(root: Element, what: str) -> None:
    # Root names vary (moto answers <ListPartsResponse>); an <Error> in a 2xx never fits.
    if _local(root.tag) == "Error":
        code = _text(root, "Code") or "no code"
        raise ProtocolError(f"{what}: error document ({code}) in a 2xx answer")


def _refuse_non_list_root(root: Element, what: str) -> None:
    # An HTML error page or any other document must not read as "an empty listing".
    if not _local(root.tag).startswith("List"):
        raise ProtocolError(f"{what}: unexpected document <{_local(root.tag)[:40]}>")


def _child(elem: Element, name: str) -> Element | None:
    for sub in elem:
        if _local(sub.tag) == name:
            return sub
    return None


def _children(elem: Element, name: str) -> list[Element]:
    return [sub for sub in elem if _local(sub.tag) == name]


def _text(elem: Element, name: str) -> str | None:
    sub = _child(elem, name)
    if sub is None:
        return None
    return (sub.text or "").strip()


def _int(elem: Element, name: str, what: str) -> int:
    raw = _text(elem, name)
    try:
        return int(raw) if raw is not None else -1
    except ValueError:
        raise ProtocolError(f"{what}: {name} is not an integer: {(raw or '')[:40]!r}") from None


def _bool(elem: Element, name: str) -> bool:
    return (_text(elem, name) or "").lower() == "true"


def parse_time(raw: str | None) -> datetime | None:
    """An ISO 8601 time as the S3 family writes it; None when absent or unreadable."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        return None


def _error_fields(root: Element) -> ErrorBody:
    return ErrorBody(
        code=_text(root, "Code") or None,
        message=_text(root, "Message") or None,
        request_id=_text(root, "RequestId") or None,
        resource=_text(root, "Resource") or None,
    )


def parse_error(body: bytes) -> ErrorBody | None:
    """The ``<Error>`` document in ``body``; None when the body is empty or not one.

    Only bodies that claim to be XML are parsed: a proxy's HTML page (``<!DOCTYPE html>``)
    is no error document, but a hostile XML document still raises ``ProtocolError``.
    """
    if not body.lstrip().startswith((b"<?xml", b"<Error")):
        return None
    try:
        root = _root(body)
    except _Malformed:
        return None
    if _local(root.tag) != "Error":
        return None
    return _error_fields(root)


COPY_ROOTS = frozenset({"CopyPartResult", "CopyObjectResult", "CompleteMultipartUploadResult"})
"""The result documents that can prove a copy, a part copy or a Complete."""

_PLAIN_COPY_RESULT = re.compile(
    rb'(?:<\?xml version="1\.0" encoding="UTF-8"\?>)?\s*+'
    rb'<(CopyPartResult|CopyObjectResult)(?: xmlns="[0-9A-Z_a-z:/.\-]*+")?>'
    rb"<LastModified>[0-9A-Z_a-z:.\-+]*+</LastModified>"
    rb'<ETag>((?:[0-9A-Z_a-z\-."]++|&quot;)*+)</ETag>'
    rb"</\1>\s*+"
)
"""The usual copy answer, whole: only letters, digits and a few marks, ``&quot;`` the one
entity; no DTD, comment or other markup can match, so it needs no XML parser. Spelt for
speed (every part's answer goes through it): ``[0-9A-Z_a-z]`` is a bytes pattern's word class
as a bitmap, and possessive repeats never backtrack (none of them can take what follows)."""


def copy_verdict(body: bytes, root_name: str | None = None) -> BodyVerdict:
    """Judge a 2xx body of UploadPartCopy, CopyObject or CompleteMultipartUpload.

    Strict: the root must be ``root_name`` (any of ``COPY_ROOTS`` when None), the
    document must hold exactly one ``ETag``, a child of that root, and no ``Error``
    element anywhere. Anything else proves nothing.
    """
    plain = _PLAIN_COPY_RESULT.fullmatch(body.lstrip())
    if plain is not None and (root_name is None or plain.group(1).decode() == root_name):
        etag = plain.group(2).decode("ascii").replace("&quot;", '"').strip()
        if etag:  # fast path: a tenth of the cost of parsing, same verdict
            return BodyVerdict(etag)
    if not body.strip():
        return BodyVerdict(None, detail="empty body")
    try:
        root = _root(body)
    except _Malformed as exc:
        return BodyVerdict(None, detail=f"truncated or malformed XML ({exc})")
    name = _local(root.tag)
    errors = [elem for elem in root.iter() if _local(elem.tag) == "Error"]
    if errors:
        return BodyVerdict(None, error=_error_fields(errors[0]), detail="error document in a 2xx")
    expected = COPY_ROOTS if root_name is None else frozenset({root_name})
    if name not in expected:
        return BodyVerdict(None, detail=f"unexpected document <{name[:40]}>")
    etags = [elem for elem in root.iter() if _local(elem.tag) == "ETag"]
    version = _text(root, "VersionId") or None
    if len(etags) > 1:
        return BodyVerdict(None, version_id=version, detail=f"{len(etags)} ETags in <{name}>")
    etag = _text(root, "ETag")
    if not etag:
        return BodyVerdict(None, version_id=version, detail=f"no ETag in <{name}>")
    return BodyVerdict(etag, version_id=version, checksum=_checksum(root))


def _checksum(root: Element) -> str | None:
    """The first ``<ChecksumALGO>`` value of a copy or complete answer (``ChecksumType`` is
    not one)."""
    for sub in root:
        name = _local(sub.tag)
        if name.startswith("Checksum") and name != "ChecksumType" and (sub.text or "").strip():
            return (sub.text or "").strip()
    return None


def parse_initiate(body: bytes) -> str:
    """The upload id of an ``InitiateMultipartUploadResult``."""
    root = _strict_root(body, "InitiateMultipartUpload")
    _refuse_error_root(root, "InitiateMultipartUpload")
    upload_id = _text(root, "UploadId")
    if not upload_id:
        raise ProtocolError(f"InitiateMultipartUpload: no UploadId in <{_local(root.tag)}>")
    return upload_id


def parse_list_parts(body: bytes) -> PartsPage:
    """One page of ``ListPartsResult``."""
    what = "ListParts"
    root = _strict_root(body, what)
    _refuse_error_root(root, what)
    _refuse_non_list_root(root, what)
    parts = []
    for elem in _children(root, "Part"):
        number = _int(elem, "PartNumber", what)
        size = _int(elem, "Size", what)
        etag = _text(elem, "ETag")
        if number < 0 or size < 0 or not etag:
            raise ProtocolError(f"{what}: a Part lacks PartNumber, Size or ETag")
        parts.append(
            PartInfo(number, etag, size, parse_time(_text(elem, "LastModified")), _checksum(elem))
        )
    truncated = _bool(root, "IsTruncated")
    marker: int | None = None
    if truncated:
        marker = _int(root, "NextPartNumberMarker", what)
        if marker < 0:
            marker = parts[-1].part_number if parts else None
        if marker is None:
            raise ProtocolError(f"{what}: truncated page without a marker")
    return PartsPage(tuple(parts), truncated, marker)


def parse_list_uploads(body: bytes, bucket: str) -> UploadsPage:
    """One page of ``ListMultipartUploadsResult``."""
    what = "ListMultipartUploads"
    root = _strict_root(body, what)
    _refuse_error_root(root, what)
    _refuse_non_list_root(root, what)
    uploads = []
    for elem in _children(root, "Upload"):
        key = _text(elem, "Key")
        upload_id = _text(elem, "UploadId")
        if key is None or not upload_id:
            raise ProtocolError(f"{what}: an Upload lacks Key or UploadId")
        uploads.append(UploadInfo(bucket, key, upload_id, parse_time(_text(elem, "Initiated"))))
    truncated = _bool(root, "IsTruncated")
    return UploadsPage(
        tuple(uploads),
        truncated,
        _text(root, "NextKeyMarker") or None,
        _text(root, "NextUploadIdMarker") or None,
    )


def parse_list_objects(body: bytes) -> ObjectsPage:
    """One page of ``ListBucketResult``, v2 (S3) or v1 (OBS, COS).

    Keys are URL-decoded when the answer says ``EncodingType`` url. The next token is the
    continuation token (v2), else ``NextMarker``, else the last key or prefix of the page
    (v1 sends NextMarker only with a delimiter).
    """
    what = "ListObjects"
    root = _strict_root(body, what)
    _refuse_error_root(root, what)
    _refuse_non_list_root(root, what)
    encoded = (_text(root, "EncodingType") or "").lower() == "url"

    def name(elem: Element, tag: str) -> str | None:
        # Keys are taken verbatim (a key may start or end with spaces); S3 encodes a
        # space as "+" and a plus as "%2B" (botocore decodes with unquote_plus too).
        sub = _child(elem, tag)
        if sub is None:
            return None
        raw = sub.text or ""
        return unquote_plus(raw.strip()) if encoded else raw

    objects = []
    for elem in _children(root, "Contents"):
        key = name(elem, "Key")
        size = _int(elem, "Size", what)
        if not key or size < 0:
            raise ProtocolError(f"{what}: an entry lacks Key or Size")
        objects.append(
            ListedObject(
                key,
                size,
                _text(elem, "ETag") or None,
                parse_time(_text(elem, "LastModified")),
                _text(elem, "StorageClass") or None,
            )
        )
    prefixes = []
    for elem in _children(root, "CommonPrefixes"):
        prefix = name(elem, "Prefix")
        if prefix:
            prefixes.append(prefix)
    truncated = _bool(root, "IsTruncated")
    token: str | None = None
    if truncated:
        token = _text(root, "NextContinuationToken") or name(root, "NextMarker") or None
        if token is None:
            last = [objects[-1].key] if objects else []
            token = max(last + prefixes[-1:], default=None)
    return ObjectsPage(tuple(objects), tuple(prefixes), truncated, token)


def parse_list_buckets(body: bytes, token: str | None = None) -> BucketsPage:
    """One page of ``ListAllMyBucketsResult`` (S3, OBS, COS).

    The next token is S3's ``ContinuationToken``, else, on a truncated page (COS), its
    ``NextMarker`` or the page's last name. ``token`` (what was sent) is not needed here.
    """
    what = "ListBuckets"
    root = _strict_root(body, what)
    _refuse_error_root(root, what)
    _refuse_non_list_root(root, what)
    holder = _child(root, "Buckets")
    buckets = []
    for elem in _children(holder, "Bucket") if holder is not None else []:
        name = _text(elem, "Name")
        if not name:
            raise ProtocolError(f"{what}: a Bucket has no Name")
        region = _text(elem, "BucketRegion") or _text(elem, "Location") or None
        buckets.append(BucketInfo(name, parse_time(_text(elem, "CreationDate")), region))
    next_token = _text(root, "ContinuationToken") or None
    if next_token is None and _bool(root, "IsTruncated"):
        next_token = _text(root, "NextMarker") or (buckets[-1].name if buckets else None)
        if next_token is None:
            raise ProtocolError(f"{what}: truncated page without a marker or a bucket")
    return BucketsPage(tuple(buckets), next_token)


def parse_tagging(body: bytes) -> str:
    """A ``Tagging`` document's tag set, URL-encoded as ``x-amz-tagging`` carries it."""
    what = "GetObjectTagging"
    root = _strict_root(body, what)
    _refuse_error_root(root, what)
    tag_set = _child(root, "TagSet")
    pairs = []
    for tag in _children(tag_set, "Tag") if tag_set is not None else []:
        key = _text(tag, "Key")
        if not key:
            raise ProtocolError(f"{what}: a Tag has no Key")
        pairs.append((key, _text(tag, "Value") or ""))
    return urlencode(pairs, quote_via=quote)


def build_complete(
    parts: Sequence[tuple[int, str]],
    checksums: Mapping[int, str] | None = None,
    algorithm: str | None = None,
) -> bytes:
    """The ``CompleteMultipartUpload`` request body for ``(number, etag)`` pairs, each part
    with its ``<ChecksumALGO>`` when ``checksums`` names one."""
    tag = f"Checksum{algorithm}" if algorithm else ""
    if not tag:
        etags = "".join([etag for _, etag in parts])
        if "&" not in etags and "<" not in etags and ">" not in etags:  # nothing to escape
            items = "".join(
                [f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts]
            )
            return f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()
    items = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(etag)}</ETag>"
        + (
            f"<{tag}>{escape(checksums[number])}</{tag}>"
            if tag and checksums and number in checksums
            else ""
        )
        + "</Part>"
        for number, etag in parts
    )
    return f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()
