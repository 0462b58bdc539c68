"""The XML wire dialects (S3, OBS, COS): parse requests into ``Call``s.

The three differ in header prefixes (``x-amz-``, ``x-obs-``, ``x-cos-``), in where the
bucket travels (path, or COS's ``<bucket-appid>.cos.<region>.myqcloud.com`` host) and in
small details of the error document; the verbs, query names and XML bodies are S3's.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from multidict import CIMultiDictProxy

from partcopy.emulator.calls import ALL_BUCKETS, Call, ChecksumRequest, SourceRef
from partcopy.emulator.routes import XML_ROUTES, not_implemented, query_names
from partcopy.emulator.s3answers import XmlAnswers
from partcopy.emulator.wire import (
    check_tags,
    decode_token,
    http_time,
    parse_copy_range,
    parse_part_number,
    parse_query,
    parse_tag_header,
    query_int,
    sse_c_md5,
    tag_header,
)
from partcopy.emulator.xmldialects import XmlDialect, cos_bucket_of_host, cos_bucket_of_source
from partcopy.store.checksums import CHECKSUM_ALGORITHMS, checksum_algorithm, content_checksum
from partcopy.store.data import Content
from partcopy.store.listing import ListQuery
from partcopy.store.memory import StoreError, bad_digest
from partcopy.transports.base import ObjectAttributes

__all__ = ["XmlWire"]

Headers = CIMultiDictProxy[str] | Mapping[str, str]
Builder = Callable[[str, str, dict[str, str], Headers, bytes], Call]

_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
"""GET parameters that set a header of the answer."""
MAX_DELETE = 1000


def _text(root: Element, name: str) -> list[str]:
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == name]


class XmlWire(XmlAnswers):
    """Request parsing (here) and answer rendering (``XmlAnswers``) for one XML dialect."""

    def __init__(self, dialect: XmlDialect, request_id: str = "partcopy-emulator") -> None:
        super().__init__(dialect, request_id)
        self._routes = XML_ROUTES.for_dialect(dialect.name)
        self._names: dict[str, tuple[str, ...]] = {}
        self._object_builders: dict[str, Builder] = {
            "head": self._p_head,
            "get": self._p_get,
            "put": self._p_put,
            "delete": self._p_delete,
            "create": self._p_create,
            "complete": self._p_complete,
            "upload_part": self._p_part,
            "list_parts": self._p_list_parts,
            "abort": self._p_abort,
            "get_tagging": self._p_get_tagging,
            "put_tagging": self._p_put_tagging,
            "delete_tagging": self._p_delete_tagging,
        }

    # --- requests --------------------------------------------------------------------

    def header(self, headers: Headers, suffix: str) -> str | None:
        """The value of ``<prefix><suffix>`` under any accepted prefix."""
        names = self._names.get(suffix)
        if names is None:
            names = self._names[suffix] = tuple(p + suffix for p in self.d.prefixes)
        for name in names:
            value = headers.get(name)
            if value is not None:
                return value
        return None

    def locate(self, host: str, path: str) -> tuple[str | None, str | None]:
        """(bucket, key) from the Host header and the raw path."""
        raw = path.split("?", 1)[0]
        if self.d.bucket_in_host:
            bucket = cos_bucket_of_host(host)
            if bucket is not None:
                key = unquote(raw[1:]) if len(raw) > 1 else None
                return bucket, key
        trimmed = raw[1:] if raw.startswith("/") else raw
        if not trimmed:
            return None, None
        bucket_text, sep, key_text = trimmed.partition("/")
        key = unquote(key_text) if sep and key_text else None
        return unquote(bucket_text), key

    def _attrs(self, headers: Headers, sse_md5: str | None) -> ObjectAttributes:
        meta_prefixes = tuple(p + "meta-" for p in self.d.prefixes)
        metadata = {
            name.lower()[len(p) :]: value
            for name, value in headers.items()
            for p in meta_prefixes
            if name.lower().startswith(p)
        }
        return ObjectAttributes(
            content_type=headers.get("Content-Type"),
            content_encoding=headers.get("Content-Encoding"),
            content_language=headers.get("Content-Language"),
            content_disposition=headers.get("Content-Disposition"),
            cache_control=headers.get("Cache-Control"),
            expires=headers.get("Expires"),
            metadata=metadata,
            storage_class=self.header(headers, "storage-class"),
            tagging=_tagging(self.header(headers, "tagging")),
            sse=self.header(headers, "server-side-encryption"),
            sse_kms_key_id=self.header(headers, "server-side-encryption-aws-kms-key-id")
            or self.header(headers, "server-side-encryption-kms-key-id"),
        )

    def _sse_c(self, headers: Headers, copy_source: bool = False) -> str | None:
        base = (
            "copy-source-server-side-encryption-customer-"
            if copy_source
            else ("server-side-encryption-customer-")
        )
        return sse_c_md5(
            self.header(headers, base + "algorithm"),
            self.header(headers, base + "key"),
            self.header(headers, base + "key-MD5"),
        )

    def _source(self, headers: Headers, value: str) -> SourceRef:
        path, _, query = value.partition("?")
        version = parse_query(query).get("versionId") if query else None
        path = unquote(path).lstrip("/")
        bucket, sep, key = path.partition("/")
        if self.d.bucket_in_host:
            bucket = cos_bucket_of_source(bucket)
        if not sep or not bucket or not key:
            raise StoreError(
                400,
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            )
        match, none_match, modified, unmodified = self._condition_values(headers, "copy-source-")
        return SourceRef(
            bucket=bucket,
            key=key,
            version_id=version,
            if_match=match,
            if_none_match=none_match,
            if_modified_since=modified,
            if_unmodified_since=unmodified,
            sse_c_md5=self._sse_c(headers, copy_source=True),
        )

    def parse(
        self, method: str, host: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Call:
        """The ``Call`` a request asks for; ``StoreError`` for malformed requests and 501
        ``NotImplemented`` for anything the route table does not model."""
        bucket, key = self.locate(host, path)
        level = "service" if bucket is None else "object" if key is not None else "bucket"
        subs = XML_ROUTES.selecting(query_names(query))
        op = self._routes.get((level, method, subs))
        if op is None:
            raise not_implemented(level, method, subs)
        q = parse_query(query)
        if "aws-chunked" in (headers.get("Content-Encoding") or ""):
            body, trailers = _decode_aws_chunked(
                body, self.header(headers, "decoded-content-length")
            )
            if trailers:
                headers = {**headers, **trailers}
        if bucket is None:
            return self._parse_service(op, q)
        if key is None:
            return self._parse_bucket(op, bucket, q, headers, body)
        builder = self._object_builders[op]
        return builder(bucket, key, q, headers, body)

    def _parse_service(self, op: str, q: dict[str, str]) -> Call:
        """GET Service. S3 pages with ``max-buckets`` (1-10000; all buckets without it) and
        an opaque ``continuation-token``, COS with ``max-keys`` (1-2000, default 2000) and
        ``marker``; OBS answers every bucket at once."""
        if self.d.name == "s3":
            size = query_int(q.get("max-buckets"), ALL_BUCKETS, "max-buckets", minimum=1)
            if "max-buckets" in q and size > 10000:
                raise StoreError(400, "InvalidArgument", "max-buckets must be 1-10000")
            token = q.get("continuation-token")
            return Call(op, key_marker=decode_token(token) if token else None, max_items=size)
        if self.d.name == "cos":
            size = query_int(q.get("max-keys"), 2000, "max-keys", minimum=1)
            if size > 2000:
                raise StoreError(400, "InvalidArgument", "max-keys must be 1-2000")
            return Call(op, key_marker=q.get("marker") or None, max_items=size)
        return Call(op, max_items=ALL_BUCKETS)

    # --- object requests -------------------------------------------------------------

    def _conditions(self, headers: Headers, prefix: str = "") -> dict[str, Any]:
        """If-* headers (``prefix`` names the copy-source ones) as ``Call`` fields."""
        match, none_match, modified, unmodified = self._condition_values(headers, prefix)
        return {
            "if_match": match,
            "if_none_match": none_match,
            "if_modified_since": modified,
            "if_unmodified_since": unmodified,
        }

    def _condition_values(
        self, headers: Headers, prefix: str
    ) -> tuple[str | None, str | None, datetime | None, datetime | None]:
        """(If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) as sent."""
        if prefix:
            get = self.header
            match, none_match = (
                get(headers, prefix + "if-match"),
                get(headers, prefix + "if-none-match"),
            )
            modified = get(headers, prefix + "if-modified-since")
            unmodified = get(headers, prefix + "if-unmodified-since")
        else:
            match, none_match = headers.get("if-match"), headers.get("if-none-match")
            modified = headers.get("if-modified-since")
            unmodified = headers.get("if-unmodified-since")
        if self.d.name == "obs":  # the OBS SDK percent-encodes ETag conditions
            match = unquote(match) if match is not None else None
            none_match = unquote(none_match) if none_match is not None else None
        return (
            match,
            none_match,
            http_time(modified) if modified else None,
            http_time(unmodified) if unmodified else None,
        )

    def _p_get(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        return Call(
            "get",
            bucket=bucket,
            key=key,
            version_id=q.get("versionId"),
            part_number=parse_part_number(q.get("partNumber")),
            get_range=h.get("Range"),
            sse_c_md5=self._sse_c(h),
            checksum_mode=(self.header(h, "checksum-mode") or "").upper() == "ENABLED",
            overrides=tuple(
                (_OVERRIDES[name], value) for name, value in q.items() if name in _OVERRIDES
            ),
            **self._conditions(h),
        )

    def _p_head(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        call = self._p_get(bucket, key, q, h, body)
        return replace(call, op="head")

    def _p_put(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        sse = self._sse_c(h)
        attrs = self._attrs(h, sse)
        copy_source = self.header(h, "copy-source")
        if copy_source is not None:
            directive = (self.header(h, "metadata-directive") or "COPY").upper()
            if directive == "REPLACED" and self.d.name == "cos":
                directive = "REPLACE"  # COS spells it Copy / Replaced
            if directive not in {"COPY", "REPLACE"}:
                raise StoreError(400, "InvalidArgument", f"Unknown metadata directive: {directive}")
            tagging = (self.header(h, "tagging-directive") or "COPY").upper()
            if tagging not in {"COPY", "REPLACE"}:
                raise StoreError(400, "InvalidArgument", f"Unknown tagging directive: {tagging}")
            return Call(
                "copy_object",
                bucket=bucket,
                key=key,
                source=self._source(h, copy_source),
                attrs=attrs,
                replace_attrs=directive == "REPLACE",
                copy_tags=tagging == "COPY",
                sse_c_md5=sse,
                checksum=self._checksum(h, self.header(h, "checksum-algorithm")),
                **self._conditions(h),
            )
        self._check_md5(h, body)
        return Call(
            "put",
            bucket=bucket,
            key=key,
            attrs=attrs,
            body=body,
            sse_c_md5=sse,
            checksum=self._checksum(h, None),
            **self._conditions(h),
        )

    def _p_delete(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        return Call("delete", bucket=bucket, key=key, version_id=q.get("versionId"))

    def _p_create(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        sse = self._sse_c(h)
        algorithm = self.header(h, "checksum-algorithm")
        kind = (self.header(h, "checksum-type") or "").upper()
        if kind not in {"", "COMPOSITE", "FULL_OBJECT"}:
            raise StoreError(400, "InvalidRequest", f"Unknown checksum type {kind}")
        checksum = None
        if algorithm is not None:
            checksum = ChecksumRequest(
                checksum_algorithm(algorithm), full_object=kind == "FULL_OBJECT"
            )
        elif kind:
            raise StoreError(400, "InvalidRequest", "a checksum type needs a checksum algorithm")
        return Call(
            "create",
            bucket=bucket,
            key=key,
            attrs=self._attrs(h, sse),
            sse_c_md5=sse,
            checksum=checksum,
        )

    def _p_complete(
        self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes
    ) -> Call:
        return Call(
            "complete",
            bucket=bucket,
            key=key,
            upload_id=q.get("uploadId"),
            parts=self._complete_parts(body),
            part_checksums=_complete_checksums(body) if b"<Checksum" in body else (),
            checksum=self._checksum(h, None),
            **self._conditions(h),
        )

    def _p_part(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        sse = self._sse_c(h)
        upload_id = q.get("uploadId")
        part_number = parse_part_number(q.get("partNumber"))
        copy_source = self.header(h, "copy-source")
        if copy_source is not None:
            range_text = self.header(h, "copy-source-range")
            if range_text is not None and range_text.strip() == "" and self.d.name == "cos":
                range_text = None  # the COS SDK sends an empty range to copy the whole object
            return Call(
                "copy_part",
                bucket=bucket,
                key=key,
                upload_id=upload_id,
                part_number=part_number,
                source=self._source(h, copy_source),
                copy_range=parse_copy_range(range_text, f"{self.prefix}copy-source-range"),
                sse_c_md5=sse,
            )
        return Call(
            "upload_part",
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            part_number=part_number,
            body=body,
            sse_c_md5=sse,
            content_md5=h.get("Content-MD5"),
            checksum=self._checksum(h, None),
        )

    def _p_list_parts(
        self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes
    ) -> Call:
        marker = q.get("part-number-marker")
        return Call(
            "list_parts",
            bucket=bucket,
            key=key,
            upload_id=q.get("uploadId"),
            marker=query_int(marker, 0, "part-number-marker") if marker else None,
            max_items=query_int(q.get("max-parts"), 1000, "max-parts"),
        )

    def _p_abort(self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes) -> Call:
        return Call("abort", bucket=bucket, key=key, upload_id=q.get("uploadId"))

    def _p_get_tagging(
        self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes
    ) -> Call:
        return Call("get_tagging", bucket=bucket, key=key, version_id=q.get("versionId"))

    def _p_put_tagging(
        self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes
    ) -> Call:
        self._check_body_checksum(h, body)
        root = _xml(body)
        tags: list[tuple[str, str]] = []
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] != "Tag":
                continue
            name, value = _text(el, "Key"), _text(el, "Value")
            if len(name) != 1 or len(value) != 1:
                raise _malformed()
            tags.append((name[0], value[0]))
        return Call(
            "put_tagging",
            bucket=bucket,
            key=key,
            version_id=q.get("versionId"),
            tags=check_tags(tags),
        )

    def _p_delete_tagging(
        self, bucket: str, key: str, q: dict[str, str], h: Headers, body: bytes
    ) -> Call:
        return Call("delete_tagging", bucket=bucket, key=key, version_id=q.get("versionId"))

    def _check_body_checksum(self, h: Headers, body: bytes) -> None:
        """A configuration body's own ``x-amz-checksum-*`` must match it (``BadDigest``)."""
        claimed = self._checksum(h, None)
        if claimed is None or claimed.value is None:
            return
        if content_checksum(claimed.algorithm, Content.real(body)) != claimed.value:
            raise bad_digest(claimed.algorithm)

    def _checksum(self, h: Headers, algorithm: str | None) -> ChecksumRequest | None:
        """The ``x-amz-checksum-*`` value a request claims (S3 only; None without one)."""
        if self.d.name != "s3":
            return None
        for name in CHECKSUM_ALGORITHMS:
            value = h.get(f"x-amz-checksum-{name.lower()}")
            if value is not None:
                return ChecksumRequest(name, value)
        named = h.get("x-amz-sdk-checksum-algorithm") or algorithm
        return ChecksumRequest(checksum_algorithm(named)) if named else None

    @staticmethod
    def _check_md5(headers: Headers, body: bytes) -> None:
        given = headers.get("Content-MD5")
        if given is not None and given != base64.b64encode(hashlib.md5(body).digest()).decode():
            raise StoreError(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received."
            )

    # --- bucket requests -------------------------------------------------------------

    def _parse_bucket(
        self, op: str, bucket: str, q: dict[str, str], h: Headers, body: bytes
    ) -> Call:
        if op == "put_versioning":
            self._check_body_checksum(h, body)
            status = _text(_xml(body), "Status")
            if not status or status[0] not in {"Enabled", "Suspended"}:
                raise StoreError(
                    400, "MalformedXML", "Versioning status must be Enabled or Suspended"
                )
            return Call(op, bucket=bucket, versioning=status[0] == "Enabled")
        if op == "list_uploads":
            return Call(
                op,
                bucket=bucket,
                prefix=q.get("prefix", ""),
                key_marker=q.get("key-marker") or None,
                upload_id_marker=q.get("upload-id-marker") or None,
                max_items=query_int(q.get("max-uploads"), 1000, "max-uploads"),
            )
        if op == "list_objects":
            return Call(op, bucket=bucket, listing=self._listing(q))
        if op == "list_versions":
            listing = replace(
                self._listing(q, versions=True),
                start_after=q.get("key-marker") or None,
                version_id_marker=q.get("version-id-marker") or None,
            )
            return Call(op, bucket=bucket, listing=listing)
        if op == "delete_objects":
            if h.get("Content-MD5") is None and not any(
                h.get(f"x-amz-checksum-{n.lower()}") for n in CHECKSUM_ALGORITHMS
            ):
                raise StoreError(
                    400, "InvalidRequest", "Missing required header for this request: Content-MD5"
                )
            self._check_md5(h, body)
            self._check_body_checksum(h, body)
            deletes, quiet = _delete_list(body)
            return Call(op, bucket=bucket, deletes=deletes, quiet=quiet)
        return Call(op, bucket=bucket)

    def _listing(self, q: dict[str, str], *, versions: bool = False) -> ListQuery:
        """ListObjects (v1), ListObjectsV2 or ListObjectVersions query parameters."""
        version = 2 if q.get("list-type") == "2" and not versions else 1
        encoding = q.get("encoding-type")
        if encoding is not None and encoding != "url":
            raise StoreError(400, "InvalidArgument", "Invalid Encoding Method specified in Request")
        token = q.get("continuation-token") if version == 2 else None
        start = q.get("start-after") if version == 2 else q.get("marker")
        if token is not None:
            start = decode_token(token)
        return ListQuery(
            prefix=q.get("prefix", ""),
            delimiter=q.get("delimiter") or None,
            start_after=start or None,
            max_keys=query_int(q.get("max-keys"), 1000, "max-keys"),
            version=version,
            continuation_token=token,
            encoding_type=encoding,
            fetch_owner=version == 1 or q.get("fetch-owner") == "true",
        )

    @staticmethod
    def _complete_parts(body: bytes) -> tuple[tuple[int, str], ...]:
        if _PLAIN_COMPLETE.fullmatch(body) is not None:  # fast path, same parts as parsing
            try:
                return tuple(
                    (int(number), etag.decode("ascii").replace("&quot;", '"'))
                    for number, etag in _PLAIN_PART.findall(body)
                )
            except ValueError:  # a part number past int()'s digit limit
                raise _malformed() from None
        return _parsed_complete_parts(body)


