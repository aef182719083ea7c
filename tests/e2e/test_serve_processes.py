"""CRM_SERVE_PROCESSES=2: one port answered by two serving processes, kept by a parent."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx2 as httpx
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_history_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.processes import children
from tests import random_refs
from tests.e2e.gateway_server import serve_gateway
from tests.e2e.grpc_helpers import record_by_email
from tests.e2e.logged_process import LoggedProcess
from tests.e2e.scrapes import scrape
from tests.e2e.server_process import ServerProcess, crm_env
from tests.e2e.test_process import timeline_names

SERVING = health_pb2.HealthCheckResponse.SERVING
StartServer = Callable[..., ServerProcess]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Two processes writing one SQLite file: the README says SQLite takes it."""
    database = tmp_path_factory.mktemp("serve-processes") / "crm.sqlite3"
    started = ServerProcess(f"sqlite:///{database}", CRM_SERVE_PROCESSES="2")
    yield started
    if started.process.poll() is None:
        started.terminate()  # Not a kill: the parent removes its metrics directory.


def test_both_serving_processes_answer_new_connections_on_the_one_port(
    server: ServerProcess,
) -> None:
    channels = [own_connection(server.port) for _ in range(12)]
    try:
        answers = [health(channel) for channel in channels]
        held = connections_by_process(serving_children(server), server.port)
    finally:
        for channel in channels:
            channel.close()

    assert answers == [SERVING] * 12
    assert len(held) == 2
    assert all(held.values()), held


def test_the_parent_serves_the_calls_of_both_processes_on_one_metrics_port(
    server: ServerProcess,
) -> None:
    """README, Metrics: counters add up over the serving processes."""
    method = "crm.v1.CustomerHistoryService/RecordInteraction"
    before = scrape(server.metrics_port).value("crm_rpc_requests_total", method=method, code="OK")
    first, second = one_connection_per_child(server)
    try:
        for channel in (first, second):
            for _ in range(3):
                record_by_email(stub(channel), random_refs.email())
    finally:
        first.close()
        second.close()

    after = scrape(server.metrics_port)
    assert after.value("crm_rpc_requests_total", method=method, code="OK") == (before or 0) + 6
    assert after.value("crm_open_watches") == 0


def test_the_gateway_holds_as_many_connections_as_it_is_told_so_every_process_gets_calls(
    server: ServerProcess,
) -> None:
    """README: CRM_GATEWAY_CRM_CONNECTIONS connections, used in turn."""
    with serve_gateway(f"127.0.0.1:{server.port}", CRM_GATEWAY_CRM_CONNECTIONS="3") as gateway:
        for _ in range(6):
            assert httpx.get(f"{gateway.url}/readyz", timeout=10).status_code == 200
        assert len(connections_to(gateway.process.pid, server.port)) == 3


