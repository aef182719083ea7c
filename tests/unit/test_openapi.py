"""The OpenAPI document: every route, every reference resolvable, the JSON mapping's types."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from services.gateway.app import SERVICE, create_app
from services.gateway.config import GatewaySettings
from services.gateway.openapi import openapi_document
from services.gateway.routes import routes_of


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def test_every_rpc_is_an_operation_and_every_reference_resolves() -> None:
    document = openapi_document(routes_of(SERVICE), "CRM", "v1")
    operations = {
        op["operationId"] for methods in document["paths"].values() for op in methods.values()
    }
    assert operations == {method.name for method in SERVICE.methods}
    schemas = document["components"]["schemas"]
    for reference in references(document):
        assert reference.removeprefix("#/components/schemas/") in schemas, reference
    assert document["openapi"] == "3.1.0"


def test_types_follow_the_protobuf_json_mapping() -> None:
    document = openapi_document(routes_of(SERVICE), "CRM", "v1")
    interaction = document["components"]["schemas"]["crm.v1.Interaction"]["properties"]
    assert interaction["occurredTime"] == {"type": "string", "format": "date-time"}
    assert "CHANNEL_EMAIL" in interaction["channel"]["enum"]
    assert interaction["tags"] == {"type": "array", "items": {"type": "string"}}
    timeline = document["paths"]["/v1/{customer}/timeline"]["get"]
    names = {p["name"] for p in timeline["parameters"]}
    assert {"customer", "pageSize", "pageToken", "channels", "minPosition", "startTime"} <= names
    find = document["paths"]["/v1/customers:findByIdentity"]["get"]
    assert "identity.email" in {p["name"] for p in find["parameters"]}


def test_the_gateway_serves_the_document_and_a_readable_page_without_a_token() -> None:
    with TestClient(create_app(GatewaySettings(crm_address="127.0.0.1:1"))) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "Customer history CRM"
        page = client.get("/docs")
        assert page.status_code == 200
        assert "/v1/customers:merge" in page.text