def _complete_checksums(body: bytes) -> tuple[tuple[int, str], ...]:
    """The ``<ChecksumALGO>`` of each ``<Part>`` of a Complete body that names one."""
    out: list[tuple[int, str]] = []
    for el in _xml(body).iter():
        if el.tag.rsplit("}", 1)[-1] != "Part":
            continue
        number = _text(el, "PartNumber")
        for child in el:
            name = child.tag.rsplit("}", 1)[-1]
            if name.startswith("Checksum") and name != "ChecksumType" and number:
                try:
                    out.append((int(number[0]), (child.text or "").strip()))
                except ValueError:
                    raise _malformed() from None
    return tuple(out)


def _parsed_complete_parts(body: bytes) -> tuple[tuple[int, str], ...]:
    """The (number, etag) pairs of any Complete body, through defusedxml."""
    root = _xml(body)
    parts: list[tuple[int, str]] = []
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "Part":
            continue
        number = _text(el, "PartNumber")
        etag = _text(el, "ETag")
        if len(number) != 1 or len(etag) != 1:
            raise _malformed()
        try:
            parts.append((int(number[0]), etag[0]))
        except ValueError:
            raise _malformed() from None
    return tuple(parts)


_PLAIN_ETAG = rb'(?:[\w\-."]++|&quot;)*+'  # possessive: a body is matched in one pass
_PLAIN_PART = re.compile(
    rb"<Part><PartNumber>(\d+)</PartNumber><ETag>(" + _PLAIN_ETAG + rb")</ETag></Part>"
)
_PLAIN_COMPLETE = re.compile(
    rb'(?:<\?xml version="1\.0" encoding="UTF-8"\?>)?[ \t\r\n]*'
    rb'<CompleteMultipartUpload(?: xmlns="[\w:/.\-]*")?>'
    rb"(?:<Part><PartNumber>\d+</PartNumber><ETag>" + _PLAIN_ETAG + rb"</ETag></Part>)*+"
    rb"</CompleteMultipartUpload>[ \t\r\n]*"
)
"""The usual Complete body, whole (as partcopy writes it): letters, digits and a few marks,
``&quot;`` the one entity; no DTD, comment or other markup can match, so no parser is needed."""


