"""HTTP/JSON through the gateway process to a CRM process and a real database."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx2 as httpx
import jwt
import pytest
from crm.v1 import customer_history_service_pb2 as pb

from tests import random_refs
from tests.e2e.gateway_server import GatewayProcess, serve_gateway
from tests.e2e.grpc_helpers import ErrorDetails
from tests.e2e.http_helpers import record_by_email
from tests.e2e.server_process import ServerProcess

KEY = {"Authorization": "ApiKey test-key"}
SECRET = "test-signing-key-0123456789abcdef"
UNKNOWN_CUSTOMER = "customers/00000000-0000-4000-8000-000000000000"

# The README's role table, as it states it: x may call the RPC, - may not. A new RPC
# is one more line.
ROLES = ("agent", "supervisor", "auditor", "service", "admin")
ROLE_TABLE = {
    #                          agent supervisor auditor service admin
    "RecordInteraction":      "x     x          -       x       x",
    "CreateCustomer":         "x     x          -       x       x",
    "UpdateCustomer":         "x     x          -       x       x",
    "ImportInteractions":     "-     -          -       x       x",
    "GetCustomer":            "x     x          x       x       x",
    "FindCustomerByIdentity": "x     x          x       x       x",
    "GetTimeline":            "x     x          x       x       x",
    "WatchTimeline":          "x     x          x       x       x",
    "SearchCustomers":        "x     x          x       x       x",
    "AddNote":                "x     x          -       x       x",
    "LinkIdentity":           "x     x          -       -       x",
    "UnlinkIdentity":         "x     x          -       -       x",
    "MergeCustomers":         "x     x          -       -       x",
    "ListMergeSuggestions":   "x     x          -       -       x",
    "UnmergeCustomer":        "-     x          -       -       x",
    "ReplayEvents":           "-     -          x       -       x",
}  # fmt: skip


def allowed(rpc: str) -> set[str]:
    return {role for role, mark in zip(ROLES, ROLE_TABLE[rpc].split(), strict=True) if mark == "x"}


@pytest.fixture(scope="module")
def gateway(crm: ServerProcess) -> Iterator[GatewayProcess]:
    with serve_gateway(
        f"127.0.0.1:{crm.port}",
        CRM_GATEWAY_API_KEYS="test-key=admin@agent:http-test",
        CRM_GATEWAY_JWT_SECRET=SECRET,
    ) as process:
        yield process


@pytest.fixture
def http(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client


def bearer(secret: str = SECRET, **claims: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + jwt.encode(claims, secret, algorithm="HS256")}


def signed_in(subject: Any, role: str = "agent") -> dict[str, str]:
    return bearer(sub=subject, role=role, exp=int(time.time()) + 600)


def record_email(http: httpx.Client, email: str, summary: str) -> dict[str, Any]:
    return record_by_email(http, KEY, email, summary)


def stored_author(http: httpx.Client, recorded: dict[str, Any]) -> str:
    """Who the stored event says recorded it, as the timeline shows it."""
    timeline = http.get(
        f"/v1/{recorded['interaction']['customer']}/timeline",
        params={"minPosition": recorded["commitPosition"]},
        headers=KEY,
    )
    assert timeline.status_code == 200, timeline.text
    (entry,) = timeline.json()["entries"]
    return str(entry["interaction"]["recordedBy"])


def error_reason(response: httpx.Response) -> str:
    details = response.json()["error"]["details"]
    return str(next(d for d in details if d["@type"].endswith("ErrorInfo"))["reason"])


def test_record_and_read_a_timeline_over_http(http: httpx.Client) -> None:
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


def test_nested_query_parameters_fill_nested_fields(http: httpx.Client) -> None:
    email = random_refs.email()
    recorded = record_email(http, email, "hello")
    found = http.get(
        "/v1/customers:findByIdentity", params={"identity.email": email.upper()}, headers=KEY
    )
    assert found.status_code == 200, found.text
    assert found.json()["customer"]["name"] == recorded["interaction"]["customer"]


def test_a_bad_email_is_400_invalid_email_with_the_field(http: httpx.Client) -> None:
    response = http.post(
        "/v1/interactions:record",
        headers=KEY,
        json={
            "identity": {"email": "not-an-email"},
            "interaction": {"channel": "CHANNEL_EMAIL", "summary": "hello"},
        },
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert error_reason(response) == "INVALID_EMAIL"
    bad = next(d for d in error["details"] if d["@type"].endswith("BadRequest"))
    assert {v["field"] for v in bad["fieldViolations"]} >= {"identity.email"}


def test_an_unknown_customers_timeline_is_404_customer_not_found(http: httpx.Client) -> None:
    response = http.get(f"/v1/{UNKNOWN_CUSTOMER}/timeline", headers=KEY)

    assert response.status_code == 404, response.text
    assert response.json()["error"]["status"] == "NOT_FOUND"
    assert error_reason(response) == "CUSTOMER_NOT_FOUND"


def test_unmerging_a_customer_never_merged_is_400_not_merged(http: httpx.Client) -> None:
    customer = record_email(http, random_refs.email(), "hello")["interaction"]["customer"]

    response = http.post(f"/v1/{customer}:unmerge", headers=KEY, json={"reason": "undo"})

    # google/rpc/code.proto maps FAILED_PRECONDITION to 400.
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert error_reason(response) == "NOT_MERGED"


RECORD = "/v1/interactions:record"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "reason"),
    [
        ("POST", RECORD, {"content": b"{not json"}, 400, "INVALID_HTTP_REQUEST"),
        ("POST", RECORD, {"content": b"[" * 500_000}, 400, "INVALID_HTTP_REQUEST"),
        ("POST", RECORD, {"content": b'{"a":' * 5_000}, 400, "INVALID_HTTP_REQUEST"),
        ("POST", RECORD, {"json": {"nonsense": 1}}, 400, "INVALID_HTTP_REQUEST"),
        (
            "POST",
            RECORD,
            {"json": {"interaction": {"channel": "SMOKE"}}},
            400,
            "INVALID_HTTP_REQUEST",
        ),
        ("POST", RECORD, {"json": {"interaction": {"summary": 3}}}, 400, "INVALID_HTTP_REQUEST"),
        ("POST", RECORD, {"json": ["a list"]}, 400, "INVALID_HTTP_REQUEST"),
        ("POST", RECORD, {"content": b" " * (2 * 1024 * 1024)}, 413, "REQUEST_TOO_LARGE"),
        ("GET", "/v1/customers:search", {"params": {"bogus": "1"}}, 400, "INVALID_HTTP_REQUEST"),
        ("GET", "/v1/nowhere", {}, 404, "ROUTE_NOT_FOUND"),
        ("DELETE", "/v1/customers:search", {}, 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/v1/customers/not-a-uuid", {}, 400, "INVALID_CUSTOMER_NAME"),
        # JSON's \u0000 reaches the CRM as NUL, which its edge refuses.
        (
            "POST",
            "/v1/customers",
            {"content": b'{"displayName": "Ada\\u0000Lovelace"}'},
            400,
            "CONTROL_CHARACTER",
        ),
    ],
)
def test_bad_http_requests_get_a_clear_4xx_with_a_reason(
    http: httpx.Client,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    response = http.request(method, path, headers=KEY, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == status
    assert error_reason(response) == reason


def test_the_gateways_own_refusals_carry_a_reason_too(http: httpx.Client) -> None:
    assert error_reason(http.get("/v1/mergeSuggestions")) == "INVALID_CREDENTIALS"
    replay = http.get("/v1/events:replay", headers=signed_in("ann", "agent"))
    assert replay.status_code == 403
    assert error_reason(replay) == "ROLE_NOT_ALLOWED"
    odd_id = http.get("/v1/mergeSuggestions", headers={**KEY, "X-Request-Id": "a\x01b"})
    assert odd_id.status_code == 400
    assert error_reason(odd_id) == "INVALID_REQUEST_ID"


def test_requests_without_a_known_key_are_401(http: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "ApiKey wrong"}, {"Authorization": "Bearer x"}):
        response = http.get("/v1/mergeSuggestions", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_the_gateway_serves_its_openapi_document_and_a_readable_page_without_a_token(
    http: httpx.Client,
) -> None:
    assert http.get("/openapi.json").json()["info"]["title"] == "Customer history CRM"
    page = http.get("/docs")
    assert page.status_code == 200
    assert "/v1/customers:merge" in page.text


def test_every_route_has_a_row_in_the_role_table(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    operations = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert operations <= set(ROLE_TABLE), operations - set(ROLE_TABLE)


@pytest.mark.parametrize("role", ROLES)
def test_the_role_table_holds_over_http_for_every_route(http: httpx.Client, role: str) -> None:
    headers = signed_in(f"matrix-{role}", role)
    document = http.get("/openapi.json").json()
    checked = set()
    for template, operations in document["paths"].items():
        for verb, operation in operations.items():
            rpc = operation["operationId"]
            # Every path variable names a customer; one that does not exist is enough to
            # see whether the call got past the gateway's role check.
            path = re.sub(r"\{[^}]*\}", f"customers/{uuid.uuid4()}", template)
            body: dict[str, Any] | None = {} if verb == "post" else None
            response = http.request(verb.upper(), path, headers=headers, json=body)
            if role in allowed(rpc):
                assert response.status_code not in (401, 403), (rpc, response.text)
                assert response.status_code < 500, (rpc, response.text)
                # Past the gateway: the CRM answered, whatever it made of the call.
                assert response.status_code not in (404, 405) or error_reason(response) not in (
                    "ROUTE_NOT_FOUND",
                    "METHOD_NOT_ALLOWED",
                ), (rpc, response.text)
            else:
                assert response.status_code == 403, (rpc, response.text)
                assert response.json()["error"]["status"] == "PERMISSION_DENIED"
            checked.add(rpc)
    assert checked == set(ROLE_TABLE)


@pytest.mark.parametrize(
    ("role", "actor"),
    [
        ("agent", "agent:ann"),
        ("supervisor", "agent:ann"),
        ("admin", "agent:ann"),
        ("service", "service:ann"),
    ],
)
def test_the_stored_event_names_services_as_services_and_people_as_agents(
    http: httpx.Client, role: str, actor: str
) -> None:
    recorded = record_by_email(http, signed_in("ann", role), random_refs.email(), "hello")

    assert stored_author(http, recorded) == actor


@pytest.mark.parametrize(
    ("subject", "actor"),
    [
        ("auth0|5f7c8ec7c33c6c004bbafe82", "agent:auth0%7C5f7c8ec7c33c6c004bbafe82"),
        ("alice+support@example.com", "agent:alice%2Bsupport@example.com"),
        ("Jane Doe", "agent:Jane%20Doe"),
        ("Zoë Ångström", "agent:Zo%C3%AB%20%C3%85ngstr%C3%B6m"),
        ("tab\tnul\x00line\u2028", "agent:tab%09nul%00line%E2%80%A8"),
        ("100%", "agent:100%25"),
        ("x" * 255, "agent:" + "x" * 255),
        ("ü" * 255, "agent:" + "%C3%BC" * 255),
    ],
)
def test_any_identity_provider_subject_can_write_and_is_recorded_percent_encoded(
    http: httpx.Client, subject: str, actor: str
) -> None:
    recorded = record_by_email(http, signed_in(subject), random_refs.email(), "hello")

    assert recorded["interaction"]["recordedBy"] == actor
    assert stored_author(http, recorded) == actor


@pytest.mark.parametrize("subject", ["x" * 256, "ü" * 256, "", 42, "\ud800"])
def test_a_subject_over_255_characters_or_not_text_is_401(http: httpx.Client, subject: Any) -> None:
    response = http.get("/v1/mergeSuggestions", headers=signed_in(subject))

    assert response.status_code == 401, response.text
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_tokens_missing_a_claim_expired_or_forged_are_401(http: httpx.Client) -> None:
    later = int(time.time()) + 600
    tokens = {
        "no exp": bearer(sub="ann", role="agent"),
        "no sub": bearer(role="agent", exp=later),
        "no role": bearer(sub="ann", exp=later),
        "unknown role": bearer(sub="ann", role="wizard", exp=later),
        "expired": bearer(sub="ann", role="agent", exp=int(time.time()) - 10),
        "forged": bearer("another-signing-key-0123456789abcdef", sub="a", role="admin", exp=later),
        "not a jwt": {"Authorization": "Bearer not-a-jwt"},
    }
    for name, headers in tokens.items():
        response = http.get("/v1/mergeSuggestions", headers=headers)
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"]["status"] == "UNAUTHENTICATED", name


def test_without_a_jwt_secret_any_bearer_token_is_401(crm: ServerProcess) -> None:
    with (
        serve_gateway(f"127.0.0.1:{crm.port}") as gateway,
        httpx.Client(base_url=gateway.url, timeout=30) as client,
    ):
        unsigned = jwt.encode({"sub": "ann", "role": "agent"}, None, algorithm="none")
        for headers in (signed_in("ann"), {"Authorization": f"Bearer {unsigned}"}):
            response = client.get("/v1/mergeSuggestions", headers=headers)
            assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "request_id", [b"caf\xc3\xa9", b"caf\xe9", b"a\tb", b"a\x01b", b"\x7f"], ids=repr
)
def test_a_request_id_that_is_not_printable_ascii_is_400(
    http: httpx.Client, request_id: bytes
) -> None:
    response = http.get(
        "/v1/mergeSuggestions",
        headers={b"Authorization": KEY["Authorization"].encode(), b"X-Request-Id": request_id},
    )

    assert response.status_code == 400, response.text


@pytest.mark.parametrize("length", [128, 129, 300])
def test_a_request_id_is_cut_to_128_characters_in_the_answer_and_the_crm_log(
    http: httpx.Client, crm: ServerProcess, length: int
) -> None:
    sent = random_refs.suffix().ljust(length, "r")
    response = http.get("/v1/mergeSuggestions", headers={**KEY, "X-Request-Id": sent})

    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == sent[:128]
    logged = crm_log_line(crm, request_id=sent[:128])
    assert logged["method"] == "/crm.v1.CustomerHistoryService/ListMergeSuggestions"


def test_over_grpc_too_a_long_request_id_is_cut_to_128_characters_and_logged_so(
    crm: ServerProcess,
) -> None:
    sent = random_refs.suffix() + "g" * 190
    _, call = crm.stub.ListMergeSuggestions.with_call(
        pb.ListMergeSuggestionsRequest(), metadata=(("x-request-id", sent),), timeout=30
    )

    assert dict(call.trailing_metadata())["x-request-id"] == sent[:128]
    assert crm_log_line(crm, request_id=sent[:128])


def test_each_request_is_one_json_log_line_with_the_route_template(
    http: httpx.Client, gateway: GatewayProcess
) -> None:
    email = random_refs.email()
    request_id = random_refs.request_id()
    response = http.get(
        "/v1/customers:search",
        params={"identity.email": email},
        headers={**KEY, "X-Request-Id": request_id},
    )
    assert response.status_code == 200, response.text

    (line,) = wait_for_request_lines(gateway, request_id)
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "method",
        "route",
        "status",
        "duration_ms",
        "request_id",
    }
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/customers:search", 200)
    assert line["duration_ms"] > 0
    assert not any(email in text or "customers:search?" in text for text in gateway.lines)


def test_paths_outside_the_api_are_logged_by_template_too(
    http: httpx.Client, gateway: GatewayProcess
) -> None:
    for path, route in [
        ("/console/index.html", "/console"),
        ("/v1/secret-path-" + random_refs.suffix(), "(no route)"),
    ]:
        request_id = random_refs.request_id()
        http.get(path, headers={"X-Request-Id": request_id})
        (line,) = wait_for_request_lines(gateway, request_id)
        assert line["route"] == route
    assert not any("secret-path" in text for text in gateway.lines)


def test_with_a_caller_secret_the_crm_trusts_only_the_gateway(
    tmp_path: Path, start_server: Any
) -> None:
    secret = "shared-between-gateway-and-crm"
    crm = start_server(f"sqlite:///{tmp_path}/crm.sqlite3", CRM_CALLER_SECRET=secret)
    with pytest.raises(grpc.RpcError) as raised:
        crm.stub.ListMergeSuggestions(
            pb.ListMergeSuggestionsRequest(), metadata=(("x-crm-actor", "agent:mallory"),)
        )
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNTRUSTED_CALLER")

    for presented, status in ((secret, 200), ("wrong", 401)):
        with (
            serve_gateway(
                f"127.0.0.1:{crm.port}",
                CRM_GATEWAY_API_KEYS="k=agent@agent:alice",
                CRM_GATEWAY_CRM_SECRET=presented,
            ) as gateway,
            httpx.Client(base_url=gateway.url, timeout=30) as client,
        ):
            response = client.get("/v1/mergeSuggestions", headers={"Authorization": "ApiKey k"})
            assert response.status_code == status, response.text


def wait_for_request_lines(gateway: GatewayProcess, request_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [r for r in gateway.records() if r.get("request_id") == request_id]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no log line for request {request_id}")


def crm_log_line(crm: ServerProcess, **fields: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in list(crm.lines):
            record = parse(line)
            if record.get("message") == "call" and fields.items() <= record.items():
                return record
        time.sleep(0.05)
    raise AssertionError(f"the CRM logged no call with {fields}")


def parse(line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
