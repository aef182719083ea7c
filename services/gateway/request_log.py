"""Every request gets an id and one JSON log line: method, route template, status,
duration, request id. Never the path or the query: they carry emails, phones and names."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import gateway_error_body

logger = logging.getLogger("gateway.requests")

REQUEST_ID_HEADER = "x-request-id"
# Longer ids are cut, as the CRM cuts them, so both log the id the caller gets back.
MAX_REQUEST_ID_LENGTH = 128
# What gRPC metadata can carry, so the id can travel on to the CRM.
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
NO_ROUTE = "(no route)"
# Told each request's method, route template, status and seconds taken (metrics).
RequestObserver = Callable[[str, str, int, float], None]


class RequestLog:
    """The first layer inside Starlette's error handling: puts request_id in
    scope["state"] and logs the route the handler leaves there (else Starlette's)."""

    def __init__(self, app: ASGIApp, observe: RequestObserver | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = _request_id(scope)
        state["request_id"] = request_id or str(uuid.uuid4())
        answered: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered.append(message["status"])
                header = (REQUEST_ID_HEADER.encode(), state["request_id"].encode())
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        try:
            if request_id == "":
                await _bad_request_id()(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as error:
            _log_failure(error, state["request_id"])
            if not answered:
                await _internal(state["request_id"])(scope, receive, send_with_id)
        finally:
            status = answered[0] if answered else 500
            route, seconds = _log_request(scope, state, status, started)
            if self.observe is not None:
                self.observe(scope["method"], route, status, seconds)


def _request_id(scope: Scope) -> str | None:
    """The caller's id (cut to length), None when it sent none, "" when it is unusable."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER.encode():
            text = bytes(value).decode("latin-1")
            if not text:
                return None
            if not _PRINTABLE_ASCII.fullmatch(text):
                return ""
            return text[:MAX_REQUEST_ID_LENGTH]
    return None


def _bad_request_id() -> JSONResponse:
    status, body = gateway_error_body(
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_REQUEST_ID",
        "X-Request-Id must be printable ASCII characters",
    )
    return JSONResponse(body, status_code=status)


def _internal(request_id: str) -> JSONResponse:
    status, body = gateway_error_body(
        grpc.StatusCode.INTERNAL, "INTERNAL_ERROR", f"internal error; quote request id {request_id}"
    )
    return JSONResponse(body, status_code=status)


def _log_failure(error: Exception, request_id: str) -> None:
    # logs.py writes the error's type and frames, never its message.
    logger.error("unexpected error", exc_info=error, extra={"fields": {"request_id": request_id}})


def route_of(scope: Scope) -> str:
    """The template of the route the handler chose (else Starlette's), never the path."""
    state = scope.get("state") or {}
    return state.get("route") or getattr(scope.get("route"), "path", None) or NO_ROUTE


def _log_request(
    scope: Scope, state: dict[str, Any], status: int, started: float
) -> tuple[str, float]:
    """Logs the request; returns its route template and the seconds it took."""
    route = route_of(scope)
    seconds = time.perf_counter() - started
    logger.info(
        "request",
        extra={
            "fields": {
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "request_id": state["request_id"],
            }
        },
    )
    return str(route), seconds
