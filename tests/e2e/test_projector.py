"""The projector: the read models kept up by a process of their own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.crm.application import CustomerHistory
from services.crm.storage import eventsourcing_env
from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import record_by_email
from tests.e2e.logged_process import ROOT
from tests.e2e.server_process import ServerProcess
from tests.e2e.test_process import timeline_names
from tests.stored_events import store_customer_named, store_unreadable_customer

StartServer = Callable[..., ServerProcess]


def projector_pid(server: ServerProcess) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for pid in _children(server.process.pid):
            if b"services.crm\x00project" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        time.sleep(0.05)
    raise AssertionError("the service started no projector")


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def assert_timeline_shows(server: ServerProcess, *recorded: pb.RecordInteractionResponse) -> None:
    """Once it includes the last, the customer's timeline holds exactly these, newest first."""
    customer, last = recorded[0].interaction.customer, recorded[-1].commit_position
    names = timeline_names(server.stub, customer, last)
    assert names == [reply.interaction.name for reply in reversed(recorded)]


def test_the_service_keeps_its_read_models_in_a_child_process(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url)
    email = random_refs.email()
    first = record_by_email(server.stub, email, summary="while it runs")
    assert_timeline_shows(server, first)
    # The directory caught up too, so the projector is frozen idle: on SQLite, frozen
    # in the middle of a write it would hold the file's lock, as any writer would.
    caught_up = pb.SearchCustomersRequest(name="nobody", min_position=first.commit_position)
    server.stub.SearchCustomers(caught_up, timeout=30)
    projector = projector_pid(server)

    os.kill(projector, signal.SIGSTOP)  # Frozen, not dead: the service does not replace it.
    try:
        second = record_by_email(server.stub, email, summary="while it is frozen")
        time.sleep(1)
        read = pb.GetTimelineRequest(customer=first.interaction.customer)
        frozen = [e.interaction.name for e in server.stub.GetTimeline(read, timeout=30).entries]
    finally:
        os.kill(projector, signal.SIGCONT)

    assert frozen == [first.interaction.name]
    assert_timeline_shows(server, first, second)


def test_a_killed_projector_is_started_again_and_misses_nothing(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url)
    email = random_refs.email()
    first = record_by_email(server.stub, email, summary="before")
    os.kill(projector_pid(server), signal.SIGKILL)
    second = record_by_email(server.stub, email, summary="after")

    assert_timeline_shows(server, first, second)
    server.wait_for_log("projector exited; restarting", timeout=30)


def test_the_projector_ends_with_a_killed_service(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url)
    projector = projector_pid(server)

    server.kill()

    assert _gone(projector, timeout=10), "an orphaned projector would race the next one"


def test_replicas_without_projections_are_served_by_a_projector_of_their_own(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url, CRM_PROJECTIONS="off")
    recorded = record_by_email(server.stub, random_refs.email())
    time.sleep(0.5)
    read = pb.GetTimelineRequest(customer=recorded.interaction.customer)
    assert list(server.stub.GetTimeline(read, timeout=30).entries) == []

    projector = subprocess.Popen(
        [sys.executable, "-m", "services.crm", "project"],
        cwd=ROOT,
        env={**server.env, "CRM_DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        names = timeline_names(server.stub, recorded.interaction.customer, recorded.commit_position)
    finally:
        projector.send_signal(signal.SIGTERM)
        output, _ = projector.communicate(timeout=30)
    assert names == [recorded.interaction.name]
    assert projector.returncode == 0
    assert '"projector stopped"' in output


def test_stored_events_the_projector_cannot_apply_stall_no_reader_and_the_log_rebuilds(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url)
    canary = f"Canary Cornelius {random_refs.suffix()}"
    # Written past the API, as a log kept before the API refused control characters.
    writer = CustomerHistory(env=eventsourcing_env(database_url))
    try:
        ada, _ = store_customer_named(writer, "Ada\x00Lovelace")
        _, broken_position = store_unreadable_customer(writer, canary)
    finally:
        writer.close()
    alan = server.stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name="Alan Turing")),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    recorded = record_by_email(server.stub, random_refs.email())

    live = reads(server, recorded)
    # PostgreSQL text cannot hold NUL: its read models show U+FFFD in its place.
    shown = "Ada\ufffdLovelace" if database_url.startswith("postgres") else "Ada\x00Lovelace"
    assert live == (
        [(f"customers/{ada}", shown)],
        [(alan.customer.name, "Alan Turing")],
        [recorded.interaction.name],
    )
    parking = server.wait_for_log("projection parked an event it cannot apply", timeout=30)
    assert parking["position"] == broken_position
    assert canary not in "".join(server.lines)
    # The parked event raises the read models' alert; the service itself stays ready.
    not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
    serving = health_pb2.HealthCheckResponse.SERVING
    assert health_of(server, "crm.projections", not_serving) == not_serving
    assert health_of(server, "crm.v1.CustomerHistoryService", serving) == serving

    assert server.terminate() == 0
    rebuilt = subprocess.run(
        [sys.executable, "-m", "services.crm", "rebuild-projections"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    reports = [json.loads(line) for line in rebuilt.stdout.splitlines() if '"rebuilt"' in line]
    assert [(r["read_model"], r["events_parked"]) for r in reports] == [
        ("timeline", 1),
        ("directory", 1),
    ]
    assert canary not in rebuilt.stdout + rebuilt.stderr
    assert reads(start_server(database_url), recorded) == live


def health_of(server: ServerProcess, service: str, awaited: int) -> int:
    """The status health reports, given the few seconds its poller needs to see a change."""
    stub = health_pb2_grpc.HealthStub(server.channel)
    deadline = time.monotonic() + 10
    while True:
        status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
        if status == awaited or time.monotonic() > deadline:
            return int(status)
        time.sleep(0.2)


def reads(
    server: ServerProcess, recorded: pb.RecordInteractionResponse
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """Searches for Ada and Alan and the recorded customer's timeline, each waiting for
    the log up to the recorded interaction."""
    position = recorded.commit_position

    def search(words: str) -> list[tuple[str, str]]:
        request = pb.SearchCustomersRequest(name=words, min_position=position)
        found: Any = server.stub.SearchCustomers(request, timeout=30)
        return [(customer.name, customer.display_name) for customer in found.customers]

    timeline = timeline_names(server.stub, recorded.interaction.customer, position)
    return search("ada"), search("alan"), timeline
