"""A PostgreSQL outage, seen through a proxy the test cuts: calls fail fast, health
follows the database, and no write whose caller gave up is committed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import grpc
import psycopg
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from services.crm.projections.runner import open_application
from services.crm.storage import eventsourcing_env
from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record_by_email
from tests.e2e.server_process import ServerProcess
from tests.tcp_proxy import TcpProxy

CRM_SERVICE = "crm.v1.CustomerHistoryService"
# As the README states: health follows the database within 5 s either way.
HEALTH_FOLLOWS_WITHIN_SECONDS = 5.0
# The test configures a 2 s database timeout; calls end within it plus the time a
# busy, shared machine takes, and well inside their 10 s deadline.
DATABASE_TIMEOUT_SECONDS = 2
FAILS_WITHIN_SECONDS = DATABASE_TIMEOUT_SECONDS + 3.0
PATIENT_DEADLINE = 10.0
IMPATIENT_DEADLINE = 0.5
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def schema_url(postgres_server: str) -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_server}?schema={schema}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@pytest.fixture
def proxy(postgres_server: str) -> Iterator[TcpProxy]:
    parts = urlsplit(postgres_server)
    assert parts.hostname is not None
    opened = TcpProxy(parts.hostname, parts.port or 5432)
    yield opened
    opened.close()


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    return parts._replace(netloc=netloc).geturl()


def health_becomes(server: ServerProcess, status: int, since: float) -> float:
    """Seconds from since until the CRM service's health reads status."""
    stub = health_pb2_grpc.HealthStub(server.channel)
    request = health_pb2.HealthCheckRequest(service=CRM_SERVICE)
    while time.monotonic() - since < HEALTH_FOLLOWS_WITHIN_SECONDS + 10:
        if stub.Check(request, timeout=2).status == status:
            return time.monotonic() - since
        time.sleep(0.05)
    raise AssertionError(f"health never became {status}")


def timed(call: Callable[[], Any]) -> tuple[float, ErrorDetails | None]:
    started = time.monotonic()
    try:
        call()
    except grpc.RpcError as error:
        return time.monotonic() - started, ErrorDetails(error)
    return time.monotonic() - started, None


def record_for(server: ServerProcess, customer: str, summary: str, timeout: float) -> Any:
    return server.stub.RecordInteraction(
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=email_interaction(summary=summary),
            request_id=str(uuid.uuid4()),
        ),
        metadata=AGENT_METADATA,
        timeout=timeout,
    )


def test_a_database_outage_fails_calls_fast_and_health_follows_the_database(
    schema_url: str, proxy: TcpProxy, start_server: Callable[..., ServerProcess]
) -> None:
    server = start_server(
        through(proxy, schema_url),
        CRM_DATABASE_TIMEOUT_SECONDS=str(DATABASE_TIMEOUT_SECONDS),
        CRM_HEALTH_INTERVAL_SECONDS="0.2",
        CRM_PROJECTIONS="off",
    )
    health_becomes(server, SERVING, time.monotonic())
    customer = record_by_email(server.stub, random_refs.email()).interaction.customer

    proxy.cut()
    lost = time.monotonic()
    with ThreadPoolExecutor(max_workers=7) as pool:
        patient = [
            pool.submit(timed, partial(record_for, server, customer, f"patient {n}", 10))
            for n in range(3)
        ]
        impatient = [
            pool.submit(
                timed, partial(record_for, server, customer, f"given up {n}", IMPATIENT_DEADLINE)
            )
            for n in range(3)
        ]
        read = pool.submit(
            timed,
            lambda: server.stub.GetCustomer(
                pb.GetCustomerRequest(name=customer), timeout=PATIENT_DEADLINE
            ),
        )
        assert health_becomes(server, NOT_SERVING, lost) <= HEALTH_FOLLOWS_WITHIN_SECONDS
        for future in [*patient, read]:
            elapsed, error = future.result()
            assert error is not None
            assert (error.code, error.reason) == (
                grpc.StatusCode.UNAVAILABLE,
                "DATABASE_UNAVAILABLE",
            )
            assert elapsed < FAILS_WITHIN_SECONDS
        for future in impatient:
            assert future.result()[1] is not None  # Given up or refused, never stored.

    proxy.resume()
    back = time.monotonic()
    assert health_becomes(server, SERVING, back) <= HEALTH_FOLLOWS_WITHIN_SECONDS
    after = record_for(server, customer, "after recovery", PATIENT_DEADLINE)
    assert after.commit_position > 0

    states = logged_states(schema_url)
    assert any(b"after recovery" in state for state in states)
    assert not [state for state in states if b"given up" in state or b"patient" in state]
    assert '"status": "INTERNAL"' not in "".join(server.lines)


def logged_states(database_url: str) -> list[bytes]:
    """Every event in the log, read straight from PostgreSQL, not through the proxy."""
    app = open_application(eventsourcing_env(database_url))
    try:
        return [n.state for n in app.recorder.select_notifications(start=1, limit=100_000)]
    finally:
        app.close()
