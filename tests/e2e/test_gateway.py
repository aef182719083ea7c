"""HTTP/JSON through the gateway to a real CRM server and database."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from services.crm.server import RunningService
from services.gateway.app import create_app
from services.gateway.auth import Caller, issue_token
from services.gateway.config import GatewaySettings
from services.gateway.roles import ALLOWED, Role
from tests import random_refs
from tests.e2e.http_helpers import record_by_email

KEY = {"Authorization": "ApiKey test-key"}
SECRET = "test-signing-key-0123456789abcdef"


@pytest.fixture
def http(service: RunningService) -> Iterator[TestClient]:
    settings = GatewaySettings(
        crm_address=f"127.0.0.1:{service.port}",
        api_keys={"test-key": Caller("agent:http-test", Role.ADMIN)},
        jwt_secret=SECRET,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def record_email(http: TestClient, email: str, summary: str) -> dict[str, Any]:
    return record_by_email(http, KEY, email, summary)


def test_record_and_read_a_timeline_over_http(http: TestClient) -> None:
    recorded = record_email(http, random_refs.email(), "Where is my order?")
    customer = recorded["interaction"]["customer"]
    assert recorded["interaction"]["recordedBy"] == "agent:http-test"

    timeline = http.get(
        f"/v1/{customer}/timeline",
        params={"minPosition": recorded["commitPosition"], "channels": "CHANNEL_EMAIL"},
        headers=KEY,
    )

    assert timeline.status_code == 200, timeline.text
    assert [e["interaction"]["summary"] for e in timeline.json()["entries"]] == [
        "Where is my order?"
    ]


def test_nested_query_parameters_fill_nested_fields(http: TestClient) -> None:
    email = random_refs.email()
    recorded = record_email(http, email, "hello")
    found = http.get(
        "/v1/customers:findByIdentity", params={"identity.email": email.upper()}, headers=KEY
    )
    assert found.status_code == 200, found.text
    assert found.json()["customer"]["name"] == recorded["interaction"]["customer"]


def test_errors_carry_the_status_the_reason_and_the_field(http: TestClient) -> None:
    response = http.post(
        "/v1/interactions:record", headers=KEY, json={"identity": {"email": "nope"}}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    info = next(d for d in error["details"] if d["@type"].endswith("ErrorInfo"))
    assert info["reason"] == "INVALID_EMAIL"
    bad = next(d for d in error["details"] if d["@type"].endswith("BadRequest"))
    assert {v["field"] for v in bad["fieldViolations"]} >= {"identity.email"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/v1/interactions:record", {"content": b"{not json"}, 400),
        ("POST", "/v1/interactions:record", {"json": {"nonsense": 1}}, 400),
        ("POST", "/v1/interactions:record", {"json": {"interaction": {"channel": 3.5}}}, 400),
        ("POST", "/v1/interactions:record", {"json": ["a list"]}, 400),
        ("POST", "/v1/interactions:record", {"content": b" " * (2 * 1024 * 1024)}, 413),
        ("GET", "/v1/customers:search", {"params": {"bogus": "1"}}, 400),
        ("GET", "/v1/nowhere", {}, 404),
        ("DELETE", "/v1/customers:search", {}, 405),
        ("GET", "/v1/customers/not-a-uuid", {}, 400),
    ],
)
def test_bad_http_requests_get_a_clear_4xx(
    http: TestClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    response = http.request(method, path, headers=KEY, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == status


def test_requests_without_a_known_key_are_401(http: TestClient) -> None:
    for headers in ({}, {"Authorization": "ApiKey wrong"}, {"Authorization": "Bearer x"}):
        response = http.get("/v1/mergeSuggestions", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_every_rpc_has_a_role_rule_and_nothing_else_is_allowed() -> None:
    from services.gateway.app import SERVICE

    assert set(ALLOWED) == {method.name for method in SERVICE.methods}
    assert all(Role.ADMIN in roles for roles in ALLOWED.values())


@pytest.mark.parametrize("role", list(Role))
def test_the_role_matrix_holds_over_http_for_every_route(http: TestClient, role: Role) -> None:
    from services.gateway.app import SERVICE
    from services.gateway.routes import routes_of

    token = issue_token("someone", role, SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    routes = routes_of(SERVICE)
    assert {route.method.name for route in routes} == set(ALLOWED)
    for route in routes:
        # Every path variable names a customer; one that does not exist is enough to
        # see whether the call got past the gateway's role check.
        path = re.sub(r"\{[^}]*\}", f"customers/{uuid.uuid4()}", route.template)
        body: dict[str, Any] | None = {} if route.http_method == "POST" else None
        response = http.request(route.http_method, path, headers=headers, json=body)
        rpc = route.method.name
        if role in ALLOWED[rpc]:
            assert response.status_code not in (401, 403), (rpc, response.text)
            assert response.status_code < 500, (rpc, response.text)
        else:
            assert response.status_code == 403, (rpc, response.text)
            assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_expired_or_forged_tokens_are_401(http: TestClient) -> None:
    expired = issue_token("someone", Role.ADMIN, SECRET, lifetime_seconds=-10)
    forged = issue_token("someone", Role.ADMIN, "another-signing-key-0123456789abcdef")
    for token in (expired, forged, "not-a-jwt"):
        response = http.get("/v1/mergeSuggestions", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_with_a_caller_secret_the_crm_trusts_only_the_gateway(tmp_path: Any) -> None:
    import grpc
    from crm.v1 import customer_history_service_pb2 as pb
    from crm.v1.customer_history_service_pb2_grpc import CustomerHistoryServiceStub
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from services.crm.config import Settings
    from services.crm.server import start_service
    from tests.e2e.grpc_helpers import ErrorDetails

    crm = start_service(
        Settings(
            database_url=f"sqlite:///{tmp_path}/crm.sqlite3",
            listen_address="127.0.0.1:0",
            caller_secret="shared-between-gateway-and-crm",
        )
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{crm.port}") as channel:
            with pytest.raises(grpc.RpcError) as raised:
                CustomerHistoryServiceStub(channel).ListMergeSuggestions(
                    pb.ListMergeSuggestionsRequest(), metadata=(("x-crm-actor", "agent:mallory"),)
                )
            error = ErrorDetails(raised.value)
            assert (error.code, error.reason) == (
                grpc.StatusCode.UNAUTHENTICATED,
                "UNTRUSTED_CALLER",
            )
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING

        for secret, status in (("shared-between-gateway-and-crm", 200), ("wrong", 401)):
            settings = GatewaySettings(
                crm_address=f"127.0.0.1:{crm.port}",
                api_keys={"k": Caller("agent:alice", Role.AGENT)},
                crm_secret=secret,
            )
            with TestClient(create_app(settings)) as client:
                response = client.get("/v1/mergeSuggestions", headers={"Authorization": "ApiKey k"})
                assert response.status_code == status, response.text
    finally:
        crm.stop()
