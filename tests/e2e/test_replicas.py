"""The replica topology as real processes over one PostgreSQL schema: two serving
replicas, an active and a standby projector, and the gateway in front of both."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import httpx2 as httpx
import psycopg
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_history_service_pb2_grpc, identity_pb2
from psycopg import sql

from services.crm.lease import lease_key
from services.crm.storage import eventsourcing_env
from tests import random_refs
from tests.e2e.gateway_server import GatewayProcess
from tests.e2e.grpc_helpers import email_interaction, record, record_by_email
from tests.e2e.logged_process import ROOT
from tests.e2e.server_process import ProjectorProcess, ServerProcess, crm_env
from tests.e2e.test_process import timeline_names
from tests.leases import end_holder_session
from tests.read_model_rows import read_model_rows

# One machine runs both replicas: neither serves metrics, so no port is fought over.
NO_METRICS = {"CRM_METRICS_ADDRESS": ""}
API_KEY = {"Authorization": "ApiKey replica-key"}
RECORD = "/crm.v1.CustomerHistoryService/RecordInteraction"


@dataclass
class Topology:
    database_url: str
    replicas: list[ServerProcess]
    active: ProjectorProcess
    standby: ProjectorProcess
    gateway: GatewayProcess

    def round_robin_stub(self) -> Any:
        """A client of both replicas, as the README's CRM_GATEWAY_CRM_ADDRESS spells them."""
        target = "ipv4:" + ",".join(f"127.0.0.1:{r.port}" for r in self.replicas)
        channel = grpc.insecure_channel(target, options=[("grpc.lb_policy_name", "round_robin")])
        return customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)


@pytest.fixture(scope="module")
def topology(postgres_server: str) -> Iterator[Topology]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = f"{postgres_server}?schema={schema}"
    started: list[Any] = []
    try:
        started.append(active := ProjectorProcess(url, **NO_METRICS))
        started.append(first := ServerProcess(url, CRM_PROJECTIONS="off", **NO_METRICS))
        active.wait_for_log("active", timeout=60)
        started.append(standby := ProjectorProcess(url, **NO_METRICS))
        started.append(second := ServerProcess(url, CRM_PROJECTIONS="off", **NO_METRICS))
        standby.wait_for_log("standby", timeout=60)
        started.append(
            gateway := GatewayProcess(
                f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}",
                CRM_GATEWAY_API_KEYS="replica-key=agent@agent:replica-test",
                CRM_GATEWAY_METRICS_ADDRESS="",
            )
        )
        yield Topology(url, [first, second], active, standby, gateway)
    finally:
        for process in started:
            if process.process.poll() is None:
                process.process.kill()
                process.process.wait(30)
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


class Writer:
    """A client recording interactions for a few customers from a thread of its own
    until stopped; a write answered UNAVAILABLE is sent again with its request_id, as
    clients should. Keeps every acknowledged answer and every final failure."""

    def __init__(self, stub: Any, customers: int = 4) -> None:
        self.stub = stub
        self.emails = [random_refs.email() for _ in range(customers)]
        self.acknowledged: list[pb.RecordInteractionResponse] = []
        self.failed: list[str] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def wait_for_more(self, writes: int, timeout: float = 60) -> None:
        wanted = len(self.acknowledged) + writes
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < wanted:
            assert time.monotonic() < deadline, f"writes stalled; failed: {self.failed}"
            time.sleep(0.02)

    def stop(self) -> list[pb.RecordInteractionResponse]:
        self._stopping.set()
        self._thread.join(60)
        return self.acknowledged

    def _write(self) -> None:
        prefix, sent = uuid.uuid4().hex, 0
        while not self._stopping.is_set():
            request = pb.RecordInteractionRequest(
                identity=identity_pb2.Identity(email=self.emails[sent % len(self.emails)]),
                interaction=email_interaction(summary=f"write {sent}"),
                request_id=f"{prefix}-{sent}",
            )
            try:
                self.acknowledged.append(_sent_until_answered(self.stub, request))
            except grpc.RpcError as error:
                self.failed.append(error.code().name)
            sent += 1


def _sent_until_answered(stub: Any, request: pb.RecordInteractionRequest) -> Any:
    deadline = time.monotonic() + 20
    while True:
        try:
            return record(stub, request)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def times_shown(stub: Any, acknowledged: Sequence[pb.RecordInteractionResponse]) -> dict[str, int]:
    """How often each acknowledged interaction shows on its customer's timeline, read
    once the timeline includes the last of them."""
    last = max(reply.commit_position for reply in acknowledged)
    by_customer: dict[str, set[str]] = defaultdict(set)
    for reply in acknowledged:
        by_customer[reply.interaction.customer].add(reply.interaction.name)
    shown: dict[str, int] = {}
    for customer, names in by_customer.items():
        counts = Counter(timeline_names(stub, customer, last))
        shown.update({name: counts[name] for name in names})
    return shown


def once_each(acknowledged: Sequence[pb.RecordInteractionResponse]) -> dict[str, int]:
    return {reply.interaction.name: 1 for reply in acknowledged}


def calls_logged(replica: ServerProcess, method: str) -> list[dict[str, Any]]:
    return [line for line in replica.logged("call") if line.get("method") == method]


