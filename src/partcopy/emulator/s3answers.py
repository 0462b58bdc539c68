"""Answers in the XML dialects (S3, OBS, COS): success documents, headers, error documents.

One small method per operation, chosen by the call's operation name.
"""

from __future__ import annotations

from collections.abc import Callable

from partcopy.emulator.ops import Outcome
from partcopy.emulator.wire import Answer, http_date, iso_date, xml_doc
from partcopy.emulator.xmldialects import XmlDialect
from partcopy.store.memory import (
    DELETE_MARKER_VERSION,
    ObjectVersion,
    StoreError,
    quote_etag,
)

__all__ = ["XmlAnswers"]

Items = list[tuple[str, object]]


class XmlAnswers:
    """Renders outcomes and errors for one XML dialect."""

    def __init__(self, dialect: XmlDialect, request_id: str = "partcopy-emulator") -> None:
        self.d = dialect
        self.prefix = dialect.prefixes[0]
        self.request_id = request_id
        self._renderers: dict[str, Callable[[Outcome, bool], Answer]] = {
            "bucket": self._bucket,
            "head_bucket": lambda out, etag: Answer(200, self._base()),
            "get_versioning": self._versioning,
            "head": self._object,
            "get": self._object,
            "put": self._put,
            "delete": self._delete,
            "create": self._create,
            "upload_part": self._upload_part,
            "copy_part": self._copy_part,
            "copy_object": self._copy_object,
            "complete": self._complete,
            "abort": lambda out, etag: Answer(204, self._base()),
            "list_parts": self._list_parts,
            "list_uploads": self._list_uploads,
            "list_objects": self._list_objects,
        }

    # --- shared pieces ---------------------------------------------------------------

    def _base(self) -> dict[str, str]:
        return {self.d.request_id_header: self.request_id}

    def _xml(self, root: str, items: Items, status: int = 200) -> Answer:
        headers = self._base()
        headers["Content-Type"] = "application/xml"
        return Answer(status, headers, xml_doc(root, items, self.d.namespace))

    def _version_header(self, headers: dict[str, str], version: ObjectVersion) -> None:
        if version.version_id != "null":
            headers[self.prefix + "version-id"] = version.version_id

    def _etag_only(self, status: int, etag: str | None, version: ObjectVersion | None) -> Answer:
        headers = self._base()
        if etag is not None:
            headers["ETag"] = quote_etag(etag)
        if version is not None:
            self._version_header(headers, version)
        return Answer(status, headers)

    def object_headers(self, version: ObjectVersion) -> dict[str, str]:
        """What HEAD and GET say of an object besides its bytes."""
        headers = self._base()
        attrs = version.attrs
        headers["ETag"] = quote_etag(version.etag)
        headers["Last-Modified"] = http_date(version.last_modified)
        headers["Accept-Ranges"] = "bytes"
        headers["Content-Type"] = attrs.content_type or "binary/octet-stream"
        p = self.prefix
        for name, value in (
            ("Content-Encoding", attrs.content_encoding),
            ("Content-Language", attrs.content_language),
            ("Content-Disposition", attrs.content_disposition),
            ("Cache-Control", attrs.cache_control),
            ("Expires", attrs.expires),
            (p + "storage-class", attrs.storage_class),
            (p + "server-side-encryption", attrs.sse),
        ):
            if value is not None:
                headers[name] = value
        for name, value in attrs.metadata.items():
            headers[f"{p}meta-{name}"] = value
        if attrs.tagging:
            headers[p + "tagging-count"] = str(len(attrs.tagging.split("&")))
        if version.sse_c_md5 is not None:
            headers[p + "server-side-encryption-customer-algorithm"] = "AES256"
            headers[p + "server-side-encryption-customer-key-MD5"] = version.sse_c_md5
        self._version_header(headers, version)
        if version.parts_count is not None:
            headers[p + "mp-parts-count"] = str(version.parts_count)
        return headers

    # --- errors ----------------------------------------------------------------------

    def error(self, err: StoreError, *, head: bool = False, status: int | None = None) -> Answer:
        """The dialect's error document (no body for HEAD, as the services do)."""
        if self.d.name == "cos" and err.detail == DELETE_MARKER_VERSION:
            # COS answers 400 where S3 answers 405 when a delete marker is named by version
            err = StoreError(400, "InvalidRequest", err.message, resource=err.resource)
        headers = self._base()
        if head:
            return Answer(status or err.status, headers)
        items: Items = [
            ("Code", err.code),
            ("Message", err.message),
            ("Resource", err.resource or "/"),
            ("RequestId", self.request_id),
            ("TraceId" if self.d.name == "cos" else "HostId", self.request_id),
        ]
        headers["Content-Type"] = "application/xml"
        return Answer(status or err.status, headers, xml_doc("Error", items, None))

    def error_in_200(self) -> Answer:
        """S3's error-bodied 200 (UploadPartCopy, CopyObject, Complete can answer this)."""
        err = StoreError(
            500, "InternalError", "We encountered an internal error. Please try again."
        )
        return self.error(err, status=200)

    # --- success ---------------------------------------------------------------------

    def render(self, out: Outcome, *, etag: bool = True) -> Answer:
        """The success answer for ``out``; ``etag=False`` leaves the ETag out (a fault)."""
        renderer = self._renderers.get(out.call.op)
        if renderer is None:
            raise StoreError(501, "NotImplemented", f"{out.call.op} is not implemented")
        return renderer(out, etag)

    def _bucket(self, out: Outcome, etag: bool) -> Answer:
        return Answer(200, {**self._base(), "Location": f"/{out.call.bucket}"})

    def _versioning(self, out: Outcome, etag: bool) -> Answer:
        status = None if out.versioning == "Off" else out.versioning
        return self._xml("VersioningConfiguration", [("Status", status)])

    def _object(self, out: Outcome, etag: bool) -> Answer:
        version = out.version
        assert version is not None
        headers = self.object_headers(version)
        if not etag:
            del headers["ETag"]
        if out.call.op == "head":
            return Answer(200, headers, head_length=version.size)
        assert out.content is not None
        if out.content_range is None:
            return Answer(200, headers, stream=out.content)
        first, last, size = out.content_range
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return Answer(206, headers, stream=out.content)

    def _put(self, out: Outcome, etag: bool) -> Answer:
        assert out.version is not None
        return self._etag_only(200, out.version.etag if etag else None, out.version)

    def _delete(self, out: Outcome, etag: bool) -> Answer:
        headers = self._base()
        if out.delete_marker and out.version is not None:
            headers[self.prefix + "delete-marker"] = "true"
            headers[self.prefix + "version-id"] = out.version.version_id
        return Answer(204, headers)

    def _create(self, out: Outcome, etag: bool) -> Answer:
        assert out.upload is not None
        call = out.call
        return self._xml(
            "InitiateMultipartUploadResult",
            [("Bucket", call.bucket), ("Key", call.key), ("UploadId", out.upload.upload_id)],
        )

    def _upload_part(self, out: Outcome, etag: bool) -> Answer:
        assert out.part is not None
        return self._etag_only(200, out.part.etag if etag else None, None)

    def _copy_part(self, out: Outcome, etag: bool) -> Answer:
        assert out.part is not None
        return self._xml(
            "CopyPartResult",
            [
                ("LastModified", iso_date(out.part.last_modified)),
                ("ETag", quote_etag(out.part.etag) if etag else None),
            ],
        )

    def _with_version(self, answer: Answer, version: ObjectVersion) -> Answer:
        headers = dict(answer.headers)
        self._version_header(headers, version)
        return Answer(answer.status, headers, answer.body)

    def _copy_object(self, out: Outcome, etag: bool) -> Answer:
        version = out.version
        assert version is not None
        answer = self._xml(
            "CopyObjectResult",
            [
                ("LastModified", iso_date(version.last_modified)),
                ("ETag", quote_etag(version.etag) if etag else None),
            ],
        )
        return self._with_version(answer, version)

    def _complete(self, out: Outcome, etag: bool) -> Answer:
        version, call = out.version, out.call
        assert version is not None
        answer = self._xml(
            "CompleteMultipartUploadResult",
            [
                ("Location", f"/{call.bucket}/{call.key}"),
                ("Bucket", call.bucket),
                ("Key", call.key),
                ("ETag", quote_etag(version.etag) if etag else None),
            ],
        )
        return self._with_version(answer, version)

    def _list_parts(self, out: Outcome, etag: bool) -> Answer:
        call = out.call
        parts = [
            (
                ("PartNumber", p.number),
                ("LastModified", iso_date(p.last_modified)),
                ("ETag", quote_etag(p.etag)),
                ("Size", p.size),
            )
            for p in out.parts
        ]
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
                ("Part", parts),
                ("StorageClass", "STANDARD"),
            ],
        )

    omit_next_key_marker = False
    """Quirk ``uploads-no-key-marker``: page uploads by NextUploadIdMarker alone (SeaweedFS)."""

    def _list_uploads(self, out: Outcome, etag: bool) -> Answer:
        call = out.call
        last = out.uploads[-1] if out.truncated and out.uploads else None
        next_key = None if last is None or self.omit_next_key_marker else last.key
        uploads = [
            (
                ("Key", u.key),
                ("UploadId", u.upload_id),
                ("Initiated", iso_date(u.initiated)),
                ("StorageClass", u.attrs.storage_class or "STANDARD"),
            )
            for u in out.uploads
        ]
        return self._xml(
            "ListMultipartUploadsResult",
            [
                ("Bucket", call.bucket),
                ("KeyMarker", call.key_marker or ""),
                ("UploadIdMarker", call.upload_id_marker or ""),
                ("NextKeyMarker", next_key),
                ("NextUploadIdMarker", last.upload_id if last else None),
                ("Prefix", call.prefix),
                ("MaxUploads", call.max_items),
                ("IsTruncated", out.truncated),
                ("Upload", uploads),
            ],
        )

    def _list_objects(self, out: Outcome, etag: bool) -> Answer:
        call = out.call
        last_key = out.objects[-1].key if out.truncated and out.objects else None
        contents = [
            (
                ("Key", v.key),
                ("LastModified", iso_date(v.last_modified)),
                ("ETag", quote_etag(v.etag)),
                ("Size", v.size),
                ("StorageClass", v.attrs.storage_class or "STANDARD"),
            )
            for v in out.objects
        ]
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
                ("Contents", contents),
            ],
        )
