"""The gateway's traces: a span per HTTP request, named by its route template, whose
context travels on to the CRM in the gRPC call's metadata. Nothing of it runs while
traces are off."""

from __future__ import annotations

from typing import Any

import grpc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.config import GatewaySettings
from services.gateway.request_log import route_of
from services.tracing import start_tracing as start_sdk

SERVICE_NAME = "crm-gateway"
# Probes ask every few seconds; their spans would bury the requests that matter.
_UNTRACED_URLS = "/healthz$,/readyz$"


def start_tracing(settings: GatewaySettings) -> None:
    if settings.traces:
        start_sdk(SERVICE_NAME)


def traced(app: ASGIApp, settings: GatewaySettings) -> ASGIApp:
    """The app in a server span per request, in the trace the caller's traceparent
    header names (else a new one); the app itself while traces are off."""
    if not settings.traces:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    middleware: ASGIApp = OpenTelemetryMiddleware(
        _named_by_route(app),
        excluded_urls=_UNTRACED_URLS,
        default_span_details=_method_only,
        # Spans of their own for each read and write of the body repeat the request's.
        exclude_spans=["receive", "send"],
    )
    return middleware


def channel_interceptors(settings: GatewaySettings) -> list[grpc.aio.ClientInterceptor]:
    """Interceptors that open a client span per call and put its context in the call's
    metadata; none while traces are off."""
    if not settings.traces:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    interceptors: list[grpc.aio.ClientInterceptor] = aio_client_interceptors()  # type: ignore[no-untyped-call]
    return interceptors


def _method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The span's first name: the path holds customer ids and the route is not yet known."""
    return _method(scope), {}


def _method(scope: Scope) -> str:
    from opentelemetry.util.http import sanitize_method

    method: str = sanitize_method(scope.get("method", "").strip())
    return "HTTP" if method == "_OTHER" else method


def _named_by_route(app: ASGIApp) -> ASGIApp:
    """Names each request's span "METHOD /v1/{customer=customers/*}" once its answer
    starts, when routing has found the template."""

    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, _naming(scope, send) if scope["type"] == "http" else send)

    return named


def _naming(scope: Scope, send: Send) -> Send:
    from opentelemetry import trace

    span = trace.get_current_span()

    async def send_named(message: Message) -> None:
        if message["type"] == "http.response.start":
            route = route_of(scope)
            span.update_name(f"{_method(scope)} {route}")
            span.set_attribute("http.route", route)
        await send(message)

    return send_named
