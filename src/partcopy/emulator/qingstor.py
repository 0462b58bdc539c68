"""The QingStor wire dialect: snake_case query names, ``x-qs-*`` headers, JSON bodies.

Copy part and upload part answer 201 with the ETag in the header and an empty body;
Complete takes ``{"object_parts": [{"part_number", "etag"}]}`` and answers 201; errors
are ``{code, message, request_id, url}`` with snake_case codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from partcopy.emulator.calls import ALL_BUCKETS, Call, Outcome, SourceRef
from partcopy.emulator.routes import QINGSTOR_ROUTES, not_implemented, query_names
from partcopy.emulator.wire import (
    Answer,
    http_date,
    http_time,
    iso_date,
    owner_id,
    parse_part_number,
    parse_query,
    query_int,
    sse_c_md5,
)
from partcopy.store.listing import ListQuery
from partcopy.store.memory import ObjectVersion, StoreError, quote_etag
from partcopy.transports.base import ObjectAttributes

__all__ = ["QingStorWire", "qingstor_code"]

_CODES = {
    "NoSuchKey": "object_not_exists",
    "NoSuchVersion": "object_not_exists",
    "NoSuchBucket": "bucket_not_exists",
    "NoSuchUpload": "upload_not_exists",
    "PreconditionFailed": "precondition_failed",
    "SignatureDoesNotMatch": "signature_not_matched",
    "AccessDenied": "permission_denied",
    "InvalidAccessKeyId": "invalid_access_key_id",
    "InvalidRange": "invalid_range",
    "InternalError": "internal_server_error",
    "SlowDown": "service_unavailable",
    "TooManyRequests": "too_many_requests",
    "MalformedXML": "invalid_request",
    "MethodNotAllowed": "method_not_allowed",
}


def qingstor_code(code: str) -> str:
    """QingStor's snake_case code for an S3 code (``EntityTooSmall`` → ``entity_too_small``)."""
    known = _CODES.get(code)
    if known is not None:
        return known
    return re.sub(r"(?<!^)(?=[A-Z])", "_", code).lower()


Headers = Mapping[str, str]


