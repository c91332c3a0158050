"""Errors of webhookd's API, with the details its statuses carry.

webhookd answers a bad request with a gRPC status whose details hold a
``google.rpc.BadRequest`` naming each wrong field, and a call over its
account's rate limit with a ``google.rpc.RetryInfo`` saying when to try again.
:func:`from_rpc_error` turns a ``grpc.RpcError`` into the matching
:class:`WebhookdError` subclass with those details parsed, from the
``grpc-status-details-bin`` trailer (a serialised ``google.rpc.Status``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple, Type

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError

from webhookd._gen.google.rpc import error_details_pb2, status_pb2

__all__ = [
    "FieldViolation",
    "WebhookdError",
    "InvalidArgumentError",
    "UnauthenticatedError",
    "PermissionDeniedError",
    "NotFoundError",
    "AlreadyExistsError",
    "FailedPreconditionError",
    "AbortedError",
    "ResourceExhaustedError",
    "UnavailableError",
    "DeadlineExceededError",
    "InternalError",
    "from_rpc_error",
]

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One wrong field of a request, as webhookd names it (``endpoint.url``)."""

    field: str
    description: str


class WebhookdError(Exception):
    """A call to webhookd failed with a gRPC status.

    ``code`` is the ``grpc.StatusCode``, ``message`` webhookd's message,
    ``field_violations`` the fields a bad request got wrong (empty for other
    errors), ``retry_delay`` the seconds the server asked to wait before
    trying again (``None`` when it did not say), and ``details`` every detail
    of the status as ``google.protobuf.Any``.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        field_violations: Tuple[FieldViolation, ...] = (),
        retry_delay: Optional[float] = None,
        details: Tuple[any_pb2.Any, ...] = (),
    ) -> None:
        self.code = code
        self.message = message
        self.field_violations = tuple(field_violations)
        self.retry_delay = retry_delay
        self.details = tuple(details)
        text = f"{code.name}: {message}"
        super().__init__(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.name}, message={self.message!r})"


class InvalidArgumentError(WebhookdError):
    """The request is invalid; ``field_violations`` says which fields."""


class UnauthenticatedError(WebhookdError):
    """The API key is missing, unknown or revoked."""


class PermissionDeniedError(WebhookdError):
    """The API key may not make this call (a customer key calling an admin method)."""


class NotFoundError(WebhookdError):
    """No such resource in the key's account."""


class AlreadyExistsError(WebhookdError):
    """The resource exists already."""


class FailedPreconditionError(WebhookdError):
    """The resource is not in a state that allows the call."""


class AbortedError(WebhookdError):
    """A concurrent change won (an ``etag`` that no longer matches)."""


class ResourceExhaustedError(WebhookdError):
    """Over the account's rate limit or a size limit; see ``retry_delay``."""


class UnavailableError(WebhookdError):
    """webhookd could not be reached or is shutting down; try again."""


class DeadlineExceededError(WebhookdError):
    """The call's timeout passed before webhookd answered."""


class InternalError(WebhookdError):
    """webhookd failed; its log says why."""


_BY_CODE: Dict[grpc.StatusCode, Type[WebhookdError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.ABORTED: AbortedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.INTERNAL: InternalError,
}


def from_rpc_error(err: grpc.RpcError) -> WebhookdError:
    """The :class:`WebhookdError` of a failed call, its details parsed."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = err.details() if hasattr(err, "details") else str(err)
    trailers = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    details = _status_details(trailers or ())
    violations: List[FieldViolation] = []
    retry_delay: Optional[float] = None
    for d in details:
        if d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            d.Unpack(br)
            violations.extend(FieldViolation(v.field, v.description) for v in br.field_violations)
        elif d.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            ri = error_details_pb2.RetryInfo()
            d.Unpack(ri)
            retry_delay = ri.retry_delay.seconds + ri.retry_delay.nanos / 1e9
    cls = _BY_CODE.get(code, WebhookdError)
    return cls(
        code,
        message or "",
        field_violations=tuple(violations),
        retry_delay=retry_delay,
        details=tuple(details),
    )


def _status_details(trailers: Iterable[Tuple[str, Any]]) -> List[any_pb2.Any]:
    for key, value in trailers:
        if key == _DETAILS_KEY and isinstance(value, bytes):
            st = status_pb2.Status()
            try:
                st.ParseFromString(value)
            except DecodeError:
                return []
            return list(st.details)
    return []
