"""Health: the CRM service is SERVING while every named check passes."""

from __future__ import annotations

from grpc_health.v1 import health_pb2

from services.crm.health import HealthMonitor, HealthStatus

SERVICE = "crm.v1.CustomerHistoryService"


def status_of(health: HealthStatus, service: str) -> int:
    answer = health.Check(health_pb2.HealthCheckRequest(service=service), None)
    return int(answer.status)


def test_the_service_is_not_serving_while_any_check_fails_and_serves_again_after() -> None:
    database_up = [True]
    health = HealthStatus()
    monitor = HealthMonitor(health, SERVICE, interval=60, checks=[("database", lambda: True)])
    monitor.add_check("database", lambda: database_up[0])
    monitor.add_check("projections", lambda: True)

    assert monitor.check_now() == []
    assert status_of(health, SERVICE) == health_pb2.HealthCheckResponse.SERVING
    database_up[0] = False
    assert monitor.check_now() == ["database"]
    assert status_of(health, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
    # The server itself stays up: liveness probes ask for "".
    assert status_of(health, "") == health_pb2.HealthCheckResponse.SERVING
    database_up[0] = True
    assert monitor.check_now() == []
    assert status_of(health, SERVICE) == health_pb2.HealthCheckResponse.SERVING


def test_a_check_that_raises_counts_as_failing() -> None:
    def broken() -> bool:
        raise RuntimeError("cannot tell")

    health = HealthStatus()
    monitor = HealthMonitor(health, SERVICE, interval=60, checks=[("projections", broken)])

    assert monitor.check_now() == ["projections"]
    assert status_of(health, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING


def test_after_shutdown_begins_every_service_reads_not_serving_for_good() -> None:
    health = HealthStatus()
    monitor = HealthMonitor(health, SERVICE, interval=60, checks=[("database", lambda: True)])
    monitor.check_now()

    health.enter_graceful_shutdown()
    monitor.check_now()

    assert status_of(health, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
    assert status_of(health, "") == health_pb2.HealthCheckResponse.NOT_SERVING
