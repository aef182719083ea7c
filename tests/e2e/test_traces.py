"""Traces: with the standard OTEL_* variables set, an HTTP request to the gateway, the
CRM call it makes and that call's database statements form one trace, which holds no
personal data; without them, nothing is sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests import random_refs
from tests.e2e.gateway_server import GatewayProcess, crm_process, serve_gateway
from tests.e2e.http_helpers import record_by_email
from tests.e2e.otlp_receiver import Receiver, SpanSeen
from tests.e2e.server_process import ServerProcess

KEY = {"Authorization": "ApiKey trace-key"}
API_KEYS = "trace-key=admin@agent:trace-test"
UNKNOWN_CUSTOMER = "customers/00000000-0000-4000-8000-000000000000"
# As the README's Traces section names them.
GATEWAY = "crm-gateway"
CRM = "crm"
RECORD_ROUTE = "POST /v1/interactions:record"
GET_CUSTOMER_ROUTE = "GET /v1/{name=customers/*}"
SEARCH_ROUTE = "GET /v1/customers:search"
RECORD_RPC = "/crm.v1.CustomerHistoryService/RecordInteraction"
GET_CUSTOMER_RPC = "/crm.v1.CustomerHistoryService/GetCustomer"
NOT_FOUND = 5
# A caller in front of the gateway (an ingress, a browser's tracing) that began a trace.
CALLERS_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLERS_SPAN_ID = "00f067aa0ba902b7"
CALLERS_TRACEPARENT = f"00-{CALLERS_TRACE_ID}-{CALLERS_SPAN_ID}-01"


def otel_env(receiver: Receiver) -> dict[str, str]:
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def crm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[ServerProcess]:
    receiver.clear()  # Of the other backend's run, stopped by now.
    with crm_process(request, tmp_path_factory.mktemp("crm"), **otel_env(receiver)) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(crm: ServerProcess, receiver: Receiver) -> Iterator[GatewayProcess]:
    address = f"127.0.0.1:{crm.port}"
    with serve_gateway(address, CRM_GATEWAY_API_KEYS=API_KEYS, **otel_env(receiver)) as process:
        yield process


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    id: str


@pytest.fixture(scope="module")
def customer(gateway: GatewayProcess) -> Customer:
    """One synthetic customer, recorded, read and searched for through the gateway."""
    word = f"Tracewell{random_refs.suffix()}"
    name, email = f"Zed {word}", random_refs.email()
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        recorded = record_by_email(http, KEY, f'"{name}" <{email}>', "Traced question")
        customer = recorded["interaction"]["customer"]
        assert http.get(f"/v1/{customer}", headers=KEY).status_code == 200
        assert http.get(f"/v1/{UNKNOWN_CUSTOMER}", headers=KEY).status_code == 404
        searched = http.get(
            "/v1/customers:search",
            params={"name": word},
            headers={**KEY, "traceparent": CALLERS_TRACEPARENT},
        )
        assert searched.status_code == 200
    return Customer(name, email, customer.removeprefix("customers/"))


def test_an_http_request_and_the_crm_call_it_makes_share_one_trace(
    receiver: Receiver, crm: ServerProcess, customer: Customer
) -> None:
    request = _wait_for_one(receiver, GATEWAY, RECORD_ROUTE)
    call = _wait_for_one(receiver, CRM, RECORD_RPC, request.span.trace_id)

    assert request.span.kind == Span.SPAN_KIND_SERVER
    assert call.span.kind == Span.SPAN_KIND_SERVER
    assert request.span.span_id in _ancestors(call, receiver.spans)


def test_the_crm_calls_database_statements_and_its_write_are_in_its_trace(
    receiver: Receiver, crm: ServerProcess, customer: Customer
) -> None:
    call = _wait_for_one(receiver, CRM, RECORD_RPC)
    database = "postgresql" if "postgresql" in crm.env["CRM_DATABASE_URL"] else "sqlite"

    def statements_of_call(spans: list[SpanSeen]) -> set[str]:
        return {
            seen.span.name
            for seen in spans
            if seen.attribute("db.system") == database
            and seen.span.trace_id == call.span.trace_id
            and call.span.span_id in _ancestors(seen, spans)
        }

    receiver.wait_for(lambda spans: {"SELECT", "INSERT"} <= statements_of_call(spans))


def test_a_request_that_names_its_trace_joins_it(receiver: Receiver, customer: Customer) -> None:
    request = _wait_for_one(receiver, GATEWAY, SEARCH_ROUTE)
    call = _wait_for_one(receiver, CRM, "/crm.v1.CustomerHistoryService/SearchCustomers")

    assert request.span.trace_id.hex() == CALLERS_TRACE_ID
    assert request.span.parent_span_id.hex() == CALLERS_SPAN_ID
    assert call.span.trace_id.hex() == CALLERS_TRACE_ID


def test_database_work_outside_any_call_is_not_traced(
    receiver: Receiver, customer: Customer
) -> None:
    _wait_for_one(receiver, CRM, GET_CUSTOMER_RPC)

    # Health checks query the database every second, from the service's start.
    crm_roots = [
        seen.span.name
        for seen in receiver.spans
        if seen.service == CRM and not seen.span.parent_span_id
    ]
    assert crm_roots == []


def test_each_service_names_itself(receiver: Receiver, customer: Customer) -> None:
    _wait_for_one(receiver, GATEWAY, RECORD_ROUTE)
    _wait_for_one(receiver, CRM, RECORD_RPC)

    assert {seen.service for seen in receiver.spans} == {GATEWAY, CRM}


def test_a_failed_call_carries_its_status(receiver: Receiver, customer: Customer) -> None:
    request = _wait_for_one(receiver, GATEWAY, GET_CUSTOMER_ROUTE, status=404)
    call = _wait_for_one(receiver, CRM, GET_CUSTOMER_RPC, request.span.trace_id)

    assert call.attribute("rpc.grpc.status_code") == NOT_FOUND


def test_no_span_holds_the_customers_email_name_or_id(
    receiver: Receiver, customer: Customer
) -> None:
    _wait_for_one(receiver, GATEWAY, SEARCH_ROUTE)
    _wait_for_one(receiver, CRM, GET_CUSTOMER_RPC)
    personal = [customer.email, customer.name.split()[1].lower(), customer.id]

    leaks = [
        (seen.service, seen.span.name, value)
        for seen in receiver.spans
        for value in seen.values
        if any(data in value.lower() for data in personal)
    ]

    assert leaks == []


def test_without_otel_variables_nothing_is_sent(tmp_path: Path) -> None:
    receiver = Receiver()
    # Both switches that turn traces off beat an endpoint that would turn them on.
    off = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    crm = ServerProcess(
        f"sqlite:///{tmp_path}/crm.sqlite3",
        **off,
        OTEL_SDK_DISABLED="true",
        OTEL_TRACES_EXPORTER="otlp",
    )
    try:
        with (
            serve_gateway(
                f"127.0.0.1:{crm.port}",
                CRM_GATEWAY_API_KEYS=API_KEYS,
                **off,
                OTEL_TRACES_EXPORTER="none",
            ) as gateway,
            httpx.Client(base_url=gateway.url, timeout=30) as http,
        ):
            record_by_email(http, KEY, random_refs.email(), "Untraced question")
    finally:
        # A process exporting spans sends every one it holds as it stops.
        crm.terminate()
        receiver.close()

    assert receiver.requests == 0


def _wait_for_one(
    receiver: Receiver,
    service: str,
    name: str,
    trace_id: bytes | None = None,
    status: int | None = None,
) -> SpanSeen:
    def matching(spans: list[SpanSeen]) -> list[SpanSeen]:
        return [
            seen
            for seen in spans
            if seen.service == service
            and seen.span.name == name
            and trace_id in (None, seen.span.trace_id)
            and status in (None, seen.attribute("http.status_code"))
        ]

    receiver.wait_for(lambda spans: bool(matching(spans)))
    return matching(receiver.spans)[0]


def _ancestors(seen: SpanSeen, spans: list[SpanSeen]) -> set[bytes]:
    by_id = {other.span.span_id: other.span for other in spans}
    found: set[bytes] = set()
    parent = seen.span.parent_span_id
    while parent and parent not in found:
        found.add(parent)
        parent = by_id[parent].parent_span_id if parent in by_id else b""
    return found
