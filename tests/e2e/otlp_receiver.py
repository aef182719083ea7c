"""A stand-in OTLP/HTTP collector for tests: keeps every span the services export."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass(frozen=True)
class SpanSeen:
    service: str
    span: Span

    @property
    def values(self) -> list[str]:
        """The span's name and every attribute value, as text."""
        return [self.span.name, *(str(_value(a.value)) for a in self.span.attributes)]

    def attribute(self, key: str) -> object:
        return next((_value(a.value) for a in self.span.attributes if a.key == key), None)


class Receiver:
    """A stand-in OTLP/HTTP collector: keeps every span POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.requests = 0  # POSTs of any kind, to any path
        self.spans: list[SpanSeen] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.count()  # Whatever the path: "nothing sent" means nothing.
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                receiver.keep(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def keep(self, export: ExportTraceServiceRequest) -> None:
        with self._lock:
            for resource_spans in export.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                )
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(SpanSeen(service, span) for span in scope_spans.spans)

    def wait_for(self, found: Callable[[list[SpanSeen]], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if found(list(self.spans)):
                    return
            time.sleep(0.05)
        raise AssertionError(
            f"spans never arrived; got {[(s.service, s.span.name) for s in self.spans]}"
        )

    def clear(self) -> None:
        with self._lock:
            self.spans.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(value: AnyValue) -> object:
    return getattr(value, value.WhichOneof("value") or "string_value")
