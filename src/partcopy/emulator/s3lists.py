"""Listing answers of the XML dialects: ListBuckets, ListObjects (v1, v2),
ListObjectVersions, DeleteObjects and object tagging documents."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, quote

from partcopy.emulator.calls import Outcome
from partcopy.emulator.wire import Answer, encode_token, iso_date, owner_id, xml_doc
from partcopy.emulator.xmldialects import XmlDialect
from partcopy.store.memory import ObjectVersion, quote_etag

__all__ = ["ListAnswers"]

Items = list[tuple[str, object]]


class ListAnswers:
    """The listing half of ``XmlAnswers``, which sets ``d``, ``prefix`` and ``request_id``."""

    d: XmlDialect
    prefix: str
    request_id: str
    default_owner: str = ""

    def _base(self) -> dict[str, str]:
        return {self.d.request_id_header: self.request_id}

    def _xml(self, root: str, items: Items, status: int = 200) -> Answer:
        headers = self._base()
        headers["Content-Type"] = "application/xml"
        return Answer(status, headers, xml_doc(root, items, self.d.namespace))

    def _owner(self, access_key: str) -> tuple[tuple[str, str], ...]:
        name = access_key or self.default_owner
        return (("ID", owner_id(name)), ("DisplayName", name))

    def _list_buckets(self, out: Outcome, etag: bool) -> Answer:
        buckets = [(("Name", name), ("CreationDate", iso_date(when))) for name, when in out.buckets]
        last = out.buckets[-1][0] if out.truncated and out.buckets else None
        items: Items = [("Owner", self._owner(out.owner))]
        if self.d.name == "cos":  # COS pages by marker and always says whether it did
            items += [
                ("Marker", out.call.key_marker or ""),
                ("NextMarker", last),
                ("IsTruncated", "true" if out.truncated else "false"),
            ]
        items.append(("Buckets", (("Bucket", buckets),)))
        if self.d.name == "s3" and last is not None:
            items.append(("ContinuationToken", encode_token(last)))
        return self._xml("ListAllMyBucketsResult", items)

    def _location(self, out: Outcome, etag: bool) -> Answer:
        return self._xml("LocationConstraint", [])

    def _checksum_items(self, v: ObjectVersion) -> Items:
        if v.checksum is None:
            return []
        kind = "FULL_OBJECT" if v.checksum.full_object else "COMPOSITE"
        return [("ChecksumAlgorithm", v.checksum.algorithm), ("ChecksumType", kind)]

    def _list_objects(self, out: Outcome, etag: bool) -> Answer:
        call, listed = out.call, out.listed
        assert call.listing is not None and listed is not None
        q = call.listing
        enc = _encoder(q.encoding_type)
        contents = [
            (
                ("Key", enc(v.key)),
                ("LastModified", iso_date(v.last_modified)),
                ("ETag", quote_etag(v.etag)),
                *self._checksum_items(v),
                ("Size", v.size),
                ("Owner", self._owner(v.owner) if q.fetch_owner else None),
                ("StorageClass", v.attrs.storage_class or "STANDARD"),
            )
            for v, _ in listed.entries
        ]
        common = [(("Prefix", enc(p)),) for p in listed.prefixes]
        items: Items = [("Name", call.bucket), ("Prefix", enc(q.prefix))]
        if q.version == 2:
            token = encode_token(listed.next_key) if listed.next_key is not None else None
            items += [
                ("ContinuationToken", q.continuation_token),
                ("StartAfter", enc(q.start_after) if q.continuation_token is None else None),
                ("NextContinuationToken", token if listed.truncated else None),
                ("KeyCount", len(contents) + len(common)),
            ]
        else:
            items += [
                ("Marker", enc(q.start_after or "")),
                ("NextMarker", enc(listed.next_key) if listed.truncated and q.delimiter else None),
            ]
        items += [
            ("MaxKeys", q.max_keys),
            ("Delimiter", enc(q.delimiter) if q.delimiter else None),
            ("EncodingType", q.encoding_type),
            ("IsTruncated", listed.truncated),
            ("Contents", contents),
            ("CommonPrefixes", common),
        ]
        return self._xml("ListBucketResult", items)

    def _list_versions(self, out: Outcome, etag: bool) -> Answer:
        call, listed = out.call, out.listed
        assert call.listing is not None and listed is not None
        q = call.listing
        enc = _encoder(q.encoding_type)
        items: Items = [
            ("Name", call.bucket),
            ("Prefix", enc(q.prefix)),
            ("KeyMarker", enc(q.start_after or "")),
            ("VersionIdMarker", q.version_id_marker or ""),
            ("NextKeyMarker", enc(listed.next_key) if listed.truncated else None),
            ("NextVersionIdMarker", listed.next_version_id if listed.truncated else None),
            ("MaxKeys", q.max_keys),
            ("Delimiter", enc(q.delimiter) if q.delimiter else None),
            ("EncodingType", q.encoding_type),
            ("IsTruncated", listed.truncated),
        ]
        for v, latest in listed.entries:
            common_items: Items = [
                ("Key", enc(v.key)),
                ("VersionId", v.version_id),
                ("IsLatest", latest),
                ("LastModified", iso_date(v.last_modified)),
            ]
            if v.is_delete_marker:
                items.append(("DeleteMarker", (*common_items, ("Owner", self._owner(v.owner)))))
                continue
            items.append(
                (
                    "Version",
                    (
                        *common_items,
                        ("ETag", quote_etag(v.etag)),
                        *self._checksum_items(v),
                        ("Size", v.size),
                        ("StorageClass", v.attrs.storage_class or "STANDARD"),
                        ("Owner", self._owner(v.owner)),
                    ),
                )
            )
        items.append(("CommonPrefixes", [(("Prefix", enc(p)),) for p in listed.prefixes]))
        return self._xml("ListVersionsResult", items)

    def _delete_objects(self, out: Outcome, etag: bool) -> Answer:
        items: Items = []
        for d in out.deleted:
            if d.error is not None:
                code, message = d.error
                items.append(
                    (
                        "Error",
                        (
                            ("Key", d.key),
                            ("VersionId", d.version_id),
                            ("Code", code),
                            ("Message", message),
                        ),
                    )
                )
            elif not out.call.quiet:
                marker = d.delete_marker_version
                items.append(
                    (
                        "Deleted",
                        (
                            ("Key", d.key),
                            ("VersionId", d.version_id),
                            ("DeleteMarker", True if marker else None),
                            ("DeleteMarkerVersionId", marker),
                        ),
                    )
                )
        return self._xml("DeleteResult", items)

    def _get_tagging(self, out: Outcome, etag: bool) -> Answer:
        version = out.version
        assert version is not None
        pairs = parse_qsl(version.attrs.tagging or "", keep_blank_values=True)
        tags = [(("Key", k), ("Value", v)) for k, v in pairs]
        answer = self._xml("Tagging", [("TagSet", (("Tag", tags),))])
        return self._with_version_id(answer, version)

    def _tagging_done(self, out: Outcome, etag: bool) -> Answer:
        version = out.version
        assert version is not None
        status = 204 if out.call.op == "delete_tagging" else 200
        return self._with_version_id(Answer(status, self._base()), version)

    def _with_version_id(self, answer: Answer, version: ObjectVersion) -> Answer:
        if version.version_id == "null":
            return answer
        headers = {**answer.headers, self.prefix + "version-id": version.version_id}
        return Answer(answer.status, headers, answer.body)


def _encoder(encoding: str | None) -> Callable[[str | None], str | None]:
    """``encoding-type=url``: keys and prefixes URL-encoded in the answer."""
    if encoding != "url":
        return lambda text: text
    return lambda text: None if text is None else quote(text, safe="/")
