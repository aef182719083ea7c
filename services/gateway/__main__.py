"""The `crm-gateway` command (also `python -m services.gateway`): HTTP/JSON in front of
the CRM."""

from __future__ import annotations

import argparse
import logging
import socket
import sys

import uvicorn

from services.gateway.app import create_app
from services.gateway.config import GatewayConfigError, GatewaySettings
from services.gateway.logs import configure_logging
from services.gateway.slow_clients import protocol_with_deadline
from services.gateway.tracing import start_tracing, traced
from services.metrics_server import start_metrics_server
from services.tracing import stop_tracing

logger = logging.getLogger("gateway")


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, metrics_port: int | None) -> None:
        super().__init__(config)
        self.metrics_port = metrics_port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            fields = {"host": host, "port": port, "metrics_port": self.metrics_port}
            logger.info("serving", extra={"fields": fields})

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        # uvicorn then re-raises SIGTERM, which skips the SDK's exit hook.
        stop_tracing()


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="crm-gateway",
        description="Serves the CRM's API as HTTP/JSON, and the agent console. "
        "Configured by CRM_GATEWAY_* environment variables (see the README).",
    ).parse_args(argv)
    configure_logging()
    try:
        settings = GatewaySettings.from_environ()
    except GatewayConfigError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    start_tracing(settings)
    config = uvicorn.Config(
        traced(create_app(settings), settings),
        host=settings.listen_host,
        port=settings.listen_port,
        http=protocol_with_deadline(settings.header_timeout_seconds),
        # Its lines hold paths and query strings, which carry personal data; the
        # application logs each request itself (request_log.py).
        access_log=False,
        log_config=None,
        # Live timelines never end on their own; after this their clients reconnect
        # elsewhere and resume with Last-Event-ID.
        timeout_graceful_shutdown=5,
    )
    try:
        metrics_port = _serve_metrics(settings.metrics_address)
    except OSError as error:
        print(f"gateway: CRM_GATEWAY_METRICS_ADDRESS: {error.strerror}", file=sys.stderr)
        return 2
    _Server(config, metrics_port).run()
    return 0


def _serve_metrics(address: str) -> int | None:
    return start_metrics_server(address) if address else None


if __name__ == "__main__":
    sys.exit(main())
