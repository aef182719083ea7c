"""OpenTelemetry traces, shared by both services: off unless the standard OTEL_* variables
ask for them, and when on, spans leave the process without personal data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
# The process's one provider, once started: OpenTelemetry's is a global too.
_provider: TracerProvider | None = None


def traces_requested(env: Mapping[str, str]) -> bool:
    """Whether the environment turns traces on (README: Traces); ValueError for a value
    the services cannot honour."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    raw = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if raw not in ("", "otlp", "none"):
        raise ValueError(f"OTEL_TRACES_EXPORTER={raw!r} is not supported: use otlp or none")
    # The SDK's own default exporter is otlp to localhost; here an endpoint must be
    # named too, so a process with no OTEL_* variables sends nothing anywhere.
    on = raw == "otlp" or (not raw and any(env.get(name, "").strip() for name in _ENDPOINTS))
    protocol = next((env[name].strip() for name in _PROTOCOLS if env.get(name, "").strip()), "")
    if on and protocol not in ("", "http/protobuf"):
        raise ValueError(
            f"OTLP protocol {protocol!r} is not supported: traces go over http/protobuf"
        )
    return on


def start_tracing(default_service_name: str) -> None:
    """Installs the SDK as this process's tracer provider, exporting by OTLP/HTTP as the
    OTEL_EXPORTER_OTLP_*, OTEL_BSP_*, OTEL_TRACES_SAMPLER and resource variables say."""
    global _provider
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from services.span_policy import OutsideRequestsDropped, WithoutPersonalData

    # OTEL_SERVICE_NAME, or service.name in OTEL_RESOURCE_ATTRIBUTES, wins over ours.
    named = OTELResourceDetector().detect().attributes.get(SERVICE_NAME) or default_service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: named}))
    # OTEL_TRACES_SAMPLER chose provider.sampler; this rule goes in front of it.
    provider.sampler = OutsideRequestsDropped(provider.sampler)
    provider.add_span_processor(WithoutPersonalData(BatchSpanProcessor(OTLPSpanExporter())))
    trace.set_tracer_provider(provider)
    _provider = provider


def tracing_started() -> bool:
    """Whether this process has started tracing."""
    return _provider is not None


def stop_tracing() -> None:
    """Sends the spans still held; for a process that ends by re-raising its signal,
    which skips the SDK's own exit hook."""
    if _provider is not None:
        _provider.shutdown()
