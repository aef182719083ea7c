"""The Prometheus scrape endpoint both services serve on a port of its own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

# Set for processes that write their metrics to files the process serving them reads.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class MetricsServer:
    port: int
    _server: Any

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def open_metrics_server(address: str, multiprocess_dir: str | None = None) -> MetricsServer:
    """Serves /metrics at HOST:PORT on a thread (port 0 picks one). With a multiprocess
    directory (by default PROMETHEUS_MULTIPROC_DIR's) it serves what every process
    wrote there; otherwise this process's own metrics."""
    host, _, port = address.rpartition(":")
    directory = multiprocess_dir or os.environ.get(MULTIPROCESS_DIR)
    registry = REGISTRY
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    server, _ = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    return MetricsServer(int(server.server_address[1]), server)


def start_metrics_server(address: str, multiprocess_dir: str | None = None) -> int:
    """As open_metrics_server, for a process that serves them until it ends."""
    return open_metrics_server(address, multiprocess_dir).port


def writes_for_another_process() -> bool:
    """Whether this process's metrics are served by the process that started it."""
    return bool(os.environ.get(MULTIPROCESS_DIR))
