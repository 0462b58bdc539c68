"""What differs between dialects, as data: header and query names, codecs, the signer seam.

One :class:`DialectSpec` per dialect (see ``s3.py``, ``obs.py``, ``cos.py``,
``qingstor.py``); the shared :class:`~partcopy.transports.httptransport.HttpTransport`
reads it. Facts come from DIALECTS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from partcopy.transports import parse, parse_json
from partcopy.transports.base import BucketsPage, Dialect, ObjectsPage, PartsPage, UploadsPage
from partcopy.transports.signing.common import QueryParams
from partcopy.transports.verdict import BodyVerdict, ErrorBody

__all__ = ["JSON_CODEC", "XML_CODEC", "Codec", "DialectSpec", "OutRequest", "Signer"]


@dataclass(frozen=True, slots=True)
class OutRequest:
    """A request ready to sign: everything a dialect's signature covers.

    ``path`` is as sent (percent-encoded); ``query`` values are unencoded, ``None`` for a
    bare sub-resource (``?uploads``). ``host`` is the Host header, which for COS on a custom
    endpoint differs from the address connected to; ``bucket_in_host`` says the bucket
    travels in it rather than in the path.
    """

    method: str
    host: str
    path: str
    query: QueryParams
    headers: Mapping[str, str]
    bucket: str
    key: str
    bucket_in_host: bool
    payload_sha256: str


class Signer(Protocol):
    """Returns the headers that authenticate ``req`` (Authorization, dates, hashes)."""

    def __call__(self, req: OutRequest) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class Codec:
    """How a dialect's bodies are read and written (XML for the S3 family, JSON for QingStor)."""

    initiate: Callable[[bytes], str]
    verdict: Callable[[str | None, bytes, str], BodyVerdict]
    """Judge a 2xx copy/complete answer from its ETag header, body and the result root
    the operation answers with (``CopyPartResult``, ``CopyObjectResult``, ...)."""
    error: Callable[[bytes], ErrorBody | None]
    list_parts: Callable[[bytes, int], PartsPage]
    list_uploads: Callable[[bytes, str], UploadsPage]
    list_objects: Callable[[bytes], ObjectsPage]
    list_buckets: Callable[[bytes, str | None], BucketsPage]
    """A ListBuckets page, given the token it was asked with."""
    complete_body: Callable[[Sequence[tuple[int, str]]], bytes]
    complete_content_type: str


def _xml_verdict(etag_header: str | None, body: bytes, root: str) -> BodyVerdict:
    # The S3 family proves a copy by the ETag in the body; the header is not evidence.
    return parse.copy_verdict(body, root)


def _xml_list_parts(body: bytes, limit: int) -> PartsPage:
    return parse.parse_list_parts(body)


XML_CODEC = Codec(
    initiate=parse.parse_initiate,
    verdict=_xml_verdict,
    error=parse.parse_error,
    list_parts=_xml_list_parts,
    list_uploads=parse.parse_list_uploads,
    list_objects=parse.parse_list_objects,
    list_buckets=parse.parse_list_buckets,
    complete_body=parse.build_complete,
    complete_content_type="application/xml",
)

JSON_CODEC = Codec(
    initiate=parse_json.parse_initiate_json,
    verdict=parse_json.json_verdict,
    error=parse_json.json_error,
    list_parts=parse_json.parse_list_parts_json,
    list_uploads=parse_json.parse_list_uploads_json,
    list_objects=parse_json.parse_list_objects_json,
    list_buckets=parse_json.parse_list_buckets_json,
    complete_body=parse_json.build_complete_json,
    complete_content_type="application/json",
)


@dataclass(frozen=True, slots=True)
class DialectSpec:
    """Header prefixes, query names and optional features of one dialect."""

    name: Dialect
    prefix: str
    """Vendor header prefix: ``x-amz-``, ``x-obs-``, ``x-cos-``, ``x-qs-``."""
    codec: Codec
    encode_query: Callable[[QueryParams], str]
    """The wire query string, encoded exactly as the dialect's signature expects."""
    q_upload_id: str = "uploadId"
    q_part_number: str = "partNumber"
    q_part_marker: str = "part-number-marker"
    q_max_parts: str = "max-parts"
    q_version_id: str | None = "versionId"
    q_key_marker: str = "key-marker"
    q_upload_id_marker: str = "upload-id-marker"
    q_max_uploads: str = "max-uploads"
    list_v2: bool = False
    """List with ListObjectsV2 (``list-type=2``, continuation tokens); else markers."""
    q_list_marker: str = "marker"
    q_max_keys: str = "max-keys"
    list_url_encoding: bool = True
    """Ask for ``encoding-type=url`` so any key survives XML 1.0."""
    q_max_buckets: str | None = None
    """ListBuckets' page size (S3 ``max-buckets``, COS ``max-keys``); None: not sent."""
    q_bucket_token: str = "marker"
    """What carries a ListBuckets page's token back (S3 ``continuation-token``)."""
    copy_range: str = "copy-source-range"
    sse_c: str = "server-side-encryption-customer-"
    """Prefix (after the vendor prefix) of the destination SSE-C headers."""
    src_sse_c: str = "copy-source-server-side-encryption-customer-"
    key_md5_suffix: str = "key-MD5"
    sse: str | None = "server-side-encryption"
    tagging: str | None = "tagging"
    tagging_directive: str | None = "tagging-directive"
    """Header that makes CopyObject take the request's tags (``replace_directive``)."""
    kms_key_id: str | None = "server-side-encryption-aws-kms-key-id"
    """Header naming the SSE-KMS key on writes and in HEAD answers."""
    acl: str | None = "acl"
    """Canned-ACL header (``x-amz-acl``)."""
    checksum: str | None = "checksum-"
    """Prefix of the flexible-checksum headers (``x-amz-checksum-crc64nvme``); None: the
    dialect has none."""
    storage_class: str | None = "storage-class"
    part_reads: bool = False
    """HEAD/GET take the part-number query to read one part of a multipart object (S3)."""
    replace_directive: str = "REPLACE"
    """The ``metadata-directive`` value that makes a copy take new attributes."""

    def h(self, name: str) -> str:
        """The vendor header ``name`` (``copy-source`` → ``x-amz-copy-source``)."""
        return self.prefix + name

    @property
    def meta_prefix(self) -> str:
        """User metadata header prefix (``x-amz-meta-``)."""
        return self.prefix + "meta-"
