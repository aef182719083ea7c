"""The service as a process: restarts, SIGTERM, a hard kill, its logs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import identity_pb2

from services.crm.domain.identity import Identity
from services.crm.projections.runner import open_application
from services.crm.storage import eventsourcing_env
from tests import random_refs
from tests.builders import AGENT, content
from tests.e2e.grpc_helpers import record_by_email
from tests.e2e.server_process import ServerProcess
from tests.seeding import seed_interactions

StartServer = Callable[[str], ServerProcess]


def timeline_names(stub: Any, customer: str, min_position: int = 0) -> list[str]:
    """Names on the first page, retrying while the timeline catches up, as clients should."""
    request = pb.GetTimelineRequest(customer=customer, page_size=500, min_position=min_position)
    deadline = time.monotonic() + 120
    while True:
        try:
            page = stub.GetTimeline(request, timeout=30)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            continue
        return [entry.interaction.name for entry in page.entries]


def test_a_restart_on_the_same_database_keeps_everything(
    database_url: str, start_server: StartServer
) -> None:
    email = random_refs.email()
    first = start_server(database_url)
    recorded = [record_by_email(first.stub, email, summary=f"visit {n}") for n in range(5)]
    customer = recorded[0].interaction.customer
    before = timeline_names(first.stub, customer, recorded[-1].commit_position)
    assert first.terminate() == 0

    second = start_server(database_url)
    try:
        found = second.stub.FindCustomerByIdentity(
            pb.FindCustomerByIdentityRequest(identity=identity_pb2.Identity(email=email)),
            timeout=30,
        )
        assert found.customer.name == customer
        assert timeline_names(second.stub, customer) == before
        assert len(before) == 5
    finally:
        second.terminate()


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_no_acknowledged_write_is_lost_when_the_service_stops_or_crashes(
    database_url: str, start_server: StartServer, stop: str
) -> None:
    """Eight writers keep the group commit batching; SIGTERM drains them, SIGKILL
    cuts them off. Either way, every write the service acknowledged is stored."""
    server = start_server(database_url)
    acknowledged: list[pb.RecordInteractionResponse] = []
    enough = threading.Semaphore(0)

    def keep_writing() -> None:
        while True:
            try:
                acknowledged.append(record_by_email(server.stub, random_refs.email()))
            except (grpc.RpcError, ValueError):  # ValueError: the channel closed with it.
                return
            enough.release()

    writers = [threading.Thread(target=keep_writing) for _ in range(8)]
    for writer in writers:
        writer.start()
    for _ in range(50):
        assert enough.acquire(timeout=60)
    if stop == "sigterm":
        assert server.terminate() == 0
    else:
        server.kill()
    for writer in writers:
        writer.join(30)
    if stop == "sigterm":
        assert any(
            json.loads(line).get("message") == "stopped"
            for line in server.lines
            if line.startswith("{")
        )

    app = open_application(eventsourcing_env(database_url))
    try:
        for response in list(acknowledged):
            assert app.repository.get(_uuid(response.interaction.name)).id
    finally:
        app.close()
    assert len(acknowledged) >= 50


def test_a_hard_kill_mid_projection_resumes_exactly(
    database_url: str, env: dict[str, str], start_server: StartServer
) -> None:
    app = open_application(env)
    customer_id = app.record_interaction(
        Identity.email(random_refs.email()), content(), AGENT, ""
    ).interaction.customer_id
    ids = [interaction.id for interaction in seed_interactions(app, customer_id, 5000)]
    log_end = app.recorder.max_notification_id() or 0

    server = start_server(database_url)
    deadline = time.monotonic() + 60
    while not app.timeline.max_tracking_id(app.name):
        assert time.monotonic() < deadline, "the projection never started"
    server.kill()
    partial = app.timeline.max_tracking_id(app.name) or 0

    restarted = start_server(database_url)
    try:
        names = timeline_names(restarted.stub, f"customers/{customer_id}", log_end)
        names += timeline_names_after(restarted.stub, f"customers/{customer_id}", 500)
    finally:
        restarted.terminate()
        app.close()
    assert 0 < partial < log_end, "the kill should land while the projection catches up"
    assert len(names) == len(set(names)) == 5001
    assert set(names) >= {f"interactions/{i}" for i in ids}


def test_call_logs_are_json_with_method_status_duration_and_no_personal_data(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url)
    email = random_refs.email()
    record_by_email(server.stub, email, summary="My address is 1 Synthetic Street")
    server.terminate()
    calls = [json.loads(line) for line in server.lines if '"call"' in line]
    assert calls
    assert calls[0]["method"] == "/crm.v1.CustomerHistoryService/RecordInteraction"
    assert {"status", "duration_ms", "request_id"} <= set(calls[0])
    output = "".join(server.lines)
    assert email not in output
    assert "Synthetic Street" not in output


def timeline_names_after(stub: Any, customer: str, skip: int) -> list[str]:
    """Every name after the first page, following page tokens."""
    names: list[str] = []
    token = stub.GetTimeline(
        pb.GetTimelineRequest(customer=customer, page_size=skip), timeout=30
    ).next_page_token
    while token:
        page = stub.GetTimeline(
            pb.GetTimelineRequest(customer=customer, page_size=skip, page_token=token), timeout=30
        )
        names.extend(entry.interaction.name for entry in page.entries)
        token = page.next_page_token
    return names


def _uuid(name: str) -> UUID:
    return UUID(name.split("/")[1])
