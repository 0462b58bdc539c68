"""The XML wire dialects (S3, OBS, COS): parse requests into ``Call``s.

The three differ in header prefixes (``x-amz-``, ``x-obs-``, ``x-cos-``), in where the
bucket travels (path, or COS's ``<bucket-appid>.cos.<region>.myqcloud.com`` host) and in
small details of the error document; the verbs, query names and XML bodies are S3's.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from multidict import CIMultiDictProxy

from partcopy.emulator.ops import Call, SourceRef
from partcopy.emulator.s3answers import XmlAnswers
from partcopy.emulator.wire import (
    parse_copy_range,
    parse_part_number,
    parse_query,
    query_int,
    sse_c_md5,
)
from partcopy.emulator.xmldialects import cos_bucket_of_host, cos_bucket_of_source
from partcopy.store.memory import StoreError
from partcopy.transports.base import ObjectAttributes

__all__ = ["XmlWire"]

Headers = CIMultiDictProxy[str] | Mapping[str, str]


def _text(root: Element, name: str) -> list[str]:
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == name]


class XmlWire(XmlAnswers):
    """Request parsing (here) and answer rendering (``XmlAnswers``) for one XML dialect."""

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
        if self.d.bucket_in_host:
            bucket = cos_bucket_of_source(bucket)
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
                max_items=query_int(q.get("max-parts"), 1000, "max-parts"),
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
                max_items=query_int(q.get("max-uploads"), 1000, "max-uploads"),
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
                max_items=query_int(q.get("max-keys"), 1000, "max-keys"),
            )
        raise StoreError(
            405, "MethodNotAllowed", "The specified method is not allowed against this resource."
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
