"""Cross-cutting concerns of every call: request id, what no request may hold, error
mapping, one JSON log line."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf.message import Message

from services.crm.api.caller import current_request_id, request_id_from
from services.crm.api.control_characters import control_character_violations
from services.crm.api.errors import (
    CALLER_SECRET_HEADER,
    REQUEST_ID_HEADER,
    CallerUnauthenticatedError,
    MalformedRequestError,
    to_grpc_status,
)
from services.crm.domain.errors import CrmError, InvalidInputError
from services.crm.tracing import record_status

logger = logging.getLogger("crm.calls")


class EdgeInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuses requests that do not decode or hold control characters, maps domain errors
    to statuses once, here, and logs method, status, duration and request id of each
    call. It logs no request content: that holds personal data."""

    def __init__(self, caller_secret: str = "") -> None:
        self.caller_secret = caller_secret

    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: Any
    ) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or (handler.unary_unary is None and handler.unary_stream is None):
            return handler
        method = handler_call_details.method
        metadata = handler_call_details.invocation_metadata
        request_id = request_id_from(metadata)
        trusted = self._trusted(method, metadata)
        deserializer = _tolerant(handler.request_deserializer)

        if handler.unary_stream is not None:
            if not method.startswith("/crm."):
                # Health's Watch streams without holding a thread; wrapping would make it hold one.
                return handler
            stream = handler.unary_stream

            def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                with _edge(method, request_id, trusted, context):
                    _check_request(request)
                    yield from stream(request, context)

            return grpc.unary_stream_rpc_method_handler(
                streaming,
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )

        unary = handler.unary_unary

        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            with _edge(method, request_id, trusted, context):
                _check_request(request)
                return unary(request, context)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )

    def _trusted(self, method: str, metadata: Any) -> bool:
        """With a caller secret set, only the gateway and services that hold it may call
        the CRM's own methods; health and reflection stay open for probes and tools."""
        if not self.caller_secret or not method.startswith("/crm."):
            return True
        presented = next((v for k, v in metadata or () if k == CALLER_SECRET_HEADER), "")
        return isinstance(presented, str) and hmac.compare_digest(presented, self.caller_secret)


class _Undecodable:
    """Stands for a request whose bytes did not decode, so the call can answer it."""


_UNDECODABLE = _Undecodable()


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """gRPC answers a deserializer's exception with INTERNAL, before any interceptor
    code runs and without the request id; this one hands the call a marker instead."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return _UNDECODABLE

    return deserialize


def _check_request(request: Any) -> None:
    if request is _UNDECODABLE:
        raise MalformedRequestError
    if isinstance(request, Message):
        violations = control_character_violations(request)
        if violations:
            raise InvalidInputError(violations)


@contextmanager
def _edge(
    method: str, request_id: str, trusted: bool, context: grpc.ServicerContext
) -> Iterator[None]:
    started = time.perf_counter()
    token = current_request_id.set(request_id)
    context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
    code = grpc.StatusCode.OK
    try:
        if not trusted:
            raise CallerUnauthenticatedError(
                "UNTRUSTED_CALLER", f"calls need the '{CALLER_SECRET_HEADER}' metadata"
            )
        yield
    except GeneratorExit:
        code = grpc.StatusCode.CANCELLED  # The client left a stream.
        raise
    except CrmError as error:
        status = to_grpc_status(error, request_id)
        code = status.code
        context.abort_with_status(status)
    except Exception:
        if context.code() is not None:  # The servicer aborted the call itself.
            code = context.code()
            raise
        code = grpc.StatusCode.INTERNAL
        logger.exception("unexpected error", extra={"fields": {"request_id": request_id}})
        context.abort(code, f"internal error; quote request id {request_id}")
    finally:
        current_request_id.reset(token)
        record_status(code)
        _log_call(method, code, started, request_id)


def _log_call(method: str, code: grpc.StatusCode, started: float, request_id: str) -> None:
    logger.info(
        "call",
        extra={
            "fields": {
                "method": method,
                "status": code.name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": request_id,
            }
        },
    )
