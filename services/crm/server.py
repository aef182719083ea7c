"""Builds and runs the gRPC server: servicer, health, reflection, projection, shutdown."""

from __future__ import annotations

import logging
import os
from concurrent import futures
from dataclasses import dataclass

import grpc
from crm.v1 import customer_history_service_pb2, customer_history_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.crm.api.call_bounds import CallBoundsInterceptor
from services.crm.api.interceptors import EdgeInterceptor
from services.crm.api.servicer import CustomerHistoryServicer
from services.crm.application import CustomerHistory
from services.crm.config import Settings
from services.crm.health import HealthMonitor, HealthStatus, database_check
from services.crm.metrics import wiring as metrics
from services.crm.projections.health import ProjectionHealth
from services.crm.projections.runner import READ_MODELS, ProjectionSupervisor, open_application
from services.crm.projector import ProjectionProcess
from services.crm.serving_processes import (
    serve_processes,
    serving_parent,
    tell_parent_serving,
)
from services.crm.stop_signals import StopSignals
from services.crm.storage import ensure_postgres_schema, eventsourcing_env
from services.crm.tracing import traced_calls
from services.metrics_server import MetricsServer

logger = logging.getLogger(__name__)
SERVICE_NAME = customer_history_service_pb2.DESCRIPTOR.services_by_name[
    "CustomerHistoryService"
].full_name
# Health's name for the read models: NOT_SERVING while one is stalled or holds parked
# events (README: "An event a read model cannot apply never stalls it").
PROJECTIONS_HEALTH_NAME = "crm.projections"
MAX_CONNECTION_AGE_SECONDS = 300


@dataclass
class RunningService:
    """A started service; stop() drains calls, then stops the projection."""

    server: grpc.Server
    port: int
    app: CustomerHistory
    projections: list[ProjectionSupervisor | ProjectionProcess]
    health: HealthStatus
    monitors: list[HealthMonitor]
    grace_seconds: float
    metrics: MetricsServer | None = None

    def stop(self) -> None:
        for monitor in self.monitors:
            monitor.stop()
        self.health.enter_graceful_shutdown()
        # Watch streams end now, cleanly; their clients resume from the last position.
        self.app.stop_watchers()
        self.server.stop(self.grace_seconds).wait()
        for projection in self.projections:
            projection.stop()
        self.app.close()
        if self.metrics is not None:
            self.metrics.close()


def start_service(settings: Settings) -> RunningService:
    env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        ensure_postgres_schema(env)
    app = open_application(
        env, group_commit=settings.group_commit, on_commit=metrics.commit_observer(settings)
    )
    # First, so a port already taken stops the process before it starts anything else.
    metrics_server = metrics.serve_metrics(settings)
    # Create the read models before their projections start writing them.
    app.timeline.max_tracking_id(app.name)
    app.directory.max_tracking_id(app.name)
    projections = _projections(settings, env)
    for projection in projections:
        projection.start()

    server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=settings.max_workers + settings.max_watchers + settings.max_replays,
            thread_name_prefix="rpc",
        ),
        interceptors=[
            *metrics.rpc_interceptors(settings),
            *traced_calls(settings),
            EdgeInterceptor(settings.caller_secret),
            CallBoundsInterceptor(),
        ],
        options=[
            # Lets several serving processes bind one port (grpc's default on Linux,
            # said here because CRM_SERVE_PROCESSES depends on it).
            ("grpc.so_reuseport", 1),
            # Clients reconnect, and look the replicas up again, every few minutes, so
            # a replica added by scaling gets calls; calls in flight, watches included,
            # finish on the old connection (no grace limit).
            ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_SECONDS * 1000),
        ],
    )
    customer_history_service_pb2_grpc.add_CustomerHistoryServiceServicer_to_server(
        CustomerHistoryServicer(
            app,
            settings.default_phone_region,
            settings.max_read_wait_seconds,
            settings.max_watchers,
            max_watchers_per_caller=settings.max_watchers_per_caller,
            max_replays=settings.max_replays,
        ),
        server,
    )
    health_servicer = HealthStatus()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = server.add_insecure_port(settings.listen_address)
    # The server's own health ("") stays SERVING while it runs, for liveness probes;
    # the CRM service's follows the checks, for readiness.
    monitors = [
        HealthMonitor(
            health_servicer,
            SERVICE_NAME,
            settings.health_interval_seconds,
            [("database", database_check(app))],
        ),
        # An alert, not a readiness signal: one parked event must not take every
        # replica out of the load balancer.
        HealthMonitor(
            health_servicer,
            PROJECTIONS_HEALTH_NAME,
            settings.health_interval_seconds,
            [("projections", _projection_health(settings, app).healthy)],
        ),
    ]
    server.start()
    for monitor in monitors:
        monitor.start()
    return RunningService(
        server,
        port,
        app,
        projections,
        health_servicer,
        monitors,
        settings.shutdown_grace_seconds,
        metrics_server,
    )


def _projection_health(settings: Settings, app: CustomerHistory) -> ProjectionHealth:
    return ProjectionHealth(
        app, settings.projection_stall_seconds, observe=metrics.status_observer(settings, app)
    )


def _projections(
    settings: Settings, env: dict[str, str]
) -> list[ProjectionSupervisor | ProjectionProcess]:
    if settings.projections == "process":
        return [ProjectionProcess(settings)]
    if settings.projections == "thread":
        return [ProjectionSupervisor(env, read_model) for read_model in READ_MODELS]
    return []


def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then drain in-flight calls and stop cleanly; with
    CRM_SERVE_PROCESSES above 1, as the parent of that many serving processes."""
    signals = StopSignals()
    if settings.serve_processes > 1:
        serve_processes(settings, signals)
        return
    parent = serving_parent()
    service = start_service(settings)
    if parent:
        tell_parent_serving()  # The parent says "serving" once every child does.
    else:
        fields = {
            "address": settings.listen_address,
            "port": service.port,
            "metrics_port": service.metrics and service.metrics.port,
        }
        logger.info("serving", extra={"fields": fields})
    # A child's parent may have died before the death signal was asked for.
    signals.wait(0.2, or_until=lambda: bool(parent) and os.getppid() != parent)
    reason = signals.received[0].name if signals.received else "parent ended"
    logger.info("stopping", extra={"fields": {"signal": reason}})
    service.stop()
    logger.info("stopped")
