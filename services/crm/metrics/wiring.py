"""What a CRM process records, by its settings, and whether it serves the scrape."""

from __future__ import annotations

import grpc

from services.crm.application import CustomerHistory
from services.crm.application.group_commit import CommitObserver
from services.crm.config import ConfigError, Settings
from services.crm.metrics.feeds import observe_commit_batch, read_model_observer
from services.crm.metrics.rpc import RpcMetricsInterceptor
from services.crm.projections.health import StatusObserver
from services.metrics_server import MetricsServer, open_metrics_server, writes_for_another_process


def rpc_interceptors(settings: Settings) -> list[grpc.ServerInterceptor]:
    """First in the list, so it sees the status the client gets."""
    return [RpcMetricsInterceptor()] if settings.metrics_address else []


def commit_observer(settings: Settings) -> CommitObserver | None:
    return observe_commit_batch if settings.metrics_address else None


def status_observer(settings: Settings, app: CustomerHistory) -> StatusObserver | None:
    return read_model_observer(app) if settings.metrics_address else None


def serve_metrics(settings: Settings, multiprocess_dir: str | None = None) -> MetricsServer | None:
    """None when metrics are off, or when the process that started this one serves
    them (several serving processes, PROMETHEUS_MULTIPROC_DIR); with multiprocess_dir,
    what the processes this one started wrote there."""
    if not settings.metrics_address or (writes_for_another_process() and not multiprocess_dir):
        return None
    return listen(settings.metrics_address, multiprocess_dir)


def listen(address: str, multiprocess_dir: str | None = None) -> MetricsServer:
    try:
        return open_metrics_server(address, multiprocess_dir)
    except OSError as error:
        raise ConfigError(
            f"CRM_METRICS_ADDRESS={address!r}: cannot listen there ({error.strerror})"
        ) from None
