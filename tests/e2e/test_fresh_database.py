"""Two services started at once on a fresh database create its tables without a fault."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from crm.v1 import customer_history_service_pb2 as pb

from tests import random_refs
from tests.e2e.grpc_helpers import record_by_email
from tests.e2e.server_process import ServerProcess


def timeline_length(server: ServerProcess, customer: str, min_position: int) -> int:
    """Entries on the timeline once it includes min_position, retrying while it catches up."""
    request = pb.GetTimelineRequest(customer=customer, min_position=min_position)
    deadline = time.monotonic() + 120
    while True:
        try:
            return len(server.stub.GetTimeline(request, timeout=30).entries)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise


def test_two_services_starting_together_on_a_fresh_database_log_no_error(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    # Two replicas, one with the projector process (whose two runners create their
    # tables too), as deploy/README.md runs several: one projector in all.
    projections = ["process", "off"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        servers = list(
            pool.map(lambda mode: start_server(database_url, CRM_PROJECTIONS=mode), projections)
        )

    for server in servers:  # Both serve, and the one projector follows both.
        recorded = record_by_email(server.stub, random_refs.email())
        assert timeline_length(server, recorded.interaction.customer, recorded.commit_position) == 1
    for server in servers:
        assert server.terminate() == 0
    output = "".join(line for server in servers for line in server.lines)
    assert "Traceback" not in output
    assert '"frames"' not in output  # No error was logged, at any level.
    assert '"level": "error"' not in output