def _tagging(header: str | None) -> str | None:
    """A request's tag header, checked and normalised (None when absent or empty)."""
    if not header:
        return None
    return tag_header(parse_tag_header(header)) or None


def _delete_list(body: bytes) -> tuple[tuple[tuple[str, str | None], ...], bool]:
    """DeleteObjects' ``<Delete><Quiet/><Object><Key/><VersionId/></Object>...`` body."""
    root = _xml(body)
    items: list[tuple[str, str | None]] = []
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "Object":
            continue
        key, version = _text(el, "Key"), _text(el, "VersionId")
        if len(key) != 1 or len(version) > 1:
            raise _malformed()
        items.append((key[0], version[0] if version else None))
    if not items or len(items) > MAX_DELETE:
        raise _malformed()
    quiet = _text(root, "Quiet")
    return tuple(items), bool(quiet) and quiet[0].strip().lower() == "true"


def _decode_aws_chunked(body: bytes, decoded_length: str | None) -> tuple[bytes, dict[str, str]]:
    """The payload and trailing headers of an ``aws-chunked`` body
    (``hex-size[;ext]\r\ndata\r\n``... ``0\r\n``, then ``name:value\r\n`` trailers)."""
    out = bytearray()
    pos = 0
    bad = StoreError(400, "IncompleteBody", "The aws-chunked body is malformed")
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise bad
        size_text = body[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise bad from None
        pos = end + 2
        if size == 0:
            break
        out += body[pos : pos + size]
        if body[pos + size : pos + size + 2] != b"\r\n":
            raise bad
        pos += size + 2
    if decoded_length is not None and decoded_length.isdigit() and int(decoded_length) != len(out):
        raise bad
    trailers: dict[str, str] = {}
    for line in body[pos:].split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep and not name.lower().startswith(b"x-amz-trailer-signature"):
            trailers[name.strip().decode("latin-1")] = value.strip().decode("latin-1")
    return bytes(out), trailers


def _malformed() -> StoreError:
    return StoreError(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _xml(body: bytes) -> Element:
    try:
        root = ElementTree.fromstring(body)
    except Exception:  # defusedxml raises several types for hostile or broken XML
        raise _malformed() from None
    assert isinstance(root, Element)
    return root
