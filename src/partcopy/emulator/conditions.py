"""HTTP preconditions as S3 evaluates them: reads (304/412), copy sources (412), writes.

Precedence follows RFC 9110 and S3's documentation: a present If-Match decides alone
(If-Unmodified-Since is then ignored), and a present If-None-Match decides alone
(If-Modified-Since is then ignored). A read whose If-None-Match matches, or that was not
modified since, is 304; a copy source that fails any condition is 412.
"""

from __future__ import annotations

from datetime import datetime

from partcopy.store.memory import ObjectVersion, StoreError
from partcopy.store.records import bare_etag

__all__ = ["check_read", "check_source", "check_write", "etag_matches"]


def etag_matches(condition: str, etag: str) -> bool:
    """Does an If-Match/If-None-Match value (``*``, one ETag or a list) name ``etag``?"""
    if condition == f'"{etag}"':  # the usual pinned source: one quoted ETag
        return True
    for item in condition.split(","):
        value = bare_etag(item.strip().removeprefix("W/"))
        if value == "*" or value == etag:
            return True
    return False


def _failed(resource: str) -> StoreError:
    return StoreError(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        resource=resource,
    )


def _not_modified(resource: str) -> StoreError:
    return StoreError(304, "NotModified", "Not Modified", resource=resource)


def _evaluate(
    version: ObjectVersion,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None,
    if_unmodified_since: datetime | None,
) -> tuple[bool, bool]:
    """(the "match" half held, the "none-match" half held)."""
    modified = version.last_modified
    if if_match is not None:
        match_ok = etag_matches(if_match, version.etag)
    else:
        match_ok = if_unmodified_since is None or modified <= if_unmodified_since
    if if_none_match is not None:
        none_ok = not etag_matches(if_none_match, version.etag)
    else:
        none_ok = if_modified_since is None or modified > if_modified_since
    return match_ok, none_ok


def check_read(
    version: ObjectVersion,
    resource: str,
    *,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None,
    if_unmodified_since: datetime | None,
) -> None:
    """GET/HEAD: 412 when the match half fails, else 304 when the none-match half does."""
    match_ok, none_ok = _evaluate(
        version, if_match, if_none_match, if_modified_since, if_unmodified_since
    )
    if not match_ok:
        raise _failed(resource)
    if not none_ok:
        raise _not_modified(resource)


def check_source(
    version: ObjectVersion,
    resource: str,
    *,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None,
    if_unmodified_since: datetime | None,
) -> None:
    """A copy source (CopyObject, UploadPartCopy): 412 when either half fails."""
    match_ok, none_ok = _evaluate(
        version, if_match, if_none_match, if_modified_since, if_unmodified_since
    )
    if not (match_ok and none_ok):
        raise _failed(resource)


def check_write(
    current: ObjectVersion | None,
    resource: str,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> None:
    """A conditional write (PUT, Complete): ``If-None-Match: *`` needs no current object,
    ``If-Match`` needs the current one to carry that ETag (404 when there is none)."""
    if if_none_match is not None:
        if bare_etag(if_none_match) != "*":
            raise StoreError(
                501,
                "NotImplemented",
                "If-None-Match on a write only supports '*'",
                resource=resource,
            )
        if current is not None:
            raise _failed(resource)
    if if_match is not None:
        if current is None:
            raise StoreError(
                404, "NoSuchKey", "The specified key does not exist.", resource=resource
            )
        if not etag_matches(if_match, current.etag):
            raise _failed(resource)
