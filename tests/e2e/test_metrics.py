"""The CRM's Prometheus endpoint, scraped from the service as a process, as the README's
Metrics section lists it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import identity_pb2

from services.metrics_server import open_metrics_server
from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import email_interaction, record, record_by_email
from tests.e2e.logged_process import ROOT
from tests.e2e.scrapes import Scrape, scrape, scrape_until
from tests.e2e.server_process import ServerProcess, crm_env

RECORD = "crm.v1.CustomerHistoryService/RecordInteraction"


def calls(found: Scrape, method: str) -> dict[str, float]:
    return {
        labels["code"]: found.value("crm_rpc_requests_total", **labels) or 0
        for labels in found.labelled("crm_rpc_requests_total")
        if labels["method"] == method
    }


def increase(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {
        code: after[code] - before.get(code, 0)
        for code in after
        if after[code] != before.get(code, 0)
    }


def test_calls_are_counted_by_method_and_code_and_no_label_holds_personal_data(
    crm: ServerProcess,
) -> None:
    email, name = random_refs.email(), f"Quirinus Haverford {random_refs.suffix()}"
    before = scrape(crm.metrics_port)

    first = record_by_email(crm.stub, email, summary=f"{name} asked about an order")
    second = record_by_email(crm.stub, random_refs.email())
    with pytest.raises(grpc.RpcError) as refused:
        record(
            crm.stub,
            pb.RecordInteractionRequest(
                identity=identity_pb2.Identity(email=f"{name} at nowhere"),
                interaction=email_interaction(),
            ),
        )
    after = scrape(crm.metrics_port)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert increase(calls(before, RECORD), calls(after, RECORD)) == {
        "OK": 2,
        "INVALID_ARGUMENT": 1,
    }
    ok = {"method": RECORD, "code": "OK"}
    buckets = [s for s in after.samples if s.name == "crm_rpc_duration_seconds_bucket"]
    assert {s.labels["le"] for s in buckets if s.labels["method"] == RECORD} >= {"0.005", "+Inf"}
    timed = (after.value("crm_rpc_duration_seconds_count", **ok) or 0) - (
        before.value("crm_rpc_duration_seconds_count", **ok) or 0
    )
    assert timed == 2
    # Each first contact is one save; the refused call never reached the log.
    saves = (after.value("crm_group_commit_batch_saves_sum") or 0) - (
        before.value("crm_group_commit_batch_saves_sum") or 0
    )
    assert saves == 2
    customers = {first.interaction.customer, second.interaction.customer}
    secrets = [email, name, *customers, *(c.removeprefix("customers/") for c in customers)]
    assert [s for s in secrets if s in after.text] == []


def test_each_read_model_reports_its_lag_and_parked_events(crm: ServerProcess) -> None:
    recorded = record_by_email(crm.stub, random_refs.email())
    crm.stub.GetTimeline(
        pb.GetTimelineRequest(
            customer=recorded.interaction.customer, min_position=recorded.commit_position
        ),
        timeout=30,
    )

    found = scrape_until(
        crm.metrics_port,
        lambda s: (
            s.value("crm_read_model_lag_events", read_model="directory") == 0
            and s.value("crm_read_model_lag_events", read_model="timeline") == 0
        ),
    )

    for read_model in ("timeline", "directory"):
        assert found.value("crm_read_model_lag_events", read_model=read_model) == 0
        assert found.value("crm_read_model_lag_seconds", read_model=read_model) == 0
        assert found.value("crm_read_model_parked_events", read_model=read_model) == 0
        assert found.value("crm_read_model_stalled", read_model=read_model) == 0


def test_open_watches_count_a_watch_while_it_is_open(crm: ServerProcess) -> None:
    recorded = record_by_email(crm.stub, random_refs.email())
    watch = crm.stub.WatchTimeline(
        pb.WatchTimelineRequest(customer=recorded.interaction.customer),
        metadata=AGENT_METADATA,
    )
    try:
        watching = scrape_until(crm.metrics_port, lambda s: s.value("crm_open_watches") == 1)
    finally:
        watch.cancel()
    ended = scrape_until(crm.metrics_port, lambda s: s.value("crm_open_watches") == 0)

    assert watching.value("crm_open_watches") == 1
    assert ended.value("crm_open_watches") == 0
    watch_calls = calls(ended, "crm.v1.CustomerHistoryService/WatchTimeline")
    # The client left: it saw CANCELLED.
    assert watch_calls.get("CANCELLED", 0) >= 1


def test_database_pools_are_reported_on_postgresql_only(crm: ServerProcess) -> None:
    # Pools are read on the health poller's round that also reads the read models.
    found = scrape_until(crm.metrics_port, lambda s: bool(s.labelled("crm_read_model_lag_events")))

    pools = {labels["pool"] for labels in found.labelled("crm_database_pool_connections")}
    if crm.env["CRM_DATABASE_URL"].startswith("sqlite"):
        assert pools == set()
        return
    assert pools == {"events", "timeline", "directory"}
    for pool in pools:
        # The README's defaults: pool_size 2 plus max_overflow 14.
        assert found.value("crm_database_pool_max_connections", pool=pool) == 16
        opened = found.value("crm_database_pool_connections", pool=pool) or 0
        in_use = found.value("crm_database_pool_connections_in_use", pool=pool)
        assert opened >= 1
        assert in_use is not None
        assert 0 <= in_use <= opened
        assert found.value("crm_database_pool_waiting_requests", pool=pool) == 0


def test_a_process_writing_to_a_multiprocess_directory_leaves_serving_to_its_starter(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    server = ServerProcess(
        f"sqlite:///{tmp_path}/crm.sqlite3",
        PROMETHEUS_MULTIPROC_DIR=str(shared),
        CRM_HEALTH_INTERVAL_SECONDS="0.2",
        CRM_PROJECTIONS="thread",
    )
    try:
        record_by_email(server.stub, random_refs.email())
        starter = open_metrics_server("127.0.0.1:0", multiprocess_dir=str(shared))
        try:
            found = scrape_until(
                starter.port,
                lambda s: s.value("crm_read_model_lag_events", read_model="timeline") == 0,
            )
        finally:
            starter.close()
    finally:
        server.terminate()

    assert server.metrics_port is None
    assert found.value("crm_rpc_requests_total", method=RECORD, code="OK") == 1
    assert found.value("crm_open_watches") == 0
    assert found.value("crm_read_model_lag_events", read_model="directory") == 0


@pytest.mark.parametrize("command", ["serve", "project"])
def test_a_metrics_port_already_taken_stops_the_process_with_exit_2_naming_the_setting(
    command: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ended = subprocess.run(
            [sys.executable, "-m", "services.crm", command],
            env=crm_env(
                f"sqlite:///{tmp_path}/crm.sqlite3",
                CRM_METRICS_ADDRESS=f"127.0.0.1:{port}",
                CRM_PROJECTIONS="off",
            ),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert ended.returncode == 2
    assert f"CRM_METRICS_ADDRESS='127.0.0.1:{port}'" in ended.stderr
    assert "Traceback" not in ended.stderr
