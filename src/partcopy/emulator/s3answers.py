"""Answers in the XML dialects (S3, OBS, COS): success documents, headers, error documents.

One small method per operation, chosen by the call's operation name.
"""

from __future__ import annotations

from collections.abc import Callable

from partcopy.emulator.calls import Outcome
from partcopy.emulator.s3lists import ListAnswers
from partcopy.emulator.wire import Answer, http_date, iso_date, xml_doc
from partcopy.emulator.xmldialects import XmlDialect
from partcopy.store.memory import (
    DELETE_MARKER_VERSION,
    ObjectVersion,
    StoreError,
    quote_etag,
)
from partcopy.transports.base import ObjectAttributes

__all__ = ["XmlAnswers"]

Items = list[tuple[str, object]]


class XmlAnswers(ListAnswers):
    """Renders outcomes and errors for one XML dialect."""

    def __init__(self, dialect: XmlDialect, request_id: str = "partcopy-emulator") -> None:
        self.d = dialect
        self.prefix = dialect.prefixes[0]
        self.request_id = request_id
        self._renderers: dict[str, Callable[[Outcome, bool], Answer]] = {
            "list_buckets": self._list_buckets,
            "bucket": self._bucket,
            "put_versioning": lambda out, etag: Answer(200, self._base()),
            "delete_bucket": lambda out, etag: Answer(204, self._base()),
            "get_location": self._location,
            "list_versions": self._list_versions,
            "delete_objects": self._delete_objects,
            "get_tagging": self._get_tagging,
            "put_tagging": self._tagging_done,
            "delete_tagging": self._tagging_done,
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
        ):
            if value is not None:
                headers[name] = value
        for name, value in attrs.metadata.items():
            headers[f"{p}meta-{name}"] = value
        if attrs.tagging:
            headers[p + "tagging-count"] = str(len(attrs.tagging.split("&")))
        self.sse_headers(headers, version.attrs, version.sse_c_md5)
        self._version_header(headers, version)
        if version.parts_count is not None:
            headers[p + "mp-parts-count"] = str(version.parts_count)
        return headers

    def sse_headers(
        self, headers: dict[str, str], attrs: ObjectAttributes | None, sse_c_md5: str | None
    ) -> None:
        """The encryption an object (or the upload a part belongs to) is stored with."""
        p = self.prefix
        if attrs is not None and attrs.sse is not None:
            headers[p + "server-side-encryption"] = attrs.sse
            if attrs.sse_kms_key_id is not None:
                kms_name = "kms-key-id" if self.d.name == "obs" else "aws-kms-key-id"
                headers[f"{p}server-side-encryption-{kms_name}"] = attrs.sse_kms_key_id
        if sse_c_md5 is not None:
            headers[p + "server-side-encryption-customer-algorithm"] = "AES256"
            headers[p + "server-side-encryption-customer-key-MD5"] = sse_c_md5

    def _checksum_headers(self, headers: dict[str, str], out: Outcome) -> None:
        for algorithm, value in out.checksums:
            headers[f"x-amz-checksum-{algorithm.lower()}"] = value
            version = out.version
            if version is not None and version.checksum is not None:
                kind = "FULL_OBJECT" if version.checksum.full_object else "COMPOSITE"
                if out.part_range is not None and version.part_sizes:
                    kind = "COMPOSITE" if not version.checksum.full_object else kind
                headers["x-amz-checksum-type"] = kind

    # --- errors ----------------------------------------------------------------------

    def error(self, err: StoreError, *, head: bool = False, status: int | None = None) -> Answer:
        """The dialect's error document (no body for HEAD, as the services do)."""
        if self.d.name == "cos" and err.detail == DELETE_MARKER_VERSION:
            # COS answers 400 where S3 answers 405 when a delete marker is named by version
            err = StoreError(400, "InvalidRequest", err.message, resource=err.resource)
        headers = self._base()
        if head or err.status == 304:
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
        self._checksum_headers(headers, out)
        for name, value in out.call.overrides:
            headers[name] = value
        if out.call.part_number is not None:
            headers[self.prefix + "mp-parts-count"] = str(version.parts_count or 1)
        if out.call.op == "head":
            if out.part_range is not None:
                first, last = out.part_range
                if out.call.part_number is not None and version.parts_count is not None:
                    headers["Content-Range"] = f"bytes {first}-{last}/{version.size}"
                    return Answer(206, headers, head_length=last - first + 1)
            return Answer(200, headers, head_length=version.size)
        assert out.content is not None
        if out.content_range is None:
            return Answer(200, headers, stream=out.content)
        first, last, size = out.content_range
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return Answer(206, headers, stream=out.content)

    def _put(self, out: Outcome, etag: bool) -> Answer:
        version = out.version
        assert version is not None
        answer = self._etag_only(200, version.etag if etag else None, version)
        headers = dict(answer.headers)
        self.sse_headers(headers, version.attrs, version.sse_c_md5)
        self._checksum_headers(headers, out)
        return Answer(200, headers)

    def _delete(self, out: Outcome, etag: bool) -> Answer:
        headers = self._base()
        if out.delete_marker and out.version is not None:
            headers[self.prefix + "delete-marker"] = "true"
            headers[self.prefix + "version-id"] = out.version.version_id
        return Answer(204, headers)

    def _create(self, out: Outcome, etag: bool) -> Answer:
        upload = out.upload
        assert upload is not None
        call = out.call
        answer = self._xml(
            "InitiateMultipartUploadResult",
            [("Bucket", call.bucket), ("Key", call.key), ("UploadId", upload.upload_id)],
        )
        headers = dict(answer.headers)
        self.sse_headers(headers, upload.attrs, upload.sse_c_md5)
        if upload.checksum_algorithm is not None:
            headers["x-amz-checksum-algorithm"] = upload.checksum_algorithm
            kind = "FULL_OBJECT" if upload.checksum_full_object else "COMPOSITE"
            headers["x-amz-checksum-type"] = kind
        return Answer(answer.status, headers, answer.body)

    def _upload_part(self, out: Outcome, etag: bool) -> Answer:
        part = out.part
        assert part is not None
        answer = self._etag_only(200, part.etag if etag else None, None)
        if out.upload is None and part.checksum is None and out.call.sse_c_md5 is None:
            return answer
        headers = dict(answer.headers)
        upload = out.upload
        self.sse_headers(headers, upload.attrs if upload else None, out.call.sse_c_md5)
        if part.checksum is not None and upload is not None and upload.checksum_algorithm:
            headers[f"x-amz-checksum-{upload.checksum_algorithm.lower()}"] = part.checksum
        return Answer(200, headers)

    def _copy_part(self, out: Outcome, etag: bool) -> Answer:
        part = out.part
        assert part is not None
        items: Items = [
            ("LastModified", iso_date(part.last_modified)),
            ("ETag", quote_etag(part.etag) if etag else None),
        ]
        upload = out.upload
        if part.checksum is not None and upload is not None and upload.checksum_algorithm:
            items.append((f"Checksum{upload.checksum_algorithm}", part.checksum))
        answer = self._xml("CopyPartResult", items)
        source = out.source_version
        source_version = source.version_id if source is not None else "null"
        if (
            source_version == "null"
            and out.call.sse_c_md5 is None
            and (upload is None or upload.attrs.sse is None)
        ):
            return answer  # the usual answer, kept cheap: UploadPartCopy is the hot path
        headers = dict(answer.headers)
        self.sse_headers(headers, upload.attrs if upload else None, out.call.sse_c_md5)
        if source_version != "null":
            headers[self.prefix + "copy-source-version-id"] = source_version
        return Answer(answer.status, headers, answer.body)

    def _with_version(self, answer: Answer, version: ObjectVersion) -> Answer:
        headers = dict(answer.headers)
        self._version_header(headers, version)
        return Answer(answer.status, headers, answer.body)

    def _copy_object(self, out: Outcome, etag: bool) -> Answer:
        version = out.version
        assert version is not None
        items: Items = [
            ("LastModified", iso_date(version.last_modified)),
            ("ETag", quote_etag(version.etag) if etag else None),
        ]
        for algorithm, value in out.checksums:
            items.append((f"Checksum{algorithm}", value))
        answer = self._with_version(self._xml("CopyObjectResult", items), version)
        headers = dict(answer.headers)
        self.sse_headers(headers, version.attrs, version.sse_c_md5)
        if out.source_version is not None and out.source_version.version_id != "null":
            headers[self.prefix + "copy-source-version-id"] = out.source_version.version_id
        return Answer(answer.status, headers, answer.body)

    def _complete(self, out: Outcome, etag: bool) -> Answer:
        version, call = out.version, out.call
        assert version is not None
        items: Items = [
            ("Location", f"/{call.bucket}/{call.key}"),
            ("Bucket", call.bucket),
            ("Key", call.key),
            ("ETag", quote_etag(version.etag) if etag else None),
        ]
        checksum = version.checksum
        if checksum is not None:
            items.append((f"Checksum{checksum.algorithm}", checksum.value))
            items.append(("ChecksumType", "FULL_OBJECT" if checksum.full_object else "COMPOSITE"))
        answer = self._with_version(self._xml("CompleteMultipartUploadResult", items), version)
        if version.attrs.sse is None and version.sse_c_md5 is None:
            return answer
        headers = dict(answer.headers)
        self.sse_headers(headers, version.attrs, version.sse_c_md5)
        return Answer(answer.status, headers, answer.body)

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