def test_writes_through_both_processes_are_read_through_either(server: ServerProcess) -> None:
    """Concurrent writes on both processes share the SQLite file; each is then read,
    with min_position, through the process that did not write it."""
    first, second = one_connection_per_child(server)
    try:
        stubs = [stub(first), stub(second)]
        written: list[tuple[int, pb.RecordInteractionResponse]] = []

        def write(through: int) -> None:
            for _ in range(5):
                written.append((through, record_by_email(stubs[through], random_refs.email())))

        writers = [threading.Thread(target=write, args=(n % 2,)) for n in range(6)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(60)

        assert len(written) == 30
        for through, response in written:
            reader = stubs[1 - through]
            names = timeline_names(reader, response.interaction.customer, response.commit_position)
            assert names == [response.interaction.name]
    finally:
        first.close()
        second.close()


def test_a_killed_serving_process_is_replaced_and_the_port_keeps_answering(
    server: ServerProcess,
) -> None:
    """Connections the kernel had handed the victim when it died are reset (README);
    once the parent has seen it go, new connections reach the others."""
    victim, survivor = serving_children(server)
    os.kill(victim, signal.SIGKILL)

    died = server.wait_for_log("serving process exited; restarting", timeout=30)
    answers_meanwhile = [health_on_new_connection(server.port) for _ in range(4)]
    replaced = server.wait_for_log("serving process ready", timeout=60)

    assert answers_meanwhile == [SERVING] * 4
    assert (died["pid"], died["exit_code"]) == (victim, -signal.SIGKILL)
    assert set(serving_children(server)) == {survivor, replaced["pid"]}
    assert [health_on_new_connection(server.port) for _ in range(4)] == [SERVING] * 4


def test_sigterm_stops_every_process_and_removes_the_metrics_directory(
    database_url: str, start_server: StartServer, tmp_path: Path
) -> None:
    """The parent ends last: after both serving processes drained and the projector
    stopped (not merely killed with it by the death signal)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server = start_server(database_url, CRM_SERVE_PROCESSES="2", TMPDIR=str(temporary))
    recorded = record_by_email(server.stub, random_refs.email())
    names = timeline_names(server.stub, recorded.interaction.customer, recorded.commit_position)
    family = [server.process.pid, *children(server.process.pid)]
    metrics_directories = [path.name[:12] for path in temporary.iterdir()]

    assert server.terminate() == 0
    assert names == [recorded.interaction.name]
    assert len(family) == 4  # The parent, two serving processes and the projector.
    assert [pid for pid in family if alive(pid)] == []
    assert stops_in_order(server) == [
        ("services.crm.server", "stopped"),
        ("services.crm.server", "stopped"),
        ("services.crm.projector", "projector stopped"),
        ("services.crm.serving_processes", "stopped"),
    ]
    assert metrics_directories == ["crm-metrics-"]
    assert list(temporary.iterdir()) == []


def stops_in_order(server: ServerProcess) -> list[tuple[str, str]]:
    """Who logged that it stopped, in the order the lines came, once the parent has."""
    deadline = time.monotonic() + 10
    while True:
        records = [json.loads(line) for line in server.lines if line.startswith("{")]
        stops = [
            (record["logger"], record["message"])
            for record in records
            if record["message"] in ("stopped", "projector stopped")
        ]
        if ("services.crm.serving_processes", "stopped") in stops:
            return stops
        assert time.monotonic() < deadline, "the parent never logged stopped"
        time.sleep(0.05)


def own_connection(port: int) -> grpc.Channel:
    """A channel with a TCP connection of its own: grpc otherwise shares one between
    channels to the same address, and the kernel spreads connections, not calls."""
    return grpc.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
    )


def health(channel: grpc.Channel) -> int:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    return int(reply.status)


def health_on_new_connection(port: int) -> int:
    with own_connection(port) as channel:
        return health(channel)


def stub(channel: grpc.Channel) -> customer_history_service_pb2_grpc.CustomerHistoryServiceStub:
    return customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)


def one_connection_per_child(server: ServerProcess) -> tuple[grpc.Channel, grpc.Channel]:
    """Opens connections until each child holds one, and says which is whose by the
    connection that child gained."""
    children_ = serving_children(server)
    found: dict[int, grpc.Channel] = {}
    for _ in range(40):
        before = connections_by_process(children_, server.port)
        channel = own_connection(server.port)
        health(channel)
        after = connections_by_process(children_, server.port)
        gained = [pid for pid in children_ if after[pid] - before[pid]]
        if len(gained) == 1 and gained[0] not in found:
            found[gained[0]] = channel
        else:
            channel.close()
        if len(found) == 2:
            return found[children_[0]], found[children_[1]]
    raise AssertionError(f"connections never reached both serving processes: {children_}")


def serving_children(server: ServerProcess) -> list[int]:
    return sorted(pid for pid in children(server.process.pid) if command(pid)[-1] == "serve")


def command(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")


def alive(pid: int) -> bool:
    """A process that has not ended; a zombie has ended, awaiting its reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def connections_by_process(pids: list[int], port: int) -> dict[int, set[int]]:
    """The established TCP connections on port each process holds, by socket inode."""
    established = _established_sockets(port)
    return {pid: _socket_inodes(pid) & established for pid in pids}


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:  # Closed while being read.
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    return inodes


def connections_to(pid: int, port: int) -> set[int]:
    """The established TCP connections process pid opened to port, by socket inode."""
    return _socket_inodes(pid) & _established_sockets(port, end=2)


def _established_sockets(port: int, end: int = 1) -> set[int]:
    """Sockets whose local (end 1) or remote (end 2) port is port."""
    found: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[end].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                found.add(int(fields[9]))  # 01: ESTABLISHED
    return found


def test_the_parent_exits_1_when_a_serving_process_cannot_start(tmp_path: Path) -> None:
    """A folder where the SQLite file should be: every child fails as it opens it."""
    parent = LoggedProcess(
        [sys.executable, "-m", "services.crm", "serve"],
        crm_env(f"sqlite:///{tmp_path}", CRM_SERVE_PROCESSES="2", CRM_PROJECTIONS="off"),
    )

    assert parent.process.wait(60) == 1
    assert parent.logged("a serving process did not start")
    assert not parent.logged("serving")