class QingStorWire:
    """Request parsing and answer rendering for QingStor."""

    prefix = "x-qs-"

    omit_next_key_marker = False
    """Quirk ``uploads-no-key-marker``: page uploads by the upload id alone (SeaweedFS)."""

    def __init__(self, request_id: str = "partcopy-emulator") -> None:
        self.request_id = request_id
        self.default_owner = ""
        self._routes = QINGSTOR_ROUTES.for_dialect("qingstor")

    # --- requests --------------------------------------------------------------------

    def _sse_c(self, headers: Headers, base: str) -> str | None:
        return sse_c_md5(
            headers.get(base + "algorithm"),
            headers.get(base + "key"),
            headers.get(base + "key-md5"),
        )

    def _attrs(self, headers: Headers) -> ObjectAttributes:
        metadata = {
            name.lower()[len("x-qs-meta-") :]: value
            for name, value in headers.items()
            if name.lower().startswith("x-qs-meta-")
        }
        return ObjectAttributes(
            content_type=headers.get("Content-Type"),
            content_encoding=headers.get("Content-Encoding"),
            content_disposition=headers.get("Content-Disposition"),
            cache_control=headers.get("Cache-Control"),
            expires=headers.get("Expires"),
            metadata=metadata,
            storage_class=headers.get("x-qs-storage-class"),
        )

    def _source(self, headers: Headers, value: str) -> SourceRef:
        raw = value.split("?", 1)[0]
        bucket, sep, key = unquote(raw[1:]).partition("/")
        if not raw.startswith("/") or not sep or not bucket or not key:
            raise StoreError(400, "InvalidArgument", "x-qs-copy-source must be /bucket/key")
        return SourceRef(
            bucket=bucket,
            key=key,
            if_match=headers.get("x-qs-copy-source-if-match"),
            if_none_match=headers.get("x-qs-copy-source-if-none-match"),
            if_modified_since=http_time(headers.get("x-qs-copy-source-if-modified-since")),
            if_unmodified_since=http_time(headers.get("x-qs-copy-source-if-unmodified-since")),
            sse_c_md5=self._sse_c(headers, "x-qs-copy-source-encryption-customer-"),
        )

    def parse(
        self, method: str, host: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Call:
        """The ``Call`` a request asks for; ``StoreError`` for malformed requests."""
        trimmed = path.split("?", 1)[0].lstrip("/")
        bucket_text, sep, key_text = trimmed.partition("/")
        key = unquote(key_text) if sep and key_text else None
        level = "service" if not bucket_text else "object" if key is not None else "bucket"
        subs = QINGSTOR_ROUTES.selecting(query_names(query))
        op = self._routes.get((level, method, subs))
        if op is None:
            raise not_implemented(level, method, subs)
        q = parse_query(query)
        if not bucket_text:  # GET Service pages by offset and limit (all without a limit)
            return Call(
                op,
                marker=query_int(q.get("offset"), 0, "offset"),
                max_items=query_int(q.get("limit"), ALL_BUCKETS, "limit", minimum=1),
            )
        bucket = unquote(bucket_text)
        if key is None:
            return self._parse_bucket(op, bucket, q, headers, body)
        upload_id = q.get("upload_id")
        part_number = parse_part_number(q.get("part_number"))
        copy_source = headers.get("x-qs-copy-source")
        sse = self._sse_c(headers, "x-qs-encryption-customer-")
        if method == "POST" and "uploads" in q:
            return Call("create", bucket=bucket, key=key, attrs=self._attrs(headers), sse_c_md5=sse)
        if method == "POST" and upload_id is not None:
            return Call(
                "complete",
                bucket=bucket,
                key=key,
                upload_id=upload_id,
                parts=_complete_parts(body),
            )
        if method == "PUT" and upload_id is not None:
            if copy_source is not None:
                closed, open_form = _copy_range(headers.get("x-qs-copy-range"))
                return Call(
                    "copy_part",
                    bucket=bucket,
                    key=key,
                    upload_id=upload_id,
                    part_number=part_number,
                    source=self._source(headers, copy_source),
                    copy_range=closed,
                    copy_range_header=open_form,
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
            attrs = self._attrs(headers)
            if copy_source is not None:
                directive = (headers.get("x-qs-metadata-directive") or "COPY").upper()
                return Call(
                    "copy_object",
                    bucket=bucket,
                    key=key,
                    source=self._source(headers, copy_source),
                    attrs=attrs,
                    replace_attrs=directive == "REPLACE",
                    sse_c_md5=sse,
                )
            return Call(
                "put",
                bucket=bucket,
                key=key,
                attrs=attrs,
                body=body,
                sse_c_md5=sse,
                content_md5=headers.get("Content-MD5"),
                if_match=headers.get("If-Match"),
                if_none_match=headers.get("If-None-Match"),
            )
        if method == "GET" and upload_id is not None:
            marker = q.get("part_number_marker")
            return Call(
                "list_parts",
                bucket=bucket,
                key=key,
                upload_id=upload_id,
                marker=query_int(marker, -1, "part_number_marker", minimum=-1) if marker else None,
                max_items=query_int(q.get("limit"), 1000, "limit", minimum=-1),
            )
        if method in {"GET", "HEAD"}:
            return Call(
                "get" if method == "GET" else "head",
                bucket=bucket,
                key=key,
                get_range=headers.get("Range"),
                if_match=headers.get("If-Match"),
                if_none_match=headers.get("If-None-Match"),
                if_modified_since=http_time(headers.get("If-Modified-Since")),
                if_unmodified_since=http_time(headers.get("If-Unmodified-Since")),
                sse_c_md5=sse,
            )
        if method == "DELETE" and upload_id is not None:
            return Call("abort", bucket=bucket, key=key, upload_id=upload_id)
        if method == "DELETE":
            return Call("delete", bucket=bucket, key=key)
        raise StoreError(405, "MethodNotAllowed", f"{method} is not allowed here")

    def _parse_bucket(
        self, op: str, bucket: str, q: dict[str, str], headers: Headers, body: bytes
    ) -> Call:
        if op == "list_uploads":
            return Call(
                op,
                bucket=bucket,
                prefix=q.get("prefix", ""),
                key_marker=q.get("key_marker") or None,
                upload_id_marker=q.get("upload_id_marker") or None,
                max_items=query_int(q.get("limit"), 200, "limit", minimum=-1),
            )
        if op == "list_objects":
            limit = query_int(q.get("limit"), 200, "limit", minimum=-1)
            listing = ListQuery(
                prefix=q.get("prefix", ""),
                delimiter=q.get("delimiter") or None,
                start_after=q.get("marker") or None,
                max_keys=200 if limit < 0 else min(limit, 1000),
            )
            return Call(op, bucket=bucket, listing=listing)
        if op == "delete_objects":
            if headers.get("Content-MD5") is None:
                raise StoreError(400, "InvalidRequest", "Content-MD5 is required")
            deletes, quiet = _delete_list(body)
            return Call(op, bucket=bucket, deletes=deletes, quiet=quiet)
        return Call(op, bucket=bucket)

    # --- answers ---------------------------------------------------------------------

    def _base(self) -> dict[str, str]:
        return {"X-QS-Request-ID": self.request_id}

    def _json(self, obj: Any, status: int = 200) -> Answer:
        headers = self._base()
        headers["Content-Type"] = "application/json"
        return Answer(status, headers, json.dumps(obj).encode())

    def error(self, err: StoreError, *, head: bool = False, status: int | None = None) -> Answer:
        """``{code, message, request_id, url}`` (no body for HEAD)."""
        if head or err.status == 304:
            return Answer(status or err.status, self._base())
        return self._json(
            {
                "code": qingstor_code(err.code),
                "message": err.message,
                "request_id": self.request_id,
                "url": "https://docs.qingcloud.com/qingstor/api/common/error_code.html",
            },
            status or err.status,
        )

    def error_in_200(self) -> Answer:
        """An error document under a 2xx status: proves nothing, must not be trusted."""
        err = StoreError(500, "InternalError", "We encountered an internal error.")
        return self.error(err, status=200)

    def _etag_answer(self, status: int, etag: str | None) -> Answer:
        headers = self._base()
        if etag is not None:
            headers["ETag"] = quote_etag(etag)
        return Answer(status, headers)

    def _object_headers(self, version: ObjectVersion) -> dict[str, str]:
        headers = self._base()
        attrs = version.attrs
        headers["ETag"] = quote_etag(version.etag)
        headers["Last-Modified"] = http_date(version.last_modified)
        headers["Content-Type"] = attrs.content_type or "application/octet-stream"
        headers["x-qs-storage-class"] = attrs.storage_class or "STANDARD"
        for name, value in (
            ("Content-Encoding", attrs.content_encoding),
            ("Content-Disposition", attrs.content_disposition),
            ("Cache-Control", attrs.cache_control),
            ("Expires", attrs.expires),
        ):
            if value is not None:
                headers[name] = value
        for name, value in attrs.metadata.items():
            headers[f"x-qs-meta-{name}"] = value
        self._sse_headers(headers, version.sse_c_md5)
        return headers

    @staticmethod
    def _sse_headers(headers: dict[str, str], sse_c_md5: str | None) -> None:
        """QingStor reports the customer key's algorithm and MD5 on encrypted objects."""
        if sse_c_md5 is not None:
            headers["x-qs-encryption-customer-algorithm"] = "AES256"
            headers["x-qs-encryption-customer-key-md5"] = sse_c_md5

    def _list_objects(self, out: Outcome) -> Answer:
        call, listed = out.call, out.listed
        assert call.listing is not None and listed is not None
        q = call.listing
        owner = self.default_owner
        return self._json(
            {
                "name": call.bucket,
                "prefix": q.prefix,
                "delimiter": q.delimiter or "",
                "marker": q.start_after or "",
                "limit": q.max_keys,
                "has_more": listed.truncated,
                "next_marker": listed.next_key if listed.truncated else "",
                "owner": {"id": owner_id(owner), "name": owner},
                "common_prefixes": list(listed.prefixes),
                "keys": [
                    {
                        "key": v.key,
                        "size": v.size,
                        "etag": quote_etag(v.etag),
                        "mime_type": v.attrs.content_type or "application/octet-stream",
                        "modified": int(v.last_modified.timestamp()),
                        "created": iso_date(v.last_modified),
                        "encrypted": v.sse_c_md5 is not None,
                        "storage_class": v.attrs.storage_class or "STANDARD",
                    }
                    for v, _ in listed.entries
                ],
            }
        )

    def render(self, out: Outcome, *, etag: bool = True) -> Answer:
        """The success answer for ``out``; ``etag=False`` leaves the ETag out (a fault)."""
        call = out.call
        op = call.op
        if op == "bucket":
            return Answer(201, self._base())
        if op in {"delete_bucket"}:
            return Answer(204, self._base())
        if op == "list_buckets":
            return self._json(
                {
                    "count": out.bucket_count,
                    "buckets": [
                        {"name": name, "location": "pek3b", "created": iso_date(when)}
                        for name, when in out.buckets
                    ],
                }
            )
        if op == "delete_objects":
            return self._json(
                {
                    "deleted": [
                        {"key": d.key} for d in out.deleted if d.error is None and not call.quiet
                    ],
                    "errors": [
                        {"key": d.key, "code": qingstor_code(d.error[0]), "message": d.error[1]}
                        for d in out.deleted
                        if d.error is not None
                    ],
                }
            )
        if op in {"head_bucket", "get_versioning"}:
            return Answer(200, self._base())
        if op in {"head", "get"}:
            version = out.version
            assert version is not None and version.content is not None
            headers = self._object_headers(version)
            if not etag:
                del headers["ETag"]
            if op == "head":
                return Answer(200, headers, head_length=version.size)
            assert out.content is not None
            if out.content_range is not None:
                first, last, size = out.content_range
                headers["Content-Range"] = f"bytes {first}-{last}/{size}"
                return Answer(206, headers, stream=out.content)
            return Answer(200, headers, stream=out.content)
        if op in {"put", "copy_object", "complete"}:
            assert out.version is not None
            answer = self._etag_answer(201, out.version.etag if etag else None)
            if out.version.sse_c_md5 is not None:
                headers = dict(answer.headers)
                self._sse_headers(headers, out.version.sse_c_md5)
                return Answer(201, headers)
            return answer
        if op in {"upload_part", "copy_part"}:
            assert out.part is not None
            answer = self._etag_answer(201, out.part.etag if etag else None)
            if call.sse_c_md5 is not None:
                headers = dict(answer.headers)
                self._sse_headers(headers, call.sse_c_md5)
                return Answer(201, headers)
            return answer
        if op in {"delete", "abort"}:
            return Answer(204, self._base())
        if op == "create":
            assert out.upload is not None
            return self._json(
                {"bucket": call.bucket, "key": call.key, "upload_id": out.upload.upload_id}
            )
        if op == "list_parts":
            return self._json(
                {
                    "count": out.total_parts,
                    "has_more": out.truncated,
                    "object_parts": [
                        {
                            "part_number": p.number,
                            "size": p.size,
                            "etag": quote_etag(p.etag),
                            "created": iso_date(p.last_modified),
                        }
                        for p in out.parts
                    ],
                }
            )
        if op == "list_uploads":
            final = out.uploads[-1] if out.truncated and out.uploads else None
            return self._json(
                {
                    "name": call.bucket,
                    "prefix": call.prefix,
                    "limit": call.max_items,
                    "has_more": out.truncated,
                    "next_key_marker": final.key if final and not self.omit_next_key_marker else "",
                    "next_upload_id_marker": final.upload_id if final else "",
                    "uploads": [
                        {"key": u.key, "upload_id": u.upload_id, "created": iso_date(u.initiated)}
                        for u in out.uploads
                    ],
                }
            )
        if op == "list_objects":
            return self._list_objects(out)
        raise StoreError(501, "NotImplemented", f"{op} is not implemented")


def _copy_range(text: str | None) -> tuple[tuple[int, int] | None, str | None]:
    """``x-qs-copy-range`` in any form of the Range header: a closed ``bytes=a-b`` now,
    an open one (``bytes=a-``, ``bytes=-n``) to resolve against the source's size."""
    if text is None:
        return None, None
    value = text.strip()
    first, sep, last = value[6:].partition("-") if value.startswith("bytes=") else ("", "", "")
    if sep and first.isdigit() and last.isdigit():
        return (int(first), int(last)), None
    if sep and (first.isdigit() or last.isdigit()) and not (first and last):
        return None, value
    raise StoreError(
        400, "InvalidArgument", "x-qs-copy-range must be bytes=first-last, bytes=first- or bytes=-n"
    )


def _delete_list(body: bytes) -> tuple[tuple[tuple[str, str | None], ...], bool]:
    """Delete Multiple Objects' ``{"objects": [{"key": ...}], "quiet": bool}`` body."""
    bad = StoreError(400, "InvalidRequest", "the body must be JSON {objects: [{key}]}")
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        raise bad from None
    items = doc.get("objects") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items or len(items) > 1000:
        raise bad
    keys: list[tuple[str, str | None]] = []
    for item in items:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key:
            raise bad
        keys.append((key, None))
    return tuple(keys), doc.get("quiet") is True


def _complete_parts(body: bytes) -> tuple[tuple[int, str], ...]:
    bad = StoreError(400, "InvalidRequest", "the complete body must be JSON object_parts")
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        raise bad from None
    items = doc.get("object_parts") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise bad
    parts: list[tuple[int, str]] = []
    for item in items:
        if not isinstance(item, dict):
            raise bad
        number, etag = item.get("part_number"), item.get("etag")
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise bad
        parts.append((number, etag))
    return tuple(parts)
