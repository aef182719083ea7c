"""Maps domain errors to gRPC statuses carrying google.rpc ErrorInfo and BadRequest."""

from __future__ import annotations

import collections

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.crm.api.watchers import TooManyWatchersError
from services.crm.application import ConcurrentUpdateError, ProjectionLaggingError
from services.crm.application.results import (
    DatabaseUnavailableError,
    DeadlinePassedError,
    ServiceStoppingError,
)
from services.crm.domain import errors
from services.crm.domain.profile import EtagMismatchError

ERROR_DOMAIN = "crm.customer-history"
REQUEST_ID_HEADER = "x-request-id"
CALLER_SECRET_HEADER = "x-crm-caller-secret"


class CallerUnauthenticatedError(errors.CrmError):
    """The request metadata does not say who is calling."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class MalformedRequestError(errors.CrmError):
    """The request's bytes are not a message of the method's type (invalid UTF-8 in a
    string, a truncated field, ...)."""

    reason = "MALFORMED_REQUEST"

    def __init__(self) -> None:
        super().__init__("the request could not be decoded as the method's message")


# Any other error is FAILED_PRECONDITION: the request is well formed, but the state of
# what it names refuses it (merged, not merged, not linked, ...).
_CODES: list[tuple[type[errors.CrmError], int]] = [
    (CallerUnauthenticatedError, code_pb2.UNAUTHENTICATED),
    (errors.InvalidInputError, code_pb2.INVALID_ARGUMENT),
    (MalformedRequestError, code_pb2.INVALID_ARGUMENT),
    (errors.RequestIdReusedError, code_pb2.INVALID_ARGUMENT),
    (errors.CustomerNotFoundError, code_pb2.NOT_FOUND),
    (errors.IdentityNotFoundError, code_pb2.NOT_FOUND),
    (errors.IdentityAlreadyLinkedError, code_pb2.ALREADY_EXISTS),
    (errors.InteractionAlreadyRecordedError, code_pb2.ALREADY_EXISTS),
    (ProjectionLaggingError, code_pb2.UNAVAILABLE),
    (ServiceStoppingError, code_pb2.UNAVAILABLE),
    (ConcurrentUpdateError, code_pb2.ABORTED),
    (EtagMismatchError, code_pb2.ABORTED),
    (TooManyWatchersError, code_pb2.RESOURCE_EXHAUSTED),
    (DatabaseUnavailableError, code_pb2.UNAVAILABLE),
    (DeadlinePassedError, code_pb2.DEADLINE_EXCEEDED),
]


def status_code(error: errors.CrmError) -> int:
    for error_type, code in _CODES:
        if isinstance(error, error_type):
            return code
    return int(code_pb2.FAILED_PRECONDITION)


def to_grpc_status(error: errors.CrmError, request_id: str) -> grpc.Status:
    """The status with its details, keeping the request id a client quotes to support."""
    details = [
        error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
        )
    ]
    if isinstance(error, errors.InvalidInputError):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, reason=v.reason, description=v.description
                    )
                    for v in error.violations
                ]
            )
        )
    packed = []
    for detail in details:
        envelope = any_pb2.Any()
        envelope.Pack(detail)
        packed.append(envelope)
    status = rpc_status.to_status(
        status_pb2.Status(code=status_code(error), message=error.message, details=packed)
    )
    return _Status(
        status.code,
        status.details,
        (*status.trailing_metadata, (REQUEST_ID_HEADER, request_id)),
    )


class _Status(
    collections.namedtuple("_Status", ("code", "details", "trailing_metadata")),
    grpc.Status,  # type: ignore[misc]
):
    pass
