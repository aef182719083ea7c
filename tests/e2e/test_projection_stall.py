"""A read model that stops following the log: health and metrics say so, and a
projector brings both back."""

from __future__ import annotations

import signal
import sys

from grpc_health.v1 import health_pb2

from tests import random_refs
from tests.e2e.grpc_helpers import record_by_email
from tests.e2e.logged_process import LoggedProcess
from tests.e2e.scrapes import scrape_until
from tests.e2e.test_projector import StartServer, health_of

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
READ_MODELS = ("timeline", "directory")


def test_a_stalled_projection_reports_not_serving_until_a_projector_catches_up(
    database_url: str, start_server: StartServer
) -> None:
    # Nothing projects in this service, and a read model still behind after a second
    # is stalled.
    server = start_server(
        database_url,
        CRM_PROJECTIONS="off",
        CRM_PROJECTION_STALL_SECONDS="1",
        CRM_HEALTH_INTERVAL_SECONDS="0.2",
    )
    recorded = record_by_email(server.stub, random_refs.email())

    assert health_of(server, "crm.projections", NOT_SERVING) == NOT_SERVING
    # Readiness stays: every replica shares the read models, so none would be left.
    assert health_of(server, "crm.v1.CustomerHistoryService", SERVING) == SERVING
    stalled = scrape_until(
        server.metrics_port,
        lambda s: all(s.value("crm_read_model_stalled", read_model=r) == 1 for r in READ_MODELS),
    )
    for read_model in READ_MODELS:
        assert stalled.value("crm_read_model_stalled", read_model=read_model) == 1
        # A fresh log: every position up to the write is one the read model lacks.
        behind = stalled.value("crm_read_model_lag_events", read_model=read_model)
        assert behind == recorded.commit_position
        waited = stalled.value("crm_read_model_lag_seconds", read_model=read_model)
        assert waited is not None
        # Stalled a second after its last poll caught up, at most 0.2 s before the write.
        assert 0.5 < waited < 120

    projector = LoggedProcess([sys.executable, "-m", "services.crm", "project"], server.env)
    try:
        metrics_port = projector.wait_for_log("projecting", timeout=60)["metrics_port"]
        assert health_of(server, "crm.projections", SERVING) == SERVING
        caught_up = scrape_until(
            metrics_port,
            lambda s: all(
                s.value("crm_read_model_lag_events", read_model=r) == 0 for r in READ_MODELS
            ),
        )
    finally:
        projector.process.send_signal(signal.SIGTERM)
        projector.process.wait(30)
    for read_model in READ_MODELS:
        assert caught_up.value("crm_read_model_lag_events", read_model=read_model) == 0
        assert caught_up.value("crm_read_model_lag_seconds", read_model=read_model) == 0
        assert caught_up.value("crm_read_model_stalled", read_model=read_model) == 0
        applied = caught_up.value("crm_read_model_events_applied_total", read_model=read_model)
        assert applied == recorded.commit_position
