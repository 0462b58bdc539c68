"""What a store's error codes mean: one ``ErrorCodes`` table per family, read by transports.

``classify`` decides which typed ``ServiceError`` an answer is raised as and
``retryable_answer`` whether another attempt may help; nothing else reads vendor codes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from partcopy.errors import ErrorKind

__all__ = ["QINGSTOR_ERRORS", "S3_ERRORS", "ErrorCodes"]

_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_THROTTLE_STATUS = frozenset({429, 503})
# Never retried whatever the code says: the request itself is wrong or forbidden.
_FATAL_STATUS = frozenset({400, 401, 403, 404, 405, 409, 411, 412, 416})
_NOT_FOUND_BY_OPERATION: Mapping[str, ErrorKind] = {
    # A 404 without a known code (HEAD answers have no body) means what was named.
    "head": ErrorKind.OBJECT_NOT_FOUND,
    "get_range": ErrorKind.OBJECT_NOT_FOUND,
    "copy_object": ErrorKind.OBJECT_NOT_FOUND,
    "list_uploads": ErrorKind.BUCKET_NOT_FOUND,
    "abort": ErrorKind.UPLOAD_NOT_FOUND,
    "list_parts": ErrorKind.UPLOAD_NOT_FOUND,
    "complete": ErrorKind.UPLOAD_NOT_FOUND,
    "upload_part": ErrorKind.UPLOAD_NOT_FOUND,
}


@dataclass(frozen=True, slots=True)
class ErrorCodes:
    """What a store's error codes mean. Only transports and this module read codes."""

    throttled: frozenset[str]
    """Slow down: lowers the adaptive limit and backs off (429 and 503 always do)."""
    retryable: frozenset[str]
    """Worth another attempt even under a status that is otherwise final."""
    fatal: frozenset[str]
    """Inside a 2xx body: the request itself is wrong, retrying cannot help."""
    copy_refused: frozenset[str]
    """The store will not copy this source server-side (501 always): relay instead."""
    object_not_found: frozenset[str] = frozenset({"NoSuchKey", "NoSuchVersion"})
    bucket_not_found: frozenset[str] = frozenset({"NoSuchBucket"})
    upload_not_found: frozenset[str] = frozenset({"NoSuchUpload"})
    access_denied: frozenset[str] = frozenset(
        {
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "AllAccessDisabled",
            "AccountProblem",
            "InvalidSecurity",
            "InvalidToken",
            "ExpiredToken",
        }
    )
    precondition_failed: frozenset[str] = frozenset({"PreconditionFailed"})
    clock_skew: frozenset[str] = frozenset({"RequestTimeTooSkewed"})
    """Retryable even under 403: a re-signed request carries a fresh timestamp."""

    def extended(self, **more: Iterable[str]) -> ErrorCodes:
        """These tables with ``more`` codes added (``extended(throttled={"Busy"})``)."""
        changes = {name: getattr(self, name) | frozenset(codes) for name, codes in more.items()}
        return dataclasses.replace(self, **changes)

    def retryable_answer(self, status: int, code: str | None) -> bool:
        """Whether an error answer with this status and code is worth another attempt."""
        if code is not None and (code in self.retryable or code in self.throttled):
            return status not in {401, 403, 404, 412} or code in self.clock_skew
        if status in _FATAL_STATUS:
            return False
        return status in _RETRYABLE_STATUS

    def classify(self, status: int, code: str | None, operation: str = "") -> ErrorKind:
        """The kind of a non-2xx answer: which ``ServiceError`` subclass it is raised as."""
        if status == 412 or (code is not None and code in self.precondition_failed):
            return ErrorKind.PRECONDITION_FAILED
        if status == 501 or (code is not None and code in self.copy_refused):
            return ErrorKind.COPY_REFUSED
        if status in _THROTTLE_STATUS or (code is not None and code in self.throttled):
            return ErrorKind.THROTTLED
        if code is not None:
            kind = self._named(code)
            if kind is not None:
                return kind
        if status == 404:
            return _NOT_FOUND_BY_OPERATION.get(operation, ErrorKind.NOT_FOUND)
        if status in {401, 403} and (code is None or code not in self.clock_skew):
            return ErrorKind.ACCESS_DENIED
        return ErrorKind.RETRYABLE if self.retryable_answer(status, code) else ErrorKind.FATAL

    def classify_body(self, code: str) -> ErrorKind:
        """The kind of an error code found inside a 2xx answer (always retried unless fatal)."""
        if code in self.precondition_failed:
            return ErrorKind.PRECONDITION_FAILED
        if code in self.throttled:
            return ErrorKind.THROTTLED
        if code in self.copy_refused:
            return ErrorKind.COPY_REFUSED
        kind = self._named(code)
        if kind is not None:
            return kind
        return ErrorKind.FATAL if code in self.fatal else ErrorKind.RETRYABLE

    def _named(self, code: str) -> ErrorKind | None:
        if code in self.upload_not_found:
            return ErrorKind.UPLOAD_NOT_FOUND
        if code in self.object_not_found:
            return ErrorKind.OBJECT_NOT_FOUND
        if code in self.bucket_not_found:
            return ErrorKind.BUCKET_NOT_FOUND
        if code in self.access_denied:
            return ErrorKind.ACCESS_DENIED
        return None


# Error codes of the S3 family (S3, OBS and COS answer S3's codes); the retry table is
# DIALECTS.md's "Retry" (read from botocore), kept as it was before the rows existed.
S3_ERRORS = ErrorCodes(
    throttled=frozenset(
        {
            "SlowDown",
            "Throttling",
            "ThrottlingException",
            "TooManyRequests",
            "RequestLimitExceeded",
        }
    ),
    retryable=frozenset(
        {
            "ServiceUnavailable",
            "RequestTimeout",
            "RequestTimeTooSkewed",
            "InternalError",
            "BandwidthLimitExceeded",
            "EC2ThrottledException",
            "ProvisionedThroughputExceededException",
            "TransactionInProgress",
            "OperationAborted",
        }
    ),
    fatal=frozenset({"InvalidArgument", "InvalidRequest"}),
    # What stores answer when they will not copy server-side: not implemented (GCS,
    # Storj), or the source is in another region (COS "cosrapid" buckets).
    copy_refused=frozenset(
        {
            "NotImplemented",
            "NotSupported",
            "UnsupportedOperation",
            "CrossRegionCopyNotAllowed",
            "CrossRegionCopyNotSupported",
            "CrossZoneCopyNotAllowed",
        }
    ),
)

# QingStor's snake_case codes (DIALECTS.md, read from qingstor-sdk; the emulator's table
# in emulator/qingstor.py answers the same).
QINGSTOR_ERRORS = S3_ERRORS.extended(
    throttled={"too_many_requests", "request_too_frequent"},
    retryable={"internal_server_error", "service_unavailable"},
    fatal={"invalid_argument", "invalid_request"},
    # QingStor copies within one zone only (DIALECTS.md, "Limits").
    copy_refused={"not_implemented", "cross_zone_not_supported", "bucket_not_in_same_zone"},
    object_not_found={"object_not_exists"},
    bucket_not_found={"bucket_not_exists"},
    upload_not_found={"upload_not_exists"},
    access_denied={"permission_denied", "signature_not_matched", "invalid_access_key_id"},
    precondition_failed={"precondition_failed"},
)
