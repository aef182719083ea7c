"""The gateway application: one handler that routes every request by the HTTP rules."""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
from crm.v1 import customer_history_service_pb2
from google.protobuf import message_factory
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute
from starlette.staticfiles import StaticFiles

from services.gateway import sse
from services.gateway.auth import AuthenticationError, caller_from
from services.gateway.config import GatewaySettings
from services.gateway.crm_channels import CrmChannels
from services.gateway.docs import docs_page
from services.gateway.errors import from_rpc_error, gateway_error_body
from services.gateway.metrics import observe_request
from services.gateway.openapi import openapi_document
from services.gateway.probes import healthz, readyz
from services.gateway.request_log import NO_ROUTE, RequestLog
from services.gateway.roles import may_call
from services.gateway.routes import Route, routes_of
from services.gateway.transcoding import BadRequestError, build_request, to_json

CONSOLE = Path(__file__).parent / "console"
# Browsers run the console's modules only when served as JavaScript, whatever the host's
# own MIME table says.
mimetypes.add_type("text/javascript", ".js")
# Calls spread over every address the target resolves to (several CRM replicas, a
# headless Service), and skip a replica that stops answering.
SERVICE = customer_history_service_pb2.DESCRIPTOR.services_by_name["CustomerHistoryService"]


def create_app(settings: GatewaySettings) -> Starlette:
    routes = routes_of(SERVICE)
    crm: dict[str, CrmChannels] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        crm["channels"] = CrmChannels(settings)
        try:
            yield
        finally:
            await crm["channels"].close()

    async def handle(request: Request) -> Response:
        matched = [(route, route.pattern.match(request.url.path)) for route in routes]
        candidates = [(route, match) for route, match in matched if match]
        if not candidates:
            request.state.route = NO_ROUTE
            return _error(grpc.StatusCode.NOT_FOUND, "ROUTE_NOT_FOUND", "no route for this path")
        request.state.route = candidates[0][0].template
        chosen = [(r, m) for r, m in candidates if r.http_method == request.method]
        if not chosen:
            allowed = ", ".join(sorted({r.http_method for r, _ in candidates}))
            return _error(
                grpc.StatusCode.UNIMPLEMENTED,
                "METHOD_NOT_ALLOWED",
                f"use {allowed} on this path",
                405,
                {"Allow": allowed},
            )
        route, match = chosen[0]
        request.state.route = route.template
        try:
            caller = caller_from(
                request.headers.get("authorization", ""),
                dict(settings.api_keys),
                settings.jwt_secret,
            )
        except AuthenticationError as error:
            return _error(grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS", str(error))
        if not may_call(caller.role, route.method.name):
            return _error(
                grpc.StatusCode.PERMISSION_DENIED,
                "ROLE_NOT_ALLOWED",
                f"role {caller.role} may not call {route.method.name}",
            )
        try:
            body = await _json_body(request, settings)
            path_values = {name: match.group(f"v{i}") for i, name in enumerate(route.variables)}
            message = build_request(
                route,
                _input_class(route),
                path_values,
                list(request.query_params.multi_items()),
                body,
            )
            if route.method.server_streaming:
                sse.resume_from(message, request.headers.get("last-event-id"))
        except BadRequestError as error:
            return _error(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_HTTP_REQUEST", str(error))
        # The rest of such a body is never read: the connection closes after the answer.
        except _TooLargeError:
            limit = settings.max_body_bytes
            too_large = f"request body over {limit} bytes"
            return _error(
                grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_TOO_LARGE", too_large, 413, _CLOSE
            )
        except ClientDisconnect:
            return _error(
                grpc.StatusCode.CANCELLED, "CLIENT_CLOSED_REQUEST", "the client went away"
            )
        except TimeoutError:
            seconds = settings.body_timeout_seconds
            slow = f"the request body took over {seconds:g} seconds to arrive"
            return _error(
                grpc.StatusCode.DEADLINE_EXCEEDED, "REQUEST_BODY_TIMEOUT", slow, 408, _CLOSE
            )
        return await _forward(
            crm["channels"].next(), route, message, caller.actor, request, settings
        )

    document = openapi_document(routes, "Customer history CRM", "v1")

    async def openapi_json(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return HTMLResponse(docs_page(document))

    return Starlette(
        routes=[
            StarletteRoute("/openapi.json", openapi_json, methods=["GET"]),
            StarletteRoute("/docs", docs, methods=["GET"]),
            StarletteRoute("/healthz", healthz, methods=["GET"]),
            StarletteRoute("/readyz", readyz(lambda: crm["channels"].next()), methods=["GET"]),
            StarletteRoute("/", lambda _: RedirectResponse("/console/"), methods=["GET"]),
            Mount("/console", StaticFiles(directory=CONSOLE, html=True), name="console"),
            StarletteRoute(
                "/{path:path}",
                handle,
                methods=["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD"],
            ),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(RequestLog, observe=observe_request if settings.metrics_address else None)
        ],
        # Paths no route pattern can hold (a raw newline, say) still get a JSON error.
        exception_handlers={404: _not_found},
    )


async def _forward(
    channel: grpc.aio.Channel,
    route: Route,
    message: Any,
    actor: str,
    request: Request,
    settings: GatewaySettings,
) -> Response:
    """Calls the CRM as the caller; a server stream becomes SSE and has no deadline,
    since watching is its purpose."""
    request_id: str = request.state.request_id
    metadata = _metadata(actor, request_id, settings)
    try:
        if not route.method.server_streaming:
            stub = channel.unary_unary(route.rpc_path, **_codec(route))
            reply = await stub(message, timeout=settings.deadline_seconds, metadata=metadata)
            return JSONResponse(to_json(reply))
        call = channel.unary_stream(route.rpc_path, **_codec(route))(message, metadata=metadata)
        # The CRM sends headers once it accepts the watch: errors still get HTTP statuses.
        await call.wait_for_connection()
    except grpc.aio.AioRpcError as error:
        return _rpc_error(error)
    return StreamingResponse(
        sse.events(call),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


def _codec(route: Route) -> dict[str, Any]:
    return {
        "request_serializer": lambda message: message.SerializeToString(),
        "response_deserializer": _output_class(route).FromString,
    }


def _metadata(
    actor: str, request_id: str, settings: GatewaySettings
) -> tuple[tuple[str, str], ...]:
    return (
        ("x-crm-actor", actor),
        ("x-request-id", request_id),
        ("x-crm-caller-secret", settings.crm_secret),
    )


def _rpc_error(error: grpc.aio.AioRpcError) -> JSONResponse:
    status, body = from_rpc_error(error)
    return JSONResponse(body, status_code=status)


async def _not_found(request: Request, _: Exception) -> Response:
    return _error(grpc.StatusCode.NOT_FOUND, "ROUTE_NOT_FOUND", "no route for this path")


_CLOSE = {"Connection": "close"}


class _TooLargeError(Exception):
    pass


async def _json_body(request: Request, settings: GatewaySettings) -> Any:
    """The body as JSON, read within the body timeout (TimeoutError otherwise)."""
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLargeError
    raw = b""
    async with asyncio.timeout(settings.body_timeout_seconds):
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                raise _TooLargeError
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("the request body is not valid JSON") from None
    except RecursionError:
        raise BadRequestError("the request body nests too deeply") from None


def _input_class(route: Route) -> Any:
    return message_factory.GetMessageClass(route.method.input_type)


def _output_class(route: Route) -> Any:
    return message_factory.GetMessageClass(route.method.output_type)


def _error(
    code: grpc.StatusCode,
    reason: str,
    message: str,
    http_status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error from the gateway itself; http_status overrides the code's own mapping
    where HTTP has a more exact answer (405, 413)."""
    status, body = gateway_error_body(code, reason, message, http_status)
    return JSONResponse(body, status_code=status, headers=headers)
