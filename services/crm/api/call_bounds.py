"""CallBoundsInterceptor: each call's deadline reaches the writes it makes, and a
database that does not answer ends the call UNAVAILABLE (DATABASE_UNAVAILABLE)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from services.crm.application.bounds import bounded_call


class CallBoundsInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Listed after EdgeInterceptor, so the errors raised here are mapped there."""

    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: Any
    ) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith("/crm."):
            return handler
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
                with bounded_call(context.time_remaining()):
                    return unary(request, context)

            return grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            stream = handler.unary_stream

            def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                with bounded_call(context.time_remaining()):
                    yield from stream(request, context)

            return grpc.unary_stream_rpc_method_handler(
                streaming,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
