"""The CRM's traces: a span per call, in the trace its caller's metadata names, and a span
per database statement the call makes. Nothing of it runs while traces are off."""

from __future__ import annotations

import grpc

from services.crm.config import Settings
from services.tracing import start_tracing as start_sdk
from services.tracing import tracing_started

SERVICE_NAME = "crm"
# The codes the library's own interceptor counts as the server's failure.
_SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def start_tracing(settings: Settings) -> None:
    """Called once by each serving process as it starts, before it opens a connection:
    the database instrumentations wrap connect()."""
    if not settings.traces or tracing_started():
        return
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    start_sdk(SERVICE_NAME)
    PsycopgInstrumentor().instrument()
    SQLite3Instrumentor().instrument()


def traced_calls(settings: Settings) -> list[grpc.ServerInterceptor]:
    """The interceptor that opens each call's span, to go first; none while traces are off."""
    if not settings.traces:
        return []
    from opentelemetry.instrumentation.grpc import filters, server_interceptor

    # Probes call health every few seconds; their spans would bury the calls that matter.
    interceptor: grpc.ServerInterceptor = server_interceptor(  # type: ignore[no-untyped-call]
        filter_=filters.service_prefix("crm.")
    )
    return [interceptor]


def record_status(code: grpc.StatusCode) -> None:
    """Puts the call's final status on its span: the library's interceptor sees abort()
    but not abort_with_status(), which every mapped error goes through."""
    if not tracing_started():
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    span = trace.get_current_span()
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code in _SERVER_FAULTS:
        span.set_status(Status(StatusCode.ERROR))
