"""gRPC statuses as HTTP errors, as google/rpc/code.proto maps them, in Google's JSON form."""

from __future__ import annotations

import base64
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format

# Imported also for its side effect: ErrorInfo, BadRequest and the other google.rpc
# detail types join the descriptor pool, so the details that pack them can become JSON.
from google.rpc import error_details_pb2
from grpc_status import rpc_status

HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


GATEWAY_ERROR_DOMAIN = "gateway.crm.customer-history"


def error_body(
    code: grpc.StatusCode,
    message: str,
    details: list[dict[str, Any]] | None = None,
    http_status: int | None = None,
) -> tuple[int, dict[str, Any]]:
    status = http_status or HTTP_STATUS.get(code, 500)
    return status, {
        "error": {
            "code": status,
            "message": message,
            "status": code.name,
            "details": details or [],
        }
    }


def gateway_error_body(
    code: grpc.StatusCode, reason: str, message: str, http_status: int | None = None
) -> tuple[int, dict[str, Any]]:
    """An error the gateway answers itself, with an ErrorInfo as the CRM's errors have,
    so clients branch on one field whoever refused them."""
    info = json_format.MessageToDict(
        _packed(error_details_pb2.ErrorInfo(reason=reason, domain=GATEWAY_ERROR_DOMAIN))
    )
    return error_body(code, message, [info], http_status)


def _packed(detail: error_details_pb2.ErrorInfo) -> any_pb2.Any:
    envelope = any_pb2.Any()
    envelope.Pack(detail)
    return envelope


def from_rpc_error(error: grpc.aio.AioRpcError) -> tuple[int, dict[str, Any]]:
    """The CRM's status with its ErrorInfo and field violations, as JSON."""
    details: list[dict[str, Any]] = []
    status = rpc_status.from_call(error)
    if status is not None:
        details = [_detail(detail) for detail in status.details]
    return error_body(error.code(), error.details() or error.code().name, details)


def _detail(detail: any_pb2.Any) -> dict[str, Any]:
    """A detail as JSON; one of a type this gateway does not know keeps its bytes."""
    try:
        return json_format.MessageToDict(detail)
    except (TypeError, KeyError, json_format.Error):
        return {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()}
