"""Counts and times every call by method and final status code, outside every other
interceptor, so the code counted is the code the client got."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from services.crm.metrics.definitions import OPEN_WATCHES, RPC_DURATION, RPC_REQUESTS

WATCH_METHOD = "/crm.v1.CustomerHistoryService/WatchTimeline"
_CANCELLED = grpc.StatusCode.CANCELLED


class RpcMetricsInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Unary calls of every service; server streams of the CRM's own (health's Watch
    would hold a thread for as long as it is wrapped, and reflection is not counted)."""

    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: Any
    ) -> Any:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None:
            return handler
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
                with _measured(method, context):
                    return unary(request, context)

            return handler._replace(unary_unary=behaviour)
        if handler.unary_stream is not None and method.startswith("/crm."):
            stream = handler.unary_stream

            def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                with _measured(method, context):
                    yield from stream(request, context)

            return handler._replace(unary_stream=streaming)
        return handler


@contextmanager
def _measured(method: str, context: grpc.ServicerContext) -> Iterator[None]:
    started = time.perf_counter()
    watching = method == WATCH_METHOD
    if watching:
        OPEN_WATCHES.inc()
    code = grpc.StatusCode.OK
    try:
        yield
        # A stream may end quietly once its client left: the client saw CANCELLED.
        code = context.code() or (grpc.StatusCode.OK if context.is_active() else _CANCELLED)
    except GeneratorExit:
        code = grpc.StatusCode.CANCELLED  # The client left a stream.
        raise
    except BaseException:
        code = context.code() or grpc.StatusCode.UNKNOWN
        raise
    finally:
        if watching:
            OPEN_WATCHES.dec()
        labels = {"method": method.lstrip("/"), "code": code.name}
        RPC_REQUESTS.labels(**labels).inc()
        RPC_DURATION.labels(**labels).observe(time.perf_counter() - started)
