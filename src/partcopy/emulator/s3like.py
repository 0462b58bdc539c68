"""The XML wire dialects (S3, OBS, COS): parse requests into ``Call``s, render outcomes.

The three differ in header prefixes (``x-amz-``, ``x-obs-``, ``x-cos-``), in where the
bucket travels (path, or COS's ``<bucket-appid>.cos.<region>.myqcloud.com`` host) and in
small details of the error document; the verbs, query names and XML bodies are S3's.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from multidict import CIMultiDictProxy

from partcopy.emulator.ops import Call, Outcome, SourceRef
from partcopy.emulator.wire import (
    Answer,
    http_date,
    iso_date,
    parse_copy_range,
    parse_part_number,
    parse_query,
    sse_c_md5,
    xml_doc,
)
from partcopy.transports.base import ObjectAttributes
from partcopy.transports.memstore import (
    DELETE_MARKER_VERSION,
    ObjectVersion,
    StoreError,
    quote_etag,
)

__all__ = ["COS", "OBS", "S3", "XmlDialect", "XmlWire", "cos_bucket_of_host"]

Headers = CIMultiDictProxy[str] | Mapping[str, str]


@dataclass(frozen=True, slots=True)
class XmlDialect:
    """What distinguishes one XML dialect on the wire."""

    name: str
    prefixes: tuple[str, ...]
    """Header prefixes accepted in requests; the first is used in answers."""
    namespace: str | None
    bucket_in_host: bool = False
    request_id_header: str = "x-amz-request-id"


S3 = XmlDialect("s3", ("x-amz-",), "http://s3.amazonaws.com/doc/2006-03-01/")
# The OBS SDK signs the AWS way (x-amz-*) on an IP endpoint, the OBS way (x-obs-*) otherwise.
OBS = XmlDialect(
    "obs",
    ("x-obs-", "x-amz-"),
    "http://obs.myhwclouds.com/doc/2015-06-30/",
    request_id_header="x-obs-request-id",
)
COS = XmlDialect(
    "cos", ("x-cos-",), None, bucket_in_host=True, request_id_header="x-cos-request-id"
)

_COS_HOST_MARK = ".cos."


def cos_bucket_of_host(host: str) -> str | None:
    """The bucket of a ``<bucket-appid>.cos.<region>.myqcloud.com[:port]`` host."""
    name = host.split(":", 1)[0]
    if _COS_HOST_MARK in name and name.endswith(".myqcloud.com"):
        return name.split(_COS_HOST_MARK, 1)[0]
    return None


def _text(root: Element, name: str) -> list[str]:
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == name]


class XmlWire:
    """Request parsing and answer rendering for one XML dialect."""

    def __init__(self, dialect: XmlDialect, request_id: str = "partcopy-emulator") -> None:
        self.d = dialect
        self.prefix = dialect.prefixes[0]
        self.request_id = request_id

    # --- requests --------------------------------------------------------------------

    def header(self, headers: Headers, suffix: str) -> str | None:
        """The value of ``<prefix><suffix>`` under any accepted prefix."""
        for prefix in self.d.prefixes:
            value = headers.get(prefix + suffix)
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
            tagging=self.header(headers, "tagging"),
            sse=self.header(headers, "server-side-encryption"),
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
        if self.d.bucket_in_host and _COS_HOST_MARK in bucket:
            bucket = bucket.split(_COS_HOST_MARK, 1)[0]
        if not sep or not bucket or not key:
            raise StoreError(
                400,
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            )
        return SourceRef(
            bucket=bucket,
            key=key,
            version_id=version,
            if_match=self.header(headers, "copy-source-if-match"),
            if_none_match=self.header(headers, "copy-source-if-none-match"),
            sse_c_md5=self._sse_c(headers, copy_source=True),
        )

    def parse(
        self, method: str, host: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Call:
        """The ``Call`` a request asks for; ``StoreError`` for malformed requests."""
        bucket, key = self.locate(host, path)
        q = parse_query(query)
        if "aws-chunked" in (headers.get("Content-Encoding") or ""):
            body = _decode_aws_chunked(body, self.header(headers, "decoded-content-length"))
        if bucket is None:
            raise StoreError(405, "MethodNotAllowed", "Listing buckets is not supported here")
        if key is None:
            return self._parse_bucket(method, bucket, q, body)
        upload_id = q.get("uploadId")
        part_number = parse_part_number(q.get("partNumber"))
        copy_source = self.header(headers, "copy-source")
        if method == "POST" and "uploads" in q:
            sse = self._sse_c(headers)
            return Call(
                "create", bucket=bucket, key=key, attrs=self._attrs(headers, sse), sse_c_md5=sse
            )
        if method == "POST" and upload_id is not None:
            return Call(
                "complete",
                bucket=bucket,
                key=key,
                upload_id=upload_id,
                parts=self._complete_parts(body),
            )
        if method == "PUT" and upload_id is not None:
            sse = self._sse_c(headers)
            if copy_source is not None:
                return Call(
                    "copy_part",
                    bucket=bucket,
                    key=key,
                    upload_id=upload_id,
                    part_number=part_number,
                    source=self._source(headers, copy_source),
                    copy_range=parse_copy_range(
                        self.header(headers, "copy-source-range"),
                        f"{self.prefix}copy-source-range",
                    ),
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
                content_md5=headers.get("Content-MD5"),
            )
        if method == "PUT":
            sse = self._sse_c(headers)
            attrs = self._attrs(headers, sse)
            if copy_source is not None:
                directive = (self.header(headers, "metadata-directive") or "COPY").upper()
                if directive == "REPLACED" and self.d.name == "cos":
                    directive = "REPLACE"  # COS spells it Copy / Replaced
                if directive not in {"COPY", "REPLACE"}:
                    raise StoreError(
                        400, "InvalidArgument", f"Unknown metadata directive: {directive}"
                    )
                return Call(
                    "copy_object",
                    bucket=bucket,
                    key=key,
                    source=self._source(headers, copy_source),
                    attrs=attrs,
                    replace_attrs=directive == "REPLACE",
                    sse_c_md5=sse,
                )
            self._check_md5(headers, body)
            return Call("put", bucket=bucket, key=key, attrs=attrs, body=body, sse_c_md5=sse)
        if method == "GET" and upload_id is not None:
            marker = q.get("part-number-marker")
            return Call(
                "list_parts",
                bucket=bucket,
                key=key,
                upload_id=upload_id,
                marker=int(marker) if marker else None,
                max_items=_int(q.get("max-parts"), 1000, "max-parts"),
            )
        if method in {"GET", "HEAD"}:
            return Call(
                "get" if method == "GET" else "head",
                bucket=bucket,
                key=key,
                version_id=q.get("versionId"),
                get_range=headers.get("Range"),
                if_match=headers.get("If-Match"),
                if_none_match=headers.get("If-None-Match"),
                sse_c_md5=self._sse_c(headers),
            )
        if method == "DELETE" and upload_id is not None:
            return Call("abort", bucket=bucket, key=key, upload_id=upload_id)
        if method == "DELETE":
            return Call("delete", bucket=bucket, key=key, version_id=q.get("versionId"))
        raise StoreError(
            405, "MethodNotAllowed", "The specified method is not allowed against this resource."
        )

    @staticmethod
    def _check_md5(headers: Headers, body: bytes) -> None:
        given = headers.get("Content-MD5")
        if given is not None and given != base64.b64encode(hashlib.md5(body).digest()).decode():
            raise StoreError(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received."
            )

    def _parse_bucket(self, method: str, bucket: str, q: dict[str, str], body: bytes) -> Call:
        if method == "PUT" and "versioning" in q:
            status = _text(_xml(body), "Status")
            if not status or status[0] not in {"Enabled", "Suspended"}:
                raise StoreError(
                    400, "MalformedXML", "Versioning status must be Enabled or Suspended"
                )
            return Call("bucket", bucket=bucket, versioning=status[0] == "Enabled")
        if method == "PUT":
            return Call("bucket", bucket=bucket)
        if method == "HEAD":
            return Call("head_bucket", bucket=bucket)
        if method == "GET" and "uploads" in q:
            return Call(
                "list_uploads",
                bucket=bucket,
                prefix=q.get("prefix", ""),
                key_marker=q.get("key-marker") or None,
                upload_id_marker=q.get("upload-id-marker") or None,
                max_items=_int(q.get("max-uploads"), 1000, "max-uploads"),
            )
        if method == "GET" and "versioning" in q:
            return Call("get_versioning", bucket=bucket)
        if method == "GET":
            return Call(
                "list_objects",
                bucket=bucket,
                prefix=q.get("prefix", ""),
                key_marker=q.get("continuation-token")
                or q.get("start-after")
                or q.get("marker")
                or None,
                max_items=_int(q.get("max-keys"), 1000, "max-keys"),
            )
        raise StoreError(
            405, "MethodNotAllowed", "The specified method is not allowed against this resource."
        )

    @staticmethod
    def _complete_parts(body: bytes) -> tuple[tuple[int, str], ...]:
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

    # --- answers ---------------------------------------------------------------------

    def _base(self) -> dict[str, str]:
        return {self.d.request_id_header: self.request_id}

    def _xml(self, root: str, items: list[tuple[str, object]], status: int = 200) -> Answer:
        headers = self._base()
        headers["Content-Type"] = "application/xml"
        return Answer(status, headers, xml_doc(root, items, self.d.namespace))

    def error(self, err: StoreError, *, head: bool = False, status: int | None = None) -> Answer:
        """The dialect's error document (no body for HEAD, as the services do)."""
        if self.d.name == "cos" and err.detail == DELETE_MARKER_VERSION:
            # COS answers 400 where S3 answers 405 when a delete marker is named by version
            err = StoreError(400, "InvalidRequest", err.message, resource=err.resource)
        headers = self._base()
        if head:
            return Answer(status or err.status, headers)
        items: list[tuple[str, object]] = [
            ("Code", err.code),
            ("Message", err.message),
            ("Resource", err.resource or "/"),
            ("RequestId", self.request_id),
        ]
        if self.d.name == "cos":
            items.append(("TraceId", self.request_id))
        else:
            items.append(("HostId", self.request_id))
        headers["Content-Type"] = "application/xml"
        return Answer(status or err.status, headers, xml_doc("Error", items, None))

    def _object_headers(self, version: ObjectVersion, etag: bool = True) -> dict[str, str]:
        headers = self._base()
        attrs = version.attrs
        if etag:
            headers["ETag"] = quote_etag(version.etag)
        headers["Last-Modified"] = http_date(version.last_modified)
        headers["Accept-Ranges"] = "bytes"
        headers["Content-Type"] = attrs.content_type or "binary/octet-stream"
        for name, value in (
            ("Content-Encoding", attrs.content_encoding),
            ("Content-Language", attrs.content_language),
            ("Content-Disposition", attrs.content_disposition),
            ("Cache-Control", attrs.cache_control),
            ("Expires", attrs.expires),
            (self.prefix + "storage-class", attrs.storage_class),
            (self.prefix + "server-side-encryption", attrs.sse),
        ):
            if value is not None:
                headers[name] = value
        for name, value in attrs.metadata.items():
            headers[f"{self.prefix}meta-{name}"] = value
        if attrs.tagging:
            headers[self.prefix + "tagging-count"] = str(len(attrs.tagging.split("&")))
        if version.sse_c_md5 is not None:
            headers[self.prefix + "server-side-encryption-customer-algorithm"] = "AES256"
            headers[self.prefix + "server-side-encryption-customer-key-MD5"] = version.sse_c_md5
        if version.version_id != "null":
            headers[self.prefix + "version-id"] = version.version_id
        if version.parts_count is not None:
            headers[self.prefix + "mp-parts-count"] = str(version.parts_count)
        return headers

    def render(self, out: Outcome, *, etag: bool = True) -> Answer:
        """The success answer for ``out``; ``etag=False`` leaves the ETag out (a fault)."""
        call = out.call
        op = call.op
        if op == "bucket":
            return Answer(200, {**self._base(), "Location": f"/{call.bucket}"})
        if op == "head_bucket":
            return Answer(200, self._base())
        if op == "get_versioning":
            status = None if out.versioning == "Off" else out.versioning
            return self._xml("VersioningConfiguration", [("Status", status)])
        if op in {"head", "get"}:
            version = out.version
            assert version is not None and version.content is not None
            headers = self._object_headers(version)
            if op == "head":
                return Answer(200, headers, head_length=version.size)
            assert out.content is not None
            if out.content_range is not None:
                first, last, size = out.content_range
                headers["Content-Range"] = f"bytes {first}-{last}/{size}"
                return Answer(206, headers, stream=out.content)
            return Answer(200, headers, stream=out.content)
        if op == "put":
            assert out.version is not None
            headers = self._base()
            if etag:
                headers["ETag"] = quote_etag(out.version.etag)
            if out.version.version_id != "null":
                headers[self.prefix + "version-id"] = out.version.version_id
            return Answer(200, headers)
        if op == "delete":
            headers = self._base()
            if out.delete_marker and out.version is not None:
                headers[self.prefix + "delete-marker"] = "true"
                headers[self.prefix + "version-id"] = out.version.version_id
            return Answer(204, headers)
        if op == "create":
            assert out.upload is not None
            return self._xml(
                "InitiateMultipartUploadResult",
                [("Bucket", call.bucket), ("Key", call.key), ("UploadId", out.upload.upload_id)],
            )
        if op == "upload_part":
            assert out.part is not None
            headers = self._base()
            if etag:
                headers["ETag"] = quote_etag(out.part.etag)
            return Answer(200, headers)
        if op == "copy_part":
            assert out.part is not None
            return self._xml(
                "CopyPartResult",
                [
                    ("LastModified", iso_date(out.part.last_modified)),
                    ("ETag", quote_etag(out.part.etag) if etag else None),
                ],
            )
        if op == "copy_object":
            assert out.version is not None
            answer = self._xml(
                "CopyObjectResult",
                [
                    ("LastModified", iso_date(out.version.last_modified)),
                    ("ETag", quote_etag(out.version.etag) if etag else None),
                ],
            )
            return self._with_version(answer, out.version)
        if op == "complete":
            assert out.version is not None
            answer = self._xml(
                "CompleteMultipartUploadResult",
                [
                    ("Location", f"/{call.bucket}/{call.key}"),
                    ("Bucket", call.bucket),
                    ("Key", call.key),
                    ("ETag", quote_etag(out.version.etag) if etag else None),
                ],
            )
            return self._with_version(answer, out.version)
        if op == "abort":
            return Answer(204, self._base())
        if op == "list_parts":
            return self._list_parts(out)
        if op == "list_uploads":
            return self._list_uploads(out)
        if op == "list_objects":
            last_key = out.objects[-1].key if out.truncated and out.objects else None
            return self._xml(
                "ListBucketResult",
                [
                    ("Name", call.bucket),
                    ("Prefix", call.prefix),
                    ("KeyCount", len(out.objects)),
                    ("MaxKeys", call.max_items),
                    ("IsTruncated", out.truncated),
                    ("NextContinuationToken", last_key),
                    ("NextMarker", last_key),
                    (
                        "Contents",
                        [
                            (
                                ("Key", v.key),
                                ("LastModified", iso_date(v.last_modified)),
                                ("ETag", quote_etag(v.etag)),
                                ("Size", v.size),
                                ("StorageClass", v.attrs.storage_class or "STANDARD"),
                            )
                            for v in out.objects
                        ],
                    ),
                ],
            )
        raise StoreError(501, "NotImplemented", f"{op} is not implemented")

    def _with_version(self, answer: Answer, version: ObjectVersion) -> Answer:
        if version.version_id == "null":
            return answer
        headers = {**answer.headers, self.prefix + "version-id": version.version_id}
        return Answer(answer.status, headers, answer.body)

    def _list_parts(self, out: Outcome) -> Answer:
        call = out.call
        return self._xml(
            "ListPartsResult",
            [
                ("Bucket", call.bucket),
                ("Key", call.key),
                ("UploadId", call.upload_id),
                ("PartNumberMarker", call.marker or 0),
                ("NextPartNumberMarker", out.next_marker if out.truncated else None),
                ("MaxParts", call.max_items),
                ("IsTruncated", out.truncated),
                (
                    "Part",
                    [
                        (
                            ("PartNumber", p.number),
                            ("LastModified", iso_date(p.last_modified)),
                            ("ETag", quote_etag(p.etag)),
                            ("Size", p.size),
                        )
                        for p in out.parts
                    ],
                ),
                ("StorageClass", "STANDARD"),
            ],
        )

    def _list_uploads(self, out: Outcome) -> Answer:
        call = out.call
        last = out.uploads[-1] if out.truncated and out.uploads else None
        return self._xml(
            "ListMultipartUploadsResult",
            [
                ("Bucket", call.bucket),
                ("KeyMarker", call.key_marker or ""),
                ("UploadIdMarker", call.upload_id_marker or ""),
                ("NextKeyMarker", last.key if last else None),
                ("NextUploadIdMarker", last.upload_id if last else None),
                ("Prefix", call.prefix),
                ("MaxUploads", call.max_items),
                ("IsTruncated", out.truncated),
                (
                    "Upload",
                    [
                        (
                            ("Key", u.key),
                            ("UploadId", u.upload_id),
                            ("Initiated", iso_date(u.initiated)),
                            ("StorageClass", u.attrs.storage_class or "STANDARD"),
                        )
                        for u in out.uploads
                    ],
                ),
            ],
        )

    def error_in_200(self) -> Answer:
        """S3's error-bodied 200 (UploadPartCopy, CopyObject, Complete can answer this)."""
        err = StoreError(
            500, "InternalError", "We encountered an internal error. Please try again."
        )
        return self.error(err, status=200)


def _decode_aws_chunked(body: bytes, decoded_length: str | None) -> bytes:
    """The payload of an ``aws-chunked`` body (``hex-size[;ext]\r\ndata\r\n``... ``0``)."""
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
    return bytes(out)


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


def _int(text: str | None, default: int, what: str) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise StoreError(400, "InvalidArgument", f"{what} must be an integer") from None
    if value < 0:
        raise StoreError(400, "InvalidArgument", f"{what} must not be negative")
    return value
