"""The orchestrator's probes: /healthz while the process lives, /readyz while the CRM
answers its health check SERVING. Neither asks for credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.gateway.errors import gateway_error_body

CRM_SERVICE = "crm.v1.CustomerHistoryService"
# Below the one second a Kubernetes probe waits by default.
READINESS_DEADLINE_SECONDS = 0.8


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "SERVING"})


def readyz(channel: Callable[[], grpc.aio.Channel]) -> Callable[[Request], Awaitable[Response]]:
    async def ready(_: Request) -> Response:
        health = health_pb2_grpc.HealthStub(channel())
        try:
            reply = await health.Check(
                health_pb2.HealthCheckRequest(service=CRM_SERVICE),
                timeout=READINESS_DEADLINE_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            return _not_ready(f"the CRM did not answer its health check ({error.code().name})")
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            return _not_ready(f"the CRM reports {status}")
        return JSONResponse({"status": "SERVING"})

    return ready


def _not_ready(message: str) -> Response:
    status, body = gateway_error_body(grpc.StatusCode.UNAVAILABLE, "CRM_NOT_READY", message)
    return JSONResponse(body, status_code=status)
