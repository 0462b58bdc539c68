"""partcopy's error tree. Every error the library raises is one of these.

::

    PartcopyError
    ├── UsageError            bad input or configuration: exit 2, before any request
    │   ├── ConfigError       missing credentials, unknown endpoint, unreadable files
    │   └── JournalError      a journal that is corrupt, foreign, unreadable or missing
    │       └── JobBusy       the journal's job is running in another live process
    ├── PlanError             the object cannot be copied under the profile's limits (exit 2)
    ├── TransportError        what one request to a store came back with
    │   ├── ServiceError      the service answered an error (status, code, request id)
    │   │   └── PreconditionFailed   412: a pinned source no longer matches
    │   ├── UnprovenSuccess   a 2xx that proves nothing: no ETag, an <Error> body, truncated
    │   ├── ProtocolError     an answer that cannot be parsed (bad XML/JSON, hostile body)
    │   ├── ConnectError      connection refused or reset
    │   └── ResponseTimeout   no (complete) answer within the timeout
    └── CopyError             the copy failed as a whole (exit 1)
        ├── PartFailed        a part failed after its retries
        ├── SourceChanged     the source's ETag or version changed under the copy
        ├── VerificationFailed  the completed object does not match what was planned
        ├── AbortFailed       the upload could not be aborted: its id is carried, not lost
        └── JournalWriteError the journal could not record mid-copy (disk full, I/O error)

``retryable`` says whether trying the same request again may succeed. Transports raise
``TransportError`` subclasses mapped once at the boundary (``raise X(...) from exc``);
only the engine decides what to do with them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AbortFailed",
    "ConfigError",
    "ConnectError",
    "CopyError",
    "JobBusy",
    "JournalError",
    "JournalWriteError",
    "PartFailed",
    "PartcopyError",
    "PlanError",
    "PreconditionFailed",
    "ProtocolError",
    "ResponseTimeout",
    "ServiceError",
    "SourceChanged",
    "TransportError",
    "UnprovenSuccess",
    "UsageError",
    "VerificationFailed",
    "is_retryable_service",
]

# Status codes and service error codes that are worth another try (DIALECTS.md, "Retry").
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgress",
        "OperationAborted",
        "internal_server_error",
        "service_unavailable",
        "too_many_requests",
        "request_too_frequent",
    }
)
THROTTLE_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "too_many_requests",
        "request_too_frequent",
    }
)
# Error codes inside a 2xx body that say the request itself is wrong: retrying cannot help.
FATAL_BODY_CODES = frozenset(
    {
        "AccessDenied",
        "NoSuchKey",
        "NoSuchUpload",
        "NoSuchBucket",
        "InvalidArgument",
        "InvalidRequest",
        "PreconditionFailed",
        "SignatureDoesNotMatch",
    }
)
# Never retried whatever the code says: the request itself is wrong or forbidden.
FATAL_STATUS = frozenset({400, 401, 403, 404, 405, 409, 411, 412, 416})


def is_retryable_service(status: int, code: str | None) -> bool:
    """Whether a service error with this status and code is worth another attempt."""
    if code is not None and code in RETRYABLE_CODES:
        return status not in {401, 403, 404, 412} or code == "RequestTimeTooSkewed"
    if status in FATAL_STATUS:
        return False
    return status in RETRYABLE_STATUS


class PartcopyError(Exception):
    """Base of every error partcopy raises."""

    retryable: bool = False
    exit_status: int = 1

    @property
    def kind(self) -> str:
        """The error's type name, as it appears in JSON output."""
        return type(self).__name__


class UsageError(PartcopyError, ValueError):
    """Bad input: a value the user gave cannot be used. Raised before any request."""

    exit_status = 2


class ConfigError(UsageError):
    """Configuration missing or unusable (credentials, endpoint, files)."""


class JournalError(UsageError):
    """A journal file that is corrupt, foreign to partcopy, or cannot be opened."""


class JobBusy(JournalError):
    """Another process that is still alive holds the journal's lock on this job."""


class PlanError(PartcopyError):
    """The object cannot be copied under the destination's limits."""

    exit_status = 2


class TransportError(PartcopyError):
    """One request to a store did not succeed."""

    retryable = True

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation


@dataclass(frozen=True)
class ServiceErrorInfo:
    """The fields a service puts in an error answer."""

    status: int
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    retry_after: float | None = None


class ServiceError(TransportError):
    """The service answered with an error status (or an error body)."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        request_id: str | None = None,
        retry_after: float | None = None,
        operation: str | None = None,
    ) -> None:
        text = f"{operation + ': ' if operation else ''}HTTP {status}"
        if code:
            text += f" {code}"
        if message:
            text += f": {message}"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text, operation=operation)
        self.status = status
        self.code = code
        self.service_message = message
        self.request_id = request_id
        self.retry_after = retry_after
        self.retryable = is_retryable_service(status, code)

    @property
    def throttled(self) -> bool:
        """True for answers that ask the client to slow down."""
        return self.status in {429, 503} or (self.code in THROTTLE_CODES)

    @property
    def info(self) -> ServiceErrorInfo:
        return ServiceErrorInfo(
            self.status, self.code, self.service_message, self.request_id, self.retry_after
        )


class PreconditionFailed(ServiceError):
    """412: the pinned source (If-Match) no longer matches."""


class UnprovenSuccess(TransportError):
    """A 2xx answer that does not prove success: no ETag, an error body, or truncated.

    OBS documents that a 200 to a copy only means "started"; S3 can put an ``<Error>``
    inside a 200. Such an answer is a failed attempt and is retried.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 200,
        code: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, operation=operation)
        self.status = status
        self.code = code
        self.retryable = code not in FATAL_BODY_CODES


class ProtocolError(TransportError):
    """An answer that cannot be parsed or is not what the dialect promises."""


class ConnectError(TransportError):
    """The connection failed or was reset. ``unreachable``: a host never reached refused
    the connection or did not resolve (a wrong endpoint, most likely: retried once)."""

    unreachable: bool = False


class ResponseTimeout(TransportError):
    """No complete answer arrived within the timeout."""


class CopyError(PartcopyError):
    """The copy failed as a whole. ``upload_id`` is set when an upload was left open."""

    def __init__(self, message: str, *, upload_id: str | None = None) -> None:
        super().__init__(message)
        self.upload_id = upload_id


class PartFailed(CopyError):
    """A part could not be copied within its attempts."""

    def __init__(
        self,
        part_number: int,
        attempts: int,
        cause: BaseException | None,
        *,
        upload_id: str | None = None,
    ) -> None:
        super().__init__(
            f"part {part_number} failed after {attempts} attempt(s): {cause}",
            upload_id=upload_id,
        )
        self.part_number = part_number
        self.attempts = attempts
        self.cause = cause


class SourceChanged(CopyError):
    """The source object changed (ETag or version) while it was being copied."""


class VerificationFailed(CopyError):
    """The completed destination does not match the source or the plan."""


class AbortFailed(CopyError):
    """The failed upload could not be aborted; ``upload_id`` names it for cleanup."""


class JournalWriteError(CopyError):
    """The journal could not record (disk full, I/O error) once the copy was under way:
    a failed copy (exit 1, with its JSON), not bad input."""
