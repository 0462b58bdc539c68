"""What distinguishes the XML dialects (S3, OBS, COS) on the wire: data, not subclasses."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COS", "OBS", "S3", "XmlDialect", "cos_bucket_of_host"]


@dataclass(frozen=True, slots=True)
class XmlDialect:
    """Header prefixes, XML namespace, where the bucket travels, the request-id header."""

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
_COS_SERVICE_HOST = "service.cos.myqcloud.com"


def cos_bucket_of_host(host: str) -> str | None:
    """The bucket of a ``<bucket-appid>.cos.<region>.myqcloud.com[:port]`` host, else None
    (``service.cos.myqcloud.com``, GET Service's host, names no bucket)."""
    name = host.split(":", 1)[0]
    if name == _COS_SERVICE_HOST:
        return None
    if _COS_HOST_MARK in name and name.endswith(".myqcloud.com"):
        return name.split(_COS_HOST_MARK, 1)[0]
    return None


def cos_bucket_of_source(text: str) -> str:
    """COS names a copy source's bucket by its host; plain bucket names pass through."""
    return text.split(_COS_HOST_MARK, 1)[0] if _COS_HOST_MARK in text else text
