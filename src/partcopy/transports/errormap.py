"""Service error answers mapped once onto the typed ``ServiceError`` tree.

The provider row's code tables decide the class (``ObjectNotFound``, ``Throttled``,
``CopyRefused``...) and whether another attempt may help; nothing above the transports
compares a vendor's code string.
"""

from __future__ import annotations

from partcopy.errors import SERVICE_ERRORS, ErrorKind, ServiceError
from partcopy.providers import S3_ERRORS, ErrorCodes

__all__ = ["service_error"]


def service_error(
    status: int,
    code: str | None = None,
    message: str | None = None,
    *,
    codes: ErrorCodes = S3_ERRORS,
    request_id: str | None = None,
    retry_after: float | None = None,
    operation: str | None = None,
) -> ServiceError:
    """The typed error for one error answer, read with ``codes`` (a provider row's)."""
    kind = codes.classify(status, code, operation or "")
    retryable = kind is ErrorKind.THROTTLED or codes.retryable_answer(status, code)
    return SERVICE_ERRORS[kind](
        status,
        code,
        message,
        request_id=request_id,
        retry_after=retry_after,
        operation=operation,
        retryable=retryable,
    )