def test_writes_go_through_both_replicas_and_the_gateway_and_either_replica_reads_them(
    topology: Topology,
) -> None:
    first, second = topology.replicas
    email = random_refs.email()

    on_first = record_by_email(first.stub, email, summary="through the first replica")
    customer = on_first.interaction.customer
    read_on_second = timeline_names(second.stub, customer, on_first.commit_position)
    on_second = record_by_email(second.stub, email, summary="through the second replica")
    read_on_first = timeline_names(first.stub, customer, on_second.commit_position)

    assert read_on_second == [on_first.interaction.name]
    assert read_on_first == [on_second.interaction.name, on_first.interaction.name]

    # The gateway spreads calls over 4 connections, each turning over both replicas
    # once connected: enough calls that each connection takes several.
    request_ids = [f"replicas-{uuid.uuid4().hex}" for _ in range(24)]
    with httpx.Client(base_url=topology.gateway.url, timeout=30) as client:
        for request_id in request_ids:
            response = client.post(
                "/v1/interactions:record",
                headers={**API_KEY, "X-Request-Id": request_id},
                json={
                    "identity": {"email": email},
                    "interaction": {
                        "channel": "CHANNEL_EMAIL",
                        "direction": "DIRECTION_INBOUND",
                        "summary": "through the gateway",
                    },
                },
            )
            assert response.status_code == 200, response.text
        last = int(response.json()["commitPosition"])
        timeline = client.get(
            f"/v1/{customer}/timeline",
            headers=API_KEY,
            params={"minPosition": last, "pageSize": 100},
        )
    assert timeline.status_code == 200, timeline.text
    assert len(timeline.json()["entries"]) >= 26

    def gateway_calls(replica: ServerProcess) -> set[str]:
        return {line["request_id"] for line in calls_logged(replica, RECORD)} & set(request_ids)

    deadline = time.monotonic() + 5  # The replicas' log lines are written by a thread.
    while gateway_calls(first) | gateway_calls(second) != set(request_ids):
        assert time.monotonic() < deadline, "a gateway call logged by neither replica"
        time.sleep(0.05)
    assert [bool(gateway_calls(replica)) for replica in (first, second)] == [True, True]


def test_clients_carry_on_through_one_replica_while_the_other_stops(
    topology: Topology,
) -> None:
    first, second = topology.replicas
    writer = Writer(topology.round_robin_stub())
    writer.wait_for_more(20)

    assert second.terminate() == 0
    writer.wait_for_more(30)
    acknowledged = writer.stop()

    assert writer.failed == []
    assert calls_logged(second, RECORD), "the stopped replica served none of the writes"
    assert times_shown(first.stub, acknowledged) == once_each(acknowledged)


def test_a_rebuild_is_refused_while_a_projector_holds_the_lease(topology: Topology) -> None:
    """README: the rebuild would otherwise race the projector over the tables it replaces."""
    refused = subprocess.run(
        [sys.executable, "-m", "services.crm", "rebuild-projections"],
        cwd=ROOT,
        env=crm_env(topology.database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert refused.returncode == 1
    assert "a projector is running" in refused.stderr
    assert "rebuilt" not in refused.stdout + refused.stderr


def test_the_standby_projector_takes_over_within_10_s_and_nothing_is_lost_or_applied_twice(
    topology: Topology,
) -> None:
    reader = next(r for r in topology.replicas if r.process.poll() is None)
    writer = Writer(topology.round_robin_stub())
    writer.wait_for_more(20)

    killed = time.monotonic()
    topology.active.process.kill()
    topology.standby.wait_for_log("active", timeout=30)
    takeover = time.monotonic() - killed
    print(f"\nthe standby projector took over {takeover:.2f} s after the active one was killed")
    writer.wait_for_more(30)
    acknowledged = writer.stop()

    assert takeover < 10
    assert writer.failed == []
    assert times_shown(reader.stub, acknowledged) == once_each(acknowledged)
    assert topology.standby.stop() == 0
    live = read_model_rows(topology.database_url)
    rebuild(topology.database_url)
    assert read_model_rows(topology.database_url) == live


def rebuild(database_url: str) -> None:
    rebuilt = subprocess.run(
        [sys.executable, "-m", "services.crm", "rebuild-projections"],
        cwd=ROOT,
        env=crm_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr


StartServer = Callable[..., ServerProcess]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_replicas_with_their_own_projector_children_have_one_active_between_them(
    database_url: str, start_server: StartServer
) -> None:
    replicas = [start_server(database_url, **NO_METRICS) for _ in range(2)]
    deadline = time.monotonic() + 30
    while sum(len(r.logged("active")) + len(r.logged("standby")) for r in replicas) < 2:
        assert time.monotonic() < deadline, "a projector child neither active nor standby"
        time.sleep(0.05)
    holder = next(r for r in replicas if r.logged("active"))
    other = next(r for r in replicas if r is not holder)
    assert [len(r.logged("active")) for r in (holder, other)] == [1, 0]

    assert holder.terminate() == 0
    other.wait_for_log("active", timeout=10)
    recorded = record_by_email(other.stub, random_refs.email())
    assert timeline_names(other.stub, recorded.interaction.customer, recorded.commit_position) == [
        recorded.interaction.name
    ]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_standby_stops_on_sigterm_and_a_holder_that_loses_its_lease_stands_by_again(
    database_url: str, postgres_server: str
) -> None:
    started: list[ProjectorProcess] = []
    try:
        started.append(holder := ProjectorProcess(database_url, **NO_METRICS))
        holder.wait_for_log("active", timeout=60)
        started.append(standby := ProjectorProcess(database_url, **NO_METRICS))
        standby.wait_for_log("standby", timeout=60)
        assert standby.stop(timeout=5) == 0

        schema = eventsourcing_env(database_url)["POSTGRES_SCHEMA"]
        end_holder_session(postgres_server, lease_key("projector", schema))

        holder.wait_for_log("projector lost the lease; standing by", timeout=10)
        holder.wait_for_log("active", timeout=10)  # Nobody else wanted it.
        assert holder.stop(timeout=10) == 0
    finally:
        for projector in started:
            if projector.process.poll() is None:
                projector.process.kill()
