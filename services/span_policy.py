"""What the trace SDK records and sends: nothing from outside a request, and of each span
only what says how a call went, never what it was about."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status, TraceState
from opentelemetry.util.types import Attributes, AttributeValue

# Paths, query strings, peers, user agents, request messages and error messages are
# left behind: they hold customer ids, emails and names.
KEPT_ATTRIBUTES = frozenset(
    {
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "rpc.grpc.status_code",
        "http.method",
        "http.request.method",
        "http.route",
        "http.status_code",
        "http.response.status_code",
        "http.scheme",
        "url.scheme",
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        # Statements carry placeholders; their parameters are never recorded.
        "db.statement",
        "db.query.text",
        "error.type",
        "exception.type",
    }
)


class OutsideRequestsDropped(Sampler):
    """Drops a database query or outgoing call made outside any request (health checks,
    pollers, the group commit's writer thread), which would each start a trace of
    their own many times a second; everything else is the given sampler's to decide."""

    def __init__(self, sampler: Sampler) -> None:
        self._sampler = sampler

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind == SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self._sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"OutsideRequestsDropped{{{self._sampler.get_description()}}}"


class WithoutPersonalData(SpanProcessor):
    """Hands each ended span on with only KEPT_ATTRIBUTES, its status without a
    description (that quotes the error's message) and exceptions by type alone."""

    def __init__(self, processor: SpanProcessor) -> None:
        self._processor = processor

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self._processor.on_end(
            ReadableSpan(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=_kept(span.attributes),
                events=[Event(e.name, _kept(e.attributes), e.timestamp) for e in span.events],
                links=span.links,
                kind=span.kind,
                status=Status(span.status.status_code),
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            )
        )

    def shutdown(self) -> None:
        self._processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._processor.force_flush(timeout_millis)


def _kept(attributes: Attributes) -> dict[str, AttributeValue]:
    return {key: value for key, value in (attributes or {}).items() if key in KEPT_ATTRIBUTES}
