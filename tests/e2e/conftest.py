"""A real CRM gRPC server on port 0, in this process, on each storage backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from crm.v1 import customer_history_service_pb2_grpc

from services.crm.config import Settings
from services.crm.server import RunningService, start_service
from tests.e2e import operator_venv
from tests.e2e.gateway_server import crm_process
from tests.e2e.server_process import ServerProcess

AGENT_METADATA = (("x-crm-actor", "agent:test-agent"),)


@pytest.fixture
def service(database_url: str) -> Iterator[RunningService]:
    running = start_service(
        Settings(
            database_url=database_url,
            listen_address="127.0.0.1:0",
            shutdown_grace_seconds=2,
            # Two projections share two busy cores with the tests: allow reads to wait.
            max_read_wait_seconds=30,
            # In this process, so a test starts quickly; ServerProcess runs a projector.
            projections="thread",
            metrics_address="127.0.0.1:0",
        )
    )
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def crm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A CRM process shared by a module's tests, on each backend."""
    with crm_process(request, tmp_path_factory.mktemp("crm")) as server:
        yield server


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    """Starts service processes; any a test leaves running is killed afterwards."""
    started: list[ServerProcess] = []

    def start(database_url: str, **extra_env: str) -> ServerProcess:
        started.append(ServerProcess(database_url, **extra_env))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill()


@pytest.fixture
def channel(service: RunningService) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.Channel) -> customer_history_service_pb2_grpc.CustomerHistoryServiceStub:
    return customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)


def pytest_collection_finish(session: pytest.Session) -> None:
    operator_venv.start({item.module.__name__ for item in session.items if hasattr(item, "module")})
