"""Maps domain errors to gRPC statuses carrying google.rpc ErrorInfo and BadRequest."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.crm.domain import errors

ERROR_DOMAIN = "crm.customer-history"

_CODES: list[tuple[type[errors.CrmError], int]] = [
    (errors.InvalidInputError, code_pb2.INVALID_ARGUMENT),
    (errors.RequestIdReusedError, code_pb2.INVALID_ARGUMENT),
    (errors.CustomerNotFoundError, code_pb2.NOT_FOUND),
    (errors.IdentityNotFoundError, code_pb2.NOT_FOUND),
    (errors.IdentityAlreadyLinkedError, code_pb2.ALREADY_EXISTS),
    (errors.InteractionAlreadyRecordedError, code_pb2.ALREADY_EXISTS),
    (errors.ProjectionLaggingError, code_pb2.UNAVAILABLE),
    (errors.ConcurrentUpdateError, code_pb2.ABORTED),
]


class CallerUnauthenticatedError(errors.CrmError):
    """The request metadata does not say who is calling."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def status_code(error: errors.CrmError) -> int:
    if isinstance(error, CallerUnauthenticatedError):
        return int(code_pb2.UNAUTHENTICATED)
    for error_type, code in _CODES:
        if isinstance(error, error_type):
            return code
    return int(code_pb2.FAILED_PRECONDITION)


def to_grpc_status(error: errors.CrmError) -> grpc.Status:
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
    return rpc_status.to_status(
        status_pb2.Status(code=status_code(error), message=error.message, details=packed)
    )
