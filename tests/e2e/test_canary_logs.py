"""No personal data in any log: canary values sent over gRPC and HTTP, in requests that
succeed and requests that fail, never appear in the CRM's or the gateway's output."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx2 as httpx
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from google.protobuf import json_format

from tests import random_refs
from tests.e2e.gateway_server import GatewayProcess, serve_gateway
from tests.e2e.server_process import ServerProcess

ACTOR = (("x-crm-actor", "agent:canary-test"),)
KEY = {"Authorization": "ApiKey canary-key"}


@dataclass(frozen=True)
class Canary:
    """Every value carries a token no log line could hold by chance."""

    token: str
    line: str  # Phone digits after "+44 20 ", unique enough in a log.

    @property
    def email(self) -> str:
        return f"canary.{self.token}@example.com"

    @property
    def bad_email(self) -> str:
        return f"canary.{self.token}.at.example.com"

    @property
    def phone(self) -> str:
        return f"+44 20 {self.line[:4]} {self.line[4:]}"

    @property
    def name(self) -> str:
        return f"Canary {self.token.capitalize()}"

    @property
    def body(self) -> str:
        return f"My card number is {self.token}, please call me back."

    def traces(self) -> list[str]:
        """What a leak of any value would leave in a log."""
        return [self.token, self.line, f"{self.line[:4]} {self.line[4:]}"]


@pytest.fixture
def canary() -> Canary:
    return Canary(random_refs.suffix(), f"7946{random.randint(0, 9999):04d}")


@pytest.fixture
def processes(
    database_url: str, start_server: Any
) -> Iterator[tuple[ServerProcess, GatewayProcess]]:
    crm = start_server(database_url)
    with serve_gateway(
        f"127.0.0.1:{crm.port}", CRM_GATEWAY_API_KEYS="canary-key=agent@agent:canary-test"
    ) as gateway:
        yield crm, gateway


def interaction(text: str) -> dict[str, Any]:
    return {
        "channel": "CHANNEL_EMAIL",
        "direction": "DIRECTION_INBOUND",
        "summary": text[:200],
        "body": text,
    }


def over_grpc(crm: ServerProcess, canary: Canary) -> None:
    def call(rpc: str, request: dict[str, Any]) -> grpc.StatusCode:
        message = json_format.ParseDict(request, getattr(pb, f"{rpc}Request")())
        try:
            getattr(crm.stub, rpc)(message, metadata=ACTOR, timeout=30)
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    ok, bad = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT
    recorded = {"identity": {"email": canary.email}, "interaction": interaction(canary.body)}
    assert call("RecordInteraction", recorded) == ok
    customer = {"displayName": canary.name, "identities": [{"phone": canary.phone}]}
    assert call("CreateCustomer", {"customer": customer}) == ok
    assert call("SearchCustomers", {"name": canary.name}) == ok
    assert call("SearchCustomers", {"identity": {"email": canary.email}}) == ok
    assert call("FindCustomerByIdentity", {"identity": {"phone": canary.phone}}) == ok
    found = {"identity": {"email": "x" + canary.email}}
    assert call("FindCustomerByIdentity", found) == grpc.StatusCode.NOT_FOUND
    failing = {"identity": {"email": canary.bad_email}, "interaction": interaction(canary.body)}
    assert call("RecordInteraction", failing) == bad
    huge = {"identity": {"email": canary.email}, "interaction": interaction(canary.body * 3000)}
    assert call("RecordInteraction", huge) == bad
    long_name = {"customer": {"displayName": canary.name * 40}}
    assert call("CreateCustomer", long_name) == bad


def over_http(gateway: GatewayProcess, canary: Canary) -> None:
    with httpx.Client(base_url=gateway.url, headers=KEY, timeout=30) as http:
        recorded = http.post(
            "/v1/interactions:record",
            json={"identity": {"email": canary.email}, "interaction": interaction(canary.body)},
        )
        assert recorded.status_code == 200, recorded.text
        customer = recorded.json()["interaction"]["customer"]
        assert http.post(f"/v1/{customer}/notes", json={"text": canary.body}).status_code == 200
        searches = [
            ("/v1/customers:search", {"name": canary.name}),
            ("/v1/customers:search", {"identity.email": canary.email}),
            ("/v1/customers:findByIdentity", {"identity.phone": canary.phone}),
        ]
        for path, query in searches:
            assert http.get(path, params=query).status_code in (200, 404)
        failing = [
            {"identity": {"email": canary.bad_email}, "interaction": interaction(canary.body)},
            {"identity": {"phone": canary.phone + "99999"}, "interaction": interaction("hi")},
            {"customer": customer, "interaction": interaction(canary.body * 3000)},
        ]
        for body in failing:
            response = http.post("/v1/interactions:record", json=body)
            assert response.status_code == 400, response.text
        created = http.post("/v1/customers", json={"displayName": canary.name * 40})
        assert created.status_code == 400, created.text
        broken = http.post("/v1/interactions:record", content=f'{{"x": "{canary.body}'.encode())
        assert broken.status_code == 400
        assert http.get(f"/v1/{canary.email}/timeline").status_code == 404


def test_personal_data_reaches_neither_the_crms_nor_the_gateways_output(
    processes: tuple[ServerProcess, GatewayProcess], canary: Canary
) -> None:
    crm, gateway = processes

    over_grpc(crm, canary)
    over_http(gateway, canary)
    gateway.stop()
    crm.terminate()

    outputs = {"crm": "".join(crm.lines), "gateway": "".join(gateway.lines)}
    assert '"request"' in outputs["gateway"]
    assert '"call"' in outputs["crm"]
    for process, output in outputs.items():
        for trace in canary.traces():
            assert trace not in output, f"{trace!r} in the {process}'s output:\n{output}"
    assert '"uvicorn.access"' not in outputs["gateway"]
