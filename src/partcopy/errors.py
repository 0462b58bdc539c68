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
    │   │   ├── NotFound             404: something named in the request does not exist
    │   │   │   ├── ObjectNotFound   the object (or version) is gone: NoSuchKey, a HEAD 404
    │   │   │   ├── BucketNotFound   the bucket does not exist: NoSuchBucket
    │   │   │   └── UploadNotFound   the multipart upload is gone: NoSuchUpload
    │   │   ├── AccessDenied         wrong key, bad signature, no permission (code kept)
    │   │   ├── Throttled            slow down: 429, 503, SlowDown and the row's throttle codes
    │   │   ├── PreconditionFailed   412: a pinned source no longer matches
    │   │   └── CopyRefused          the store will not copy server-side (501, NotImplemented,
    │   │                            cross-region/zone refusals): relay instead
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
``TransportError`` subclasses mapped once at the boundary (``raise X(...) from exc``): which
``ServiceError`` subclass, and whether it is retryable, is decided there from the store's
provider row (``partcopy.providers``), never here. The engine catches the types and never
compares a vendor's code string; ``code`` is kept for messages and JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "SERVICE_ERRORS",
    "AbortFailed",
    "AccessDenied",
    "BucketNotFound",
    "ConfigError",
    "ConnectError",
    "CopyError",
    "CopyRefused",
    "ErrorKind",
    "JobBusy",
    "JournalError",
    "JournalWriteError",
    "NotFound",
    "ObjectNotFound",
    "PartFailed",
    "PartcopyError",
    "PlanError",
    "PreconditionFailed",
    "ProtocolError",
    "ResponseTimeout",
    "ServiceError",
    "SourceChanged",
    "Throttled",
    "TransportError",
    "UnprovenSuccess",
    "UploadNotFound",
    "UsageError",
    "VerificationFailed",
]


class ErrorKind(enum.Enum):
    """What a service's error answer means, as decided by the provider row's code tables.

    The transport maps every answer once onto a kind, and the kind onto a class
    (:data:`SERVICE_ERRORS`); an error code inside a 2xx body gets a kind too.
    """

    THROTTLED = "throttled"
    OBJECT_NOT_FOUND = "object_not_found"
    BUCKET_NOT_FOUND = "bucket_not_found"
    UPLOAD_NOT_FOUND = "upload_not_found"
    NOT_FOUND = "not_found"
    ACCESS_DENIED = "access_denied"
    PRECONDITION_FAILED = "precondition_failed"
    COPY_REFUSED = "copy_refused"
    RETRYABLE = "retryable"
    """Anything else worth another try (5xx, InternalError, RequestTimeout...)."""
    FATAL = "fatal"
    """Anything else: the request itself is wrong (400 InvalidArgument...)."""


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
    """The service answered with an error status (or an error body).

    Transports raise the subclass their provider row maps the answer to, with
    ``retryable`` decided there; constructed directly, a ``ServiceError`` keeps its
    class's defaults (retryable, not throttled).
    """

    throttled: bool = False
    """True for answers that ask the client to slow down (:class:`Throttled`)."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        request_id: str | None = None,
        retry_after: float | None = None,
        operation: str | None = None,
        retryable: bool | None = None,
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
        if retryable is not None:
            self.retryable = retryable

    @property
    def info(self) -> ServiceErrorInfo:
        return ServiceErrorInfo(
            self.status, self.code, self.service_message, self.request_id, self.retry_after
        )


class NotFound(ServiceError):
    """404: something the request names does not exist."""

    retryable = False


class ObjectNotFound(NotFound):
    """The object (or the version asked for) does not exist: ``NoSuchKey``, a HEAD 404."""


class BucketNotFound(NotFound):
    """The bucket does not exist: ``NoSuchBucket``."""


class UploadNotFound(NotFound):
    """The multipart upload does not exist (aborted, completed or never made)."""


class AccessDenied(ServiceError):
    """Wrong key, bad signature or no permission; ``code`` keeps which the store said."""

    retryable = False


class Throttled(ServiceError):
    """The service asks the client to slow down (429, 503, ``SlowDown``...)."""

    throttled = True


class PreconditionFailed(ServiceError):
    """412: the pinned source (If-Match) no longer matches."""

    retryable = False


class CopyRefused(ServiceError):
    """The store will not copy this source server-side (501, ``NotImplemented``, another
    region or zone): the same plan can be carried out as a relay."""

    retryable = False


SERVICE_ERRORS: dict[ErrorKind, type[ServiceError]] = {
    ErrorKind.THROTTLED: Throttled,
    ErrorKind.OBJECT_NOT_FOUND: ObjectNotFound,
    ErrorKind.BUCKET_NOT_FOUND: BucketNotFound,
    ErrorKind.UPLOAD_NOT_FOUND: UploadNotFound,
    ErrorKind.NOT_FOUND: NotFound,
    ErrorKind.ACCESS_DENIED: AccessDenied,
    ErrorKind.PRECONDITION_FAILED: PreconditionFailed,
    ErrorKind.COPY_REFUSED: CopyRefused,
    ErrorKind.RETRYABLE: ServiceError,
    ErrorKind.FATAL: ServiceError,
}
"""The class each kind of answer is raised as."""

FATAL_KINDS = frozenset(
    {
        ErrorKind.OBJECT_NOT_FOUND,
        ErrorKind.BUCKET_NOT_FOUND,
        ErrorKind.UPLOAD_NOT_FOUND,
        ErrorKind.NOT_FOUND,
        ErrorKind.ACCESS_DENIED,
        ErrorKind.PRECONDITION_FAILED,
        ErrorKind.FATAL,
    }
)
"""Kinds that another attempt of the same request cannot cure."""


class UnprovenSuccess(TransportError):
    """A 2xx answer that does not prove success: no ETag, an error body, or truncated.

    OBS documents that a 200 to a copy only means "started"; S3 can put an ``<Error>``
    inside a 200. Such an answer is a failed attempt and is retried unless ``error_kind`` (the
    transport's reading of the body's error code) says retrying cannot help.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 200,
        code: str | None = None,
        operation: str | None = None,
        error_kind: ErrorKind | None = None,
    ) -> None:
        super().__init__(message, operation=operation)
        self.status = status
        self.code = code
        self.error_kind = error_kind
        self.retryable = error_kind not in FATAL_KINDS

    @property
    def throttled(self) -> bool:
        """A throttling code inside the 2xx body (a ``SlowDown`` in a 200)."""
        return self.error_kind is ErrorKind.THROTTLED


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
