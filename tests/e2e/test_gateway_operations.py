"""The gateway's probes and Prometheus endpoint, with the gateway and the CRM as
processes, as the README's Metrics and Health sections state them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from tests import random_refs
from tests.e2e.gateway_server import GatewayProcess, serve_gateway
from tests.e2e.http_helpers import record_by_email
from tests.e2e.scrapes import scrape
from tests.e2e.server_process import ServerProcess

KEY = {"Authorization": "ApiKey test-key"}
TIMELINE_ROUTE = "/v1/{customer=customers/*}/timeline"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    crm = ServerProcess(f"sqlite:///{tmp_path_factory.mktemp('crm')}/crm.sqlite3")
    try:
        with serve_gateway(
            f"127.0.0.1:{crm.port}", CRM_GATEWAY_API_KEYS="test-key=admin@agent:ops-test"
        ) as process:
            yield process
    finally:
        crm.terminate()


def requests_counted(gateway: GatewayProcess, **labels: str) -> float:
    return scrape(gateway.metrics_port).value("crm_gateway_http_requests_total", **labels) or 0


def test_requests_are_counted_by_route_template_and_no_label_holds_personal_data(
    gateway: GatewayProcess,
) -> None:
    email, name = random_refs.email(), f"Ottoline Brackenbury {random_refs.suffix()}"
    timeline = {"route": TIMELINE_ROUTE, "method": "GET", "status": "200"}
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    before = {"timeline": requests_counted(gateway, **timeline)}
    before["unmatched"] = requests_counted(gateway, **unmatched)

    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        recorded = record_by_email(http, KEY, email, f"{name} called about a refund")
        customer = recorded["interaction"]["customer"]
        read = http.get(f"/v1/{customer}/timeline", headers=KEY)
        lost = http.get(f"/v2/people/{email}/{name}", headers=KEY)
    found = scrape(gateway.metrics_port)

    assert (read.status_code, lost.status_code) == (200, 404)
    counted = found.value("crm_gateway_http_requests_total", **timeline)
    assert counted == before["timeline"] + 1
    assert found.value("crm_gateway_http_requests_total", **unmatched) == before["unmatched"] + 1
    buckets = {
        s.labels["le"]
        for s in found.samples
        if s.name == "crm_gateway_http_request_duration_seconds_bucket"
        and s.labels["route"] == TIMELINE_ROUTE
    }
    assert {"0.005", "+Inf"} <= buckets
    secrets = [email, name, customer, customer.removeprefix("customers/")]
    assert [s for s in secrets if s in found.text] == []


def test_the_probes_answer_without_credentials_while_the_crm_serves(
    gateway: GatewayProcess,
) -> None:
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        live, ready = http.get("/healthz"), http.get("/readyz")

    assert (live.status_code, live.json()) == (200, {"status": "SERVING"})
    assert (ready.status_code, ready.json()) == (200, {"status": "SERVING"})


def test_a_gateway_without_a_crm_is_live_but_not_ready() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with (
        serve_gateway(f"127.0.0.1:{closed_port}") as gateway,
        httpx.Client(base_url=gateway.url, timeout=30) as http,
    ):
        live, ready = http.get("/healthz"), http.get("/readyz")

    assert live.status_code == 200
    assert ready.status_code == 503
    error: dict[str, Any] = ready.json()["error"]
    assert error["status"] == "UNAVAILABLE"
    assert [d["reason"] for d in error["details"] if "reason" in d] == ["CRM_NOT_READY"]
