"""The baselines: a bare gRPC echo, and a naive server doing one save() per call.

Both use the CRM's server settings (thread pool size, port 0) and accept the CRM's
RecordInteraction path, so the same client and the same requests drive all three.
"""

from __future__ import annotations

import argparse
import base64
import signal
import sys
import threading
from concurrent import futures
from typing import Any

import grpc
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from services.crm.config import Settings
from services.crm.storage import ensure_postgres_schema, eventsourcing_env

RECORD_METHOD = "RecordInteraction"
SERVICE_NAME = "crm.v1.CustomerHistoryService"


class Touch(Aggregate):
    """The least an event-sourced write can be: one aggregate, one event."""

    @event("Touched")
    def __init__(self, payload: str) -> None:
        self.payload = payload


class NaiveApplication(Application[Any]):
    name = "NaiveBaseline"


def echo(request: bytes, _context: grpc.ServicerContext) -> bytes:
    return request


def naive_handler(app: NaiveApplication) -> Any:
    def save_one(request: bytes, _context: grpc.ServicerContext) -> bytes:
        app.save(Touch(base64.b64encode(request).decode()))
        return request

    return save_one


def serve(kind: str, database_url: str) -> None:
    settings = Settings.from_environ()
    if kind == "naive":
        env = eventsourcing_env(database_url)
        ensure_postgres_schema(env)
        behaviour = naive_handler(NaiveApplication(env=env))
    else:
        behaviour = echo
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.max_workers + settings.max_watchers)
    )
    handler = grpc.unary_unary_rpc_method_handler(behaviour)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE_NAME, {RECORD_METHOD: handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"port {port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(1).wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["echo", "naive"])
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    serve(args.kind, args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
